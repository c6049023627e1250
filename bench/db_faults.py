"""Database faults for the fault campaigns: locked by another process, then the disk full.

While members keep talking through a real adapter, another process takes SQLite's write lock
for 10 s (a real `BEGIN EXCLUSIVE` in a child process), then the disk the database lives on
fills up (a small tmpfs filled to the last byte, when this machine lets us mount one; otherwise
SQLite's `max_page_count`, which fails writes with the same "database or disk is full"). The
runtime must hold what it cannot store and store it once the database is back: the phase
counts messages said and stored, the log lines a user sees (and any traceback among them), and
ends with SQLite's integrity check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.runtime import Runtime

_LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


class LogLines(logging.Handler):
    """What the user sees: every WARNING or worse from our code, and whether it had a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.tracebacks = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("bot", "adapters")):
            self.lines.append(f"{record.levelname} {record.getMessage()}")
            self.tracebacks += record.exc_info is not None

    @contextlib.contextmanager
    def watching(self) -> Iterator[LogLines]:
        root = logging.getLogger()
        root.addHandler(self)
        try:
            yield self
        finally:
            root.removeHandler(self)


@contextlib.contextmanager
def small_disk(size_mb: int = 48) -> Iterator[tuple[Path, bool]]:
    """A folder on its own small tmpfs (True) or, where mounting is refused, a plain one."""
    with tempfile.TemporaryDirectory() as tmp:
        mounted = (
            os.geteuid() == 0
            and subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", tmp],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )
        try:
            yield Path(tmp), mounted
        finally:
            if mounted:
                subprocess.run(["umount", tmp], capture_output=True, check=False)


def fill(folder: Path) -> Path:
    """Fill the file system of `folder` to the last byte; return the filler to delete."""
    filler = folder / "filler"
    chunk = b"\0" * (1 << 20)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 20, 4096, 1):  # megabytes, then pages, then the last bytes
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, chunk[:size])
    finally:
        os.close(fd)
    return filler


@dataclass
class PhaseResult:
    """One injected database fault and what it cost."""

    fault: str
    said: int
    stored: int
    held_max: int
    seconds: float
    lines: list[str] = field(default_factory=list)
    tracebacks: int = 0


async def _count(runtime: Runtime, since_rowid: int) -> int:
    row = await runtime.call(
        runtime.core.store.row,
        "SELECT COUNT(*) AS n FROM messages WHERE rowid > ? AND author_bot = 0",
        (since_rowid,),
    )
    return int(row["n"]) if row else 0


async def _last_rowid(runtime: Runtime) -> int:
    row = await runtime.call(runtime.core.store.row, "SELECT MAX(rowid) AS n FROM messages")
    return int(row["n"] or 0) if row else 0


async def _phase(
    fault: str,
    runtime: Runtime,
    say: Callable[[int], Awaitable[object]],
    start: Callable[[], Awaitable[Callable[[], Awaitable[None]]]],
    *,
    messages: int,
    spacing: float,
    settle: float,
) -> PhaseResult:
    """Inject with `start` (which returns the release), say `messages`, release, wait."""
    since = await _last_rowid(runtime)
    watch = LogLines()
    began = time.monotonic()
    held_max = 0
    with watch.watching():
        release = await start()
        for n in range(messages):
            await say(n)
            await asyncio.sleep(spacing)
            held_max = max(held_max, runtime.held)
        await release()
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            held_max = max(held_max, runtime.held)
            if await _count(runtime, since) >= messages and runtime.held == 0:
                break
            await asyncio.sleep(0.2)
    stored = await _count(runtime, since)
    return PhaseResult(
        fault,
        messages,
        stored,
        held_max,
        time.monotonic() - began,
        watch.lines,
        watch.tracebacks,
    )


async def database_faults(
    runtime: Runtime,
    database: Path,
    mounted: bool,
    say: Callable[[int], Awaitable[object]],
    *,
    lock_seconds: float = 10.0,
    messages: int = 30,
) -> list[PhaseResult]:
    """The two faults, one after the other, while `say(n)` makes a member speak."""

    async def lock() -> Callable[[], Awaitable[None]]:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _LOCKER,
            str(database),
            str(lock_seconds),
            stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdout is not None
        await child.stdout.readline()  # "locked": the other process holds the lock now

        async def release() -> None:
            await child.wait()  # it lets go after `lock_seconds`

        return release

    async def disk_full() -> Callable[[], Awaitable[None]]:
        if mounted:
            filler = await asyncio.to_thread(fill, database.parent)

            async def free() -> None:
                await asyncio.sleep(3.0)  # full for a while: several retries fail
                filler.unlink()

            return free
        core = runtime.core
        pages = await runtime.call(core.store.row, "PRAGMA page_count")
        assert pages is not None
        await runtime.call(core.store.execute, f"PRAGMA max_page_count = {pages['page_count']}")

        async def room() -> None:
            await asyncio.sleep(3.0)
            await runtime.call(core.store.execute, "PRAGMA max_page_count = 1073741823")

        return room

    spacing = lock_seconds / messages
    locked = await _phase(
        f"locked by another process for {lock_seconds:g} s",
        runtime,
        say,
        lock,
        messages=messages,
        spacing=spacing,
        settle=60.0,
    )
    full = await _phase(
        "disk full on write" + ("" if mounted else " (max_page_count)"),
        runtime,
        say,
        disk_full,
        messages=messages,
        spacing=0.05,
        settle=60.0,
    )
    return [locked, full]


def print_phases(results: list[PhaseResult], integrity: str) -> None:
    """Injected, said, stored, lost, and the log lines the user saw."""
    print(f"{'database fault':<40} {'said':>5} {'stored':>6} {'lost':>5} {'held max':>8} {'s':>5}")
    for r in results:
        print(
            f"{r.fault:<40} {r.said:>5} {r.stored:>6} {r.said - r.stored:>5} "
            f"{r.held_max:>8} {r.seconds:>5.1f}"
        )
        print(f"  log lines the user saw ({len(r.lines)}, tracebacks {r.tracebacks}):")
        for line in r.lines:
            print(f"    {line[:160]}")
    print(f"database after both faults: integrity {integrity}")
