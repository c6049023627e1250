"""Every discord.py internal the Discord tests and bench rely on, in one place.

discord.py is pinned to 2.7.x (pyproject: "discord.py>=2.7,<2.8"). Upgrading it means reading
this file again; `test_discord_seams.py` fails first if one of these seams moves.

- `discord.http.Route.BASE`: the REST base URL every route (webhooks and interaction callbacks
  included) is built from.
- `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`: the gateway URL of a new session (2.7 does
  not ask GET /gateway/bot); resuming uses READY's `resume_gateway_url`, which the fake sets.
- `client._connection.parse_<event>(payload)`: discord.py's own parser for one gateway event, used
  to feed recorded payloads without a socket, and `client._connection.dispatch`, replaced to
  record what the parser dispatches; `client._async_setup_hook()`, what `login` prepares
  before the first event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yarl

from adapters.discord.sdk import discord

PINNED_MINOR = "2.7."


def check_version() -> None:
    """Fail loudly if discord.py moved past the minor version these seams were written for."""
    assert discord.__version__.startswith(PINNED_MINOR), discord.__version__


@contextmanager
def pointed_at(base_url: str) -> Iterator[None]:
    """Send discord.py's REST calls and gateway connections to `base_url` (a loopback fake)."""
    check_version()
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = f"{base_url}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        base_url.replace("http", "ws", 1) + "/gateway"
    )
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


async def prepare_offline(client: discord.Client) -> None:
    """What `Client.login` prepares before any event (loop, ready flag), without the network."""
    await client._async_setup_hook()


def parse(client: discord.Client, event: str, payload: dict[str, Any]) -> None:
    """Feed one gateway event (its `d` object) to discord.py's own parser, as the socket would."""
    parser = getattr(client._connection, f"parse_{event.lower()}")
    parser(payload)


class Dispatched:
    """The events discord.py's parser dispatched, recorded instead of run."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = asyncio.Condition()

    def record(self, event: str, *args: Any, **kwargs: Any) -> None:
        self.events.append((event, args))
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def args(self, event: str) -> list[Any]:
        """The first argument of every dispatch of `event`."""
        return [args[0] for name, args in self.events if name == event]

    async def wait(self, event: str, seconds: float = 5.0) -> None:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: any(n == event for n, _ in self.events)), seconds
            )


def capture_dispatch(client: discord.Client) -> Dispatched:
    """Record the events the connection state dispatches (instead of running handlers)."""
    dispatched = Dispatched()
    client._connection.dispatch = dispatched.record
    return dispatched
