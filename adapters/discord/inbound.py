"""Gateway events in: members' messages, edits and deletions become the core's calls."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.discord.convert import (
    PLATFORM,
    MessageFacts,
    Place,
    admit,
    snowflake_at,
    standing,
    to_message,
)
from adapters.discord.people import member_roles
from adapters.discord.sdk import discord
from adapters.discord.settings import DiscordSettings
from bot.ingest import Outcome
from bot.models import Message
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
_THREAD_TYPES = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)
# Messages read back per channel after a new gateway session. Ten REST pages: a long outage
# in a busy channel goes past it, and the log line says so.
CATCH_UP_LIMIT = 1000


@dataclass(frozen=True)
class CaughtUp:
    """What reading one guild's history back found."""

    channels: int = 0
    read: int = 0
    new: int = 0
    full: tuple[str, ...] = ()  # channels that reached the limit: later messages were not read


def facts_from_discord(message: discord.Message) -> MessageFacts:
    """The same facts `convert.facts_from_payload` reads, taken off a discord.py Message."""
    author = message.author
    reference = message.reference
    reply_to = None
    if (
        reference is not None
        and reference.message_id is not None
        and reference.type is discord.MessageReferenceType.reply
    ):
        reply_to = str(reference.message_id)
    guild_id = message.guild.id if message.guild is not None else None
    if guild_id is None:  # a guild discord.py has not cached: the channel still knows it
        guild_id = getattr(message.channel, "guild_id", None)
    roles: frozenset[str] = frozenset()
    if isinstance(author, discord.Member):
        roles = frozenset(str(role.id) for role in author.roles if not role.is_default())
    return MessageFacts(
        id=str(message.id),
        channel_id=str(message.channel.id),
        guild_id=None if guild_id is None else str(guild_id),
        author_id=str(author.id),
        author_name=author.display_name,
        author_is_bot=author.bot or author.system or message.webhook_id is not None,
        content=message.content,
        type=message.type.value,
        reply_to=reply_to,
        mentions=tuple(dict.fromkeys(str(user.id) for user in message.mentions)),
        role_ids=roles,
    )


def place_of(channel: Any) -> Place:
    """Where a message was posted; a thread (or forum post) knows its parent when cached."""
    if isinstance(channel, discord.Thread):
        return Place(str(channel.id), str(channel.parent_id), True)
    if getattr(channel, "type", None) in _THREAD_TYPES:
        return Place(str(channel.id), None, True)
    return Place(str(channel.id))


def listened(place: Place, settings: DiscordSettings) -> bool:
    """Whether members' messages in `place` are read (`convert.admit`'s rule for places)."""
    where = place.ids
    if settings.review_channel in where or where & settings.ignore_channels:
        return False
    return not settings.channels or bool(where & settings.channels)


def _snowflake(value: str) -> int:
    return int(value) if value.isdigit() else -1


class Inbound:
    """Turns the gateway's message events into ingestions, edits and deletions."""

    def __init__(
        self, runtime: Runtime, settings: DiscordSettings, bot_id: Callable[[], str]
    ) -> None:
        """Feed `runtime`; `bot_id` is the bot's own user id ("" before login)."""
        self.runtime = runtime
        self.settings = settings
        self._bot_id = bot_id

    def to_core(self, message: discord.Message, *, edited: bool = False) -> Message | None:
        """The core's Message for a member's message, or None when Huitaine ignores it."""
        facts = facts_from_discord(message)
        place = place_of(message.channel)
        if not admit(facts, place, self.settings, bot_id=self._bot_id()):
            return None
        names, manage = member_roles(message.author)
        author = standing(str(facts.guild_id), names, manage, self.settings)
        return to_message(facts, place, author=author, edited=edited)

    async def on_message(self, message: discord.Message) -> None:
        """Ingest a new message (the core stores it once, whatever the gateway replays)."""
        converted = self.to_core(message)
        if converted is None:
            return
        try:
            await self.runtime.ingest(converted)
        except Exception:
            # Stored before detection, so nothing is lost; the card follows the next change.
            _LOGGER.exception("message %s: ingestion or its card failed", message.id)

    async def on_edit(self, message: discord.Message) -> None:
        """Apply an edit: the new text is detected again."""
        converted = self.to_core(message, edited=True)
        if converted is not None:
            await self.runtime.edit(converted)

    async def on_delete(
        self, guild_id: int | None, channel_id: int, message_ids: Iterable[int]
    ) -> None:
        """Apply deletions; a case whose messages are all gone is withdrawn."""
        if guild_id is None or not self.settings.watches_guild(str(guild_id)):
            return
        for message_id in message_ids:
            await self.runtime.delete(PLATFORM, str(guild_id), str(channel_id), str(message_id))

    async def catch_up(
        self,
        guilds: Iterable[discord.Guild],
        limit: int = CATCH_UP_LIMIT,
        *,
        since: datetime | None = None,
    ) -> None:
        """Read back what was posted after the last stored message of each listened channel.

        A new gateway session (after op 9, or a start after a stop) replays nothing, so each
        listened channel and cached active thread is read after the newest message the core
        stored there (a channel with none: after the newest stored in the guild); ingestion is
        idempotent, so a message read twice is stored once. A guild with nothing stored yet is
        skipped: a first start imports no history (`huitaine replay` does). But on a new
        session of a run that has listened `since` then, such a guild is read back from that
        moment: what its members said while the session was down is theirs to be answered.
        """
        for guild in guilds:
            if not self.settings.watches_guild(str(guild.id)):
                continue
            last = await self.runtime.call(
                self.runtime.core.last_message_ids, PLATFORM, str(guild.id)
            )
            if not last and since is None:
                continue
            floor = str(snowflake_at(since)) if since is not None else None
            found = await self._catch_up_guild(guild, last, limit, floor)
            _LOGGER.info(
                "Discord guild %s caught up after a new session: %d messages read back in %d "
                "channels, %d new (at most %d per channel)",
                guild.id,
                found.read,
                found.channels,
                found.new,
                limit,
            )
            if found.full:
                _LOGGER.warning(
                    "Discord guild %s: channels %s had %d or more messages to read back; "
                    "the later ones were not read and only live messages follow",
                    guild.id,
                    ", ".join(found.full),
                    limit,
                )

    async def _catch_up_guild(
        self, guild: discord.Guild, last: dict[str, str], limit: int, since: str | None
    ) -> CaughtUp:
        floor = max(last.values(), key=_snowflake) if last else since
        assert floor is not None  # a guild with nothing stored is read back only `since`
        channels = read = new = 0
        full: list[str] = []
        readable: list[discord.TextChannel | discord.Thread] = [
            *guild.text_channels,
            *guild.threads,
        ]
        for channel in readable:
            if not listened(place_of(channel), self.settings):
                continue
            after = _snowflake(last.get(str(channel.id), floor))
            if after < 0:
                continue
            channels += 1
            count = 0
            try:
                async for message in channel.history(
                    limit=limit, after=discord.Object(after), oldest_first=True
                ):
                    count += 1
                    new += await self._ingest_read_back(message)
            except discord.HTTPException as exc:  # Forbidden included: no Read Message History
                _LOGGER.warning("catch-up: cannot read channel %s back (%s)", channel.id, exc)
            read += count
            if count >= limit:
                full.append(str(channel.id))
        return CaughtUp(channels, read, new, tuple(full))

    async def _ingest_read_back(self, message: discord.Message) -> int:
        """Ingest one message read from history; 1 if it was new to the core."""
        converted = self.to_core(message)
        if converted is None:
            return 0
        try:
            result = await self.runtime.ingest(converted)
        except Exception:
            _LOGGER.exception("message %s (read back): ingestion or its card failed", message.id)
            return 0
        return 0 if result.outcome is Outcome.DUPLICATE else 1
