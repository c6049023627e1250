"""Fixtures for the Discord adapter: a loopback fake Discord and real bots pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.bot import DiscordAdapter, build
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.runtime import Runtime
from tests.adapters.discord import dpy_seams
from tests.adapters.discord.fake_discord import (
    GUILD,
    OFFTOPIC,
    REVIEW,
    ROLE_ESCALATE,
    TOKEN,
    FakeDiscord,
)

WAIT = 5.0  # seconds: the bound on every wait in these tests


def discord_config(**options: Any) -> Config:
    """An English community on the fake guild; `options` override `[discord]` keys."""
    section: dict[str, Any] = {
        "review_channel": int(REVIEW),
        "guild_ids": [int(GUILD)],
        "ignore_channels": [int(OFFTOPIC)],
        "escalation_role": ROLE_ESCALATE,
        "sync_commands": False,
        **options,
    }
    return parse_config({"community": {"name": "L'Atelier", "language": "en"}, "discord": section})


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(clock.now)
    base = await server.start()
    with dpy_seams.pointed_at(base):
        yield server
    await server.stop()


@dataclass
class Running:
    """One bot process: its core, runtime, adapter and gateway task."""

    core: Huitaine
    runtime: Runtime
    adapter: DiscordAdapter
    task: asyncio.Task[None] | None
    stopped: bool = False

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        await self.adapter.disconnect()
        if self.task is not None:
            await asyncio.wait_for(self.task, WAIT)
        await self.runtime.close()


StartBot = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_bot(
    fake: FakeDiscord,
    clock: ManualClock,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[StartBot]:
    """Start a bot on the fake (same SQLite file each time: a second start is a restart)."""
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    running: list[Running] = []

    async def start(config: Config | None = None, *, listen: bool = True) -> Running:
        core = Huitaine(config or discord_config(), clock=clock, database=db_path)
        runtime = Runtime(core)
        # A short guild_ready_timeout: READY fires 50 ms after the last GUILD_CREATE.
        adapter = build(core.config, runtime, guild_ready_timeout=0.05)
        bot = Running(core, runtime, adapter, None)
        running.append(bot)
        await asyncio.wait_for(adapter.connect(), WAIT)
        if listen:
            bot.task = asyncio.create_task(adapter.listen())
            await asyncio.wait_for(adapter.ready.wait(), WAIT)
        return bot

    yield start
    for bot in running:
        await bot.stop()
