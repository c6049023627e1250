"""Streaming reader of DiscordChatExporter JSON exports (one channel or thread per file)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from adapters.exports.common import (
    ImportStats,
    Progress,
    Record,
    SkipRecord,
    StaffRule,
    records,
)
from bot.clock import parse_timestamp
from bot.models import Author, Message, Standing

_LOGGER = logging.getLogger(__name__)
PLATFORM = "discord"
# Message types that are people talking; the rest (joins, pins, calls, boosts) are service lines.
_CONVERSATION = {"Default", "Reply", "ThreadStarterMessage", "ChatInputCommand"}
_HEADER = {
    "guild.id",
    "guild.name",
    "channel.id",
    "channel.type",
    "channel.categoryId",
    "channel.name",
}


def _message(record: Any, header: dict[str, str], staff: StaffRule) -> Message:
    if not isinstance(record, dict):
        raise SkipRecord("not an object")
    kind = record.get("type", "Default")
    if not isinstance(kind, str) or kind not in _CONVERSATION:
        raise SkipRecord(f"service message ({kind})")
    author = record.get("author")
    if not isinstance(author, dict) or "id" not in author:
        raise SkipRecord("no author")
    try:
        created = parse_timestamp(str(record["timestamp"]))
        message_id = str(record["id"])
    except KeyError as exc:
        raise SkipRecord(f"missing '{exc.args[0]}'") from exc
    except ValueError as exc:
        raise SkipRecord("bad timestamp") from exc
    roles = [str(r.get("name", "")) for r in _list(author.get("roles")) if isinstance(r, dict)]
    author_id = str(author["id"])
    name = author.get("nickname") or author.get("name") or author_id
    reference = record.get("reference")
    if not isinstance(reference, dict):
        reference = {}
    channel_type = header.get("channel.type", "")
    channel = header.get("channel.id", "")
    thread = None
    if "Thread" in channel_type:
        # DiscordChatExporter files a thread under its parent channel as the "category".
        thread = channel
        channel = header.get("channel.categoryId") or channel
    content = record.get("content")
    community = header.get("guild.id", "0")
    message = Message(
        platform=PLATFORM,
        community=community,
        channel=channel,
        id=message_id,
        thread=thread,
        reply_to=str(reference["messageId"]) if reference.get("messageId") else None,
        author=Author(
            id=author_id,
            name=str(name),
            is_bot=bool(author.get("isBot", False)),
            # What the export says of the author; the core's policy decides (`decide`).
            standing=Standing(community, frozenset(roles)),
        ),
        text=content if isinstance(content, str) else "",
        created_at=created,
        mentions=tuple(
            str(m["id"])
            for m in _list(record.get("mentions"))
            if isinstance(m, dict) and "id" in m
        ),
        edited=bool(record.get("timestampEdited")),
    )
    return staff.decide(message)


def _list(value: Any) -> list[Any]:
    """A list field, or nothing when the export has something else there."""
    return value if isinstance(value, list) else []


def read_discord_export(
    path: Path, staff: StaffRule, stats: ImportStats, *, progress: bool = True
) -> Iterator[Message]:
    """Yield the messages of one export, never holding the whole file in memory."""
    with path.open("rb") as handle:
        bar = Progress(handle, path.stat().st_size, path.name) if progress else None
        header: dict[str, str] = {}
        try:
            for item in records(handle, lambda prefix: prefix == "messages.item"):
                if not isinstance(item, Record):
                    prefix, _, value = item
                    if prefix in _HEADER and value is not None:
                        header[prefix] = str(value)
                        if prefix == "guild.name" and str(value).strip():
                            stats.communities.add(str(value).strip()[:100])
                    continue
                stats.read += 1
                try:
                    message = _message(item.value, header, staff)
                except SkipRecord as exc:
                    stats.skip(f"{path.name} message #{stats.read}", str(exc))
                    continue
                stats.kept += 1
                if bar:
                    bar.update(stats.kept)
                yield message
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            stats.stop_at(path, exc)
        if bar:
            bar.done(stats.kept)
