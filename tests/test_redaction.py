"""Tokens never reach a log line, whichever logger writes it and whenever it was created."""

from __future__ import annotations

import logging

import pytest

from bot import redaction
from bot.config import parse_config

SECRET = "9000000009:AAH-redaction-test-token-abcdefghij"


def test_a_token_read_from_the_environment_is_masked_in_every_log_record(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HUITAINE_REDACTION_TOKEN", SECRET)
    config = parse_config({"telegram": {"token_env": "HUITAINE_REDACTION_TOKEN"}})
    assert config.platforms["telegram"].token("telegram", "BotFather") == SECRET
    caplog.set_level(logging.DEBUG)
    # A logger created after the token was read, as SDKs create theirs lazily.
    late = logging.getLogger("some.sdk.created.later")
    late.debug("Set Bot API URL: https://api.telegram.org/bot%s", SECRET)
    try:
        raise RuntimeError(f"The token `{SECRET}` was rejected by the server")
    except RuntimeError:
        late.exception("failed")
    assert "api.telegram.org/bot<token>" in caplog.text
    assert "The token `<token>` was rejected" in caplog.text
    assert SECRET not in caplog.text
    assert SECRET.split(":")[1] not in caplog.text


def test_short_values_are_not_treated_as_secrets() -> None:
    redaction.register("abc")
    assert redaction.redact("abc is an ordinary word") == "abc is an ordinary word"
