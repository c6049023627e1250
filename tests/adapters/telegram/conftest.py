"""Fixtures for the Telegram adapter: a fake Bot API on 127.0.0.1 and a bot running against it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram import TelegramAdapter, build
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.models import Case
from bot.runtime import Runtime
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.world import (
    CAMILLE,
    DOMINIQUE,
    FORUM,
    FORUM_ID,
    GROUP,
    GROUP_ID,
    MOD,
    MOD_ID,
    SHOP_STAFF,
    TOKEN_ENV,
)


def telegram_config(fake: FakeBotApi, **options: Any) -> Config:
    """A French-speaking community in Paris, with the bot pointed at the fake server."""
    return parse_config(
        {
            "community": {"name": "L'Atelier", "language": "fr", "timezone": "Europe/Paris"},
            "telegram": {
                "token_env": TOKEN_ENV,
                "moderators_chat": MOD_ID,
                "community_chats": [GROUP_ID, FORUM_ID],
                "base_url": fake.base_url,
                **options,
            },
        }
    )


def business_config(fake: FakeBotApi, **options: Any) -> Config:
    """The same community, with Telegram Business on (cards in each owner's chat by default)."""
    return telegram_config(fake, business=True, **options)


class FakeSleep:
    """Records each wait instead of waiting; `hold()` keeps waiters blocked until `release()`."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._open = asyncio.Event()
        self._open.set()
        self._called = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self._called.set()
        await self._open.wait()

    async def called(self) -> None:
        """Return once something has started waiting."""
        async with asyncio.timeout(5):
            await self._called.wait()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()


@dataclass
class Harness:
    """One bot process (core, runtime, adapter) that can be stopped and started again."""

    fake: FakeBotApi
    config: Config
    clock: ManualClock
    database: Path
    runtime: Runtime | None = None
    adapter: TelegramAdapter | None = None
    seen: int = 0
    running: bool = field(default=False)
    sleep: FakeSleep = field(default_factory=FakeSleep)

    @property
    def core(self) -> Huitaine:
        assert self.runtime is not None
        return self.runtime.core

    @property
    def bot(self) -> TelegramAdapter:
        assert self.adapter is not None
        return self.adapter

    async def start(self) -> None:
        core = Huitaine(self.config, clock=self.clock, database=self.database)
        self.runtime = Runtime(core)
        self.adapter = build(self.config, self.runtime, sleep=self.sleep)
        self.seen = 0
        await self.adapter.connect()
        await self.adapter.start()
        self.running = True

    async def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        await self.bot.disconnect()
        assert self.runtime is not None
        await self.runtime.close()

    async def restart(self) -> None:
        """A new process: new Application, new core, the same SQLite file."""
        await self.stop()
        await self.start()

    async def handled(self, count: int = 1) -> None:
        """Wait until `count` more updates went through the bot, and their cards are up."""
        self.seen += count
        async with asyncio.timeout(10):
            await self.bot.wait_handled(self.seen)
            await self.bot.drain()

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        pushed = self.fake.push_update(update)
        await self.handled()
        return pushed

    async def say(
        self, chat_id: int, user: dict[str, Any], text: str, **kw: Any
    ) -> dict[str, Any]:
        message = self.fake.say(chat_id, user, text, **kw)
        await self.handled()
        return message

    async def press(
        self, user: dict[str, Any], message_id: int, data: str, *, chat: int = MOD_ID
    ) -> str:
        query = self.fake.press(user, chat, message_id, data)
        await self.handled()
        return query

    def cards(self) -> list[dict[str, Any]]:
        return [
            m for m in self.fake.bot_messages(MOD_ID) if m["text"].startswith(("🔔", "✅", "🗑"))
        ]

    def card_of(self, case_id: int) -> dict[str, Any]:
        ref = self.core.cards.for_case(case_id, "telegram")
        assert ref is not None, f"no card for case {case_id}"
        return self.fake.messages[(int(ref.chat), int(ref.message_id))]

    def case(self, case_id: int) -> Case:
        return self.core.cases.get(case_id)


def world_api(clock: ManualClock) -> FakeBotApi:
    """The fake Bot API with the test world's chats and admins (not started yet)."""
    api = FakeBotApi(now=lambda: clock.now().timestamp())
    for chat in (GROUP, FORUM, MOD, SHOP_STAFF):
        api.add_chat(chat)
    # Dominique created the group; Camille is an admin; Alice and Bob are members.
    api.set_admins(GROUP_ID, DOMINIQUE, CAMILLE)
    api.set_admins(FORUM_ID, DOMINIQUE, CAMILLE)
    return api


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeBotApi]:
    api = world_api(clock)
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def tg(
    fake: FakeBotApi, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    harness = Harness(fake, telegram_config(fake), clock, db_path)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
