"""Under load: Telegram hands over one update at a time, yet the model batches and sheds."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.adapters.telegram.conftest import Harness
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.world import GROUP_ID

MEMBERS = 6


class SlowModel:
    """A test double of the model detector: scores nothing until the test lets it."""

    name = "slow"

    def __init__(self, rules: Any) -> None:
        self.rules = rules  # what the back-pressure falls back to
        self.release = asyncio.Event()
        self.waiting = 0

    def detect_batch(self, texts: list[str]) -> list[Any]:
        return self.rules.detect_batch(texts)  # type: ignore[no-any-return]

    async def detect_async(self, texts: list[str]) -> list[Any]:
        self.waiting += 1
        await self.release.wait()
        return self.detect_batch(texts)


def member(n: int) -> dict[str, Any]:
    return {"id": 700_000 + n, "is_bot": False, "first_name": f"Membre{n}"}


async def test_when_the_detector_is_behind_the_rules_score_and_one_log_line_says_so(
    tg: Harness, fake: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    slow = SlowModel(tg.core.detector)
    tg.core.detector = slow  # type: ignore[assignment]
    tg.runtime.detect_backlog = 2  # type: ignore[union-attr]
    caplog.set_level(logging.WARNING)
    for n in range(MEMBERS):
        fake.say(GROUP_ID, member(n), f"Où en est ma commande numéro {n} ? toujours rien")
    async with asyncio.timeout(10):
        # Each update is taken (stored) without waiting for the model...
        await tg.bot.wait_handled(MEMBERS)
        stored = tg.core.store.row("SELECT COUNT(*) AS n FROM messages")
        assert stored is not None
        assert stored["n"] == MEMBERS
        # ...so two wait for the model together and the other four are scored by the rules.
        for _ in range(1_000_000):  # the core's thread scores them; yield until it has
            if tg.runtime.scored_by_rules == MEMBERS - 2:  # type: ignore[union-attr]
                break
            await asyncio.sleep(0)
        slow.release.set()
        await tg.bot.drain()
    assert slow.waiting == 2
    assert len(tg.core.cases.list()) == MEMBERS  # none lost, none skipped
    assert len(tg.cards()) == MEMBERS
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.runtime"]
    assert lines == [
        "detection is behind (2 messages waiting for the model): new messages are scored by "
        "the rules until it catches up (1 so far)"
    ]


async def test_taken_updates_are_processed_in_arrival_order(tg: Harness, fake: FakeBotApi) -> None:
    order: list[str] = []
    process = tg.core.ingestor.process

    def recording(message: Any, detection: Any = None) -> Any:
        order.append(message.text)
        return process(message, detection)

    tg.core.ingestor.process = recording  # type: ignore[method-assign]
    texts = [f"Bonjour, message {n}" for n in range(30)]
    for n, text in enumerate(texts):
        fake.say(GROUP_ID, member(n % 3), text)
    await tg.handled(len(texts))
    assert order == texts
