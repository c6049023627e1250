"""Fault campaign: the real Telegram adapter against the fake Bot API while it misbehaves.

Members ask questions; for each, the moderator presses Send while the fake Bot API injects one
fault on the reply (flood control with retry_after, a 5xx, a refusal, a connection dropped
before or after Telegram applied the call) or none. A reply left in doubt is settled as a
moderator would: they look at the group and press "it was posted" or "send again"; a refused
reply is approved again. At the end the campaign counts, per fault, what was injected and what
was lost or posted twice — the figures are expected to be 0 — and checks the database.
Then the database itself fails while members keep talking (bench/db_faults.py): locked by
another process for 10 s, then the disk full on write; nothing said may be lost.

    python bench/fault_campaign.py [--cases 60] [--seed 7] [--lock-seconds 10]

It reuses the test suite's fake Bot API and harness (tests/adapters/telegram), on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.campaign_report import Tally, print_faults, print_tally  # noqa: E402
from bench.db_faults import database_faults, print_phases, small_disk  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.models import CaseState, SendState  # noqa: E402
from tests.adapters.telegram.conftest import Harness, telegram_config, world_api  # noqa: E402
from tests.adapters.telegram.fake_bot_api import FakeBotApi  # noqa: E402
from tests.adapters.telegram.world import (  # noqa: E402
    ALICE,
    BOB,
    CAMILLE,
    GROUP_ID,
    TOKEN_ENV,
)

FAULTS = ("none", "flood 429", "server 502", "refused 403", "dropped after", "dropped before")


def inject(fake: FakeBotApi, fault: str) -> None:
    """Arm one fault on the next reply posted in the group."""
    if fault == "flood 429":
        fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1,
                  chat_id=GROUP_ID)  # fmt: skip
    elif fault == "server 502":
        fake.fail("sendMessage", 502, "Bad Gateway", chat_id=GROUP_ID)
    elif fault == "refused 403":
        fake.fail("sendMessage", 403, "Forbidden: bot was kicked", chat_id=GROUP_ID)
    elif fault == "dropped after":
        fake.drop("sendMessage", apply_first=True, chat_id=GROUP_ID)
    elif fault == "dropped before":
        fake.drop("sendMessage", apply_first=False, chat_id=GROUP_ID)


def card_id(tg: Harness, case_id: int) -> int:
    return int(tg.card_of(case_id)["message_id"])


async def settle(tg: Harness, case_id: int, question_id: int) -> str:
    """What a moderator does after the press: look, then confirm, resend or approve again."""
    outbox = [item for item in tg.core.review.outbox() if item.case_id == case_id]
    last = outbox[-1]
    posted = any(
        m.get("reply_to_message", {}).get("message_id") == question_id
        for m in tg.fake.bot_messages(GROUP_ID)
    )
    if last.state is SendState.UNCONFIRMED:
        await tg.press(
            CAMILLE, card_id(tg, case_id), f"h1:{'ok' if posted else 'again'}:{case_id}"
        )
        return "confirmed" if posted else "resent"
    if last.state is SendState.FAILED:
        await tg.press(CAMILLE, card_id(tg, case_id), f"h1:send:{case_id}")
        return "approved again"
    return "sent"


async def campaign(cases: int, seed: int, lock_seconds: float) -> int:
    rng = random.Random(seed)
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    fake = world_api(clock)
    await fake.start()
    import os

    os.environ[TOKEN_ENV] = fake.token
    injected: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    with small_disk() as (folder, mounted):
        database = folder / "faults.db"
        tg = Harness(fake, telegram_config(fake), clock, database)
        await tg.start()
        questions: dict[int, int] = {}
        try:
            for n in range(1, cases + 1):
                clock.advance(timedelta(hours=2))  # past the join window: a case each
                said = await tg.say(GROUP_ID, ALICE, f"Question {n}: how do I reset my password?")
                case_id = max(c.id for c in tg.core.cases.list())
                questions[case_id] = int(said["message_id"])
                fault = rng.choice(FAULTS)
                injected[fault] += 1
                inject(fake, fault)
                await tg.press(CAMILLE, card_id(tg, case_id), f"h1:send:{case_id}")
                await tg.bot.drain()
                outcomes[await settle(tg, case_id, questions[case_id])] += 1
                await tg.bot.drain()
            assert tg.runtime is not None

            async def chat(n: int) -> None:
                fake.say(GROUP_ID, BOB, f"merci pour l'aide, message {n}")

            phases = await database_faults(
                tg.runtime, database, mounted, chat, lock_seconds=lock_seconds
            )
            await tg.bot.drain()
            replies = Counter(
                m["reply_to_message"]["message_id"]
                for m in fake.bot_messages(GROUP_ID)
                if "reply_to_message" in m
            )
            stored = tg.core.store.row("SELECT COUNT(*) AS n FROM messages WHERE author_bot = 0")
            integrity = tg.core.store.row("PRAGMA integrity_check")
            answered = [c for c in tg.core.cases.list() if c.state is CaseState.ANSWERED]
        finally:
            await tg.stop()
            await fake.stop()
    lost = sum(1 for q in questions.values() if replies[q] == 0)
    twice = sum(1 for q in questions.values() if replies[q] > 1)
    print_faults("fault on the reply", FAULTS, injected)
    print(f"moderator then: {dict(outcomes)}  (flood waits recorded: {len(tg.sleep.waits)})")
    checked = str(next(iter(integrity.values()))) if integrity else "?"
    print_phases(phases, checked)
    tally = Tally(
        said=cases + sum(p.said for p in phases),
        stored=int(stored["n"]) if stored else 0,
        cases=len(questions),
        answered=len(answered),
        lost=lost,
        twice=twice,
        integrity=checked,
    )
    print_tally(tally)
    return 0 if tally.clean and not any(p.tracebacks for p in phases) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lock-seconds", type=float, default=10.0)
    args = parser.parse_args()
    # What the user would see: warnings and errors only, one line each (tracebacks counted).
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(campaign(args.cases, args.seed, args.lock_seconds))


if __name__ == "__main__":
    raise SystemExit(main())
