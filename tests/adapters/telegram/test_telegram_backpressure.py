"""Back-pressure: when the core is behind, polling Telegram pauses instead of buffering forever."""

from __future__ import annotations

import asyncio

from adapters.telegram.bot import UPDATE_QUEUE_SIZE
from bot.ingest import IngestResult
from bot.models import Message
from tests.adapters.telegram.conftest import Harness
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.world import BOB, GROUP_ID

UPDATES = 3 * UPDATE_QUEUE_SIZE + 200
BATCH = 100  # getUpdates' default limit: PTB asks for no other


async def test_with_a_slow_core_fetched_but_unhandled_updates_stay_bounded(
    tg: Harness, fake: FakeBotApi
) -> None:
    gate = asyncio.Semaphore(0)  # the core takes one message each time the test lets it
    original = tg.runtime.admit

    async def slow_admit(message: Message) -> IngestResult:
        await gate.acquire()
        return await original(message)

    tg.runtime.admit = slow_admit  # type: ignore[method-assign]
    fake.say(GROUP_ID, BOB, "thanks, 0")
    first_update = max(fake.pushed_at)
    for n in range(1, UPDATES):
        fake.say(GROUP_ID, BOB, f"thanks, {n}")

    fetched_ahead = confirmed_ahead = 0  # the worst seen: in memory; in memory and confirmed
    for handled in range(1, UPDATES // 2):
        gate.release()
        async with asyncio.timeout(10):
            await tg.bot.wait_handled(handled)
        done = tg.bot.updates_handled
        offsets = [int(c.params.get("offset") or 0) for c in fake.calls_to("getUpdates")]
        confirmed = max(0, max(offsets, default=0) - first_update)
        fetched_ahead = max(fetched_ahead, len(fake.delivered_at) - done)
        confirmed_ahead = max(confirmed_ahead, confirmed - done)
    for _ in range(UPDATES):
        gate.release()
    async with asyncio.timeout(30):
        await tg.bot.wait_handled(UPDATES)

    # One update in hand, the queue full, one getUpdates batch waiting to be queued.
    assert fetched_ahead <= 1 + UPDATE_QUEUE_SIZE + BATCH
    # What a crash can lose: confirmed to Telegram, not yet stored.
    assert confirmed_ahead <= 1 + UPDATE_QUEUE_SIZE
    stored = tg.core.store.row("SELECT COUNT(*) AS n FROM messages")
    assert stored is not None
    assert stored["n"] == UPDATES  # nothing lost on the way
