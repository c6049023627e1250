"""Telegram Business: a small business's private chats with its customers, through the bot.

The owner connects the bot to their business account (Settings → Telegram Business → Chatbots).
Telegram then sends `business_connection` (connected, rights changed, disconnected),
`business_message`, `edited_business_message` and `deleted_business_messages`; a reply goes back
with `sendMessage(business_connection_id=…)` and reaches the customer in the owner's name.

Each connection is one community (`business:<id>`), each customer chat one channel. The owner
and the configured employees moderate it; the card goes to the owner's private chat with the
bot, or to the configured staff group. This module reads the payloads and keeps the links; the
adapter draws the cards and sends through its one send path.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from telegram import BusinessConnection, Chat, Update, User
from telegram import Message as TgMessage
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    BusinessConnectionHandler,
    BusinessMessagesDeletedHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram.convert import PLATFORM, to_message
from adapters.telegram.sending import Refused
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.texts import tr
from bot.adapter import SendFailed
from bot.business import BusinessLink, LinkState, community_of, link_of
from bot.config import community_key
from bot.models import Case, CaseState, Message, Outgoing, Standing
from bot.runtime import Runtime
from bot.staff import Scope

_LOGGER = logging.getLogger(__name__)

# What a business bot is told of, on top of the group updates.
BUSINESS_UPDATES = (
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
)
_WAITING = (CaseState.OPEN, CaseState.SUGGESTED)
_NOTICE = {
    LinkState.ACTIVE: "business_connected",
    LinkState.NO_REPLY: "business_no_reply",
    LinkState.ENDED: "business_ended",
}

Context = ContextTypes.DEFAULT_TYPE
Post = Callable[[int, str], Awaitable[None]]


def can_reply(connection: BusinessConnection) -> bool:
    """Whether the connection lets the bot reply: `rights.can_reply` (Bot API 9.0 and later),
    or the top-level `can_reply` older servers send (kept by python-telegram-bot aside)."""
    rights = connection.rights
    if rights is not None:
        return bool(rights.can_reply)
    return bool(connection.api_kwargs.get("can_reply", False))


def link_from(connection: BusinessConnection, now: datetime) -> BusinessLink:
    """The stored form of a `BusinessConnection` as Telegram describes it now."""
    user = connection.user
    parts = [p for p in (user.first_name, user.last_name) if isinstance(p, str) and p]
    return BusinessLink(
        platform=PLATFORM,
        id=str(connection.id),
        owner_id=str(user.id),
        owner_name=" ".join(parts) or user.username or str(user.id),
        owner_chat=str(connection.user_chat_id),
        can_reply=can_reply(connection),
        enabled=bool(connection.is_enabled),
        updated_at=now.astimezone(UTC),
    )


def business_message(
    message: TgMessage,
    *,
    bot_id: int,
    owner_id: int | None,
    edited: bool = False,
) -> Message | None:
    """The neutral Message for a message in a customer's chat with a business; None if none.

    A private chat's id is the customer's user id, so any message from someone else in it was
    sent from the business account (the owner, in the app): it answers the customer, as a staff
    reply does in a group. The bot's own replies (sent through the connection) are skipped. An
    update of a shape the Bot API does not send gives None with a log line.
    """
    try:
        return _business_message(message, bot_id, owner_id, edited)
    except (TypeError, ValueError, AttributeError) as exc:
        _LOGGER.warning("business update skipped (message %.40r): %s", message.message_id, exc)
        return None


def _business_message(
    message: TgMessage, bot_id: int, owner_id: int | None, edited: bool
) -> Message | None:
    sender_bot = message.sender_business_bot
    if isinstance(sender_bot, User) and sender_bot.id == bot_id:
        return None
    link_id = message.business_connection_id
    if not isinstance(link_id, str) or not link_id:
        _LOGGER.warning("business message %s without its connection skipped", message.message_id)
        return None
    user = message.from_user
    chat = message.chat
    business_side = (
        isinstance(user, User)
        and isinstance(chat, Chat)
        and (user.id != chat.id or user.id == owner_id)
    )
    converted = to_message(message, bot_id=bot_id, edited=edited)
    if converted is None:
        return None
    community = community_of(link_id)
    # What the business account sends is the business speaking (the owner or an employee in
    # the app): a fact the core's staff policy reads as staff of this connection's community.
    author = dataclasses.replace(
        converted.author, standing=Standing(community, admin=business_side)
    )
    if business_side and message.is_from_offline:
        # A greeting or away message Telegram sent on its own: not a human answer, and the
        # customer is still waiting. Kept, as another bot's message is, and never an answer.
        automatic = dataclasses.replace(
            author, is_staff=False, is_bot=True, standing=Standing(community)
        )
        return dataclasses.replace(converted, community=community, author=automatic)
    mentions = converted.mentions
    if business_side:
        # In a one-to-one chat every word of the business is addressed to the customer.
        mentions = (*mentions, converted.channel)
    return dataclasses.replace(
        converted,
        community=community,
        author=author,
        mentions=tuple(dict.fromkeys(mentions)),
    )


class BusinessDesk:
    """The business connections the bot holds, and what comes in through them."""

    def __init__(
        self,
        runtime: Runtime,
        settings: TelegramSettings,
        *,
        bot_id: Callable[[], int],
        post: Post,
        get_connection: Callable[[str], Awaitable[BusinessConnection]],
    ) -> None:
        """Keep links for `runtime`'s core; `post(chat, text)` tells owners what changed."""
        self.runtime = runtime
        self.core = runtime.core
        self.settings = settings
        self._bot_id = bot_id
        self._post = post
        self._get_connection = get_connection
        self._links: dict[str, BusinessLink] = {}
        # The chats where business cards are shown; the adapter treats them as moderators' chats
        # (an owner's private chat with the bot is not a customer writing to the bot's inbox).
        places = [settings.business_staff_chat] if settings.business_staff_chat else []
        self.places = filters.Chat(chat_id=places)

    # -- the links -------------------------------------------------------------------------

    async def load(self) -> None:
        """Read the links known before a restart."""
        for link in await self.runtime.call(self.core.business.all, PLATFORM):
            self._remember(link)

    def _remember(self, link: BusinessLink) -> None:
        self._links[link.id] = link
        if self.settings.business_staff_chat is None:
            self.places.add_chat_ids(int(link.owner_chat))

    def link(self, community: str) -> BusinessLink | None:
        """The link of a business community (None if unknown or not a business community)."""
        link_id = link_of(community)
        return self._links.get(link_id) if link_id is not None else None

    def is_place(self, chat_id: int) -> bool:
        """True for a chat where business cards are shown (an owner's chat, the staff group)."""
        return chat_id in self.places.chat_ids

    def is_business(self, community: str | None) -> bool:
        """True for a community made of one business account's customer chats."""
        return community is not None and link_of(community) is not None

    def language(self, community: str) -> str:
        """The language of a business's cards and notices: its own, else the default."""
        return self.core.config.for_community(PLATFORM, community).community.language

    def own_place(self, community: str) -> int | None:
        """The chat a business community's own `[communities."telegram:business:<id>"]`
        names as its `review_place`; None when it has none of its own."""
        own = self.core.config.communities.get(community_key(PLATFORM, community))
        place = own.community.review_place if own is not None else ""
        # A place merely inherited from the defaults is the groups' moderators' chat, not
        # this business's: its cards go to its staff chat or owner, as before.
        if place == self.core.config.community.review_place:
            return None
        return int(place) if place.lstrip("-").isdigit() else None

    def review_chat(self, community: str) -> int | None:
        """Where the cards of a business community go; None for any other community.

        Its own `review_place` first (two businesses on one bot keep their cards apart), then
        `business_staff_chat`, then the owner's private chat with the bot.
        """
        if not self.is_business(community):
            return None
        own = self.own_place(community)
        if own is not None:
            return own
        if self.settings.business_staff_chat is not None:
            return self.settings.business_staff_chat
        link = self.link(community)
        return int(link.owner_chat) if link is not None else self.settings.moderators_chat

    def refusal(self, community: str) -> str | None:
        """Why no reply can go to this business community now, in words; None if one can."""
        if not self.is_business(community):
            return None
        link = self.link(community)
        if link is None:
            return tr("business_unknown", self.language(community))
        if link.state is LinkState.ACTIVE:
            return None
        return tr(_NOTICE[link.state], self.language(community), business=link.owner_name)

    def connection_for(self, item: Outgoing) -> str | None:
        """The business connection a reply must go through (None outside business chats).

        SendFailed when the link is gone or may not reply: Telegram would refuse it anyway,
        and the card says why.
        """
        link_id = link_of(item.community)
        if link_id is None:
            return None
        why = self.refusal(item.community)
        if why is not None:
            raise SendFailed(why)
        return link_id

    def place_name(self, community: str) -> str | None:
        """How a card names a business chat: the business's name; None outside business."""
        if not self.is_business(community):
            return None
        link = self.link(community)
        business = link.owner_name if link is not None else "Telegram Business"
        return tr("business_place", self.language(community), business=business)

    def is_staff(self, community: str, user_id: int) -> bool:
        """The owner of the business account, or a configured employee."""
        link = self.link(community)
        if user_id in self.settings.business_staff_ids:
            return True
        return link is not None and link.owner_id == str(user_id)

    def standings(self, user_id: int, community: str | None) -> list[Standing]:
        """The facts for the staff policy: where `user_id` speaks for a business (or not)."""
        if community is not None:
            if not self.is_business(community):
                return []
            return [Standing(community, admin=self.is_staff(community, user_id))]
        return [
            Standing(link.community, admin=True)
            for link in self._links.values()
            if self.is_staff(link.community, user_id)
        ]

    # -- inbound -----------------------------------------------------------------------------

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        """The python-telegram-bot handlers for the business updates."""
        return [
            BusinessConnectionHandler(self._on_connection),
            MessageHandler(
                filters.UpdateType.BUSINESS_MESSAGES & (filters.TEXT | filters.CAPTION),
                self._on_message,
            ),
            BusinessMessagesDeletedHandler(self._on_deleted),
        ]

    async def _on_connection(self, update: Update, context: Context) -> None:
        connection = update.business_connection
        if connection is None:
            return
        await self.record(connection)

    async def record(self, connection: BusinessConnection) -> BusinessLink:
        """Store what Telegram says of a connection; tell the owner and redraw the cards."""
        link = link_from(connection, self.core.clock.now())
        before = await self.runtime.call(self.core.business.save, link)
        self._remember(link)
        if before is not None and before.state is link.state:
            return link
        key = _NOTICE[link.state]
        if before is None and link.state is LinkState.NO_REPLY:
            key = "business_read_only"  # a first connection without the right to reply
        chat = self.review_chat(link.community)
        if chat is not None:
            try:
                language = self.language(link.community)
                await self._post(chat, tr(key, language, business=link.owner_name))
            except (Refused, TelegramError) as exc:
                _LOGGER.warning("owner of business link %s not told: %s", link.id, exc)
        # Every waiting card of this business says whether a reply can go out now.
        scope = Scope(PLATFORM, frozenset({link.community}))
        cases: list[Case] = await self.runtime.call(
            functools.partial(self.core.cases.list, states=_WAITING, scope=scope)
        )
        for case in cases:
            await self.runtime.refresh(case.id)
        return link

    async def _link_of_message(self, link_id: str) -> BusinessLink | None:
        link = self._links.get(link_id)
        if link is not None:
            return link
        # A connection made while the bot was down, or an update lost: ask Telegram.
        try:
            return await self.record(await self._get_connection(link_id))
        except TelegramError as exc:
            _LOGGER.warning("business connection %s unknown to Telegram: %s", link_id, exc)
            return None

    async def _on_message(self, update: Update, context: Context) -> None:
        message = update.business_message or update.edited_business_message
        if message is None:
            return
        edited = update.edited_business_message is not None
        link_id = message.business_connection_id
        link = await self._link_of_message(link_id) if isinstance(link_id, str) else None
        converted = business_message(
            message,
            bot_id=self._bot_id(),
            owner_id=int(link.owner_id) if link is not None else None,
            edited=edited,
        )
        if converted is not None:
            await self.runtime.take(converted)

    async def _on_deleted(self, update: Update, context: Context) -> None:
        deleted = update.deleted_business_messages
        if deleted is None:
            return
        community = community_of(str(deleted.business_connection_id))
        channel = str(deleted.chat.id)
        for message_id in deleted.message_ids:
            await self.runtime.delete(PLATFORM, community, channel, str(message_id))
