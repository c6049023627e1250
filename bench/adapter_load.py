"""Steady load through the real adapters: 200 messages/s for 10 minutes, Telegram and Discord.

The bundled example community is replayed, scaled with fresh members, at a fixed rate through
the real python-telegram-bot (long polling the fake Bot API) and the real discord.py (the fake
gateway and REST API), each into a real core on a SQLite file with the default detector (the
shipped model) — then again with the rules detector as the baseline, in the same run. Every
interval it prints the queue depth (messages the platform delivered or holds that are not
through the bot yet), the messages the back-pressure sent to the rules, the p50/p95 time from a
message reaching the fake platform to its case's card reaching it, and the process's memory.

    python bench/adapter_load.py --platform both --rate 200 --seconds 600 --interval 60
    python bench/adapter_load.py --platform telegram --seconds 60 --interval 10   # a short look

The fakes run in the same process and event loop as the bot (loopback, no network): their own
records are pruned every interval down to the messages not through the bot yet (plus 5,000), so
the memory shown is the bot's while it keeps up; when it falls behind, the fake Bot API's unsent
updates count too ("of which on the platform"). Figures depend on the
host; these machines are shared, say so when quoting them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.discord.bot import build as build_discord  # noqa: E402
from adapters.telegram import build as build_telegram  # noqa: E402
from bench.telegram_updates import _LINK as TG_LINK  # noqa: E402
from bench.telegram_updates import ADMIN as TG_ADMIN  # noqa: E402
from bench.telegram_updates import FORUM, GROUP, MOD, TOKEN_ENV, Feeder  # noqa: E402
from bench.telegram_updates import OWNER as TG_OWNER  # noqa: E402
from bot.app import Huitaine  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from huitaine.cli import example_path  # noqa: E402
from tests.adapters.discord import dpy_seams  # noqa: E402
from tests.adapters.discord.fake_discord import (  # noqa: E402
    CAMILLE,
    GUILD,
    HELP,
    REVIEW,
    TOKEN,
    FakeDiscord,
    User,
)
from tests.adapters.telegram.fake_bot_api import FakeBotApi  # noqa: E402

# Records the fakes keep for the bot's later calls (card edits, replies to recent messages).
KEEP = 5_000


def rss_mb() -> float:
    """The process's resident memory now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _prune(mapping: dict[Any, Any], keep: int) -> None:
    """Drop the oldest entries of an insertion-ordered dict beyond `keep`."""
    extra = len(mapping) - keep
    if extra > 0:
        for key in list(itertools.islice(mapping, extra)):
            del mapping[key]


def _pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100)[q - 1]


class Platform(Protocol):
    """One adapter under load, as the driving loop sees it."""

    runtime: Runtime

    async def send(self, index: int) -> None: ...
    def handled(self) -> int: ...
    def waiting_on_platform(self) -> int: ...
    def card_latencies(self) -> list[float]: ...
    def prune(self, waiting: int) -> None: ...
    async def close(self) -> None: ...


def _config(detector: str, platform: dict[str, Any]) -> dict[str, Any]:
    return {
        "community": {"name": "L'Atelier", "language": "fr", "timezone": "Europe/Paris"},
        "detection": {"detector": detector},
        **platform,
    }


class TelegramLoad:
    """The real Telegram adapter long polling the fake Bot API (real time, real clock)."""

    def __init__(self) -> None:
        self.fake = FakeBotApi()
        for chat in (GROUP, FORUM, MOD):
            self.fake.add_chat(chat)
        self.fake.set_admins(GROUP["id"], TG_OWNER, TG_ADMIN)
        self.fake.set_admins(FORUM["id"], TG_OWNER, TG_ADMIN)
        self.feeder = Feeder(self.fake)
        self._sent = 0

    async def start(self, detector: str, database: Path) -> None:
        await self.fake.start()
        os.environ[TOKEN_ENV] = self.fake.token
        telegram = {
            "token_env": TOKEN_ENV,
            "moderators_chat": MOD["id"],
            "community_chats": [GROUP["id"], FORUM["id"]],
            "base_url": self.fake.base_url,
        }
        config = parse_config(_config(detector, {"telegram": telegram}))
        core = Huitaine(config, clock=SystemClock(), database=database)
        core.detector.detect_batch(["warm up", "on chauffe"])
        self.runtime = Runtime(core)
        self.adapter = build_telegram(config, self.runtime)
        await self.adapter.connect()
        await self.adapter.start()

    async def send(self, index: int) -> None:
        self.feeder.push(index)
        self._sent += 1

    def handled(self) -> int:
        # Through processing, not just taken in: Telegram updates are stored and confirmed
        # first, then detected and processed in order (Runtime.admit).
        return self.runtime.through

    def waiting_on_platform(self) -> int:
        """Updates the fake Bot API holds that the bot has not confirmed yet."""
        return len(self.fake.updates)

    def card_latencies(self) -> list[float]:
        found = []
        calls, self.fake.calls = self.fake.calls, []
        for call in calls:
            if call.method != "sendMessage" or call.status != 200:
                continue
            if int(call.params.get("chat_id", 0)) != MOD["id"]:
                continue
            match = TG_LINK.search(str(call.params.get("text", "")))
            if match is None:
                continue
            update_id = self.feeder.by_message.get((int(f"-100{match[1]}"), int(match[2])))
            pushed = self.fake.pushed_at.get(update_id) if update_id is not None else None
            if pushed is not None:
                found.append(call.at - pushed)
        return found

    def prune(self, waiting: int) -> None:
        # What is not through the bot yet keeps its record: its card's latency is still due.
        keep = KEEP + waiting
        _prune(self.fake.messages, keep)
        _prune(self.feeder.by_message, keep)
        _prune(self.fake.pushed_at, keep)
        _prune(self.fake.delivered_at, keep)
        self.fake.answered.clear()

    async def close(self) -> None:
        await self.adapter.disconnect()
        await self.runtime.close()
        await self.fake.stop()


class DiscordLoad:
    """The real discord.py client on the fake gateway and REST API."""

    def __init__(self) -> None:
        self.fake = FakeDiscord(lambda: datetime.now(UTC))
        self.records = [
            json.loads(line)
            for line in example_path().read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        self.members = itertools.cycle(range(2_000))
        self.ids: dict[str, str] = {}  # example id → Discord message id, within one copy
        self.sent_at: dict[str, float] = {}
        self._seen_posts = 0
        self._pointed: Any = None

    async def start(self, detector: str, database: Path) -> None:
        base = await self.fake.start()
        self._pointed = dpy_seams.pointed_at(base)
        self._pointed.__enter__()
        os.environ["DISCORD_TOKEN"] = TOKEN
        discord = {"review_channel": int(REVIEW), "guild_ids": [int(GUILD)]}
        config = parse_config(_config(detector, {"discord": {**discord, "sync_commands": False}}))
        core = Huitaine(config, clock=SystemClock(), database=database)
        core.detector.detect_batch(["warm up", "on chauffe"])
        self.runtime = Runtime(core)
        self._others = 0
        edit, delete = self.runtime.edit, self.runtime.delete

        async def counted_edit(*args: Any) -> Any:
            self._others += 1
            return await edit(*args)

        async def counted_delete(*args: Any) -> Any:
            self._others += 1
            return await delete(*args)

        self.runtime.edit = counted_edit  # type: ignore[method-assign]
        self.runtime.delete = counted_delete  # type: ignore[method-assign]
        self.adapter = build_discord(config, self.runtime, guild_ready_timeout=0.05)
        await self.adapter.connect()
        self._listening = asyncio.create_task(self.adapter.listen())
        await asyncio.wait_for(self.adapter.ready.wait(), 10)

    async def send(self, index: int) -> None:
        record = self.records[index % len(self.records)]
        if index % len(self.records) == 0:
            self.ids.clear()
        if record["author"].get("staff"):
            author = CAMILLE
        else:
            n = next(self.members)
            author = User(str(10**18 + n), f"member{n}", f"Member{n}")
        payload = self.fake.message(
            author, HELP, record["text"], reply_to=self.ids.get(record.get("reply_to") or "")
        )
        self.ids[record["id"]] = payload["id"]
        self.fake.messages[payload["id"]] = payload
        self.sent_at[payload["id"]] = time.perf_counter()
        await self.fake.dispatch("MESSAGE_CREATE", payload)

    def handled(self) -> int:
        # The runtime counts edits and deletions too; the load is new messages only.
        return self.runtime.through - self._others

    def waiting_on_platform(self) -> int:
        return 0  # the gateway pushes: whatever is not through waits in the bot

    def card_latencies(self) -> list[float]:
        found = []
        posts = self.fake.posts[self._seen_posts :]
        self._seen_posts = len(self.fake.posts)
        for post in posts:
            if post.channel_id != REVIEW or not post.body.get("embeds"):
                continue
            url = str(post.body["embeds"][0].get("url") or "")
            sent = self.sent_at.get(url.rsplit("/", 1)[-1])
            if sent is not None:
                found.append(post.at - sent)
        return found

    def prune(self, waiting: int) -> None:
        del self.fake.posts[: self._seen_posts]
        self._seen_posts = 0
        self.fake.requests.clear()
        _prune(self.fake.messages, KEEP + waiting)
        _prune(self.sent_at, KEEP + waiting)
        session = self.fake.session
        if session is not None and len(session.frames) > KEEP:
            # The sequence number is the log's length: keep the length, drop the frames.
            for i in range(len(session.frames) - KEEP):
                session.frames[i] = None  # type: ignore[call-overload]

    async def close(self) -> None:
        # Messages through processing may still be posting their cards (discord.py runs each
        # event as its own task): let them finish before the session closes under them.
        cards = [t for t in asyncio.all_tasks() if t.get_name().startswith("discord.py: on_")]
        if cards:
            await asyncio.wait(cards, timeout=30)
        await self.adapter.disconnect()
        await asyncio.wait_for(self._listening, 10)
        await self.runtime.close()
        self._pointed.__exit__(None, None, None)
        await self.fake.stop()


@dataclass
class Summary:
    """One run's totals."""

    platform: str
    detector: str
    sent: int = 0
    handled: int = 0
    seconds: float = 0.0
    cards: int = 0
    by_rules: int = 0
    max_queue: int = 0
    p50: float = float("nan")
    p95: float = float("nan")
    rss: list[float] = field(default_factory=list)


class _Shed(logging.Handler):
    """Counts the runtime's back-pressure log lines (and lets them through to the console)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "bot.runtime":
            self.lines.append(record.getMessage())


async def run(
    name: str,
    make: Callable[[], Any],
    detector: str,
    rate: int,
    seconds: float,
    interval: float,
    drain_limit: float,
) -> Summary:
    """Drive one platform at `rate` for `seconds`, a row every `interval`; return the totals."""
    shed = _Shed()
    logging.getLogger("bot.runtime").addHandler(shed)
    summary = Summary(name, detector)
    with tempfile.TemporaryDirectory() as tmp:
        platform = make()
        await platform.start(detector, Path(tmp) / "load.db")
        total = int(rate * seconds)
        all_latencies: list[float] = []

        async def feed() -> None:
            start = time.perf_counter()
            # Sent in small slices against the start time, so slow turns do not drift the rate.
            for index in range(total):
                delay = start + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                await platform.send(index)
                summary.sent = index + 1

        print(f"\n## {name}, detector {detector}: {rate}/s for {seconds:g} s ({total:,} messages)")
        print(
            "| t (s) | sent | handled | queue | of which on the platform | scored by rules "
            "| cards | p50 message→card (ms) | p95 (ms) | RSS (MB) |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        start = time.perf_counter()
        feeder = asyncio.create_task(feed())
        handled_before = 0
        while True:
            await asyncio.sleep(interval)
            elapsed = time.perf_counter() - start
            window = platform.card_latencies()
            all_latencies += window
            handled = platform.handled()
            queue = summary.sent - handled
            platform.prune(queue)
            summary.max_queue = max(summary.max_queue, queue)
            summary.rss.append(rss_mb())
            print(
                f"| {elapsed:.0f} | {summary.sent:,} | {handled - handled_before:,} | {queue:,} "
                f"| {platform.waiting_on_platform():,} "
                f"| {platform.runtime.scored_by_rules:,} | {len(window):,} "
                f"| {_pct(window, 50) * 1000:,.0f} | {_pct(window, 95) * 1000:,.0f} "
                f"| {summary.rss[-1]:.0f} |",
                flush=True,
            )
            handled_before = handled
            if feeder.done() and handled >= total:
                break
            if elapsed > seconds + drain_limit:
                print(f"(stopped: {total - handled:,} messages not through the bot yet)")
                break
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
        summary.seconds = time.perf_counter() - start
        summary.handled = platform.handled()
        summary.by_rules = platform.runtime.scored_by_rules
        await platform.close()
    logging.getLogger("bot.runtime").removeHandler(shed)
    summary.cards = len(all_latencies)
    summary.p50 = _pct(all_latencies, 50) * 1000
    summary.p95 = _pct(all_latencies, 95) * 1000
    if shed.lines:
        print(f"back-pressure log lines: {len(shed.lines)}; first: {shed.lines[0]!r}")
    return summary


PLATFORMS: dict[str, Callable[[], Any]] = {"telegram": TelegramLoad, "discord": DiscordLoad}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=["telegram", "discord", "both"], default="both")
    parser.add_argument("--rate", type=int, default=200, help="messages per second")
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between rows")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=None,
        help="length of the rules-detector baseline run (default: --seconds, at most 120; "
        "0: none)",
    )
    parser.add_argument("--drain-limit", type=float, default=120.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    names = ["telegram", "discord"] if args.platform == "both" else [args.platform]
    # The baseline shows the bot without the model: two minutes say it, and keep the full run
    # (both platforms, 10 minutes each with the model) under half an hour.
    baseline = min(args.seconds, 120.0) if args.baseline_seconds is None else args.baseline_seconds
    summaries = []
    for name in names:
        for detector, seconds in (("model", args.seconds), ("rules", baseline)):
            if seconds <= 0:
                continue
            summaries.append(
                asyncio.run(
                    run(
                        name,
                        PLATFORMS[name],
                        detector,
                        args.rate,
                        seconds,
                        min(args.interval, seconds),
                        args.drain_limit,
                    )
                )
            )
    print(
        "\n| platform | detector | sent | handled | s | cards | max queue | scored by rules "
        "| p50 (ms) | p95 (ms) | RSS first → last minute (MB) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in summaries:
        print(
            f"| {s.platform} | {s.detector} | {s.sent:,} | {s.handled:,} | {s.seconds:.0f} "
            f"| {s.cards:,} | {s.max_queue:,} | {s.by_rules:,} | {s.p50:,.0f} | {s.p95:,.0f} "
            f"| {s.rss[0]:.0f} → {s.rss[-1]:.0f} |"
        )
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs, shared host.")
    ok = all(s.handled >= s.sent for s in summaries)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
