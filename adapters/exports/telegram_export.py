"""Streaming reader of Telegram Desktop's "Export chat history" result.json (one chat or all)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
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
from bot.clock import in_range
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
        when = datetime.fromtimestamp(int(record["date_unixtime"]), tz=UTC)
    else:
        # Old exports only have local time without a zone; it is read as UTC, not guessed.
        when = datetime.fromisoformat(str(record["date"])).replace(tzinfo=UTC)
    if not in_range(when):
        raise ValueError(f"date {when.year} out of range")
    return when


def _mentions(record: dict[str, Any]) -> tuple[str, ...]:
    entities = record.get("text_entities") or []
    if not entities and isinstance(record.get("text"), list):
        entities = record["text"]
    if not isinstance(entities, list):
        return ()
    return tuple(
        f"user{e['user_id']}"
        for e in entities
        if isinstance(e, dict) and e.get("type") == "mention_name" and "user_id" in e
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
        if record.get("action") == "topic_created" and isinstance(record.get("id"), int):
            chat.topics.add(record["id"])
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
    message = Message(
        platform=PLATFORM,
        community=chat.id,
        channel=chat.id,
        id=str(message_id),
        thread=thread,
        reply_to=str(reply_to) if reply_to is not None else None,
        author=Author(
            id=author_id,
            name=str(name),
        ),
        text=flatten_text(record.get("text")),
        created_at=created,
        mentions=_mentions(record),
        edited="edited" in record,
    )
    return staff.decide(message)


def _is_message(prefix: str) -> bool:
    return prefix.endswith("messages.item") and _MESSAGE_PREFIX.match(prefix) is not None


def read_telegram_export(
    path: Path, staff: StaffRule, stats: ImportStats, *, progress: bool = True
) -> Iterator[Message]:
    """Yield the messages of an export, one chat after another, never holding the file."""
    with path.open("rb") as handle:
        bar = Progress(handle, path.stat().st_size, path.name) if progress else None
        chat = _Chat()
        try:
            for item in records(handle, _is_message):
                if isinstance(item, Record):
                    stats.read += 1
                    try:
                        message = _message(item.value, chat, staff)
                    except SkipRecord as exc:
                        stats.skip(f"{path.name} chat {chat.id} record #{stats.read}", str(exc))
                    else:
                        stats.kept += 1
                        if bar:
                            bar.update(stats.kept)
                        yield message
                    continue
                prefix, event, value = item
                named = prefix in ("name", "chats.list.item.name") and event == "string"
                if named and str(value).strip():
                    stats.communities.add(str(value).strip()[:100])
                if prefix in ("id", "chats.list.item.id") and event == "number":
                    chat = _Chat()
                    chat.id = str(value)
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            stats.stop_at(path, exc)
        if bar:
            bar.done(stats.kept)
