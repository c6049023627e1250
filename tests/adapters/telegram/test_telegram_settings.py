"""The [telegram] options: defaults, and a clear error naming the key for every mistake."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from typing import Any

import pytest

from adapters.telegram import build
from adapters.telegram.settings import DEFAULT_BASE_URL, parse_settings
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import ConfigError, parse_config
from bot.runtime import Runtime
from tests.adapters.telegram.world import GROUP_ID, MOD_ID

MINIMAL: dict[str, Any] = {"moderators_chat": MOD_ID, "community_chats": [GROUP_ID]}


def test_minimal_options_and_defaults() -> None:
    settings = parse_settings(MINIMAL)
    assert settings.moderators_chat == MOD_ID
    assert settings.community_chats == (GROUP_ID,)
    assert settings.staff_user_ids == frozenset()
    assert settings.admin_cache == timedelta(minutes=10)
    assert settings.private_messages is True
    assert settings.mode == "polling"
    assert settings.base_url == DEFAULT_BASE_URL


def test_every_option() -> None:
    settings = parse_settings(
        {
            "moderators_chat": str(MOD_ID),
            "community_chats": [GROUP_ID, "-1001555000111", GROUP_ID],
            "staff_user_ids": [222222222, "444444444"],
            "admin_cache": "1h",
            "private_messages": False,
            "mode": "webhook",
            "webhook_url": "https://bot.example.org/telegram/hook",
            "webhook_listen": "0.0.0.0",
            "webhook_port": 8080,
            "webhook_secret_env": "TELEGRAM_WEBHOOK_SECRET",
            "base_url": "http://127.0.0.1:8081/bot",
        }
    )
    assert settings.community_chats == (GROUP_ID, -1001555000111)
    assert settings.staff_user_ids == frozenset({222222222, 444444444})
    assert settings.admin_cache == timedelta(hours=1)
    assert settings.mode == "webhook"
    assert settings.webhook_port == 8080


@pytest.mark.parametrize(
    ("options", "key", "words"),
    [
        ({**MINIMAL, "chanel": 1}, "telegram.chanel", "unknown key"),
        ({"community_chats": [GROUP_ID]}, "telegram.moderators_chat", "missing"),
        ({"moderators_chat": MOD_ID}, "telegram.community_chats", "non-empty"),
        ({**MINIMAL, "community_chats": []}, "telegram.community_chats", "non-empty"),
        ({**MINIMAL, "community_chats": [MOD_ID]}, "telegram.community_chats", "moderators"),
        ({**MINIMAL, "moderators_chat": "@mods"}, "telegram.moderators_chat", "chat id"),
        ({**MINIMAL, "moderators_chat": True}, "telegram.moderators_chat", "chat id"),
        ({**MINIMAL, "community_chats": [1.5]}, "telegram.community_chats", "chat id"),
        ({**MINIMAL, "staff_user_ids": "222"}, "telegram.staff_user_ids", "list"),
        ({**MINIMAL, "staff_user_ids": [-5]}, "telegram.staff_user_ids", "positive"),
        ({**MINIMAL, "admin_cache": "soon"}, "telegram.admin_cache", "cannot read"),
        ({**MINIMAL, "admin_cache": "2d"}, "telegram.admin_cache", "too long"),
        ({**MINIMAL, "private_messages": "yes"}, "telegram.private_messages", "true or false"),
        ({**MINIMAL, "mode": "push"}, "telegram.mode", "unknown mode"),
        ({**MINIMAL, "mode": "webhook"}, "telegram.webhook_url", "https"),
        (
            {**MINIMAL, "mode": "webhook", "webhook_url": "http://x.org"},
            "telegram.webhook_url",
            "https",
        ),
        ({**MINIMAL, "webhook_port": 70000}, "telegram.webhook_port", "port"),
        ({**MINIMAL, "webhook_secret_env": "s3cr3t"}, "telegram.webhook_secret_env", "variable"),
        ({**MINIMAL, "base_url": "ftp://x"}, "telegram.base_url", "http"),
        # The weekly digest is the core's ([digest]), not a Telegram option.
        ({**MINIMAL, "digest": "mon 09:00"}, "telegram.digest", "unknown key"),
    ],
)
def test_mistakes_name_the_key(options: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as caught:
        parse_settings(options)
    assert caught.value.key == key


def test_a_token_in_the_file_is_refused_by_the_core() -> None:
    with pytest.raises(ConfigError, match="never read from files"):
        parse_config({"telegram": {**MINIMAL, "token": "123:abc"}})


async def test_build_needs_the_token_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, clock: ManualClock, tmp_path: Any
) -> None:
    monkeypatch.delenv("HUITAINE_TEST_EMPTY_TOKEN", raising=False)
    config = parse_config({"telegram": {"token_env": "HUITAINE_TEST_EMPTY_TOKEN", **MINIMAL}})
    runtime = Runtime(Huitaine(config, clock=clock, database=tmp_path / "h.db"))
    try:
        with pytest.raises(ConfigError, match="HUITAINE_TEST_EMPTY_TOKEN") as caught:
            build(config, runtime)
        assert caught.value.key == "telegram.token_env"
    finally:
        await runtime.close()


@pytest.mark.skipif(
    importlib.util.find_spec("tornado") is not None, reason="the webhooks extra is installed"
)
async def test_webhook_mode_without_its_extra_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, clock: ManualClock, tmp_path: Any
) -> None:
    monkeypatch.setenv("HUITAINE_TEST_TOKEN", "123:abc")
    options = {**MINIMAL, "mode": "webhook", "webhook_url": "https://bot.example.org/tg"}
    config = parse_config({"telegram": {"token_env": "HUITAINE_TEST_TOKEN", **options}})
    runtime = Runtime(Huitaine(config, clock=clock, database=tmp_path / "h.db"))
    try:
        with pytest.raises(ConfigError, match="webhooks") as caught:
            build(config, runtime)
        assert caught.value.key == "telegram.mode"
    finally:
        await runtime.close()


def test_business_is_off_by_default_and_may_run_without_any_group() -> None:
    assert parse_settings(MINIMAL).business is False
    settings = parse_settings(
        {
            "moderators_chat": 555555555,  # the owner's own private chat with the bot
            "business": True,
            "business_staff_chat": -1004445556667,
            "business_staff_ids": [777777777],
        }
    )
    assert settings.business is True
    assert settings.community_chats == ()
    assert settings.business_staff_chat == -1004445556667
    assert settings.business_staff_ids == frozenset({777777777})


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"moderators_chat": MOD_ID}, "telegram.community_chats"),
        ({**MINIMAL, "business": "yes"}, "telegram.business"),
        (
            {**MINIMAL, "business": True, "business_staff_chat": GROUP_ID},
            "telegram.business_staff_chat",
        ),
        ({**MINIMAL, "business": True, "business_staff_ids": [-5]}, "telegram.business_staff_ids"),
    ],
)
def test_business_mistakes_name_their_key(options: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(options)
    assert error.value.key == key
