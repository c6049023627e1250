"""Streaming reader of Telegram Desktop's "Export chat history" result.json (one chat or all)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ijson

from adapters.exports.common import ImportStats, Progress, SkipRecord, StaffRule
from bot.models import Author, Message

_LOGGER = logging.getLogger(__name__)
PLATFORM = "telegram"
# A single-chat export has its messages at the top; a full export under chats.list[].
_MESSAGE_PREFIX = re.compile(r"^(?P<chat>(?:chats\.list\.item)?)\.?messages\.item$")


def flatten_text(text: Any) -> str:
    """Telegram writes `text` as a string or as a list of strings and entity objects."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in text
            if isinstance(part, str | dict)
        )
    return ""


def _when(record: dict[str, Any]) -> datetime:
    if "date_unixtime" in record:
        return datetime.fromtimestamp(int(record["date_unixtime"]), tz=UTC)
    # Old exports only have local time without a zone; it is read as UTC rather than guessed.
    return datetime.fromisoformat(str(record["date"])).replace(tzinfo=UTC)


def _mentions(record: dict[str, Any]) -> tuple[str, ...]:
    entities = record.get("text_entities") or []
    if not entities and isinstance(record.get("text"), list):
        entities = [e for e in record["text"] if isinstance(e, dict)]
    return tuple(
        f"user{e['user_id']}"
        for e in entities
        if e.get("type") == "mention_name" and "user_id" in e
    )


class _Chat:
    """What the reader knows of the chat whose messages it is reading."""

    def __init__(self) -> None:
        self.id = "0"
        self.topics: set[int] = set()


def _message(record: Any, chat: _Chat, staff: StaffRule) -> Message:
    if not isinstance(record, dict):
        raise SkipRecord("not an object")
    if record.get("type") == "service":
        if record.get("action") == "topic_created" and "id" in record:
            chat.topics.add(int(record["id"]))
        raise SkipRecord(f"service message ({record.get('action', 'unknown')})")
    try:
        message_id = int(record["id"])
        created = _when(record)
    except KeyError as exc:
        raise SkipRecord(f"missing '{exc.args[0]}'") from exc
    except (ValueError, TypeError, OverflowError) as exc:
        raise SkipRecord("bad date") from exc
    author_id = str(record.get("from_id") or "unknown")
    # A deleted account keeps its id but loses its name.
    name = record.get("from") or "Deleted Account"
    reply_to = record.get("reply_to_message_id")
    thread = None
    if isinstance(reply_to, int) and reply_to in chat.topics:
        # In a forum, a message "replying" to the topic's creation is simply in that topic.
        thread, reply_to = str(reply_to), None
    return Message(
        platform=PLATFORM,
        community=chat.id,
        channel=chat.id,
        id=str(message_id),
        thread=thread,
        reply_to=str(reply_to) if reply_to is not None else None,
        author=Author(
            id=author_id,
            name=str(name),
            is_staff=staff.is_staff(author_id),
        ),
        text=flatten_text(record.get("text")),
        created_at=created,
        mentions=_mentions(record),
        edited="edited" in record,
    )


def read_telegram_export(
    path: Path, staff: StaffRule, stats: ImportStats, *, progress: bool = True
) -> Iterator[Message]:
    """Yield the messages of an export, one chat after another, never holding the file."""
    with path.open("rb") as handle:
        bar = Progress(handle, path.stat().st_size, path.name) if progress else None
        events = ijson.parse(handle, use_float=True)
        chat = _Chat()
        builder: ijson.ObjectBuilder | None = None
        depth = 0
        try:
            for prefix, event, value in events:
                if builder is not None:
                    builder.event(event, value)
                    depth += event in ("start_map", "start_array")
                    depth -= event in ("end_map", "end_array")
                    if depth == 0:
                        stats.read += 1
                        try:
                            message = _message(builder.value, chat, staff)
                        except SkipRecord as exc:
                            stats.skip(
                                f"{path.name} chat {chat.id} record #{stats.read}", str(exc)
                            )
                        else:
                            stats.kept += 1
                            if bar:
                                bar.update(stats.kept)
                            yield message
                        builder = None
                    continue
                if prefix in ("id", "chats.list.item.id") and event == "number":
                    chat = _Chat()
                    chat.id = str(value)
                elif event == "start_map" and _MESSAGE_PREFIX.match(prefix):
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                    depth = 1
        except ijson.JSONError as exc:
            stats.stop_at(path, exc)
        if bar:
            bar.done(stats.kept)
