"""Pipeline benchmark: the bundled example scaled up, replayed through the rule detector.

Prints throughput (messages/s), per-message latency percentiles and peak memory.
Run: python bench/pipeline.py [--messages 100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import Huitaine
from bot.clock import ManualClock, parse_timestamp
from bot.config import parse_config
from bot.replay import replay
from huitaine.cli import example_path


def scaled_lines(target: int) -> Iterator[bytes]:
    """Copies of the example, each shifted three weeks later with fresh ids, until `target`."""
    records = [
        json.loads(line) for line in example_path().read_text(encoding="utf-8").splitlines()
    ]
    first = parse_timestamp(records[0]["ts"])
    last = parse_timestamp(records[-1]["ts"])
    span = last - first + timedelta(days=1)
    produced = copy = 0
    while produced < target:
        for record in records:
            if produced >= target:
                return
            shifted = dict(record)
            shifted["id"] = f"{record['id']}-{copy}"
            if record.get("reply_to"):
                shifted["reply_to"] = f"{record['reply_to']}-{copy}"
            if record.get("thread"):
                shifted["thread"] = f"{record['thread']}-{copy}"
            ts = parse_timestamp(record["ts"]) + span * copy
            shifted["ts"] = ts.isoformat().replace("+00:00", "Z")
            produced += 1
            yield json.dumps(shifted, ensure_ascii=False).encode()
        copy += 1


def timed(lines: Iterator[bytes], latencies: list[float]) -> Iterator[bytes]:
    """Yield `lines`, recording how long the consumer spent on each one."""
    for line in lines:
        t0 = time.perf_counter()
        yield line
        latencies.append(time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--detector", choices=["rules", "model"], default="rules")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "history.jsonl"
        with history.open("wb") as handle:
            for line in scaled_lines(args.messages):
                handle.write(line + b"\n")
        clock = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
        core = Huitaine(
            parse_config({"detection": {"detector": args.detector}}),
            clock=clock,
            database=Path(tmp) / "bench.db",
        )
        # Warm the detector's lazily loaded language models outside the measurement.
        core.detector.detect_batch(["warm up", "on chauffe"])

        latencies: list[float] = []
        start = time.perf_counter()
        with history.open("rb") as handle:
            summary = replay(core, clock, timed(iter(handle), latencies))
        elapsed = time.perf_counter() - start
        cases = core.store.row("SELECT COUNT(*) AS n FROM cases")
        core.close()

    q = statistics.quantiles(latencies, n=100)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| metric | value |")
    print("|---|---|")
    print(f"| messages | {summary.lines:,} |")
    print(f"| cases opened | {cases['n'] if cases else 0:,} |")
    print(f"| reminders and escalations | {sum(summary.notices.values()):,} |")
    print(f"| throughput | {summary.lines / elapsed:,.0f} messages/s |")
    print(f"| latency p50 | {q[49] * 1000:.2f} ms |")
    print(f"| latency p95 | {q[94] * 1000:.2f} ms |")
    print(f"| latency p99 | {q[98] * 1000:.2f} ms |")
    print(f"| peak memory (RSS, whole process) | {peak_mb:.0f} MB |")


if __name__ == "__main__":
    main()
