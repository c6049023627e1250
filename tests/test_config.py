"""Configuration: defaults, the example file, and errors that name the key and the fix."""

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config, parse_duration

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_follow_the_one_week_rule() -> None:
    config = parse_config({})
    assert config.deadlines.limit == timedelta(days=7)
    assert config.deadlines.complaint_target == timedelta(hours=24)
    assert config.deadlines.question_target == timedelta(hours=48)
    assert config.cases.join_window == timedelta(hours=1)


def test_example_file_is_valid_and_documents_every_key() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert config.community.timezone == "Europe/Paris"
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for section in (
        "community",
        "detection",
        "cases",
        "deadlines",
        "staff",
        "review",
        "storage",
        "responses",
        "learning",
        "discord",
        "telegram",
    ):
        assert f"[{section}]" in text


@pytest.mark.parametrize(
    ("raw", "key", "hint"),
    [
        ({"deadlines": {"limit": "10d"}}, "deadlines.limit", "7d"),
        ({"deadlines": {"question_target": "8d"}}, "deadlines.question_target", "shorten"),
        (
            {"deadlines": {"limit": "3d", "complaint_target": "4d"}},
            "deadlines.complaint_target",
            "shorten",
        ),
        ({"deadlines": {"complaint_target": "-2h"}}, "deadlines.complaint_target", "positive"),
        ({"deadlines": {"remind_before_target": "2h"}}, "deadlines.remind_before_target", "list"),
        ({"cases": {"join_window": "soon"}}, "cases.join_window", "48h"),
        ({"detection": {"threshold": 1.5}}, "detection.threshold", "0.5"),
        ({"detection": {"threshold": True}}, "detection.threshold", "number"),
        ({"detection": {"treshold": 0.5}}, "detection.treshold", "threshold"),
        ({"colour": "blue"}, "colour", "community"),
        ({"community": {"timezone": "Paris"}}, "community.timezone", "Europe/Paris"),
        ({"community": {"language": "french"}}, "community.language", '"fr"'),
        ({"telegram": {"token": "123:abc"}}, "telegram.token", "environment variable"),
        ({"discord": {"token_env": "my token"}}, "discord.token_env", "DISCORD_TOKEN"),
        ({"staff": {"user_ids": [123]}}, "staff.user_ids", '"discord:123" or "telegram:123"'),
        ({"staff": {"user_ids": ["42"]}}, "staff.user_ids", "which platform"),
        ({"staff": {"user_ids": ["slack:42"]}}, "staff.user_ids", '"discord:42"'),
        ({"staff": {"user_ids": [1.5]}}, "staff.user_ids", '"discord:1234"'),
        ({"learning": {"after_decisions": -3}}, "learning.after_decisions", "0 to turn"),
        ({"learning": {"after_decisions": "20"}}, "learning.after_decisions", "whole number"),
        ({"learning": {"check_every": "1m"}}, "learning.check_every", "10m"),
        ({"learning": {"check_every": "30d"}}, "learning.check_every", "7d"),
        ({"learning": {"every": "1h"}}, "learning.every", "check_every"),
        ({"community": {"language": "xx"}}, "community.language", '"es", "de", "it", "pt"'),
        ({"community": {"languages": ["fr", "ja"]}}, "community.languages", '"es"'),
        (
            {"community": {"language": "es"}, "detection": {"detector": "rules"}},
            "detection.detector",
            '"auto"',
        ),
        (
            {"community": {"languages": ["fr", "de"]}, "detection": {"detector": "rules"}},
            "detection.detector",
            "community.languages",
        ),
    ],
)
def test_bad_values_name_the_key_and_the_fix(raw: dict[str, object], key: str, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert caught.value.key == key
    assert f"'{key}'" in str(caught.value)
    assert hint in str(caught.value)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[community\nname = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90m", timedelta(minutes=90)), ("48h", timedelta(hours=48)), ("1d12h", timedelta(hours=36))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text, "k") == expected


def test_staff_roles_match_case_insensitively() -> None:
    config = parse_config({"staff": {"roles": ["Modérateurs"], "user_ids": ["telegram:42"]}})
    assert "modérateurs" in config.staff.roles
    assert "telegram:42" in config.staff.user_ids


def test_platform_admin_titles_are_not_default_role_names() -> None:
    # "Administrator" is a common Discord role name: only "moderator" is a default role.
    assert parse_config({}).staff.roles == frozenset({"moderator"})


def test_example_platform_sections_pass_the_adapters_checks() -> None:
    from adapters.discord.settings import parse_settings as discord_settings
    from adapters.telegram.settings import parse_settings as telegram_settings

    config = load_config(ROOT / "config.example.toml")
    assert (
        telegram_settings(config.platforms["telegram"].options).moderators_chat == -1009876543210
    )
    assert discord_settings(config).review_channel == "123456789012345678"


def test_auto_detector_takes_the_model_only_when_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.app import build_detector

    config = parse_config({})
    assert config.detection.detector == "auto"
    assert build_detector(config).name == "rules"  # tests report the model as not installed
    monkeypatch.setattr("bot.detect.train.detector_from_config", lambda c, kind: kind)
    monkeypatch.setattr("bot.app.model_installed", lambda: True)
    assert build_detector(config) == "model"


def test_learning_is_on_by_default_and_can_be_turned_off() -> None:
    learning = parse_config({}).learning
    assert (learning.after_decisions, learning.check_every) == (20, timedelta(hours=6))
    off = parse_config({"learning": {"after_decisions": 0, "check_every": "1d"}}).learning
    assert (off.after_decisions, off.check_every) == (0, timedelta(days=1))


@pytest.mark.parametrize("language", ["es", "de", "it", "pt"])
def test_a_community_may_write_a_language_the_encoder_knows(language: str) -> None:
    community = parse_config({"community": {"language": language, "languages": [language]}})
    assert community.community.language == language
    # Moderators' texts exist in French and English: English is the fallback.
    assert community.community.ui_language == "en"
    mixed = parse_config({"community": {"language": "fr", "languages": ["fr", language]}})
    assert mixed.community.ui_language == "fr"
