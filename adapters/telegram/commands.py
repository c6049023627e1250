"""Commands in the moderators' chat: /cases, /case N and /report, for moderators only."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ContextTypes

from adapters.telegram.cards import Cards
from adapters.telegram.people import Directory
from adapters.telegram.render import render_case_list
from adapters.telegram.texts import tr
from bot.models import Actor
from bot.review import NotAllowed, ReviewError
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


class Commands:
    """Answers the moderators' commands; the core decides who is one and what they may see."""

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

    async def _command_actor(self, update: Update) -> Actor | None:
        user = update.effective_user
        message = update.effective_message
        if user is None or message is None:
            return None
        actor = await self.people.actor(user, None)
        if not await self.runtime.call(self.core.review.is_moderator, actor):
            _LOGGER.warning("command %r refused to user %s", message.text, user.id)
            await self.cards.say(tr("not_allowed", self.language), reply_to=message.message_id)
            return None
        return actor

    async def on_cases(self, update: Update, context: Context) -> None:
        """/cases: the waiting list the moderator may see, soonest target first."""
        actor = await self._command_actor(update)
        if actor is None:
            return
        cases = await self.runtime.call(self.core.waiting, self.core.review.scope(actor))
        now = self.core.clock.now()
        await self.cards.say(render_case_list(cases, now, language=self.language, tz=self.tz))

    async def on_case(self, update: Update, context: Context) -> None:
        """/case N: the case's card, posted again at the bottom of the chat."""
        actor = await self._command_actor(update)
        if actor is None:
            return
        args = context.args or []
        number = args[0].lstrip("#") if args else ""
        if not number.isdigit() or int(number) == 0:
            await self.cards.say(tr("case_usage", self.language))
            return
        try:
            case = await self.runtime.call(self.core.review.case_for, actor, int(number))
        except NotAllowed:
            await self.cards.say(tr("not_allowed", self.language))
            return
        except ReviewError:
            await self.cards.say(tr("case_unknown", self.language, case=number))
            return
        # The card moves to the bottom of the chat, where the moderator is.
        await self.cards.move_to_bottom(case.id)

    async def on_report(self, update: Update, context: Context) -> None:
        """/report: the report over the communities the moderator may see."""
        actor = await self._command_actor(update)
        if actor is None:
            return
        scope = self.core.review.scope(actor)
        await self.cards.say(await self.runtime.call(self.core.report_text, scope=scope))
