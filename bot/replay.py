"""Replay of a neutral JSONL history: the clock follows the messages' own timestamps."""

from __future__ import annotations

import enum
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.app import Huitaine
from bot.clock import ManualClock, parse_timestamp
from bot.errors import HuitaineError
from bot.ingest import Outcome
from bot.models import Author, Detection, Message
from bot.runtime import database_unavailable

_LOGGER = logging.getLogger(__name__)
MAX_LINE_BYTES = 1_000_000


# Events per batch of detection: large enough for the model's batches, small enough that a
# history's notices and answers still happen at their own time (each event is applied in order).
WINDOW = 64


class EventType(enum.StrEnum):
    """What a history line records."""

    MESSAGE = "message"
    EDIT = "edit"
    DELETE = "delete"


class BadLine(ValueError):
    """A history line that cannot be read; the message says why."""


class ReplayInterrupted(HuitaineError, RuntimeError):
    """The database could not be written (locked, disk full): the replay stopped cleanly."""


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a history."""

    type: EventType
    message: Message


def _text(record: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = record.get(key)
    if value is None:
        if required:
            raise BadLine(f"missing '{key}'")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadLine(f"'{key}' must be a string")
    try:
        text = str(value)
        # A lone surrogate (a broken \ud800 escape) cannot be stored: an id must be exact.
        text.encode("utf-8")
    except ValueError as exc:  # UnicodeEncodeError, or an integer of thousands of digits
        raise BadLine(f"'{key}' is not valid text") from exc
    return text


def _name(value: str) -> str:
    """A display name with any lone surrogate shown as "?", as message texts are stored."""
    return value.encode("utf-8", "replace").decode("utf-8")


def parse_event(line: str | bytes) -> Event:
    """Parse one JSONL line into an event, or raise BadLine."""
    if len(line) > MAX_LINE_BYTES:
        raise BadLine(f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        record = json.loads(line)
    # ValueError also covers an integer of thousands of digits; RecursionError a line nested
    # thousands deep.
    except (ValueError, RecursionError) as exc:
        raise BadLine(f"not JSON ({exc.__class__.__name__})") from exc
    if not isinstance(record, dict):
        raise BadLine("not a JSON object")
    event = record.get("event", "message")
    if not isinstance(event, str) or event not in {e.value for e in EventType}:
        shown = repr(event[:40]) if isinstance(event, str) else "of another type than text"
        raise BadLine(f"unknown event {shown}")
    kind = EventType(event)
    author = record.get("author") or {}
    if not isinstance(author, dict):
        raise BadLine("'author' must be an object")
    ts = _text(record, "ts")
    try:
        created_at = parse_timestamp(ts or "")
    except ValueError as exc:
        raise BadLine(f"bad timestamp {(ts or '')[:40]!r}") from exc
    mentions = record.get("mentions") or []
    if not isinstance(mentions, list):
        raise BadLine("'mentions' must be a list")
    text = record.get("text", "")
    if kind is EventType.DELETE and text is None:
        text = ""
    if not isinstance(text, str):
        raise BadLine("'text' must be a string")
    needs_author = kind is not EventType.DELETE
    author_id = _text(author, "id", required=needs_author) or ""
    message = Message(
        platform=_text(record, "platform") or "",
        community=_text(record, "community") or "",
        channel=_text(record, "channel") or "",
        id=_text(record, "id") or "",
        thread=_text(record, "thread", required=False),
        reply_to=_text(record, "reply_to", required=False),
        author=Author(
            id=author_id,
            name=_name(_text_or_none(author, "name") or author_id),
            is_staff=bool(author.get("staff", False)),
            is_bot=bool(author.get("bot", False)),
        ),
        text=text,
        created_at=created_at,
        mentions=tuple(str(_text({"mention": m}, "mention")) for m in mentions),
        edited=kind is EventType.EDIT,
    )
    return Event(kind, message)


def _text_or_none(record: dict[str, Any], key: str) -> str | None:
    """A display field: read as `_text` does, but a name that cannot be stored is cleaned."""
    value = record.get(key)
    if isinstance(value, str):
        return value
    return _text(record, key, required=False)


@dataclass
class ReplaySummary:
    """What a replay did, for the command line and the tests."""

    lines: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notices: Counter[str] = field(default_factory=Counter)
    last_time: datetime | None = None

    @property
    def skipped_total(self) -> int:
        """How many lines were skipped."""
        return sum(self.skipped.values())


def read_lines(source: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Number the non-empty lines of a binary stream."""
    for number, raw in enumerate(source, start=1):
        if raw.strip():
            yield number, raw


def replay(core: Huitaine, clock: ManualClock, lines: Iterable[bytes]) -> ReplaySummary:
    """Feed a history to the core in order, moving the clock and ticking the scheduler.

    Notices are counted in the summary and marked delivered, as an adapter would.
    """
    summary = ReplaySummary()
    for window in _windows(_events(lines, summary), WINDOW):
        # The window's members' texts are scored in one batch, then each event is applied in
        # order exactly as before: detection depends on the text alone.
        try:
            ahead = core.ingestor.detect_ahead(
                [e.message for _, e in window if e.type is EventType.MESSAGE]
            )
        except sqlite3.OperationalError as exc:
            _stop_if_unavailable(exc, window[0][0])
            raise
        for number, event in window:
            _apply(core, clock, summary, number, event, ahead)
    try:
        _deliver(core, clock, summary)
    except sqlite3.OperationalError as exc:
        _stop_if_unavailable(exc, summary.lines)
        raise
    return summary


def _events(lines: Iterable[bytes], summary: ReplaySummary) -> Iterator[tuple[int, Event]]:
    """The readable events of a history with their line numbers; bad lines counted, skipped."""
    for number, raw in read_lines(lines):
        summary.lines += 1
        try:
            yield number, parse_event(raw)
        except BadLine as exc:
            _LOGGER.warning("line %d skipped: %s", number, exc)
            summary.skipped[str(exc).split(" (")[0]] += 1


def _windows(events: Iterator[tuple[int, Event]], size: int) -> Iterator[list[tuple[int, Event]]]:
    window: list[tuple[int, Event]] = []
    for item in events:
        window.append(item)
        if len(window) >= size:
            yield window
            window = []
    if window:
        yield window


def _apply(
    core: Huitaine,
    clock: ManualClock,
    summary: ReplaySummary,
    number: int,
    event: Event,
    ahead: dict[str, Detection],
) -> None:
    """One event of the history, at its own time, after the notices due before it."""
    when = event.message.created_at
    clock.set(when)
    try:
        _deliver(core, clock, summary)
        if event.type is EventType.MESSAGE:
            result = core.ingest(event.message, ahead.get(event.message.key))
        elif event.type is EventType.EDIT:
            result = core.edit(event.message, when)
        else:
            m = event.message
            result = core.delete(m.platform, m.community, m.channel, m.id, when)
    except sqlite3.OperationalError as exc:
        _stop_if_unavailable(exc, number)
        raise
    summary.outcomes[result.outcome.value] += 1
    if result.outcome is Outcome.UNKNOWN:
        _LOGGER.info("line %d: %s of an unknown message", number, event.type.value)
    summary.last_time = clock.now()


def _stop_if_unavailable(exc: sqlite3.OperationalError, number: int) -> None:
    """Turn "database locked / disk full" into one clear error; other errors are bugs."""
    if database_unavailable(exc):
        # Each event is its own transaction: what came before is stored, nothing is half done.
        raise ReplayInterrupted(
            f"line {number}: the database cannot be written ({exc}); the lines before it are "
            "stored and nothing is half written: free the database (or the disk) and run the "
            "same replay again, it resumes where it stopped"
        ) from None


def _deliver(core: Huitaine, clock: ManualClock, summary: ReplaySummary) -> None:
    for notice in core.tick(clock.now()):
        summary.notices[notice.kind.value] += 1
        core.scheduler.mark_delivered(notice.id, clock.now())
