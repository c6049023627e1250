"""The `platform` fixture: one driver per adapter (console, Telegram, Telegram Business,
Discord), same methods.

Each driver runs the real adapter against the fakes of its own tests (tests/adapters/...), on a
real SQLite file, with the manual clock; no test waits for real time to pass. Every platform
gets the same [review] snooze of two days, so that a snooze outlasts the first reminder.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Config
from tests.adapters.discord import dpy_seams
from tests.adapters.discord.conftest import discord_config
from tests.adapters.discord.fake_discord import GUILD, GUILD2, TOKEN, FakeDiscord
from tests.adapters.telegram.conftest import Harness, business_config, telegram_config, world_api
from tests.adapters.telegram.world import (
    EMPLOYEE,
    SHOP_STAFF_ID,
    TOKEN_ENV,
)
from tests.backends import BACKENDS, database
from tests.contract.business_driver import BusinessDriver
from tests.contract.console_driver import ConsoleDriver, console_config
from tests.contract.discord_driver import DiscordDriver
from tests.contract.driver import PlatformDriver
from tests.contract.telegram_driver import TELEGRAM_HELPER, TelegramDriver

SNOOZE = timedelta(days=2)
PLATFORMS = ["console", "telegram", "telegram-business", "discord"]


def with_snooze(config: Config) -> Config:
    """`config` with the contract's snooze (the parsers take [review] as any other section)."""
    return replace(config, review=replace(config.review, snooze=SNOOZE))


# Who helps in the contract's community: by id (console, Telegram), by role (Discord).
HELPERS = frozenset({"console:hana", f"telegram:{TELEGRAM_HELPER['id']}"})
HELPER_ROLES = frozenset({"helper"})


def with_helpers(config: Config) -> Config:
    """`config` with the contract's helpers added to [staff]."""
    staff = config.staff
    return replace(
        config,
        staff=replace(
            staff,
            helper_ids=staff.helper_ids | HELPERS,
            helper_roles=staff.helper_roles | HELPER_ROLES,
        ),
    )


@pytest.fixture
def contract_config() -> Callable[[Config], Config]:
    """A change every platform's configuration gets; a test module overrides it (hours...)."""
    return lambda config: config


async def _telegram(
    clock: ManualClock,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tweak: Callable[[Config], Config],
) -> AsyncGenerator[PlatformDriver, None]:
    fake = world_api(clock)
    await fake.start()
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = with_helpers(with_snooze(tweak(telegram_config(fake))))
    harness = Harness(fake, config, clock, db_path)
    try:
        await harness.start()
        yield TelegramDriver(harness)
    finally:
        await harness.stop()
        await fake.stop()


async def _business(
    clock: ManualClock,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tweak: Callable[[Config], Config],
) -> AsyncGenerator[PlatformDriver, None]:
    fake = world_api(clock)
    await fake.start()
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = business_config(
        fake, business_staff_chat=SHOP_STAFF_ID, business_staff_ids=[EMPLOYEE["id"]]
    )
    harness = Harness(fake, with_snooze(tweak(config)), clock, db_path)
    try:
        await harness.start()
        driver = BusinessDriver(harness)
        await driver.connect()
        yield driver
    finally:
        await harness.stop()
        await fake.stop()


async def _discord(
    clock: ManualClock,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tweak: Callable[[Config], Config],
) -> AsyncGenerator[PlatformDriver, None]:
    # The bot is in two servers: the contract's community, and a second one (GUILD2).
    fake = FakeDiscord(clock.now, second_guild=True)
    base = await fake.start()
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    try:
        with dpy_seams.pointed_at(base):
            servers = discord_config(guild_ids=[int(GUILD), int(GUILD2)])
            config = with_helpers(with_snooze(tweak(servers)))
            driver = DiscordDriver(fake, config, clock, db_path)
            try:
                await driver.start()
                yield driver
            finally:
                await driver.stop()
    finally:
        await fake.stop()


async def _console(
    clock: ManualClock, db_path: Path, tweak: Callable[[Config], Config]
) -> AsyncGenerator[PlatformDriver, None]:
    driver = ConsoleDriver(with_helpers(tweak(console_config(snooze="2d"))), clock, db_path)
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture(params=BACKENDS)
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """The contract holds on every storage backend: a SQLite file, or a PostgreSQL schema."""
    with database(request.param, tmp_path) as where:
        yield where  # type: ignore[misc]  # a DSN goes where a path goes: Store takes both


@pytest.fixture(params=PLATFORMS)
async def platform(
    request: pytest.FixtureRequest,
    clock: ManualClock,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    contract_config: Callable[[Config], Config],
) -> AsyncIterator[PlatformDriver]:
    """A running bot on one platform, driven through the contract's `PlatformDriver`."""
    if request.param == "telegram":
        drivers = _telegram(clock, db_path, monkeypatch, contract_config)
    elif request.param == "telegram-business":
        drivers = _business(clock, db_path, monkeypatch, contract_config)
    elif request.param == "discord":
        drivers = _discord(clock, db_path, monkeypatch, contract_config)
    else:
        drivers = _console(clock, db_path, contract_config)
    driver = await anext(drivers)
    try:
        yield driver
    finally:
        await drivers.aclose()
