"""Updates Telegram has forgotten are never lost: each is on disk before Telegram is told.

python-telegram-bot confirms updates to Telegram (the next getUpdates offset) once they are
queued, before the core stores them. The adapter writes each to the inbox first; a process
killed in between handles them at its next start, each once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bot.ingest import IngestResult
from bot.models import Message
from tests.adapters.telegram.conftest import Harness
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.world import ALICE, BOB, GROUP_ID

COUNT = 12


def _confirmed_through(fake: FakeBotApi) -> int:
    """The last update id Telegram was told the bot received (it forgets those)."""
    offsets = [int(c.params.get("offset") or 0) for c in fake.calls_to("getUpdates")]
    return max(offsets, default=0) - 1


async def _kill(tg: Harness, stuck: asyncio.Event) -> None:
    """A SIGKILL as the disk sees it: from now on nothing this process does reaches it."""
    tg.core.store.close()
    # Let the old objects unwind (their handlers now fail) so the test leaks no sockets.
    stuck.set()
    with contextlib.suppress(Exception):
        await tg.stop()


async def test_updates_confirmed_to_telegram_but_not_handled_survive_a_kill(
    tg: Harness, fake: FakeBotApi
) -> None:
    stuck = asyncio.Event()  # the core is slow: it takes nothing before the kill
    original = tg.runtime.admit  # where the adapter hands a new message to the core

    async def slow_admit(message: Message) -> IngestResult:
        await stuck.wait()
        return await original(message)

    tg.runtime.admit = slow_admit  # type: ignore[method-assign]
    # getUpdates answers at once (no long poll), so each request is seen as it is made.
    fake.poll_cap = 0.0
    people: list[dict[str, Any]] = [ALICE, BOB]
    texts = [f"Où en est ma commande n°{n} ?" for n in range(COUNT)]
    for n, text in enumerate(texts):
        fake.say(GROUP_ID, people[n % 2], text)
    last = max(fake.pushed_at)
    try:
        async with asyncio.timeout(10):
            while _confirmed_through(fake) < last:
                await fake.wait_for("getUpdates", len(fake.calls_to("getUpdates")) + 1)
        assert fake.updates == []  # Telegram has forgotten every one of them
        assert tg.core.store.row("SELECT COUNT(*) AS n FROM messages") == {"n": 0}
        await _kill(tg, stuck)
    finally:
        stuck.set()
    fake.poll_cap = 30.0
    await tg.start()
    await tg.handled(COUNT)

    rows = tg.core.store.rows("SELECT text FROM messages ORDER BY created_at, id")
    assert sorted(r["text"] for r in rows) == sorted(texts)  # each once, none lost
    assert tg.core.store.rows("SELECT update_id FROM inbox") == []  # taken, so let go


async def test_the_inbox_is_empty_once_updates_are_handled(tg: Harness) -> None:
    await tg.say(GROUP_ID, BOB, "Bonjour, où est ma commande ?")
    await tg.say(GROUP_ID, ALICE, "merci !")
    assert tg.core.store.rows("SELECT update_id FROM inbox") == []
    await tg.restart()
    assert tg.core.store.row("SELECT COUNT(*) AS n FROM messages") == {"n": 2}
