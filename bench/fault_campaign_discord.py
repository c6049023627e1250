"""Fault campaign: the real Discord adapter against the fake gateway and REST API misbehaving.

Members ask questions in #help while the fake gateway drops the connection (the bot RESUMEs),
asks for a reconnect (op 7) or invalidates the session (op 9: a new IDENTIFY; Discord replays
nothing from the old session). For each question the moderator presses Send while the fake
REST API injects one fault on the reply: a 500 after posting (discord.py retries; the nonce
with enforce_nonce makes Discord return the first message), a 503 (outcome unknown), a 429
with retry-after, a 403 refusal, a slow answer, the connection dropped before or after the
post. A reply left in doubt is settled by a moderator who, half of the time, presses "send
again" without looking: the nonce must still keep it to one post. Then the database fails
while members keep talking (bench/db_faults.py: locked by another process, the disk full).
At the end it prints what was injected and what was lost or posted twice, and checks the
database.

    python bench/fault_campaign_discord.py [--cases 60] [--seed 7] [--lock-seconds 10]

It reuses the Discord tests' fake server and the contract suite's driver, on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.campaign_report import (  # noqa: E402
    Tally,
    print_faults,
    print_tally,
    replies_per_question,
)
from bench.db_faults import database_faults, print_phases, small_disk  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.models import CaseState, SendState  # noqa: E402
from tests.adapters.discord import dpy_seams  # noqa: E402
from tests.adapters.discord.conftest import discord_config  # noqa: E402
from tests.adapters.discord.fake_discord import (  # noqa: E402
    ALICE,
    BOB,
    HELP,
    TOKEN,
    FakeDiscord,
)
from tests.contract.discord_driver import DiscordDriver  # noqa: E402
from tests.contract.driver import CardAction, Who  # noqa: E402

SEND_FAULTS = (
    "none",
    "500 after posting",
    "503 (outcome unknown)",
    "429 retry-after",
    "403 refused",
    "slow answer (2 s)",
    "dropped before posting",
    "dropped after posting",
)
GATEWAY_FAULTS = ("none", "connection dropped → RESUME", "op 7 reconnect", "op 9 invalid session")
REPLY_PATH = f"/channels/{HELP}/messages$"
WAIT = 15.0


class FaultyDiscord(FakeDiscord):
    """The fake Discord, plus slow answers, dropped connections and gateway op 7 / op 9."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slow_next = 0.0
        self.drop_next: bool | None = None  # True: post, then drop; False: drop before

    async def _create_message(self, request: web.Request) -> web.Response:
        if request.match_info["channel"] == HELP:
            if self.slow_next:
                delay, self.slow_next = self.slow_next, 0.0
                await asyncio.sleep(delay)
            if self.drop_next is not None:
                apply_first, self.drop_next = self.drop_next, None
                if apply_first:
                    await super()._create_message(request)
                else:
                    await self._record(request)
                assert request.transport is not None
                request.transport.close()  # no answer at all: the connection is gone
                return web.Response(status=204)
        return await super()._create_message(request)

    async def send_op(self, op: int, data: Any) -> None:
        """Send a gateway opcode (7 reconnect, 9 invalid session) on the live connection."""
        assert self._ws is not None
        await self._ws.send_json({"op": op, "d": data, "s": None, "t": None})


def inject_send(fake: FaultyDiscord, fault: str) -> None:
    """Arm one fault on the next reply posted in #help."""
    if fault == "500 after posting":
        fake.fail("POST", REPLY_PATH, 500, apply_first=True)
    elif fault == "503 (outcome unknown)":
        fake.fail("POST", REPLY_PATH, 503)
    elif fault == "429 retry-after":
        fake.fail(
            "POST",
            REPLY_PATH,
            429,
            body={"message": "You are being rate limited.", "retry_after": 0.3, "global": False},
            # Discord's own 429s come through its proxy ("Via"); without it discord.py takes the
            # answer for a Cloudflare ban and does not wait and retry.
            headers={"Via": "1.1 google", "Retry-After": "1", "X-RateLimit-Scope": "user"},
        )
    elif fault == "403 refused":
        fake.fail("POST", REPLY_PATH, 403, body={"message": "Missing Access", "code": 50001})
    elif fault == "slow answer (2 s)":
        fake.slow_next = 2.0
    elif fault == "dropped before posting":
        fake.drop_next = False
    elif fault == "dropped after posting":
        fake.drop_next = True


async def inject_gateway(fake: FaultyDiscord, fault: str) -> None:
    """Disturb the gateway just before a member speaks."""
    if fault == "connection dropped → RESUME":
        await fake.drop(4000)
    elif fault == "op 7 reconnect":
        await fake.send_op(7, None)
    elif fault == "op 9 invalid session":
        await fake.send_op(9, False)


async def back_online(fake: FaultyDiscord, driver: DiscordDriver, fault: str, before: int) -> None:
    """Wait until the gateway session is up again after `fault`."""
    if fault in ("connection dropped → RESUME", "op 7 reconnect"):
        await fake.wait_for(lambda: len(fake.resumes) > before, WAIT)
    elif fault == "op 9 invalid session":
        await fake.wait_for(lambda: len(fake.identifies) > before, WAIT)
    await fake.wait_for(lambda: fake._live, WAIT)


async def settle(driver: DiscordDriver, case_id: int, question: str, rng: random.Random) -> str:
    """What a moderator does after the press: confirm, send again, or approve again."""
    outbox = [item for item in await driver.outbox() if item.case_id == case_id]
    last = outbox[-1]
    if last.state is SendState.UNCONFIRMED:
        posted = any(
            str(post.body.get("message_reference", {}).get("message_id")) == question
            for post in driver.fake.channel_posts(HELP)
        )
        # Half of the time the moderator does not look and sends again: the nonce must hold.
        if posted and rng.random() < 0.5:
            await driver.press(Who.MODERATOR, CardAction.CONFIRM_POSTED, case_id)
            return "confirmed (had looked)"
        await driver.press(Who.MODERATOR, CardAction.SEND_AGAIN, case_id)
        return "sent again" + (" without looking (was posted)" if posted else "")
    if last.state is SendState.FAILED:
        await driver.press(Who.MODERATOR, CardAction.APPROVE, case_id)
        return "approved again"
    return "sent"


async def campaign(cases: int, seed: int, lock_seconds: float) -> int:
    rng = random.Random(seed)
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    fake = FaultyDiscord(clock.now)
    base = await fake.start()
    os.environ["DISCORD_TOKEN"] = TOKEN
    sent_faults: Counter[str] = Counter()
    gateway_faults: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    missed: Counter[str] = Counter()  # questions the bot never received, per gateway fault
    late: dict[str, str] = {}  # questions without a case within WAIT s, and their fault
    arrived_late: Counter[str] = Counter()
    questions: dict[int, str] = {}
    said: list[str] = []
    with small_disk() as (folder, mounted), dpy_seams.pointed_at(base):
        database = folder / "faults.db"
        driver = DiscordDriver(fake, discord_config(), clock, database)
        await driver.start()
        try:
            for n in range(1, cases + 1):
                # Past the join and the reopen windows: a new case each, not a follow-up.
                clock.advance(timedelta(hours=25))
                gateway = rng.choice(GATEWAY_FAULTS)
                gateway_faults[gateway] += 1
                before = len(
                    fake.resumes if gateway != "op 9 invalid session" else fake.identifies
                )
                await inject_gateway(fake, gateway)
                message = await fake.say(ALICE, HELP, f"Question {n}: how do I reset my password?")
                said.append(str(message["id"]))
                if gateway != "none":
                    await back_online(fake, driver, gateway, before)
                try:
                    case_id = await _new_case(driver, str(message["id"]))
                except TimeoutError:
                    # Not within WAIT: received late (a stalled loop) or never; told apart
                    # at the end, when every catch-up has had its time.
                    late[str(message["id"])] = gateway
                    continue
                questions[case_id] = str(message["id"])
                fault = rng.choice(SEND_FAULTS)
                sent_faults[fault] += 1
                inject_send(fake, fault)
                await driver.press(Who.MODERATOR, CardAction.APPROVE, case_id)
                outcomes[await settle(driver, case_id, questions[case_id], rng)] += 1

            async def chat(n: int) -> None:
                said.append(str((await fake.say(BOB, HELP, f"thanks for the help, {n}"))["id"]))

            for question, gateway in late.items():
                if await _case_of(driver, question) is None:
                    missed[gateway] += 1
                else:
                    arrived_late[gateway] += 1

            phases = await database_faults(
                driver.runtime, database, mounted, chat, lock_seconds=lock_seconds
            )
            replies = [
                str(post.body["message_reference"]["message_id"])
                for post in fake.channel_posts(HELP)
                if "message_reference" in post.body
            ]
            core = driver.runtime.core
            stored = await driver.runtime.call(
                core.store.row, "SELECT COUNT(*) AS n FROM messages WHERE author_bot = 0"
            )
            integrity = await driver.runtime.call(core.store.row, "PRAGMA integrity_check")
            answered = [c for c in await driver.cases() if c.state is CaseState.ANSWERED]
        finally:
            await driver.stop()
            await fake.stop()
    lost, twice = replies_per_question(questions.values(), replies)
    print_faults("gateway fault before the question", GATEWAY_FAULTS, gateway_faults)
    print_faults("fault on the reply", SEND_FAULTS, sent_faults)
    print(f"moderator then: {dict(outcomes)}")
    print(f"resumes {len(fake.resumes)}, identifies {len(fake.identifies)}")
    if arrived_late:
        print(
            f"questions whose case came after {WAIT:.0f} s (not lost; left unanswered here), "
            f"per gateway fault: {dict(arrived_late)}"
        )
    if missed:
        print(f"questions never received by the bot, per gateway fault: {dict(missed)}")
    tally = Tally(
        said=len(said),
        stored=int(stored["n"]) if stored else 0,
        cases=len(questions) + len(late),
        answered=len(answered),
        lost=lost + sum(missed.values()),
        twice=twice,
        integrity=str(next(iter(integrity.values()))) if integrity else "?",
    )
    print_phases(phases, tally.integrity)
    print_tally(tally)
    return 0 if tally.clean and not any(p.tracebacks for p in phases) else 1


async def _case_of(driver: DiscordDriver, message_id: str) -> int | None:
    """The case the member's message `message_id` is in, if the bot has stored it."""
    core = driver.runtime.core
    row = await driver.runtime.call(
        core.store.row,
        "SELECT case_id FROM messages WHERE platform = 'discord' AND id = ?",
        (message_id,),
    )
    return int(row["case_id"]) if row and row["case_id"] is not None else None


async def _new_case(driver: DiscordDriver, message_id: str) -> int:
    """The case the question `message_id` opened, once its card is up (WAIT s at most).

    Found by the question's own id: a case that came late for an earlier question is never
    taken for this one's.
    """
    core = driver.runtime.core
    async with asyncio.timeout(WAIT):
        while True:
            case_id = await _case_of(driver, message_id)
            if case_id is not None and await driver.runtime.call(
                core.cards.for_case, case_id, "discord"
            ):
                return case_id
            await asyncio.sleep(0.05)


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
