"""Who and where on Telegram: chat titles, usernames, chat admins, and the Actor a user stands as.

The facts come from Telegram (updates seen, getChat, getChatAdministrators); the core's
StaffPolicy alone decides what they allow.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from telegram import Bot, Chat, User
from telegram import Message as TgMessage
from telegram.error import TelegramError

from adapters.telegram.admins import AdminCache
from adapters.telegram.convert import PLATFORM, PRIVATE_COMMUNITY, chat_name
from adapters.telegram.settings import TelegramSettings
from bot.models import Actor, Standing

if TYPE_CHECKING:
    from adapters.telegram.business import BusinessDesk

_LOGGER = logging.getLogger(__name__)
_KNOWN_USERNAMES = 10_000


@dataclass(frozen=True, slots=True)
class ChatInfo:
    """What a card says of a group: its title, and its public @username if any."""

    name: str
    username: str | None


class Directory:
    """What the bot has learnt of chats and users, and the facts it reports about them."""

    def __init__(self, bot: Bot, settings: TelegramSettings, now: Callable[[], datetime]) -> None:
        """Ask `bot` for what updates do not tell; keep chat admins `settings.admin_cache`."""
        self._bot = bot
        self.settings = settings
        self.admins = AdminCache(self._fetch_admins, settings.admin_cache, now)
        self.usernames: OrderedDict[str, int] = OrderedDict()
        self.chats: dict[int, ChatInfo] = {}
        # Telegram Business connections, set by the adapter: who speaks for which business.
        self.business: BusinessDesk | None = None

    async def _fetch_admins(self, chat_id: int) -> Mapping[int, str]:
        members = await self._bot.get_chat_administrators(chat_id)
        return {member.user.id: str(member.status) for member in members}

    def learn(self, message: TgMessage) -> None:
        """Remember a group's title and the sender's @username (for mentions and cards)."""
        chat = message.chat
        if chat.type != Chat.PRIVATE:
            self.chats[chat.id] = ChatInfo(chat_name(chat), chat.username)
        user = message.from_user
        if user is not None and user.username:
            key = user.username.casefold()
            self.usernames[key] = user.id
            self.usernames.move_to_end(key)
            if len(self.usernames) > _KNOWN_USERNAMES:
                self.usernames.popitem(last=False)

    async def know_chat(self, channel: str) -> None:
        """Learn a group's title once (after a restart no member may have spoken yet)."""
        try:
            chat_id = int(channel)
        except ValueError:
            return
        if chat_id > 0 or chat_id in self.chats:
            return
        try:
            chat = await self._bot.get_chat(chat_id)
            self.chats[chat_id] = ChatInfo(chat_name(chat), chat.username)
        except TelegramError as exc:
            _LOGGER.info("title of chat %s unknown: %s", chat_id, exc)
            self.chats[chat_id] = ChatInfo(str(chat_id), None)

    def _chats_for(self, community: str | None) -> tuple[int, ...]:
        # A case in a community chat: that chat's admins. Otherwise (a private message, a
        # command): the admins of any community chat.
        try:
            chat_id = int(community) if community is not None else None
        except ValueError:
            chat_id = None
        if chat_id in self.settings.community_chats:
            return (chat_id,) if chat_id is not None else ()
        return self.settings.community_chats

    async def admin_ids(self, chat: Chat) -> set[int]:
        """The users reported as admins of `chat`: its admins and `staff_user_ids`.

        A private chat has no admins of its own: the admins of any community chat stand for it.
        """
        ids = set(self.settings.staff_user_ids)
        chats = self.settings.community_chats if chat.type == Chat.PRIVATE else (chat.id,)
        for chat_id in chats:
            ids.update((await self.admins.statuses(chat_id)).keys())
        return ids

    async def actor(self, user: User, community: str | None) -> Actor:
        """The Actor for a Telegram user: where they are a chat admin; the core decides the rest.

        Each community chat is its own standing: an admin of one group is nobody in another.
        Private messages to the bot have no admins of their own; they are the bot's inbox, so
        the facts reported for them are whether the user administers any community chat.
        """
        business = self.business
        if business is not None and business.is_business(community):
            # A business's customer chats: its owner and named employees, nobody else.
            facts = business.standings(user.id, community)
            return Actor(PLATFORM, str(user.id), user.full_name, tuple(facts))
        configured = user.id in self.settings.staff_user_ids
        standing: list[Standing] = []
        for chat_id in self._chats_for(community):
            status = (await self.admins.statuses(chat_id)).get(user.id)
            standing.append(Standing(str(chat_id), admin=configured or bool(status)))
        if community is None or community == PRIVATE_COMMUNITY:
            inbox_admin = any(s.admin for s in standing)
            standing.append(Standing(PRIVATE_COMMUNITY, admin=inbox_admin))
        if community is None and business is not None:
            standing.extend(business.standings(user.id, None))
        return Actor(PLATFORM, str(user.id), user.full_name, tuple(standing))
