"""What every importer shares: staff rules, skip accounting and a progress line."""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StaffRule:
    """Who counts as staff in an export: role names (any case) or user ids."""

    roles: frozenset[str] = frozenset()
    user_ids: frozenset[str] = frozenset()

    def is_staff(self, user_id: str, roles: list[str] | tuple[str, ...] = ()) -> bool:
        """True when the user id is listed or one of the roles matches."""
        if user_id in self.user_ids:
            return True
        return any(role.casefold() in self.roles for role in roles)

    @classmethod
    def of(cls, roles: list[str] | None = None, user_ids: list[str] | None = None) -> StaffRule:
        """Build a rule from command-line or config lists."""
        return cls(frozenset(r.casefold() for r in roles or []), frozenset(user_ids or []))


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
