"""`huitaine run` picks its platforms from the tokens in the environment, never from files."""

import pytest

from adapters.run import chosen_platforms
from bot.config import ConfigError, parse_config


def test_no_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TELEGRAM_TOKEN or DISCORD_TOKEN is unset"):
        chosen_platforms(parse_config({}), [])


def test_platforms_follow_the_tokens_and_the_configured_variable_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("SHOP_TG", "123:abc")
    config = parse_config({"telegram": {"token_env": "SHOP_TG"}})
    assert chosen_platforms(config, []) == ["telegram"]
    with pytest.raises(ConfigError, match=r"\$DISCORD_TOKEN is not set"):
        chosen_platforms(config, ["discord"])
