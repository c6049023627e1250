"""The moderators' chat, outbound: review cards posted or edited, notices, the digest, texts."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.error import TelegramError

from adapters.telegram.convert import PLATFORM, message_link, split_text
from adapters.telegram.keyboard import case_keyboard
from adapters.telegram.people import Directory
from adapters.telegram.render import Place, render_card
from adapters.telegram.sending import Refused, call_once
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.texts import tr
from bot.cards import CardRef
from bot.cardview import CardView
from bot.models import Case, Notice
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_CARD_LOCKS = 64


@dataclass(frozen=True, slots=True)
class PlacedCard:
    """What a card shows, and where it already is (None: not posted yet)."""

    view: CardView
    ref: CardRef | None


class Cards:
    """Posts and edits review cards, one case at a time, without holding up inbound updates."""

    def __init__(
        self,
        runtime: Runtime,
        settings: TelegramSettings,
        people: Directory,
        bot: Bot,
        *,
        language: str,
        tz: ZoneInfo,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """Post with `bot` in `settings.moderators_chat`; `sleep` waits out flood control."""
        self.runtime = runtime
        self.core = runtime.core
        self.settings = settings
        self.people = people
        self._bot = bot
        self.language = language
        self.tz = tz
        self._sleep = sleep
        # A small pool of locks: two updates of one case must not both post a new card.
        self._card_locks = [asyncio.Lock() for _ in range(_CARD_LOCKS)]
        self._card_pending: set[int] = set()
        self._latest: dict[int, CardView] = {}
        self.tasks: set[asyncio.Task[Any]] = set()

    def review_chat(self, case: Case) -> int:
        """Where the case's card and notices go (see `place_of`)."""
        return self.place_of(case.community)

    def place_of(self, community: str) -> int:
        """Where a community's cards, notices and digest go: a business's own place, else the
        community's `review_place`, else the moderators' chat."""
        business = self.people.business
        chat = business.review_chat(community) if business is not None else None
        if chat is not None:
            return chat
        place = self.core.config.for_community(PLATFORM, community).community.review_place
        # Parsed as a chat id where it is read: the config is platform-neutral text.
        return int(place) if place.lstrip("-").isdigit() else self.settings.moderators_chat

    def review_places(self) -> frozenset[int]:
        """The communities' own moderators' chats (`review_place`), where presses count too."""
        places = (
            self.core.config.for_community(PLATFORM, key.partition(":")[2]).community.review_place
            for key in self.core.config.communities
            if key.startswith(f"{PLATFORM}:")
        )
        return frozenset(int(p) for p in places if p.lstrip("-").isdigit())

    def own_places(self) -> dict[str, int]:
        """Each community that has its own moderators' chat (`review_place`): community → chat."""
        places: dict[str, int] = {}
        for key in self.core.config.communities:
            platform, _, community = key.partition(":")
            if platform != PLATFORM:
                continue
            place = self.core.config.for_community(PLATFORM, community).community.review_place
            if place.lstrip("-").isdigit():
                places[community] = int(place)
        return places

    def _place(self, case: Case) -> Place:
        business = self.people.business
        name = business.place_name(case.community) if business is not None else None
        if name is not None:
            return Place(name)  # a customer's private chat: no link to it
        try:
            chat_id = int(case.channel)
        except ValueError:
            return Place(case.channel)
        info = self.people.chats.get(chat_id)
        if chat_id > 0:
            name = tr("private_chat", self.language)
        else:
            name = info.name if info else str(chat_id)
        link = None
        if case.message_ids and case.message_ids[0].isdigit():
            thread = int(case.thread) if case.thread and case.thread.isdigit() else None
            link = message_link(
                chat_id,
                int(case.message_ids[0]),
                username=info.username if info else None,
                thread=thread,
            )
        return Place(name, link)

    def _card(self, view: CardView) -> tuple[str, InlineKeyboardMarkup | None]:
        # Each community's cards speak its own moderators' language ([communities."…"]).
        language = self.core.config.for_community(PLATFORM, view.case.community).community.language
        text = render_card(
            view.case,
            language=language,
            tz=self.tz,
            place=self._place(view.case),
            unconfirmed=view.in_doubt,
            failed=view.failed,
            target_label=view.target_label if view.business_hours else "",
            source=view.source_line(language, self.tz),
        )
        business = self.people.business
        why = business.refusal(view.case.community) if business is not None else None
        if why is not None and view.case.state.waiting:
            # The business took the bot's right to reply away: the card says so before a press.
            text = f"{text}\n\n{why}"
        return text, case_keyboard(view.case.id, language, view.actions, view.helper_actions)

    async def show_case(self, view: CardView) -> None:
        """Queue the card's update and return: cards never hold up the inbound updates.

        The moderators' chat has its own flood limits (about 20 messages a minute in a group);
        waiting them out must not stop members' messages from being stored and detected.
        """
        case_id = view.case.id
        # Views come in the order the core read them: the last one given is the latest state.
        self._latest[case_id] = view
        if case_id in self._card_pending:
            return  # the queued update draws the latest view when it runs: this one
        self._card_pending.add(case_id)
        task = self.runtime.spawn(f"telegram-card-{case_id}", self._update_card(case_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _update_card(self, case_id: int) -> None:
        try:
            async with self._card_locks[case_id % _CARD_LOCKS]:
                # From here on a new change queues a new update, which waits for this one.
                self._card_pending.discard(case_id)
                # The latest view given, whatever queued the update; only the card's place is
                # read here.
                view = self._latest.pop(case_id)
                ref = await self.runtime.call(self.core.cards.for_case, case_id, PLATFORM)
                await self.people.know_chat(view.case.channel)
                await self._show(PlacedCard(view, ref), move=False)
        except Exception:
            # The case is safe in the database; the next change or /case N shows it again.
            _LOGGER.exception("card of case %d not shown", case_id)

    async def move_to_bottom(self, case_id: int) -> None:
        """Post the case's card again at the bottom of the chat, where the moderator is."""
        async with self._card_locks[case_id % _CARD_LOCKS]:
            await self._show(await self.runtime.call(self._card_view, case_id), move=True)

    async def drain(self) -> None:
        """Wait until every queued card update is done."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    def _card_view(self, case_id: int) -> PlacedCard:
        # Runs on the core's thread: one hop for everything a card needs.
        return PlacedCard(self.core.card(case_id), self.core.cards.for_case(case_id, PLATFORM))

    async def _show(self, placed: PlacedCard, *, move: bool) -> None:
        """Post or edit a case's card; the caller holds the case's card lock."""
        case, ref = placed.view.case, placed.ref
        text, markup = self._card(placed.view)
        bot = self._bot
        if ref is not None and not move:
            try:
                await call_once(
                    functools.partial(
                        bot.edit_message_text,
                        text,
                        chat_id=int(ref.chat),
                        message_id=int(ref.message_id),
                        reply_markup=markup,
                        link_preview_options=NO_PREVIEW,
                    ),
                    what=f"card of case {case.id}",
                    sleep=self._sleep,
                )
                return
            except Refused as exc:
                reason = str(exc).casefold()
                if "not modified" in reason:
                    return
                if "not found" not in reason and "can't be edited" not in reason:
                    raise
                _LOGGER.info("card of case %d is gone; posting it again", case.id)
        sent = await call_once(
            functools.partial(
                bot.send_message,
                self.review_chat(case),
                text,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            ),
            what=f"card of case {case.id}",
            sleep=self._sleep,
        )
        await self.runtime.call(
            self.core.cards.save,
            CardRef(case.id, PLATFORM, str(sent.chat_id), str(sent.message_id)),
        )
        if ref is not None and move:
            # The old card's buttons would be refused as stale; take them away.
            await quietly(
                bot.edit_message_reply_markup(
                    chat_id=int(ref.chat), message_id=int(ref.message_id), reply_markup=None
                )
            )

    async def post_notice(self, notice: Notice, case: Case) -> None:
        """Post a reminder or an escalation in the moderators' chat, under the case's card."""
        ref = await self.runtime.call(self.core.cards.for_case, case.id, PLATFORM)
        anchor = int(ref.message_id) if ref is not None else None
        chat = int(ref.chat) if ref is not None else self.review_chat(case)
        await self.say(notice.text, reply_to=anchor, chat=chat)

    async def post_digest(self, text: str, *, community: str) -> None:
        """Post a community's weekly digest in its own place (a business's, or its review
        place, or the moderators' chat)."""
        await self.say(text, chat=self.place_of(community))

    async def say(
        self, text: str, *, reply_to: int | None = None, chat: int | None = None
    ) -> None:
        """Post a text (split if long) in the moderators' chat, or in `chat`."""
        for part in split_text(text):
            reply = (
                ReplyParameters(reply_to, allow_sending_without_reply=True)
                if reply_to is not None
                else None
            )
            await call_once(
                functools.partial(
                    self._bot.send_message,
                    self.settings.moderators_chat if chat is None else chat,
                    part,
                    reply_parameters=reply,
                    link_preview_options=NO_PREVIEW,
                ),
                what="message to the moderators",
                sleep=self._sleep,
            )
            reply_to = None


async def quietly(call: Awaitable[object]) -> None:
    """Await a cosmetic Bot API call (a keyboard taken away); a failure is only logged."""
    try:
        await call
    except TelegramError as exc:
        _LOGGER.info("cosmetic call failed: %s", exc)
