"""Telegram adapter benchmark: updates through real PTB long polling against the fake Bot API.

The bundled example community is replayed as Telegram messages from many members in a group
and a forum, on a fake Bot API server on 127.0.0.1 (tests/adapters/telegram/fake_bot_api.py);
the real core runs on a temporary SQLite file. Prints a markdown table: updates handled per
second for a burst, and the time from an update's arrival on the server to its case's card
being posted, for the burst (queueing included) and for a paced run below capacity.
Run: python bench/telegram_updates.py [--updates 10000] [--paced 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.telegram import build  # noqa: E402
from bot.app import Huitaine  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from huitaine.cli import example_path  # noqa: E402
from tests.adapters.telegram.fake_bot_api import FakeBotApi  # noqa: E402

GROUP: dict[str, Any] = {
    "id": -1001234567890,
    "title": "L'Atelier — entraide",
    "type": "supergroup",
}
FORUM: dict[str, Any] = {
    "id": -1001555000111,
    "title": "Atelier Forum",
    "type": "supergroup",
    "is_forum": True,
}
MOD: dict[str, Any] = {"id": -1009876543210, "title": "Atelier — modération", "type": "supergroup"}
ADMIN: dict[str, Any] = {"id": 222222222, "is_bot": False, "first_name": "Camille"}
OWNER: dict[str, Any] = {"id": 444444444, "is_bot": False, "first_name": "Dominique"}
MEMBERS = 2_000
TOKEN_ENV = "HUITAINE_BENCH_TELEGRAM_TOKEN"
_LINK = re.compile(r"https://t\.me/c/(\d+)/(?:\d+/)?(\d+)")


def records() -> list[dict[str, Any]]:
    lines = example_path().read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


class Feeder:
    """Turns the example's records into Telegram messages pushed to the fake server."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.records = records()
        self.members = itertools.cycle(range(MEMBERS))
        self.copy = 0
        self.ids: dict[str, tuple[int, int]] = {}  # example id -> (chat, Telegram message id)
        self.by_message: dict[tuple[int, int], int] = {}  # (chat, message id) -> update id

    def push(self, index: int) -> None:
        record = self.records[index % len(self.records)]
        if index % len(self.records) == 0:
            self.copy += 1
            self.ids.clear()
        # A fifth of the traffic is in a forum topic; the rest in the main group.
        forum = zlib.crc32(record["channel"].encode()) % 5 == 0
        chat, thread = (FORUM, 7) if forum else (GROUP, None)
        if record["author"].get("staff"):
            user = ADMIN
        else:
            n = next(self.members)
            user = {"id": 10_000_000 + n, "is_bot": False, "first_name": f"Member{n}"}
        reply = self.ids.get(record.get("reply_to") or "")
        reply_to = reply[1] if reply and reply[0] == chat["id"] else None
        message = self.fake.say(chat["id"], user, record["text"], reply_to=reply_to, thread=thread)
        self.ids[record["id"]] = (chat["id"], message["message_id"])
        update_id = self.fake.updates[-1]["update_id"]
        self.by_message[(chat["id"], message["message_id"])] = update_id


def card_latencies(fake: FakeBotApi, feeder: Feeder, updates: set[int]) -> list[float]:
    """Seconds from an update's arrival on the server to the first card that names it."""
    latencies = []
    seen: set[int] = set()
    for call in fake.calls_to("sendMessage", chat_id=MOD["id"]):
        match = _LINK.search(str(call.params.get("text", "")))
        if match is None or call.status != 200:
            continue
        chat = int(f"-100{match[1]}")
        update_id = feeder.by_message.get((chat, int(match[2])))
        if update_id is None or update_id not in updates or update_id in seen:
            continue
        seen.add(update_id)
        latencies.append(call.at - fake.pushed_at[update_id])
    return latencies


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def run(total: int, paced: int, detector: str) -> None:
    fake = FakeBotApi()
    for chat in (GROUP, FORUM, MOD):
        fake.add_chat(chat)
    fake.set_admins(GROUP["id"], OWNER, ADMIN)
    fake.set_admins(FORUM["id"], OWNER, ADMIN)
    await fake.start()
    os.environ[TOKEN_ENV] = fake.token
    config = parse_config(
        {
            "community": {"name": "L'Atelier", "language": "fr", "timezone": "Europe/Paris"},
            "detection": {"detector": detector},
            "telegram": {
                "token_env": TOKEN_ENV,
                "moderators_chat": MOD["id"],
                "community_chats": [GROUP["id"], FORUM["id"]],
                "base_url": fake.base_url,
            },
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        core = Huitaine(config, database=Path(tmp) / "bench.db")
        core.detector.detect_batch(["warm up", "on chauffe"])  # load language models first
        runtime = Runtime(core)
        adapter = build(config, runtime)
        await adapter.connect()
        await adapter.start()
        feeder = Feeder(fake)
        try:
            first = len(fake.updates)
            start = time.monotonic()
            for index in range(total):
                feeder.push(index)
            burst_ids = {u["update_id"] for u in fake.updates[first:]}
            await adapter.wait_handled(total)
            await adapter.drain()  # and every card they called for is posted
            elapsed = time.monotonic() - start
            burst = card_latencies(fake, feeder, burst_ids)

            rate = max(total / elapsed / 2, 1.0)  # half the measured capacity
            paced_ids: set[int] = set()
            for index in range(total, total + paced):
                feeder.push(index)
                paced_ids.add(fake.updates[-1]["update_id"])
                await asyncio.sleep(1 / rate)
            await adapter.wait_handled(total + paced)
            await adapter.drain()
            steady = card_latencies(fake, feeder, paced_ids)
            cases = len(core.cases.list())
            cards = core.store.row("SELECT COUNT(*) AS n FROM cards")
        finally:
            await adapter.disconnect()
            await runtime.close()
            await fake.stop()

    print("| metric | value |")
    print("|---|---|")
    print(f"| updates (burst, pushed at once) | {total:,} |")
    print(f"| cases opened, cards posted | {cases:,}, {cards['n'] if cards else 0:,} |")
    print(f"| Bot API calls | {len(fake.calls):,} |")
    print(f"| throughput (burst) | {total / elapsed:,.0f} updates/s |")
    if burst:
        print(f"| update → card, burst p50 (queueing included) | {quantile(burst, 50):.3f} s |")
        print(f"| update → card, burst p95 (queueing included) | {quantile(burst, 95):.3f} s |")
    if steady:
        label = f"paced at {rate:,.0f} updates/s, {paced:,} updates"
        print(f"| update → card, {label}, p50 | {quantile(steady, 50) * 1000:.1f} ms |")
        print(f"| update → card, {label}, p95 | {quantile(steady, 95) * 1000:.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--detector", choices=["rules", "model"], default="rules")
    parser.add_argument("--paced", type=int, default=1_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.updates, args.paced, args.detector))


if __name__ == "__main__":
    main()
