"""The discord.py internals the Discord tests rely on are still where dpy_seams expects them."""

from __future__ import annotations

from adapters.discord.sdk import discord
from tests.adapters.discord import dpy_seams


def test_discord_py_is_the_pinned_minor_version() -> None:
    dpy_seams.check_version()


def test_the_seams_exist() -> None:
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"
    for event in ("ready", "guild_create", "message_create", "message_update", "message_delete"):
        assert hasattr(discord.state.ConnectionState, f"parse_{event}")
    assert hasattr(discord.state.ConnectionState, "parse_interaction_create")
    assert hasattr(discord.Client, "_async_setup_hook")


def test_pointing_at_a_fake_is_undone() -> None:
    with dpy_seams.pointed_at("http://127.0.0.1:9"):
        assert (
            discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
        )
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gateway"
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
