"""Discord adapter benchmark: MESSAGE_CREATE events through the real discord.py client.

A loopback fake Discord (the one the tests use) sends the events over its gateway websocket;
the bot converts each one, ingests it into a real core (SQLite in a temporary folder) and posts
a review card for every question or complaint. Prints events/s handled and the time from an
event leaving the gateway to its card reaching the REST API (p50/p95/max), as a markdown table.

Two modes: `burst` sends every event at once (throughput; latency then includes queueing);
`paced` sends at a steady rate (latency of a busy but not saturated community). The fake sends
no rate-limit headers: real Discord allows about 5 messages per 5 s in one channel, which bounds
how fast cards can appear in a single review channel, whatever the adapter can do.

Run: python bench/discord_events.py [--events 10000] [--rate 200] [--paced-events 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.discord.bot import build
from adapters.discord.convert import GuildFacts, convert_payload
from adapters.discord.settings import parse_settings
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.runtime import Runtime
from tests.adapters.discord import dpy_seams
from tests.adapters.discord.fake_discord import (
    BOT,
    GUILD,
    HELP,
    REVIEW,
    TOKEN,
    FakeDiscord,
    User,
)

TEXTS = (
    "Hi, how do I reset my password?",
    "My order never arrived, still nothing after two weeks!",
    "Bonjour, comment changer mon adresse de livraison ?",
    "C'est inadmissible, ma commande est arrivée cassée.",
    "Is there a student discount?",
    "Where can I download my invoice?",
    "thanks everyone, see you tomorrow",
    "haha nice one",
    "good morning all",
    "Pourquoi mon paiement a-t-il été refusé ?",
)


@dataclass
class Result:
    mode: str
    events: int
    seconds: float
    cards: int
    latencies: list[float]

    def row(self) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        if ms:
            p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
            timing = f"{self.cards:,} | {statistics.median(ms):,.1f} | {p95:,.1f} | {ms[-1]:,.1f}"
        else:
            timing = "— | — | — | —"
        return f"| {self.mode} | {self.events:,} | {self.events / self.seconds:,.0f} | {timing} |"


def config(detector: str = "rules") -> Config:
    return parse_config(
        {
            "community": {"name": "Bench", "language": "en"},
            "detection": {"detector": detector},
            "discord": {"review_channel": REVIEW, "guild_ids": [GUILD], "sync_commands": False},
        }
    )


class Handled:
    """Counts the events the adapter has completely handled (ingested, card posted)."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.done = asyncio.Event()

    def tick(self) -> None:
        self.count += 1
        if self.count >= self.target:
            self.done.set()


async def run_mode(
    mode: str, events: int, rate: float | None, database: Path, *, seed: int, detector: str
) -> Result:
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    fake = FakeDiscord(clock.now)
    base = await fake.start()
    handled = Handled()
    with dpy_seams.pointed_at(base):
        runtime = Runtime(Huitaine(config(detector), clock=clock, database=database))
        adapter = build(runtime.core.config, runtime, guild_ready_timeout=0.05)
        original = adapter.on_message

        async def on_message(message: Any) -> None:
            try:
                await original(message)
            finally:
                if message.author.id != int(BOT.id):
                    handled.tick()

        adapter.on_message = on_message  # type: ignore[method-assign]
        os.environ["DISCORD_TOKEN"] = TOKEN
        await adapter.connect()
        listening = asyncio.create_task(adapter.listen())
        await asyncio.wait_for(adapter.ready.wait(), 10)

        authors = (User(str(10**18 + seed * 10**6 + i), f"member{i}") for i in itertools.count())
        payloads = [
            fake.message(next(authors), HELP, TEXTS[i % len(TEXTS)]) for i in range(events)
        ]
        sent_at: dict[str, float] = {}
        handled.target = events
        interval = 1 / rate if rate else 0.0
        start = time.perf_counter()
        for index, payload in enumerate(payloads):
            if interval:
                # Pace against the start time, so slow iterations do not drift the rate.
                delay = start + index * interval - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            fake.messages[payload["id"]] = payload
            sent_at[payload["id"]] = time.perf_counter()
            await fake.dispatch("MESSAGE_CREATE", payload)
        await asyncio.wait_for(handled.done.wait(), 600)
        seconds = time.perf_counter() - start

        cards = fake.channel_posts(REVIEW)
        latencies = [
            card.at - sent_at[card.body["embeds"][0]["url"].rsplit("/", 1)[1]] for card in cards
        ]
        await adapter.disconnect()
        await listening
        await runtime.close()
    await fake.stop()
    return Result(mode, events, seconds, len(cards), latencies)


def convert_only(events: int) -> Result:
    """The pure conversion alone: gateway payload to core Message, no I/O."""
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    fake = FakeDiscord(clock.now)
    guild = GuildFacts.from_payload(fake.guild())
    settings = parse_settings(config())
    payloads = [
        fake.message(User(str(10**18 + i), f"m{i}"), HELP, TEXTS[i % len(TEXTS)])
        for i in range(events)
    ]
    start = time.perf_counter()
    for payload in payloads:
        convert_payload(payload, guild, settings, bot_id=BOT.id)
    return Result("convert.py only", events, time.perf_counter() - start, 0, [])


async def main_async(args: argparse.Namespace) -> list[Result]:
    results = [convert_only(args.events)]
    with tempfile.TemporaryDirectory() as tmp:
        burst = Path(tmp) / "burst.db"
        results.append(
            await run_mode("burst", args.events, None, burst, seed=1, detector=args.detector)
        )
        results.append(
            await run_mode(
                f"paced {args.rate:g}/s",
                args.paced_events,
                args.rate,
                Path(tmp) / "p.db",
                seed=2,
                detector=args.detector,
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--detector", choices=["rules", "model"], default="rules")
    parser.add_argument("--paced-events", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s in paced mode")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    results = asyncio.run(main_async(args))
    print("| mode | events | events/s | cards posted | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for result in results:
        print(result.row())
    print(
        f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs; event → card = from the "
        "gateway frame leaving the fake to the card's POST reaching it (same process, loopback)."
    )


if __name__ == "__main__":
    main()
