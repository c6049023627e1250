"""Commands in the moderators' chat: /cases, /case N and /report, for moderators only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ContextTypes

from adapters.telegram.cards import Cards
from adapters.telegram.convert import PLATFORM
from adapters.telegram.people import Directory
from adapters.telegram.render import render_case_list
from adapters.telegram.texts import tr
from bot.models import Actor
from bot.report import build_report, render_text
from bot.review import NotAllowed, ReviewError
from bot.runtime import Runtime
from bot.staff import Scope

_LOGGER = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


@dataclass(frozen=True, slots=True)
class _Asked:
    """Who typed a command, where, and what they may see there."""

    actor: Actor
    chat: int
    scope: Scope
    language: str
    tz: tzinfo
    refused: bool  # not a moderator of anything this chat covers

    @property
    def communities(self) -> bool:
        """True when the chat covers at least one community for this moderator."""
        return not self.scope.empty


class Commands:
    """Answers the moderators' commands; the core decides who is one and what they may see.

    A command answers in the chat it was typed in. In a community's own moderators' chat
    (`review_place`) it covers that community only; in the default moderators' chat, the
    communities without a place of their own. Either way, only those the moderator moderates.
    """

    def __init__(
        self, runtime: Runtime, people: Directory, cards: Cards, *, language: str, tz: ZoneInfo
    ) -> None:
        """Read through `runtime`; answer in the moderators' chat through `cards`."""
        self.runtime = runtime
        self.core = runtime.core
        self.people = people
        self.cards = cards
        self.language = language
        self.tz = tz

    def _here(self, actor: Actor, chat: int) -> _Asked:
        """What `actor` may see from `chat`: their scope, narrowed to the chat's communities."""
        scope = self.core.review.scope(actor)
        places = self.cards.own_places()
        served = frozenset(c for c, place in places.items() if place == chat)
        if chat != self.cards.settings.moderators_chat or served:
            # A community's own chat: that community (or those sharing the chat), no other.
            allowed = served if scope.communities is None else scope.communities & served
        elif scope.communities is None:
            # An operator in the default chat: every community but those with a chat of
            # their own (their members' words stay in their own moderators' chat).
            known = {case.community for case in self.core.cases.list(scope=scope)}
            allowed = frozenset(known - places.keys())
        else:
            allowed = scope.communities - places.keys()
        here = Scope(scope.platform, allowed)
        language, tz = self.language, self.tz
        if len(served) == 1:
            (only,) = served
            own = self.core.config.for_community(PLATFORM, only).community
            language, tz = own.language, own.tz
        # Refused: a moderator of nothing, or of nothing a community's own chat covers. An
        # operator in the default chat with no case yet is not refused: nothing waits.
        refused = scope.empty or (not allowed and (scope.communities is not None or bool(served)))
        return _Asked(actor, chat, here, language, tz, refused)

    async def _asked(self, update: Update) -> _Asked | None:
        user = update.effective_user
        message = update.effective_message
        if user is None or message is None:
            return None
        actor = await self.people.actor(user, None)
        asked = await self.runtime.call(self._here, actor, message.chat.id)
        if asked.refused:
            _LOGGER.warning(
                "command %r refused to user %s in chat %s", message.text, user.id, asked.chat
            )
            await self.cards.say(
                tr("not_allowed", asked.language), reply_to=message.message_id, chat=asked.chat
            )
            return None
        return asked

    async def on_cases(self, update: Update, context: Context) -> None:
        """/cases: the waiting list the moderator may see here, soonest target first."""
        asked = await self._asked(update)
        if asked is None:
            return
        cases = (
            await self.runtime.call(self.core.waiting, asked.scope) if asked.communities else []
        )
        now = self.core.clock.now()
        await self.cards.say(
            render_case_list(cases, now, language=asked.language, tz=asked.tz), chat=asked.chat
        )

    async def on_case(self, update: Update, context: Context) -> None:
        """/case N: the case's card, posted again at the bottom of its chat."""
        asked = await self._asked(update)
        if asked is None:
            return
        args = context.args or []
        number = args[0].lstrip("#") if args else ""
        if not number.isdigit() or int(number) == 0:
            await self.cards.say(tr("case_usage", asked.language), chat=asked.chat)
            return
        try:
            case = await self.runtime.call(self.core.review.case_for, asked.actor, int(number))
        except NotAllowed:
            await self.cards.say(tr("not_allowed", asked.language), chat=asked.chat)
            return
        except ReviewError:
            await self.cards.say(tr("case_unknown", asked.language, case=number), chat=asked.chat)
            return
        if not asked.scope.allows(case.platform, case.community):
            # Another community's case: this chat learns nothing of it, not even that it exists.
            await self.cards.say(tr("case_unknown", asked.language, case=number), chat=asked.chat)
            return
        # The card moves to the bottom of the chat, where the moderator is.
        await self.cards.move_to_bottom(case.id)

    async def on_report(self, update: Update, context: Context) -> None:
        """/report: the report over the communities the moderator may see here."""
        asked = await self._asked(update)
        if asked is None:
            return
        if asked.communities:
            text = await self.runtime.call(self.core.report_text, scope=asked.scope)
        else:  # nothing to report on yet: the empty report, in the chat's language
            report = build_report([], self.core.clock.now())
            text = render_text(report, language=asked.language, tz=asked.tz)
        await self.cards.say(text, chat=asked.chat)
