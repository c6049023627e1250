"""The [discord] options: defaults, every key checked, errors that name the key and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.discord.settings import DiscordSettings, parse_settings
from bot.config import ConfigError, parse_config


def parse(staff: dict[str, Any] | None = None, **options: Any) -> DiscordSettings:
    raw: dict[str, Any] = {"discord": {"review_channel": 111, **options}}
    if staff is not None:
        raw["staff"] = staff
    return parse_settings(parse_config(raw))


def test_defaults() -> None:
    settings = parse()
    assert settings == DiscordSettings(
        review_channel="111",
        staff_roles=frozenset({"moderator"}),
    )
    assert settings.watches_guild("5")
    assert not settings.watches_guild(None)


def test_every_key() -> None:
    settings = parse(
        {"roles": ["Moderator"]},
        guild_ids=["123456789012345678"],
        channels=[222],
        ignore_channels=["333"],
        staff_roles=["Support", "Moderator"],
        manage_messages_is_staff=True,
        escalation_role=444,
        sync_commands=False,
    )
    assert settings == DiscordSettings(
        review_channel="111",
        guild_ids=frozenset({"123456789012345678"}),
        channels=frozenset({"222"}),
        ignore_channels=frozenset({"333"}),
        staff_roles=frozenset({"support", "moderator"}),
        manage_messages_is_staff=True,
        escalation_role="444",
        sync_commands=False,
    )
    assert not settings.watches_guild("5")


@pytest.mark.parametrize(
    ("options", "key", "problem"),
    [
        ({"review_channel": None}, "discord.review_channel", "missing"),
        ({"review_chanel": 1}, "discord.review_chanel", "unknown key"),
        ({"review_channel": "general"}, "discord.review_channel", "not a Discord id"),
        ({"review_channel": 0}, "discord.review_channel", "not a Discord id"),
        ({"review_channel": True}, "discord.review_channel", "expected an id"),
        ({"guild_ids": 5}, "discord.guild_ids", "expected a list of ids"),
        ({"ignore_channels": [-3]}, "discord.ignore_channels", "not a Discord id"),
        ({"channels": [111]}, "discord.channels", "review channel"),
        ({"staff_roles": "Moderator"}, "discord.staff_roles", "list of role names"),
        ({"manage_messages_is_staff": "yes"}, "discord.manage_messages_is_staff", "true or false"),
        ({"sync_commands": 1}, "discord.sync_commands", "true or false"),
    ],
)
def test_errors_name_the_key(options: dict[str, Any], key: str, problem: str) -> None:
    section: dict[str, Any] = {"review_channel": 111, **options}
    section = {k: v for k, v in section.items() if v is not None}
    with pytest.raises(ConfigError) as error:
        parse_settings(parse_config({"discord": section}))
    assert error.value.key == key
    assert problem in str(error.value)
    assert "Fix:" in str(error.value)


def test_a_token_in_the_file_is_refused_by_the_core() -> None:
    with pytest.raises(ConfigError, match="secrets are never read from files"):
        parse_config({"discord": {"review_channel": 1, "token": "abc"}})
