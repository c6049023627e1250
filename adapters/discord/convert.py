"""Pure conversion: Discord gateway payloads (plain dicts) and facts into the core's `Message`.

Nothing here imports discord.py. The glue in `bot.py` reads the same facts off discord.py's
objects (`facts_from_discord`); tests check that both readings agree on recorded payloads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from adapters.discord.settings import DiscordSettings
from bot.clock import in_range
from bot.models import Author, Message, Standing

_LOGGER = logging.getLogger(__name__)

PLATFORM = "discord"
DISCORD_EPOCH_MS = 1_420_070_400_000
MESSAGE_LIMIT = 2000  # characters per message, Discord's limit for bots without Nitro
# DEFAULT and REPLY: what members write. Joins, pins, boosts, thread notices are not talk.
INGESTED_TYPES = frozenset({0, 19})
THREAD_CHANNEL_TYPES = frozenset({10, 11, 12})  # news, public and private threads
ADMINISTRATOR = 1 << 3
MANAGE_MESSAGES = 1 << 13
_REPLY_REFERENCE = 0  # message_reference.type: 0 is a reply, 1 a forward


def snowflake_time(snowflake: int | str) -> datetime:
    """The creation time encoded in a Discord id (what discord.py's `created_at` reports)."""
    millis = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def snowflake_at(when: datetime, sequence: int = 0) -> int:
    """A Discord id for `when` (aware): for fakes, benches and recorded payloads."""
    millis = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (millis << 22) | (sequence & 0x3FFFFF)


def jump_url(guild_id: str, channel_id: str, message_id: str) -> str:
    """The link that opens a message in the Discord client."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What Huitaine needs from one Discord message, read off a payload or a discord.py object."""

    id: str
    channel_id: str
    guild_id: str | None
    author_id: str
    author_name: str
    author_is_bot: bool  # a bot, a Discord system account or a webhook
    content: str
    type: int = 0
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    role_ids: frozenset[str] = frozenset()

    @property
    def created_at(self) -> datetime:
        """When the message was posted (from its id, as Discord defines it)."""
        return snowflake_time(self.id)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a message was posted: a channel, or a thread (forum posts are threads) and parent."""

    channel_id: str
    parent_id: str | None = None
    is_thread: bool = False

    @property
    def ids(self) -> frozenset[str]:
        """The channel and, for a thread, its parent: what allow and ignore lists match."""
        return frozenset(i for i in (self.channel_id, self.parent_id) if i is not None)


@dataclass(frozen=True, slots=True)
class Role:
    """A guild role: its name (matched against staff roles) and permission bits."""

    id: str
    name: str
    permissions: int = 0


@dataclass(frozen=True, slots=True)
class GuildFacts:
    """What a GUILD_CREATE told us about a guild: roles, owner and active threads."""

    id: str
    owner_id: str | None = None
    roles: Mapping[str, Role] = field(default_factory=lambda: MappingProxyType({}))
    threads: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> GuildFacts:
        """Read a GUILD_CREATE `d` object; a role or thread of an odd shape is left out."""
        roles = {}
        for r in _mappings(data.get("roles")):
            role_id, permissions = _snowflake(r.get("id")), r.get("permissions", 0)
            if role_id is None or not isinstance(r.get("name"), str):
                continue
            # Discord sends permissions as a decimal string of a 64-bit field.
            text = str(permissions)
            bits = int(text) if text.isdecimal() and len(text) <= 20 else 0
            roles[role_id] = Role(role_id, r["name"], bits)
        threads = {}
        for t in _mappings(data.get("threads")):
            thread_id, parent_id = _snowflake(t.get("id")), _snowflake(t.get("parent_id"))
            if thread_id is not None and parent_id is not None:
                threads[thread_id] = parent_id
        owner = _snowflake(data.get("owner_id"))
        return cls(
            id=_snowflake(data.get("id")) or "",
            owner_id=owner,
            roles=MappingProxyType(roles),
            threads=MappingProxyType(threads),
        )

    def place(self, channel_id: str) -> Place:
        """The place of a channel id: a known thread carries its parent."""
        parent = self.threads.get(channel_id)
        return Place(channel_id, parent, parent is not None)

    def role_names(self, role_ids: Iterable[str]) -> frozenset[str]:
        """Names (as written) of the known roles among `role_ids`; the core ignores case."""
        return frozenset(self.roles[r].name for r in role_ids if r in self.roles)

    def can_manage_messages(self, author_id: str, role_ids: Iterable[str]) -> bool:
        """Guild-wide Manage Messages: owner, or granted by @everyone or one of the roles."""
        if self.owner_id is not None and author_id == self.owner_id:
            return True
        bits = 0
        for role_id in (self.id, *role_ids):  # @everyone's role id is the guild id
            role = self.roles.get(role_id)
            if role is not None:
                bits |= role.permissions
        return bool(bits & (ADMINISTRATOR | MANAGE_MESSAGES))


def display_name(author: Mapping[str, Any], member: Mapping[str, Any] | None) -> str:
    """The name members see: server nickname, then global display name, then username."""
    for value in ((member or {}).get("nick"), author.get("global_name"), author.get("username")):
        if value and isinstance(value, str):
            # A lone surrogate (a broken escape in the JSON) cannot be stored: shown as "?".
            return value.encode("utf-8", "replace").decode("utf-8")
    return str(author.get("id", "?"))


def _snowflake(value: Any) -> str | None:
    """A Discord id as text, or None when `value` is not one (ids are 64-bit integers)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value) if isinstance(value, str) or 0 <= value < 1 << 64 else ""
    if not (text.isascii() and text.isdecimal()) or len(text) > 20 or int(text) >= 1 << 64:
        return None
    return text


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list field; anything else there is left out."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


class BadPayload(ValueError):
    """A gateway payload of a shape Discord does not send; the message says which field."""


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def facts_from_payload(data: Mapping[str, Any]) -> MessageFacts | None:
    """Read a MESSAGE_CREATE or MESSAGE_UPDATE `d` object; None when it carries no message.

    Partial updates (an embed unfurled, no author or content) are not member talk. A payload
    of a shape Discord does not send is skipped with a log line naming the field.
    """
    if not isinstance(data, Mapping):
        return None
    author = data.get("author")
    if not isinstance(author, Mapping) or "content" not in data or "id" not in data:
        return None
    try:
        return _facts(data, author)
    except BadPayload as exc:
        _LOGGER.warning("message payload %.40r skipped: %s", data.get("id"), exc)
        return None


def _required(data: Mapping[str, Any], key: str) -> str:
    value = _snowflake(data.get(key))
    if value is None:
        raise BadPayload(f"'{key}' is not a Discord id")
    return value


def _facts(data: Mapping[str, Any], author: Mapping[str, Any]) -> MessageFacts:
    message_id = _required(data, "id")
    if not in_range(snowflake_time(message_id)):
        raise BadPayload("'id' gives a date outside 1970-2199")
    member = data.get("member")
    member = member if isinstance(member, Mapping) else None
    reference = data.get("message_reference")
    reference = reference if isinstance(reference, Mapping) else {}
    reply_to = _snowflake(reference.get("message_id"))
    if reply_to is not None and reference.get("type", _REPLY_REFERENCE) != _REPLY_REFERENCE:
        reply_to = None
    guild = data.get("guild_id")
    if guild is not None and _snowflake(guild) is None:
        raise BadPayload("'guild_id' is not a Discord id")
    content = data.get("content")
    kind = data.get("type", 0)
    roles = (member or {}).get("roles")
    return MessageFacts(
        id=message_id,
        channel_id=_required(data, "channel_id"),
        guild_id=_snowflake(guild),
        author_id=_required(author, "id"),
        author_name=display_name(author, member),
        author_is_bot=bool(
            author.get("bot") or author.get("system") or data.get("webhook_id") is not None
        ),
        content=content if isinstance(content, str) else "",
        # An unknown type is not talk (admit() refuses it): -1 stands for "not a number".
        type=kind if isinstance(kind, int) and not isinstance(kind, bool) else -1,
        reply_to=reply_to,
        mentions=_unique(
            i for i in (_snowflake(u.get("id")) for u in _mappings(data.get("mentions"))) if i
        ),
        role_ids=frozenset(
            i for i in (_snowflake(r) for r in (roles if isinstance(roles, list) else [])) if i
        ),
    )


def admit(facts: MessageFacts, place: Place, settings: DiscordSettings, *, bot_id: str) -> bool:
    """Whether a message is member talk Huitaine should read.

    Refused: other guilds, DMs, the review channel, ignored channels (a thread follows its
    parent), channels outside the allow list when there is one, bots and webhooks (the bot
    itself included), system messages, and messages without text.
    """
    if not settings.watches_guild(facts.guild_id):
        return False
    if facts.author_is_bot or facts.author_id == bot_id:
        return False
    if facts.type not in INGESTED_TYPES or not facts.content.strip():
        return False
    where = place.ids
    review = {settings.review_channel} | settings.review_places
    if where & review or where & settings.ignore_channels:
        return False
    return not settings.channels or bool(where & settings.channels)


def standing(
    guild_id: str, role_names: Iterable[str], can_manage: bool, settings: DiscordSettings
) -> Standing:
    """The facts about a member in their server that the core judges.

    Role names, and Manage Messages as the admin flag when `manage_messages_is_staff` counts it.
    """
    return Standing(
        guild_id, frozenset(role_names), admin=settings.manage_messages_is_staff and can_manage
    )


def to_message(
    facts: MessageFacts, place: Place, *, author: Standing | None, edited: bool = False
) -> Message:
    """The core's Message: a thread (or forum post) is both the channel and the thread."""
    return Message(
        platform=PLATFORM,
        community=str(facts.guild_id),
        channel=place.channel_id,
        id=facts.id,
        author=Author(
            id=facts.author_id,
            name=facts.author_name,
            is_bot=facts.author_is_bot,
            standing=author,
        ),
        text=facts.content,
        created_at=facts.created_at,
        thread=place.channel_id if place.is_thread else None,
        reply_to=facts.reply_to,
        mentions=facts.mentions,
        edited=edited,
    )


def convert_payload(
    data: Mapping[str, Any],
    guild: GuildFacts,
    settings: DiscordSettings,
    *,
    bot_id: str,
    edited: bool = False,
) -> Message | None:
    """A MESSAGE_CREATE/UPDATE payload to a Message, or None when Huitaine ignores it."""
    facts = facts_from_payload(data)
    if facts is None:
        return None
    place = guild.place(facts.channel_id)
    if not admit(facts, place, settings, bot_id=bot_id):
        return None
    facts_there = standing(
        str(facts.guild_id),
        guild.role_names(facts.role_ids),
        guild.can_manage_messages(facts.author_id, facts.role_ids),
        settings,
    )
    return to_message(facts, place, author=facts_there, edited=edited)


def modal_values(data: Mapping[str, Any]) -> dict[str, str]:
    """Text values of a modal submission, by custom id (action rows or labels)."""
    values: dict[str, str] = {}
    stack: list[Any] = list(_mappings(data.get("components")))
    while stack:
        component = stack.pop()
        if not isinstance(component, Mapping):
            continue
        if "value" in component and "custom_id" in component:
            values[str(component["custom_id"])] = str(component["value"])
        stack.extend(_mappings(component.get("components")))
        if isinstance(component.get("component"), Mapping):  # a Label wraps one component
            stack.append(component["component"])
    return values


def _units(char: str) -> int:
    # Counted in UTF-16 code units, the strictest reading of "2000 characters".
    return 2 if ord(char) > 0xFFFF else 1


def _fit(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += _units(char)
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a reply into messages of at most `limit` characters, at paragraph, line or word."""
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        size = _fit(rest, limit)
        if size == len(rest):
            chunks.append(rest)
            break
        window = rest[: size + 1]  # a separator right after the limit is a fine place to cut
        cut = -1
        for separator in ("\n\n", "\n", " "):
            index = window.rfind(separator)
            if index > size // 2:  # never leave a tiny first part
                cut = index
                break
        if cut <= 0:
            cut = size
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    return [chunk for chunk in chunks if chunk]
