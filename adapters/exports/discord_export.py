"""Streaming reader of DiscordChatExporter JSON exports (one channel or thread per file)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from adapters.exports.common import ImportStats, Progress, SkipRecord, StaffRule
from bot.clock import parse_timestamp
from bot.models import Author, Message

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
    if kind not in _CONVERSATION:
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
    roles = [str(r.get("name", "")) for r in author.get("roles") or [] if isinstance(r, dict)]
    author_id = str(author["id"])
    name = author.get("nickname") or author.get("name") or author_id
    reference = record.get("reference") or {}
    channel_type = header.get("channel.type", "")
    channel = header.get("channel.id", "")
    thread = None
    if "Thread" in channel_type:
        # DiscordChatExporter files a thread under its parent channel as the "category".
        thread = channel
        channel = header.get("channel.categoryId") or channel
    content = record.get("content")
    return Message(
        platform=PLATFORM,
        community=header.get("guild.id", "0"),
        channel=channel,
        id=message_id,
        thread=thread,
        reply_to=str(reference["messageId"]) if reference.get("messageId") else None,
        author=Author(
            id=author_id,
            name=str(name),
            is_staff=staff.is_staff(author_id, roles),
            is_bot=bool(author.get("isBot", False)),
        ),
        text=content if isinstance(content, str) else "",
        created_at=created,
        mentions=tuple(str(m["id"]) for m in record.get("mentions") or [] if "id" in m),
        edited=bool(record.get("timestampEdited")),
    )


def read_discord_export(
    path: Path, staff: StaffRule, stats: ImportStats, *, progress: bool = True
) -> Iterator[Message]:
    """Yield the messages of one export, never holding the whole file in memory."""
    with path.open("rb") as handle:
        bar = Progress(handle, path.stat().st_size, path.name) if progress else None
        events = ijson.parse(handle, use_float=True)
        header: dict[str, str] = {}
        try:
            for prefix, event, value in events:
                if prefix in _HEADER and value is not None:
                    header[prefix] = str(value)
                if prefix == "messages" and event == "start_array":
                    break
            for index, record in enumerate(ijson.items(events, "messages.item", use_float=True)):
                stats.read += 1
                try:
                    message = _message(record, header, staff)
                except SkipRecord as exc:
                    stats.skip(f"{path.name} message #{index + 1}", str(exc))
                    continue
                stats.kept += 1
                if bar:
                    bar.update(stats.kept)
                yield message
        except ijson.JSONError as exc:
            stats.stop_at(path, exc)
        if bar:
            bar.done(stats.kept)
