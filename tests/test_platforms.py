"""Each adapter registers its section of the configuration file; the core names no platform."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot import platforms
from bot.config import Config, ConfigError, parse_config

ROOT = Path(__file__).resolve().parent.parent


def test_each_adapter_registers_its_section_and_token_variable() -> None:
    assert list(platforms.tables()) == ["telegram", "discord"]
    defaults = Config().platforms
    assert defaults["discord"].token_env == "DISCORD_TOKEN"
    assert defaults["telegram"].token_env == "TELEGRAM_TOKEN"
    assert not defaults["telegram"].configured


def test_an_adapter_section_is_checked_at_load_by_its_own_parser() -> None:
    # Before, a wrong chat id was found only when `huitaine run` started the adapter.
    with pytest.raises(ConfigError) as caught:
        parse_config({"telegram": {"moderators_chat": "the mods", "community_chats": [-1001]}})
    assert caught.value.key == "telegram.moderators_chat"
    assert "-1001234567890" in caught.value.fix
    with pytest.raises(ConfigError) as caught:
        parse_config({"discord": {"review_channel": 1, "review_chanel": 2}})
    assert caught.value.key == "discord.review_chanel"
    assert "review_channel" in caught.value.fix


def test_a_section_naming_only_its_token_variable_is_not_checked() -> None:
    config = parse_config({"telegram": {"token_env": "SHOP_TG"}})
    assert config.platforms["telegram"].token_env == "SHOP_TG"


def test_answer_roles_come_from_the_key_the_adapter_registered() -> None:
    config = parse_config({"discord": {"review_channel": 1, "staff_roles": ["Support"]}})
    assert config.staff.answer_roles == {"discord": frozenset({"support"})}
    with pytest.raises(ConfigError) as caught:
        parse_config({"discord": {"review_channel": 1, "staff_roles": "Support"}})
    assert caught.value.key == "discord.staff_roles"


def test_an_unregistered_platform_is_an_unknown_section() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"slack": {"token_env": "SLACK_TOKEN"}})
    assert caught.value.key == "slack"
    assert "telegram" in caught.value.fix


def test_a_platform_registered_twice_differently_is_refused() -> None:
    with pytest.raises(RuntimeError, match="registered twice"):
        platforms.register(platforms.PlatformSection("telegram", token_env="OTHER"))
    # The same registration again (a module imported twice) changes nothing.
    platforms.register(platforms.tables()["discord"])
    assert platforms.tables()["telegram"].token_env == "TELEGRAM_TOKEN"


def test_the_cli_knows_the_platform_sections(tmp_path: Path) -> None:
    # A fresh interpreter: nothing but the CLI's own imports registers the sections.
    path = tmp_path / "huitaine.toml"
    path.write_text('[discord]\nreview_channel = "not an id"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "huitaine.cli", "--config", str(path), "cases", "--db", "x.db"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode != 0
    assert "config error at 'discord.review_channel'" in done.stderr


def test_the_core_names_no_platform_in_its_configuration_or_its_check() -> None:
    for name in ("config.py", "platforms.py", "check.py"):
        code = [
            line
            for line in (ROOT / "bot" / name).read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("#")
        ]
        assert not [line for line in code if 'discord"' in line or 'telegram"' in line]


def _deep(depth: int) -> object:
    nested: object = 1
    for _ in range(depth):
        nested = [nested]
    return nested


TELEGRAM = {"moderators_chat": -1002, "community_chats": [-1001]}


@pytest.mark.parametrize(
    ("section", "key"),
    [
        # Found by the fuzzer: quoting a value nested deeper than Python's recursion limit.
        ({"telegram": TELEGRAM | {"community_chats": _deep(5000)}}, "telegram.community_chats"),
        ({"discord": {"review_channel": "1", "guild_ids": _deep(5000)}}, "discord.guild_ids"),
        # A number of more than 4,300 digits: int() itself refuses it.
        ({"telegram": TELEGRAM | {"admin_cache": "9" * 5000 + "m"}}, "telegram.admin_cache"),
    ],
)
def test_a_strange_value_in_an_adapter_section_is_a_short_clear_error(
    section: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(section)
    assert key in str(error.value)
    assert len(str(error.value)) < 400  # the value is quoted short, whatever its size
