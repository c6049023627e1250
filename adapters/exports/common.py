"""What every importer shares: staff rules, skip accounting and a progress line."""

from __future__ import annotations

import functools
import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, BinaryIO

import ijson

from bot.config import StaffConfig
from bot.models import Message
from bot.staff import StaffPolicy, operator_key

_LOGGER = logging.getLogger(__name__)
# A chat message is a few levels deep; a record nested deeper is garbage or an attack, and is
# skipped without being built.
MAX_DEPTH = 64
# Prefixes ("messages.item", "chats.list.item.id") are only needed near the top of the file;
# building them for every level costs the square of the depth in memory.
_PREFIX_DEPTH = 8
# A lone low surrogate escape (\udc80) makes the C parser raise UnicodeDecodeError and lose the
# rest of the file; a lone high one it already reads as "?". Escaped backslashes are matched
# first so that a literal "\\udc80" in a message is left alone.
_ESCAPE = re.compile(
    rb"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_ESCAPE_TAIL = 12  # the longest escape (a surrogate pair) is 12 bytes
_HIGH = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")
_MAX_CARRY = 1 << 20  # a megabyte of backslashes is read as it comes


@dataclass(frozen=True, slots=True)
class StaffRule:
    """Who counts as staff in an export: the core's StaffPolicy, with the audit's own lists.

    Importers report facts (the roles an export names); the policy that decides for the live
    bot decides here too. Exports write ids without a platform: `user_ids` are taken as ids of
    the export's own platform.
    """

    roles: frozenset[str] = frozenset()
    user_ids: frozenset[str] = frozenset()

    def decide(self, message: Message) -> Message:
        """`message` with the core's decision on whether it answers as staff."""
        staff = _policy(self, message.platform).answers_as_staff(message)
        return replace(message, author=replace(message.author, is_staff=staff))

    @classmethod
    def of(cls, roles: list[str] | None = None, user_ids: list[str] | None = None) -> StaffRule:
        """Build a rule from command-line or config lists."""
        return cls(frozenset(r.casefold() for r in roles or []), frozenset(user_ids or []))


@functools.lru_cache(maxsize=8)
def _policy(rule: StaffRule, platform: str) -> StaffPolicy:
    operators = frozenset(operator_key(platform, user_id) for user_id in rule.user_ids)
    return StaffPolicy(StaffConfig(user_ids=operators, roles=rule.roles))


class SkipRecord(ValueError):
    """A record that cannot be imported; the message says why."""


@dataclass
class ImportStats:
    """What an import read, kept and skipped (and why, and where)."""

    read: int = 0
    kept: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    truncated: str | None = None
    # Names the exports give their servers and groups, for the report's title.
    communities: set[str] = field(default_factory=set)

    def skip(self, where: str, reason: str) -> None:
        """Count a skipped record; keep the first few positions for the summary."""
        self.skipped[reason] += 1
        if len(self.examples) < 20:
            self.examples.append(f"{where}: {reason}")

    def stop_at(self, path: Path, error: Exception) -> None:
        """The file ends early (truncated) or turns invalid: keep what came before, say where."""
        self.truncated = f"{path.name} after {self.read} records ({error})"
        _LOGGER.warning(
            "%s: unreadable after record %d; imported what came before", path, self.read
        )

    def summary(self) -> str:
        """One paragraph for the end of an import."""
        lines = [f"{self.read} records read, {self.kept} messages kept"]
        if self.skipped:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in self.skipped.most_common())
            lines.append(f"{sum(self.skipped.values())} skipped ({reasons})")
            lines.extend(f"  {example}" for example in self.examples[:5])
        if self.truncated:
            lines.append(f"file truncated: {self.truncated}; everything before it was imported")
        return "\n".join(lines)


class Progress:
    """A progress line on stderr driven by the bytes read, updated at most 4 times a second."""

    def __init__(
        self, handle: BinaryIO, total: int, label: str, out: IO[str] | None = None
    ) -> None:
        """Follow `handle`'s position against `total` bytes."""
        self.handle = handle
        self.total = max(total, 1)
        self.label = label
        self.out = out if out is not None else sys.stderr
        self._last = 0.0
        self.enabled = self.out.isatty()

    def update(self, count: int) -> None:
        """Show progress after `count` records, if a terminal is watching."""
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.25:
            return
        self._last = now
        share = min(self.handle.tell() / self.total, 1.0)
        self.out.write(f"\r{self.label}: {share:6.1%} · {count:,} messages")
        self.out.flush()

    def done(self, count: int) -> None:
        """Finish the progress line."""
        if self.enabled:
            self.out.write(f"\r{self.label}: 100.0% · {count:,} messages\n")
            self.out.flush()


def _fix_escape(match: re.Match[bytes]) -> bytes:
    text = match.group()
    return text if len(text) != 6 else b"\\ufffd"


class SurrogateSafe:
    """A binary file whose lone low-surrogate escapes read as U+FFFD (shown as "�")."""

    def __init__(self, handle: BinaryIO) -> None:
        """Wrap `handle`, read from its current position."""
        self.handle = handle
        self._carry = b""

    def read(self, size: int = -1) -> bytes:
        """Read about `size` bytes (the end of a possible escape waits for the next read)."""
        if size == 0:
            return b""
        chunk, self._carry = self._carry, b""
        while True:
            more = self.handle.read(size)
            chunk += more
            cut = _safe_cut(chunk) if more and len(chunk) < _MAX_CARRY else len(chunk)
            if cut > 0 or not more:
                chunk, self._carry = chunk[:cut], chunk[cut:]
                return _ESCAPE.sub(_fix_escape, chunk)


def _safe_cut(chunk: bytes) -> int:
    """Where `chunk` can be cut without splitting an escape, a surrogate pair or a run of \\."""
    cut = chunk.find(b"\\", max(0, len(chunk) - _ESCAPE_TAIL))
    if cut < 0:
        return len(chunk)
    if _HIGH.fullmatch(chunk[max(0, cut - 6) : cut]):
        cut -= 6  # the first half of a pair stays with its second half
    while cut > 0 and chunk[cut - 1 : cut] == b"\\":
        cut -= 1
    return cut


_START = frozenset({"start_map", "start_array"})
_END = frozenset({"end_map", "end_array"})


class Record:
    """One record of an export, or the note that it was nested too deep to be built."""

    def __init__(self, value: Any = None, *, too_deep: bool = False) -> None:
        """Hold `value`; `too_deep` when the record was skipped unbuilt."""
        self._value = value
        self.too_deep = too_deep

    @property
    def value(self) -> Any:
        """The record; SkipRecord if it was nested too deep."""
        if self.too_deep:
            raise SkipRecord(f"nested deeper than {MAX_DEPTH} levels")
        return self._value


def records(
    handle: BinaryIO, is_record: Callable[[str], bool]
) -> Iterator[tuple[str, str, Any] | Record]:
    """ijson.parse's (prefix, event, value) for the top of the file, and a Record for each
    value whose prefix `is_record`.

    Prefixes are built only outside records, and a record deeper than MAX_DEPTH is skipped
    unbuilt: ijson's own prefixes cost memory in the square of the depth (a record nested
    100,000 deep took 24 GB).
    """
    path: list[str] = []
    events = ijson.basic_parse(SurrogateSafe(handle), use_float=True)
    for event, value in events:
        if event == "map_key":
            prefix = ".".join(path[:-1])
            path[-1] = value
        elif event in _END:
            path.pop()
            prefix = ".".join(path)
        else:
            prefix = ".".join(path)
            if is_record(prefix):
                yield _record(event, value, events)
                continue
            if event in _START:
                path.append("" if event == "start_map" else "item")
                if len(path) > MAX_DEPTH:
                    # Not an export's shape: the readers stop here and keep what came before.
                    raise ijson.JSONError(f"nested deeper than {MAX_DEPTH} levels")
        yield prefix, event, value


def _record(event: str, value: Any, events: Iterator[tuple[str, Any]]) -> Record:
    """Read one record from its first event on; build it (in C) unless it is too deep."""
    if event not in _START:
        return Record(value)
    depth = 1
    buffered: list[tuple[str, str, Any]] | None = [("", event, value)]
    for event, value in events:
        if event in _START:
            depth += 1
            if depth > MAX_DEPTH:
                buffered = None  # what was read of it so far is dropped
        elif event in _END:
            depth -= 1
        if buffered is not None:
            buffered.append((".", event, value))
        if depth == 0:
            break
    if buffered is None:
        return Record(too_deep=True)
    return Record(next(ijson.items(iter(buffered), "")))
