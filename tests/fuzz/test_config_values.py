"""Plausible but wrong config values end in "config error at KEY: problem. Fix: …", never a
traceback, and values the READMEs show are accepted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, parse_config


@pytest.mark.parametrize(
    ("raw", "key", "hint"),
    [
        # A limit shorter than a default target named a key the file does not have (KeyError).
        ({"deadlines": {"limit": "1d"}}, "deadlines.question_target", "'2d'"),
        # Numbers too large for a timedelta (OverflowError) or for deadline arithmetic.
        ({"review": {"snooze": "99999999999d"}}, "review.snooze", "a year or less"),
        ({"review": {"snooze": "30d"}}, "review.snooze", '"7d" or less'),
        ({"cases": {"join_window": "99999999999d"}}, "cases.join_window", "a year or less"),
        ({"cases": {"join_window": "300d"}}, "cases.join_window", '"7d" or less'),
        (
            {"deadlines": {"remind_before_limit": ["99999999999999h"]}},
            "deadlines.remind_before_limit",
            "a year or less",
        ),
        ({"deadlines": {"remind_before_limit": ["8d"]}}, "deadlines.remind_before_limit", "7d"),
        (
            {"deadlines": {"remind_before_target": ["3d"]}},
            "deadlines.remind_before_target",
            "shorter than 2d",
        ),
        # A very long zone name is an OSError (file name too long) in zoneinfo.
        ({"community": {"timezone": "A" * 300}}, "community.timezone", "Europe/Paris"),
        # Languages Huitaine does not speak were accepted silently.
        ({"community": {"language": "ja"}}, "community.language", '"fr", "en"'),
        ({"community": {"languages": ["xx"]}}, "community.languages", '"fr", "en"'),
        ({"responses": {"directory": "no/such/folder"}}, "responses.directory", "folder"),
    ],
)
def test_plausible_values_get_the_key_and_the_fix(
    raw: dict[str, object], key: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert caught.value.key == key
    assert hint in str(caught.value)


def test_a_short_limit_with_its_own_reminders_is_accepted() -> None:
    config = parse_config(
        {
            "deadlines": {
                "limit": "1d",
                "question_target": "12h",
                "complaint_target": "6h",
                "remind_before_limit": ["2h"],
            }
        }
    )
    assert config.deadlines.limit.days == 1


def test_a_bare_numeric_staff_id_is_refused_with_the_platform_to_add() -> None:
    # A number alone could be a Discord or a Telegram id: the fix says how to write it.
    with pytest.raises(ConfigError) as caught:
        parse_config({"staff": {"user_ids": [123456789012345678]}})
    assert '"discord:123456789012345678"' in str(caught.value)
    config = parse_config({"staff": {"user_ids": ["discord:123456789012345678", "telegram:7"]}})
    assert config.staff.user_ids == frozenset({"discord:123456789012345678", "telegram:7"})


def test_an_existing_responses_folder_is_accepted(tmp_path: Path) -> None:
    assert parse_config({"responses": {"directory": str(tmp_path)}}).responses.directory


def test_the_command_line_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "huitaine.toml"
    path.write_text('[review]\nsnooze = "99999999999d"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "huitaine.cli", "--config", str(path), "cases", "--db", "x.db"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("huitaine: config error at 'review.snooze'")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_telegram_admin_cache_beyond_a_day_is_refused_when_the_adapter_starts() -> None:
    from adapters.telegram.settings import parse_settings

    options = {"moderators_chat": -1001, "community_chats": [-1002], "admin_cache": "2d"}
    with pytest.raises(ConfigError) as caught:
        parse_settings(options)
    assert caught.value.key == "telegram.admin_cache"
    assert '"1d" or less' in str(caught.value)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'[community]\nname = "caf\xe9"\n', "not UTF-8"),
        (b"[detection]\nthreshold = " + b"9" * 5000 + b"\n", "not valid TOML"),
        (b"[community]\nname = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deep"),
    ],
)
def test_unreadable_files_are_config_errors(tmp_path: Path, content: bytes, says: str) -> None:
    from bot.config import load_config

    path = tmp_path / "huitaine.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=says):
        load_config(path)


def test_odd_values_give_a_short_message() -> None:
    deep: object = 1
    for _ in range(5000):
        deep = [deep]
    for raw in (
        {"review": {"snooze": deep}},
        {"community": {"name": deep}},
        {"responses": {"directory": "x" * 5000}},
        {"responses": {"directory": "a\x00b"}},
    ):
        with pytest.raises(ConfigError) as caught:
            parse_config(raw)  # type: ignore[arg-type]
        assert len(str(caught.value)) < 400
