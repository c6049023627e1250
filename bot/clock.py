"""Clocks: every component asks one for the time, so tests move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

# Times a message may carry. Outside them a date is garbage (a forged payload, a broken
# export) and adding a deadline or a snooze to it would overflow Python's datetime.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: for tests, replays and the console demo."""

    def __init__(self, start: datetime) -> None:
        """Start at `start`, which must be timezone-aware."""
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the clock's current time."""
        return self._now

    def set(self, when: datetime) -> None:
        """Move to `when`; a clock never goes backwards."""
        when = when.astimezone(UTC)
        if when > self._now:
            self._now = when

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new time."""
        self._now += delta
        return self._now


def in_range(when: datetime) -> bool:
    """True when `when` lies between EARLIEST and LATEST, where deadline arithmetic is safe."""
    return EARLIEST <= when < LATEST


def to_db(when: datetime) -> str:
    """Serialise a time for storage: UTC, fixed width, so text order is time order."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str) -> datetime:
    """Read back a time written by `to_db`."""
    return datetime.fromisoformat(text)


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp ('Z' allowed); a naive one is refused, never guessed.

    A time before 1970 or from 2200 on is refused too (ValueError): no chat message has one.
    """
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    try:
        when = when.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"timestamp {text!r} is out of range") from exc
    if not in_range(when):
        raise ValueError(f"timestamp {text!r} is out of range ({EARLIEST.year}-{LATEST.year})")
    return when
