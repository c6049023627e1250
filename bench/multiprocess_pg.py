"""Several `huitaine` processes on one PostgreSQL database, against one process on SQLite.

Each process replays the same history (as two processes fed the same gateway events would),
approves replies as a moderator and delivers notices, concurrently with the others; then the
database is compared with a one-process SQLite run of the same history: messages, cases,
notices and sent replies, and the posts on the fake platform (an append-only file). The same
is done again with processes SIGKILLed at random and restarted.

The history is the bundled example, scaled to `--messages` over several communities (fresh ids
per copy). It is read in windows of `WINDOW` events; between two windows the scheduler's
leader ticks (one process, elected by a PostgreSQL advisory lock) and every process tries the
window's approvals (the cases opened one window earlier, one in three), so that reminders see
the same case states in every run, whatever the number of processes.

With `--split`, each process replays only its own communities instead (as one process per
group of Discord shards, or per Telegram bot, would): the same counts, less work per process.

Run: python bench/multiprocess_pg.py --dsn postgresql://…        # an empty database
     python bench/multiprocess_pg.py --start-server                # a throwaway server
     python bench/multiprocess_pg.py --start-server --messages 2000 --kills 10 [--split]
Figures depend on the host: these machines are shared, say so when quoting them.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import adapters.sections  # noqa: E402, F401  (staff ids name the platforms it registers)
from bench.pipeline import example_path  # noqa: E402
from bot.app import Huitaine  # noqa: E402
from bot.clock import EARLIEST, ManualClock, parse_timestamp  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.models import Actor, SendState  # noqa: E402
from bot.replay import BadLine, Event, EventType, parse_event, read_lines  # noqa: E402
from bot.review import ReviewError  # noqa: E402
from bot.storage import Store  # noqa: E402

WINDOW = 100  # events between two scheduler ticks
APPROVE_ONE_IN = 3  # of the cases a window opened, those whose id is a multiple of this
COMMUNITIES = 4  # the example's community, copied this many times side by side
SETTLE_WAIT = 10.0  # seconds the leader waits for replies in flight before ticking anyway


def scaled_history(target: int) -> Iterator[bytes]:
    """Copies of the example with fresh ids: `COMMUNITIES` at a time, then three weeks later."""
    records = [json.loads(line) for line in example_path().read_text("utf-8").splitlines()]
    first, last = parse_timestamp(records[0]["ts"]), parse_timestamp(records[-1]["ts"])
    span = last - first + timedelta(days=1)
    produced = block = 0
    while produced < target:
        lines = []
        for copy in range(COMMUNITIES):
            for record in records:
                shifted = dict(record)
                shifted["community"] = f"{record['community']}-{copy}"
                shifted["id"] = f"{record['id']}-{block}"
                if record.get("reply_to"):
                    shifted["reply_to"] = f"{record['reply_to']}-{block}"
                if record.get("thread"):
                    shifted["thread"] = f"{record['thread']}-{block}"
                # A minute apart per community, so the copies interleave in time.
                ts = parse_timestamp(record["ts"]) + span * block + timedelta(minutes=copy)
                shifted["ts"] = ts.isoformat().replace("+00:00", "Z")
                lines.append((ts, json.dumps(shifted, ensure_ascii=False).encode()))
        for _, line in sorted(lines, key=lambda pair: pair[0]):
            if produced >= target:
                return
            produced += 1
            yield line
        block += 1


def _config() -> Any:
    operators = [f"{platform}:mod-1" for platform in ("discord", "telegram", "console")]
    return parse_config(
        {
            "community": {"name": "Atelier"},
            "detection": {"detector": "rules"},
            "staff": {"user_ids": operators},
            "digest": {"enabled": False},
        }
    )


def _moderator(platform: str) -> Actor:
    return Actor(platform, "mod-1", "Camille")


class Channel:
    """The fake platform: an append-only file of posts; every write survives a SIGKILL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def post(self, key: str) -> None:
        os.write(self.fd, f"{key}\n".encode())

    def has(self, key: str) -> bool:
        """What a moderator sees when looking at the channel."""
        return key in self.path.read_text("utf-8").splitlines()


def _windows(history: Path) -> list[list[Event]]:
    events: list[Event] = []
    with history.open("rb") as handle:
        for _, raw in read_lines(handle):
            try:
                events.append(parse_event(raw))
            except BadLine:
                continue
    return [events[i : i + WINDOW] for i in range(0, len(events), WINDOW)]


def drive(
    database: str,
    history: Path,
    channel_path: Path,
    ready: Any = None,
    part: tuple[int, int] = (0, 1),
    split: bool = False,
) -> None:
    """One process: replay every window, passing each gate (approvals, tick) on the way.

    `part` is (this process's index, how many processes); with `split`, it replays only the
    communities whose number falls to it (as one process per group of Discord shards would),
    else the whole history (as processes fed the same events would).
    """
    logging.basicConfig(level=logging.ERROR)
    clock = ManualClock(EARLIEST)
    core = Huitaine(_config(), clock=clock, database=database)
    channel = Channel(channel_path)
    if ready is not None:
        ready.set()
    windows = _windows(history)
    for number, window in enumerate(windows):
        clock.set(window[0].message.created_at)
        _gate(core, clock, channel, number, windows[number - 1] if number else [], part, split)
        for event in window:
            if split and _owner(event.message.community, part[1]) != part[0]:
                continue
            when = event.message.created_at
            clock.set(when)
            if event.type is EventType.MESSAGE:
                core.ingest(event.message)
            elif event.type is EventType.EDIT:
                core.edit(event.message, when)
            else:
                m = event.message
                core.delete(m.platform, m.community, m.channel, m.id, when)
    clock.set(windows[-1][-1].message.created_at + timedelta(days=8))
    _gate(core, clock, channel, len(windows), windows[-1], part, split)
    core.close()


def _gate(
    core: Huitaine,
    clock: ManualClock,
    channel: Channel,
    number: int,
    before: list[Event],
    part: tuple[int, int],
    split: bool,
) -> None:
    """Before window `number`: approvals of the previous window's cases, then one tick.

    A case is approved or not by what it is (a hash of its place and opening time), never by
    its id, which depends on which process opened it first. With `split`, a process approves
    its own communities' cases (the others may still be working on theirs); without, every
    process tries every approval and the case lock lets one of them through.
    """
    keys = [e.message.key for e in before if e.type is EventType.MESSAGE]
    marks = ", ".join("?" for _ in keys) or "NULL"
    found = core.store.rows(
        "SELECT c.id, c.platform, c.community, c.channel, c.author_id, c.opened_at FROM cases c"
        f" JOIN messages m ON m.case_id = c.id WHERE m.key IN ({marks})"
        " AND c.state IN ('open', 'suggested') ORDER BY c.opened_at, c.community",
        tuple(keys),
    )
    targets = [
        row
        for row in found
        if zlib.crc32(
            "|".join(
                str(row[k]) for k in ("community", "channel", "author_id", "opened_at")
            ).encode()
        )
        % APPROVE_ONE_IN
        == 0
        and (not split or _owner(str(row["community"]), part[1]) == part[0])
    ]
    for row in {int(r["id"]): r for r in targets}.values():
        try:
            item = core.review.approve(_moderator(str(row["platform"])), int(row["id"]))
        except ReviewError:
            continue  # another process approved it first (or it closed)
        channel.post(f"reply-{item.id}")
        core.review.mark_sent(item.id, f"p{item.id}")
    core.store.execute(
        "INSERT OR IGNORE INTO bench_done (w, part) VALUES (?, ?)", (number, part[0])
    )
    while not core.store.row("SELECT 1 AS done FROM bench_ticks WHERE w = ?", (number,)):
        # The tick waits for every process to be at this gate: all before it is processed.
        everyone = core.store.row("SELECT COUNT(*) AS n FROM bench_done WHERE w = ?", (number,))
        if everyone and everyone["n"] == part[1] and core.store.leads("scheduler"):
            _tick(core, clock, channel, number)
        else:
            time.sleep(0.002)


def _owner(community: str, processes: int) -> int:
    """Which process replays a community with `split` (the copy's number, round robin)."""
    return int(community.rsplit("-", 1)[1]) % processes


def _tick(core: Huitaine, clock: ManualClock, channel: Channel, number: int) -> None:
    """The leader: wait for replies in flight, settle those in doubt, deliver due notices."""
    deadline = time.monotonic() + SETTLE_WAIT
    while core.review.outbox(SendState.SENDING) and time.monotonic() < deadline:
        time.sleep(0.002)
    # A reply left in doubt by a killed process: the moderator looks at the channel.
    for item in core.review.outbox(SendState.UNCONFIRMED):
        actor = _moderator(item.platform)
        if channel.has(f"reply-{item.id}"):
            core.review.confirm_sent(actor, item.id)
        else:
            core.review.retry_send(actor, item.id)
            channel.post(f"reply-{item.id}")
            core.review.mark_sent(item.id, f"p{item.id}")
    for notice in core.tick(clock.now()):
        channel.post(f"notice-{notice.id}")
        core.scheduler.mark_delivered(notice.id, clock.now())
    core.store.execute("INSERT OR IGNORE INTO bench_ticks (w) VALUES (?)", (number,))


def _prepare(database: str) -> None:
    store = Store(database)
    store.execute("CREATE TABLE IF NOT EXISTS bench_ticks (w INTEGER PRIMARY KEY)")
    store.execute(
        "CREATE TABLE IF NOT EXISTS bench_done (w INTEGER, part INTEGER, PRIMARY KEY (w, part))"
    )
    store.close()


@dataclass
class Run:
    """What one run left behind."""

    processes: int
    seconds: float
    counts: dict[str, int]
    kills: int = 0
    split: bool = False


COUNTS = {
    "messages": "SELECT COUNT(*) AS n FROM messages",
    "cases": "SELECT COUNT(*) AS n FROM cases",
    "notices": "SELECT COUNT(*) AS n FROM notices",
    "notices delivered": "SELECT COUNT(*) AS n FROM notices WHERE delivered_at IS NOT NULL",
    "replies sent": "SELECT COUNT(*) AS n FROM outgoing WHERE state = 'sent'",
    "replies": "SELECT COUNT(*) AS n FROM outgoing",
}


def _counts(database: str, channel: Path) -> dict[str, int]:
    store = Store(database)
    counts = {name: int(store.row(sql)["n"]) for name, sql in COUNTS.items()}  # type: ignore[index]
    store.close()
    posts = Counter(channel.read_text("utf-8").splitlines())
    counts["replies posted"] = sum(1 for k in posts if k.startswith("reply-"))
    counts["replies posted twice"] = sum(
        1 for k, n in posts.items() if k.startswith("reply-") and n > 1
    )
    counts["notices posted"] = sum(1 for k in posts if k.startswith("notice-"))
    counts["notices posted twice"] = sum(
        1 for k, n in posts.items() if k.startswith("notice-") and n > 1
    )
    return counts


def _start(database: str, history: Path, channel: Path, part: tuple[int, int], split: bool) -> Any:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    process = context.Process(target=drive, args=(database, history, channel, ready, part, split))
    process.start()
    return process, ready


def run(
    database: str,
    history: Path,
    channel: Path,
    processes: int,
    kills: int = 0,
    seed: int = 7,
    split: bool = False,
) -> Run:
    """`processes` drivers on `database` at once; with `kills`, SIGKILL and restart at random."""
    _prepare(database)
    rng = random.Random(seed)
    start = time.perf_counter()
    running = [_start(database, history, channel, (i, processes), split) for i in range(processes)]
    done_kills = 0
    while any(p.is_alive() for p, _ in running):
        time.sleep(0.05)
        if done_kills < kills and rng.random() < 0.1:
            index = rng.randrange(len(running))
            process, ready = running[index]
            if process.is_alive() and ready.is_set():
                os.kill(process.pid, signal.SIGKILL)
                process.join()
                done_kills += 1
                running[index] = _start(database, history, channel, (index, processes), split)
    for process, _ in running:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a driver failed with exit code {process.exitcode}")
    seconds = time.perf_counter() - start
    return Run(processes, seconds, _counts(database, channel), done_kills, split)


def _fresh_schema(dsn: str) -> str:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in dsn else "?"
    return f"{dsn}{joiner}options=-csearch_path%3D{schema}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="a PostgreSQL database (each run gets its own schema)")
    parser.add_argument("--start-server", action="store_true", help="run .ci/postgres (fsync on)")
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs in the killed run")
    parser.add_argument("--killed-processes", type=int, default=4)
    parser.add_argument(
        "--split",
        action="store_true",
        help="each process replays its own communities (as shards would), not the whole history",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="huitaine-mp-"))
    work.chmod(0o755)  # the server runs as another user when we are root
    server = None
    dsn = args.dsn
    if args.start_server:
        server = work / "pg"
        env = {**os.environ, "HUITAINE_PG_FSYNC": "on"}
        dsn = subprocess.run(
            [str(ROOT / ".ci/postgres"), "start", str(server)],
            check=True, capture_output=True, text=True, env=env,
        ).stdout.strip()  # fmt: skip
    if not dsn:
        parser.error("give --dsn or --start-server")
    history = work / "history.jsonl"
    history.write_bytes(b"\n".join(scaled_history(args.messages)) + b"\n")
    try:
        reference = run(str(work / "reference.db"), history, work / "reference.channel", 1)
        runs = [
            run(_fresh_schema(dsn), history, work / f"pg{n}.channel", n, split=args.split)
            for n in (int(p) for p in args.processes.split(","))
        ]
        killed = run(
            _fresh_schema(dsn), history, work / "killed.channel", args.killed_processes,
            kills=args.kills, split=args.split,
        )  # fmt: skip
    finally:
        if server is not None:
            subprocess.run([str(ROOT / ".ci/postgres"), "stop", str(server)], check=False)
    _print(args.messages, reference, [*runs, killed])
    bad = [r for r in [*runs, killed] if _diff(reference, r)]
    return 1 if bad else 0


def _diff(reference: Run, run: Run) -> dict[str, tuple[int, int]]:
    return {k: (v, run.counts[k]) for k, v in reference.counts.items() if run.counts[k] != v}


def _print(messages: int, reference: Run, runs: list[Run]) -> None:
    print(f"{messages} history lines, {COMMUNITIES} communities, rules detector; busy shared host")
    header = f"{'run':<40}{'seconds':>9}{'lines/s':>9}  counts (differences from SQLite)"
    print(header)
    print(f"{'1 process, SQLite (ref.)':<40}{reference.seconds:>9.1f}"
          f"{messages / reference.seconds:>9.0f}  "
          + ", ".join(f"{k} {v}" for k, v in reference.counts.items()))  # fmt: skip
    for run in runs:
        name = f"{run.processes} process{'es' if run.processes > 1 else ''}, PostgreSQL"
        if run.split and run.processes > 1:
            name += ", split"
        if run.kills:
            name += f", {run.kills} kills"
        diff = _diff(reference, run)
        shown = ", ".join(f"{k} {a}→{b}" for k, (a, b) in diff.items()) or "all equal"
        print(f"{name:<40}{run.seconds:>9.1f}{messages / run.seconds:>9.0f}  {shown}")


if __name__ == "__main__":
    raise SystemExit(main())
