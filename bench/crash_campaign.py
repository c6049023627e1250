"""Crash campaign: replay a history with approvals and sends in flight, SIGKILL it at random.

A driver process (forked: Linux and macOS) replays a JSONL history through the core as
`huitaine replay` does (messages, edits, deletions, reminders and escalations); as a moderator
it approves a suggested reply every few events and sends it to a fake platform: a channel file
written with O_APPEND, so every post survives the kill. Notices go to the same channel with a
nonce, and the channel drops a nonce it has seen (Discord's `enforce_nonce`); an attempt it
drops is what Telegram, which has no such key, would have posted twice (at least once there).

The campaign runs the driver once without interruption, then again on a fresh database,
SIGKILLing it at random moments and restarting it until it finishes. After each restart the
core recovers on its own (unprocessed messages, replies left *sending*); a reply in doubt is
shown to the moderator, who looks at the channel and confirms it or asks for a resend. Then
every table is compared with the uninterrupted run — messages, cases (states, deadlines),
suggestions, notices, decisions, replies — and the posts in the channel are counted.

Run: python bench/crash_campaign.py                        # 20,000 messages, >= 100 kills
     python bench/crash_campaign.py --messages 2000 --kills 10
History: the bundled example scaled (fresh ids per copy), or `--history FILE.jsonl`.
Figures depend on the host: these machines are shared, say so when quoting them.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import adapters.sections  # noqa: E402, F401  (staff ids name the platforms it registers)
from bench.pipeline import scaled_lines  # noqa: E402
from bot.app import Huitaine  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.models import Actor, SendState  # noqa: E402
from bot.replay import BadLine, EventType, parse_event, read_lines  # noqa: E402  # noqa: E402

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
APPROVE_EVERY = 7  # a moderator approves a suggested reply every this many events
PROGRESS_EVERY = 50  # the driver records how far it got every this many events (for speed)
# The actions a moderator takes only because of a crash: not in the uninterrupted run.
RECOVERY_ACTIONS = ("confirm_sent", "retry_send")
# Seconds a post to the fake platform takes (set from --post-latency before the driver forks).
POST_LATENCY = 0.0


def _config() -> Any:
    # The campaign's moderator is an operator: she moderates every community of the history.
    operators = [f"{platform}:mod-1" for platform in ("discord", "telegram", "console")]
    return parse_config(
        {
            "community": {"name": "Atelier"},
            "detection": {"detector": "rules"},
            "staff": {"user_ids": operators},
        }
    )


def _moderator(platform: str) -> Actor:
    return Actor(platform, "mod-1", "Camille")


class Channel:
    """The fake platform: an append-only file of posts; every write survives a SIGKILL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: set[str] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                kind, key = line.split(" ", 1)
                if kind == "post":
                    self.seen.add(key)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def post(self, key: str, *, nonce: bool) -> None:
        """Post once per key when `nonce` (Discord); a repeat is recorded as dropped.

        With `POST_LATENCY`, the request takes that long, half before and half after the post
        lands: a kill in the first half loses the post, in the second half loses its answer.
        """
        if POST_LATENCY:
            time.sleep(POST_LATENCY / 2)
        if key in self.seen and nonce:
            os.write(self.fd, f"dropped {key}\n".encode())
            return
        self.seen.add(key)
        os.write(self.fd, f"post {key}\n".encode())
        if POST_LATENCY:
            time.sleep(POST_LATENCY / 2)

    def has(self, key: str) -> bool:
        """What a moderator sees when looking at the channel."""
        return key in self.seen


def drive(
    history: Path, db: Path, channel_path: Path, *, ready: Callable[[], object] = lambda: None
) -> None:
    """The driver: replay `history` into `db`, approving and sending; resumable at any kill."""
    logging.basicConfig(level=logging.ERROR)  # recovery notes would drown the figures
    clock = ManualClock(EPOCH)
    core = Huitaine(_config(), clock=clock, database=db)
    core.store.execute(
        "CREATE TABLE IF NOT EXISTS campaign_progress (one INTEGER PRIMARY KEY, line INTEGER)"
    )
    core.store.execute(
        "CREATE TABLE IF NOT EXISTS campaign_actions"
        " (line INTEGER PRIMARY KEY, case_id INTEGER, reply_id INTEGER)"
    )
    channel = Channel(channel_path)
    row = core.store.row("SELECT line FROM campaign_progress WHERE one = 1")
    resume = int(row["line"]) if row else 0
    ready()  # the core is open and has recovered: from here on, a kill tests something
    with history.open("rb") as handle:
        for number, raw in read_lines(handle):
            if number <= resume:
                continue
            try:
                event = parse_event(raw)
            except BadLine:
                continue
            when = event.message.created_at
            clock.set(when)
            _deliver(core, clock, channel)
            if event.type is EventType.MESSAGE:
                core.ingest(event.message)
            elif event.type is EventType.EDIT:
                core.edit(event.message, when)
            else:
                m = event.message
                core.delete(m.platform, m.community, m.channel, m.id, when)
            if number % APPROVE_EVERY == 0:
                _moderate(core, channel, number)
            if number % PROGRESS_EVERY == 0:
                core.store.execute(
                    "INSERT OR REPLACE INTO campaign_progress (one, line) VALUES (1, ?)",
                    (number,),
                )
    _deliver(core, clock, channel)
    core.close()


def _deliver(core: Huitaine, clock: ManualClock, channel: Channel) -> None:
    for notice in core.tick(clock.now()):
        channel.post(f"notice-{notice.id}", nonce=True)
        core.scheduler.mark_delivered(notice.id, clock.now())


def _moderate(core: Huitaine, channel: Channel, number: int) -> None:
    """At event `number`: approve the oldest suggested case once, send it, settle any doubt."""
    done = core.store.row("SELECT reply_id FROM campaign_actions WHERE line = ?", (number,))
    if done is None:
        row = core.store.row(
            "SELECT id, platform FROM cases WHERE state = 'suggested' ORDER BY id LIMIT 1"
        )
        with core.store.transaction():
            # The approval and the note that this event's approval happened: one transaction.
            item = None
            if row is not None:
                item = core.review.approve(_moderator(str(row["platform"])), int(row["id"]))
            core.store.execute(
                "INSERT INTO campaign_actions (line, case_id, reply_id) VALUES (?, ?, ?)",
                (number, item.case_id if item else None, item.id if item else None),
            )
        if item is not None:
            channel.post(f"reply-{item.id}", nonce=False)
            core.review.mark_sent(item.id, f"p{item.id}")
        return
    if done["reply_id"] is None:
        return
    # Redone after a kill: a reply left in doubt is settled by the moderator, who looks. Only
    # the reply approved at this event: a later reply of the same case (reopened, approved
    # again) is settled at its own event, never at an earlier time than it was approved.
    for item in core.review.outbox(SendState.UNCONFIRMED, SendState.SENDING):
        if item.id != done["reply_id"]:
            continue
        actor = _moderator(item.platform)
        if item.state is SendState.SENDING:
            item = core.review.mark_unconfirmed(item.id)
        if channel.has(f"reply-{item.id}"):
            core.review.confirm_sent(actor, item.id)
        else:
            core.review.retry_send(actor, item.id)
            channel.post(f"reply-{item.id}", nonce=False)
            core.review.mark_sent(item.id, f"p{item.id}")


# -- the campaign -------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a campaign found."""

    kills: int = 0
    restarts: int = 0
    seconds_clean: float = 0.0
    seconds_killed: float = 0.0
    tables: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    posts: dict[str, int] = field(default_factory=dict)
    integrity: str = ""

    @property
    def lost(self) -> int:
        """Rows of the uninterrupted run missing after the kills."""
        return sum(t[2] for t in self.tables.values())

    @property
    def sent_twice(self) -> int:
        """Replies and notices that reached the channel more than once."""
        return self.posts["replies posted twice"] + self.posts["notices posted twice"]

    @property
    def duplicated(self) -> int:
        """Rows after the kills that the uninterrupted run does not have."""
        return sum(t[3] for t in self.tables.values())


def _child(history: Path, db: Path, channel: Path, ready: Any) -> None:
    drive(history, db, channel, ready=ready.set)


def _start(history: Path, db: Path, channel: Path) -> Any:
    """A driver process, forked from this one so that restarts cost no interpreter start-up."""
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    process = context.Process(target=_child, args=(history, db, channel, ready))
    process.start()
    if not ready.wait(timeout=300):
        raise RuntimeError("the driver did not start")
    return process


def _run_clean(history: Path, db: Path, channel: Path) -> float:
    """Run the driver without interruption; return the seconds of work after start-up."""
    process = _start(history, db, channel)
    start = time.perf_counter()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError("the uninterrupted run failed")
    return time.perf_counter() - start


def _run_killed(
    history: Path, db: Path, channel: Path, kills: int, work: float, rng: random.Random
) -> tuple[int, int]:
    """Run the driver to completion, SIGKILLing it `kills` times at random moments."""
    done_kills = restarts = 0
    # Spread the kills over the work (start-up excluded): a run is killed at a random moment
    # within `window` seconds of being ready, so about twice `kills` land before it finishes.
    window = max(0.02, work / max(kills, 1))
    while True:
        process = _start(history, db, channel)
        if done_kills < kills:
            process.join(timeout=rng.uniform(0.0, window))
            if process.is_alive():
                os.kill(process.pid, signal.SIGKILL)
                process.join()
                done_kills += 1
                restarts += 1
                continue
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"driver failed with exit code {process.exitcode}")
        return done_kills, restarts


# Each table with the columns compared. Left out: decision ids (a moderator's confirm or resend
# after a kill adds a decision and shifts the later ids; those actions are counted apart) and a
# reply's platform message id (a reply a moderator confirms by looking has none recorded).
TABLES = {
    "messages": "SELECT * FROM messages",
    "cases": "SELECT * FROM cases",
    "suggestions": "SELECT * FROM suggestions",
    "notices": "SELECT * FROM notices",
    "decisions": (
        "SELECT case_id, action, actor_platform, actor_id, actor_name, at, text, reason "
        "FROM decisions WHERE action NOT IN ('confirm_sent', 'retry_send')"
    ),
    "replies": (
        "SELECT id, case_id, platform, community, channel, thread, reply_to, member_id, text, "
        "state, approved_by, created_at, sent_at, error FROM outgoing"
    ),
}


def _rows(db: Path, sql: str) -> collections.Counter[str]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute(sql)
        return collections.Counter(json.dumps(row, default=str) for row in cursor.fetchall())
    finally:
        conn.close()


def _posts(channel: Path) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for line in channel.read_text(encoding="utf-8").splitlines():
        counts[line] += 1
    return counts


def campaign(history: Path, workdir: Path, kills: int, seed: int = 13) -> Outcome:
    """Run the uninterrupted and the killed runs of `history` and compare them."""
    outcome = Outcome()
    clean_db, clean_channel = workdir / "clean.db", workdir / "clean.channel"
    killed_db, killed_channel = workdir / "killed.db", workdir / "killed.channel"
    outcome.seconds_clean = _run_clean(history, clean_db, clean_channel)
    start = time.perf_counter()
    outcome.kills, outcome.restarts = _run_killed(
        history, killed_db, killed_channel, kills, outcome.seconds_clean, random.Random(seed)
    )
    outcome.seconds_killed = time.perf_counter() - start
    for name, sql in TABLES.items():
        clean, killed = _rows(clean_db, sql), _rows(killed_db, sql)
        lost = sum((clean - killed).values())
        extra = sum((killed - clean).values())
        outcome.tables[name] = (sum(clean.values()), sum(killed.values()), lost, extra)
    clean_posts, killed_posts = _posts(clean_channel), _posts(killed_channel)
    sent = [k for k in killed_posts if k.startswith("post reply-")]
    notices = [k for k in killed_posts if k.startswith("post notice-")]
    outcome.posts = {
        "replies posted": len(sent),
        "replies posted (uninterrupted run)": sum(
            1 for k in clean_posts if k.startswith("post reply-")
        ),
        "replies posted twice": sum(1 for k in sent if killed_posts[k] > 1),
        "notices posted": len(notices),
        "notices posted (uninterrupted run)": sum(
            1 for k in clean_posts if k.startswith("post notice-")
        ),
        "notices posted twice": sum(1 for k in notices if killed_posts[k] > 1),
        "repeats dropped by the nonce (Telegram: posted twice)": sum(
            n for k, n in killed_posts.items() if k.startswith("dropped notice-")
        ),
        "replies in doubt settled by the moderator": sum(
            _rows(
                killed_db,
                "SELECT action FROM decisions WHERE action IN ('confirm_sent', 'retry_send')",
            ).values()
        ),
    }
    integrity = _rows(killed_db, "PRAGMA integrity_check")
    outcome.integrity = ", ".join(json.loads(k)[0] for k in integrity)
    return outcome


def write_history(path: Path, messages: int) -> None:
    """The bundled example scaled to `messages` lines (fresh ids per copy)."""
    with path.open("wb") as handle:
        for line in scaled_lines(messages):
            handle.write(line + b"\n")


def report(outcome: Outcome) -> str:
    """The figures as a Markdown table."""
    lines = [
        f"kills (SIGKILL): {outcome.kills}, restarts: {outcome.restarts}; "
        f"uninterrupted run {outcome.seconds_clean:.1f} s of work, killed run "
        f"{outcome.seconds_killed:.1f} s; integrity_check: {outcome.integrity}",
        "",
        "| table | uninterrupted | after kills | lost | duplicated |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (clean, killed, lost, extra) in outcome.tables.items():
        lines.append(f"| {name} | {clean:,} | {killed:,} | {lost} | {extra} |")
    lines += ["", "| channel | count |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in outcome.posts.items()]
    lines.append("")
    lines.append(
        f"lost {outcome.lost}, duplicated {outcome.duplicated}, sent twice {outcome.sent_twice}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000, help="history length")
    parser.add_argument("--kills", type=int, default=120, help="SIGKILLs to deliver")
    parser.add_argument("--history", type=Path, help="a JSONL history instead of the example")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--post-latency",
        type=float,
        default=0.02,
        help="seconds a post takes on the fake platform (widens the in-flight window)",
    )
    args = parser.parse_args()
    global POST_LATENCY
    POST_LATENCY = args.post_latency
    with tempfile.TemporaryDirectory() as tmp:
        history = args.history
        if history is None:
            history = Path(tmp) / "history.jsonl"
            write_history(history, args.messages)
        outcome = campaign(history, Path(tmp), args.kills, args.seed)
    print(report(outcome))
    if outcome.lost or outcome.duplicated or outcome.sent_twice:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
