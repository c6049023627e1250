"""Burst benchmark: 800 messages/s for 40 s through the live runtime, then the drain.

Messages (the bundled example, scaled with fresh ids) arrive at a fixed rate, each as its own
task as a platform's gateway would deliver them, into a real `Runtime` over a real SQLite file.
Every interval it prints the ordering backlog, messages done, throughput, the p95 time from a
message's arrival to its card being shown (or to its processing, when it opens no case) and the
process's memory. `--ordering old` runs the same burst with the previous ordering step (a shared
condition that woke every waiter at each message) as the baseline; `--ordering both` runs both.

Run: python bench/burst.py                      # the full burst: 800/s for 40 s
     python bench/burst.py --quick              # 800/s for 4 s, both orderings, for CI
     python bench/burst.py --ordering-cost      # the ordering step alone, old and new
Figures depend on the host: these machines are shared, say so when quoting them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline import scaled_lines
from bot.app import Huitaine
from bot.cardview import CardView
from bot.clock import SystemClock
from bot.config import parse_config
from bot.models import Case, Message, Notice, Outgoing
from bot.replay import EventType, parse_event
from bot.runtime import Runtime, _Sequencer


class QuadraticTurnstile:
    """The ordering step as it was before (baseline): one condition woken for every waiter."""

    def __init__(self, call: Callable[[Callable[[], Any]], Awaitable[Any]]) -> None:
        self._call = call
        self._next = 0
        self._serving = 0
        self._abandoned: set[int] = set()
        self._changed = asyncio.Condition()

    async def run(self, ticket: int, work: Callable[[], Any]) -> Any:
        """One message at a time, in turn (the runtime's interface)."""
        async with self.turn(ticket):
            return await self._call(work)

    def take(self) -> int:
        ticket, self._next = self._next, self._next + 1
        return ticket

    @property
    def waiting(self) -> int:
        return self._next - self._serving

    def abandon(self, ticket: int) -> None:
        self._abandoned.add(ticket)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._skip_abandoned()

    def _skip_abandoned(self) -> None:
        while self._serving in self._abandoned:
            self._abandoned.discard(self._serving)
            self._serving += 1
        self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def turn(self, ticket: int) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: self._serving == ticket)
        try:
            yield
        finally:
            async with self._changed:
                self._serving += 1
                self._skip_abandoned()


class Sink:
    """A platform that shows cards instantly and records when each case's card came."""

    name = "discord"

    def __init__(self) -> None:
        self.cards = 0

    async def send_reply(self, item: Outgoing) -> str:
        return "0"

    async def show_case(self, view: CardView) -> None:
        self.cards += 1

    async def post_notice(self, notice: Notice, case: Case) -> None:
        return None


def messages(count: int) -> list[Message]:
    """`count` new messages from the scaled example (edits and deletes left out).

    Each copy of the example gets its own members: a burst is many people at once, not the
    example's twenty members writing a thousand messages each into the same open cases.
    """
    found = []
    for line in scaled_lines(count * 2):
        event = parse_event(line)
        if event.type is EventType.MESSAGE:
            message = event.message
            copy = message.id.rsplit("-", 1)[-1]
            author = replace(message.author, id=f"{message.author.id}-{copy}")
            found.append(replace(message, platform="discord", author=author))
            if len(found) == count:
                break
    return found


def rss_mb() -> float:
    """The process's resident memory now (not the peak), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def burst(
    ordering: str, rate: int, seconds: float, interval: float, drain_limit: float, detector: str
) -> dict[str, Any]:
    """Run one burst and print a row per interval; return the totals."""
    total = int(rate * seconds)
    pool = messages(total)
    with tempfile.TemporaryDirectory() as tmp:
        core = Huitaine(
            parse_config({"detection": {"detector": detector}}),
            clock=SystemClock(),
            database=Path(tmp) / "burst.db",
        )
        core.detector.detect_batch(["warm up", "on chauffe"])
        runtime = Runtime(core)
        if ordering == "old":
            runtime._order = QuadraticTurnstile(runtime.call)  # type: ignore[assignment]
        runtime.register(Sink())
        latencies: list[tuple[float, float]] = []  # (done at, seconds from arrival)
        tasks: set[asyncio.Task[Any]] = set()

        async def one(message: Message) -> None:
            arrived = time.perf_counter()
            await runtime.ingest(replace(message, created_at=core.clock.now()))
            done = time.perf_counter()
            latencies.append((done, done - arrived))

        async def feed() -> None:
            start = time.perf_counter()
            for sent, message in enumerate(pool):
                due = start + sent / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(one(message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        print(f"\n## ordering: {ordering} — {rate}/s for {seconds:g} s ({total:,} messages)")
        print("| t (s) | arrived | done | backlog | done/s | p95 message→card (ms) | RSS (MB) |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        start = time.perf_counter()
        feeder = asyncio.create_task(feed())
        seen = 0
        arrived_before = 0
        while True:
            await asyncio.sleep(interval)
            now = time.perf_counter()
            elapsed = now - start
            window = [lat for at, lat in latencies[seen:]]
            seen = len(latencies)
            arrived = min(total, int(elapsed * rate))
            p95 = "-"  # too few messages finished in this interval for a percentile
            if len(window) >= 20:
                p95 = f"{statistics.quantiles(window, n=20)[18] * 1000:,.0f}"
            print(
                f"| {elapsed:.0f} | {arrived - arrived_before:,} | {len(window):,} "
                f"| {runtime.backlog:,} | {len(window) / interval:,.0f} | {p95} "
                f"| {rss_mb():.0f} |",
                flush=True,
            )
            arrived_before = arrived
            if len(latencies) >= total:
                break
            if elapsed > seconds + drain_limit:
                print(f"(stopped: {total - len(latencies):,} messages still waiting)")
                break
        elapsed = time.perf_counter() - start
        feeder.cancel()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(feeder, *tasks, return_exceptions=True)
        all_latencies = [lat for _, lat in latencies]
        p95_all = statistics.quantiles(all_latencies, n=20)[18] * 1000 if latencies else 0.0
        await runtime.close()
    return {
        "ordering": ordering,
        "messages": total,
        "done": len(latencies),
        "seconds": elapsed,
        "p95_ms": p95_all,
        "rss_mb": rss_mb(),
    }


async def ordering_cost(ordering: str, backlog: int) -> float:
    """Seconds to let `backlog` queued messages through the ordering step alone."""

    async def inline(work: Callable[[], Any]) -> Any:
        await asyncio.sleep(0)  # a hop, without a thread: the ordering step's cost alone
        return work()

    turnstile: Any = QuadraticTurnstile(inline) if ordering == "old" else _Sequencer(inline)
    tickets = [turnstile.take() for _ in range(backlog)]

    async def through(ticket: int) -> None:
        await turnstile.run(ticket, lambda: None)

    # Every message is queued first (they arrived faster than processing), then they drain.
    tasks = [asyncio.create_task(through(t)) for t in reversed(tickets)]
    start = time.perf_counter()
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


def print_ordering_cost(sizes: list[int]) -> None:
    """The ordering step alone, old and new, for growing backlogs."""
    print("\n| queued messages | old ordering (s) | new ordering (s) |")
    print("|---:|---:|---:|")
    for size in sizes:
        old = asyncio.run(ordering_cost("old", size)) if size <= 2000 else float("nan")
        new = asyncio.run(ordering_cost("new", size))
        old_text = f"{old:.2f}" if old == old else "(not run: minutes)"
        print(f"| {size:,} | {old_text} | {new:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=800, help="messages per second")
    parser.add_argument("--seconds", type=float, default=40.0, help="length of the burst")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between rows")
    parser.add_argument(
        "--drain-limit", type=float, default=60.0, help="give up this long after the burst"
    )
    parser.add_argument("--ordering", choices=["new", "old", "both"], default="new")
    parser.add_argument("--detector", choices=["rules", "model"], default="rules")
    parser.add_argument(
        "--quick", action="store_true", help="800/s for 4 s, rows every second, both orderings"
    )
    parser.add_argument(
        "--ordering-cost", action="store_true", help="only time the ordering step, old and new"
    )
    args = parser.parse_args()
    if args.ordering_cost:
        print_ordering_cost([500, 1000, 2000, 4000, 16000])
        return
    if args.quick:
        args.seconds, args.interval, args.ordering, args.drain_limit = 4.0, 1.0, "both", 30.0
    orderings = ["new", "old"] if args.ordering == "both" else [args.ordering]
    totals = [
        asyncio.run(
            burst(
                ordering,
                args.rate,
                args.seconds,
                args.interval,
                args.drain_limit,
                args.detector,
            )
        )
        for ordering in orderings
    ]
    print("\n| ordering | messages | done | wall time (s) | p95 message→card (ms) | RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for t in totals:
        print(
            f"| {t['ordering']} | {t['messages']:,} | {t['done']:,} | {t['seconds']:.1f} "
            f"| {t['p95_ms']:,.0f} | {t['rss_mb']:.0f} |"
        )
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
