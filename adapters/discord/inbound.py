"""Gateway events in: members' messages, edits and deletions become the core's calls."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from adapters.discord.convert import (
    PLATFORM,
    MessageFacts,
    Place,
    admit,
    standing,
    to_message,
)
from adapters.discord.people import member_roles
from adapters.discord.sdk import discord
from adapters.discord.settings import DiscordSettings
from bot.models import Message
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
_THREAD_TYPES = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)


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
