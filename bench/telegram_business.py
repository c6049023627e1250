"""Telegram Business benchmark: customers' private chats beside the group flow, one bot, one run.

One bot process with groups and Telegram Business on runs against the fake Bot API on
127.0.0.1 (tests/adapters/telegram/fake_bot_api.py), with real python-telegram-bot long polling
and the real core on a temporary SQLite file. The bundled example community is replayed twice:
once as group messages (members in a group and a forum, as bench/telegram_updates.py does), once
as `business_message` updates in the private chats of many customers with a connected shop (the
example's staff lines are the owner writing from the app). Each flow is a burst (pushed at
once: throughput, and update → card latency with queueing), then a paced run at half the
measured capacity. Prints a markdown table, group and business side by side.
Run: python bench/telegram_business.py [--updates 5000] [--paced 500]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram_updates import (  # noqa: E402
    ADMIN,
    FORUM,
    GROUP,
    MOD,
    OWNER,
    Feeder,
    quantile,
    records,
)

from adapters.telegram import build  # noqa: E402
from bot.app import Huitaine  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from tests.adapters.telegram.fake_bot_api import FakeBotApi  # noqa: E402

SHOP_OWNER: dict[str, Any] = {"id": 555555555, "is_bot": False, "first_name": "Margaux"}
BUSINESS_ID = "BAAd1Zr9Qfj0EAAAsUxWJXLv2aQ"
CUSTOMERS = 500
TOKEN_ENV = "HUITAINE_BENCH_TELEGRAM_TOKEN"
_CASE = re.compile(r"(?:Case #|Cas n°)(\d+)")


class ShopFeeder:
    """The example's records as business messages: each member a customer in a private chat."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.records = records()
        self.customers = itertools.cycle(range(CUSTOMERS))
        self.by_message: dict[tuple[int, int], int] = {}  # (chat, message id) -> update id
        self.last_customer: dict[str, int] = {}  # the example's channel -> last customer

    def push(self, index: int) -> None:
        record = self.records[index % len(self.records)]
        if record["author"].get("staff"):
            # The owner answers, from the app, the last customer who wrote in that channel.
            chat = self.last_customer.get(record["channel"], 20_000_000)
            customer = {"id": chat, "is_bot": False, "first_name": f"Client{chat}"}
            message = self.fake.business_say(
                BUSINESS_ID, customer, record["text"], sender=SHOP_OWNER
            )
        else:
            n = next(self.customers)
            customer = {"id": 20_000_000 + n, "is_bot": False, "first_name": f"Client{n}"}
            self.last_customer[record["channel"]] = customer["id"]
            message = self.fake.business_say(BUSINESS_ID, customer, record["text"])
        update_id = self.fake.updates[-1]["update_id"]
        self.by_message[(message["chat"]["id"], message["message_id"])] = update_id


def latencies(
    fake: FakeBotApi,
    core: Huitaine,
    chat: int,
    origin: Callable[[int, int], int | None],
    ids: set[int],
) -> list[float]:
    """Seconds from an update's arrival on the server to the first card posted for its case."""
    found = []
    seen: set[int] = set()
    for call in fake.calls_to("sendMessage", chat_id=chat):
        match = _CASE.search(str(call.params.get("text", "")))
        if match is None or call.status != 200:
            continue
        case = core.cases.get(int(match[1]))
        update_id = origin(int(case.channel), int(case.message_ids[0]))
        if update_id is None or update_id not in ids or update_id in seen:
            continue
        seen.add(update_id)
        found.append(call.at - fake.pushed_at[update_id])
    return found


@dataclass
class Figures:
    """What one flow measured."""

    updates: int = 0
    cases: int = 0
    throughput: float = 0.0
    burst: list[float] | None = None
    rate: float = 0.0
    steady: list[float] | None = None


async def flow(
    fake: FakeBotApi,
    adapter: Any,
    core: Huitaine,
    push: Callable[[int], None],
    origin: Callable[[int, int], int | None],
    chat: int,
    community: Callable[[str], bool],
    total: int,
    paced: int,
) -> Figures:
    """One burst and one paced run of `push`; the card latencies of cards in `chat`."""
    figures = Figures(updates=total)
    first = len(fake.updates)
    base = adapter.updates_handled
    start = time.monotonic()
    for index in range(total):
        push(index)
    burst_ids = {u["update_id"] for u in fake.updates[first:]}
    await adapter.wait_handled(base + total)
    await adapter.drain()
    elapsed = time.monotonic() - start
    figures.throughput = total / elapsed
    figures.burst = latencies(fake, core, chat, origin, burst_ids)
    figures.rate = max(figures.throughput / 2, 1.0)
    paced_ids: set[int] = set()
    for index in range(total, total + paced):
        push(index)
        paced_ids.add(fake.updates[-1]["update_id"])
        await asyncio.sleep(1 / figures.rate)
    await adapter.wait_handled(base + total + paced)
    await adapter.drain()
    figures.steady = latencies(fake, core, chat, origin, paced_ids)
    figures.cases = sum(1 for case in core.cases.list() if community(case.community))
    return figures


async def run(total: int, paced: int, detector: str) -> tuple[Figures, Figures]:
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
                "business": True,
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
        try:
            fake.connect_business(BUSINESS_ID, SHOP_OWNER)
            await adapter.wait_handled(1)
            groups = Feeder(fake)
            group = await flow(
                fake,
                adapter,
                core,
                groups.push,
                lambda chat, message: groups.by_message.get((chat, message)),
                MOD["id"],
                lambda community: not community.startswith("business:"),
                total,
                paced,
            )
            shop = ShopFeeder(fake)
            business = await flow(
                fake,
                adapter,
                core,
                shop.push,
                lambda chat, message: shop.by_message.get((chat, message)),
                SHOP_OWNER["id"],
                lambda community: community.startswith("business:"),
                total,
                paced,
            )
        finally:
            await adapter.disconnect()
            await runtime.close()
            await fake.stop()
    return group, business


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=5_000)
    parser.add_argument("--detector", choices=["rules", "model"], default="rules")
    parser.add_argument("--paced", type=int, default=500)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    group, business = asyncio.run(run(args.updates, args.paced, args.detector))

    def ms(values: list[float] | None, q: int) -> str:
        return f"{quantile(values, q) * 1000:,.0f} ms" if values else "—"

    print(f"| metric ({args.detector} detector) | group flow | business flow |")
    print("|---|---|---|")
    print(f"| updates per burst | {group.updates:,} | {business.updates:,} |")
    print(f"| cases opened | {group.cases:,} | {business.cases:,} |")
    print(
        f"| throughput (burst) | {group.throughput:,.0f} updates/s | "
        f"{business.throughput:,.0f} updates/s |"
    )
    print(f"| update → card, burst p50 | {ms(group.burst, 50)} | {ms(business.burst, 50)} |")
    print(f"| update → card, burst p95 | {ms(group.burst, 95)} | {ms(business.burst, 95)} |")
    print(
        f"| paced at half capacity | {group.rate:,.0f} updates/s | "
        f"{business.rate:,.0f} updates/s |"
    )
    print(f"| update → card, paced p50 | {ms(group.steady, 50)} | {ms(business.steady, 50)} |")
    print(f"| update → card, paced p95 | {ms(group.steady, 95)} | {ms(business.steady, 95)} |")


if __name__ == "__main__":
    main()
