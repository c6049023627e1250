"""Shared fixtures: an injected clock, a real SQLite file, and a message factory."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest

import adapters.sections  # noqa: F401  (the platforms' sections, as the CLI registers them)
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, parse_config
from bot.models import Actor, Author, Message, Standing
from tests.backends import BACKENDS, database

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
COMMUNITY = "guild-1"
MOD = Actor("discord", "staff-1", "Camille", (Standing(COMMUNITY, frozenset({"Moderator"})),))
MEMBER_ACTOR = Actor("discord", "u-bob", "Bob", (Standing(COMMUNITY, frozenset({"member"})),))


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths and socketpairs stay on this machine
    try:
        return ipaddress.ip_address(address[0]).is_loopback
    except ValueError:
        return address[0] == "localhost"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that tries to reach beyond 127.0.0.1 fails at once instead of leaking or hanging."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"tests must not reach {address!r}")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"tests must not reach {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(autouse=True)
def _rules_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """`detector = "auto"` means rules in tests, whatever is installed: tests of the model ask
    for it by name (tests/model), and every other test stays fast and deterministic."""
    monkeypatch.setattr("bot.app.model_installed", lambda: False)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def config() -> Config:
    # The rule detector, whatever is installed: the model has its own marked tests.
    return parse_config(
        {"community": {"name": "Atelier", "language": "fr"}, "detection": {"detector": "rules"}}
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "huitaine.db"


@pytest.fixture(params=BACKENDS)
def core(
    request: pytest.FixtureRequest, config: Config, clock: ManualClock, db_path: Path
) -> Iterator[Huitaine]:
    # The core's suites run on both storage backends; a test that reads the SQLite file
    # itself is marked `sqlite_only`.
    if request.param != "sqlite" and request.node.get_closest_marker("sqlite_only"):
        pytest.skip("reads the SQLite file itself")
    with database(request.param, db_path.parent) as where:
        app = Huitaine(config, clock=clock, database=where)
        yield app
        app.close()


MessageFactory = Callable[..., Message]


@pytest.fixture
def msg(clock: ManualClock) -> MessageFactory:
    ids = count(1)

    def make(
        text: str,
        *,
        author: str = "u-alice",
        name: str = "Alice",
        staff: bool = False,
        bot: bool = False,
        channel: str = "general",
        at: datetime | None = None,
        after: timedelta | None = None,
        reply_to: str | None = None,
        thread: str | None = None,
        mentions: tuple[str, ...] = (),
        id: str | None = None,
    ) -> Message:
        when = at or clock.now() + (after or timedelta(0))
        return Message(
            platform="discord",
            community=COMMUNITY,
            channel=channel,
            id=id or f"m{next(ids)}",
            author=Author(id=author, name=name, is_staff=staff, is_bot=bot),
            text=text,
            created_at=when,
            reply_to=reply_to,
            thread=thread,
            mentions=mentions,
        )

    return make
