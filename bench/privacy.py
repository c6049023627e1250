"""Privacy benchmark: what overwriting freed space costs ingestion, and how long erasures take.

Replays the bundled example scaled up twice, once with SQLite's `secure_delete` off (the
baseline: most builds' default) and once on (what Huitaine asks for), then times forgetting
the most active member, exporting them, and a retention purge of the older half, and prints
the figures side by side. CPU seconds are printed beside wall seconds: on a shared host the
wall clock says more about the neighbours than about SQLite.
Run: python bench/privacy.py [--messages 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline import scaled_lines
from bot.app import Huitaine
from bot.clock import ManualClock, from_db
from bot.config import parse_config
from bot.privacy import compact, erasing, export_member, forget_member, purge_older_than
from bot.replay import replay


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run `fn`; return its result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run(tmp: Path, history: Path, secure: bool) -> dict[str, str]:
    clock = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
    db = tmp / f"bench-{int(secure)}.db"
    core = Huitaine(parse_config({"detection": {"detector": "rules"}}), clock=clock, database=db)
    core.store.execute(f"PRAGMA secure_delete = {int(secure)}")
    core.detector.detect_batch(["warm up", "on chauffe"])
    with history.open("rb") as handle:
        summary, wall, cpu = timed(lambda: replay(core, clock, handle))
    figures = {"replay: messages/s (wall)": f"{summary.lines / wall:,.0f}"}
    figures["replay: CPU seconds"] = f"{cpu:.1f}"
    store = core.store
    # Deleted messages: each deletion erases the text and checkpoints the WAL.
    doomed = store.rows(
        "SELECT community, channel, id FROM messages WHERE author_staff = 0 ORDER BY key LIMIT 200"
    )

    def delete_all() -> None:
        for m in doomed:
            core.delete("discord", m["community"], m["channel"], m["id"], clock.now())

    _, wall, _ = timed(delete_all)
    figures["one deletion, erase + checkpoint (ms, mean of 200)"] = (
        f"{wall / len(doomed) * 1000:.1f}"
    )
    top = store.row(
        "SELECT platform, author_id, COUNT(*) AS n FROM messages WHERE author_staff = 0"
        " GROUP BY platform, author_id ORDER BY n DESC LIMIT 1"
    )
    assert top is not None
    member = (str(top["platform"]), str(top["author_id"]))
    figures["most active member's messages"] = f"{top['n']:,}"
    _, wall, _ = timed(lambda: export_member(store, *member))
    figures["export-member (ms)"] = f"{wall * 1000:.0f}"
    _, wall, _ = timed(lambda: forget_member(store, *member, clock.now()))
    figures["forget, all tables (ms)"] = f"{wall * 1000:.0f}"
    size = db.stat().st_size
    _, wall, _ = timed(lambda: compact(store))
    figures["VACUUM + WAL truncate (ms)"] = f"{wall * 1000:.0f}"
    figures["file before / after VACUUM (MB)"] = (
        f"{size / 1e6:.1f} / {db.stat().st_size / 1e6:.1f}"
    )
    span = store.row("SELECT MIN(created_at) AS a, MAX(created_at) AS b FROM messages")
    assert span is not None
    middle = from_db(span["a"]) + (from_db(span["b"]) - from_db(span["a"])) / 2

    def purge_half() -> int:
        total = 0
        with erasing(store):
            while (done := purge_older_than(store, middle).total) > 0:
                total += done
        return total

    purged, wall, _ = timed(purge_half)
    figures["retention purge of the older half (rows, s)"] = f"{purged:,} in {wall:.1f}"
    core.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        history = tmp / "history.jsonl"
        with history.open("wb") as handle:
            for line in scaled_lines(args.messages):
                handle.write(line + b"\n")
        off = run(tmp, history, secure=False)
        on = run(tmp, history, secure=True)
    print(f"{args.messages:,} messages")
    print("| figure | secure_delete off (baseline) | on (Huitaine) |")
    print("|---|---|---|")
    for key in off:
        print(f"| {key} | {off[key]} | {on[key]} |")


if __name__ == "__main__":
    main()
