"""The `[telegram]` options: parsed and validated once, at start-up, into typed settings."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from bot import platforms
from bot.config import Config, ConfigError, parse_duration, shown

_LOGGER = logging.getLogger(__name__)

NAME = "telegram"

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
_CHAT_ID = re.compile(r"^-?[1-9][0-9]{0,18}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
KEYS = frozenset(
    {
        "moderators_chat",
        "community_chats",
        "staff_user_ids",
        "admin_cache",
        "private_messages",
        "mode",
        "webhook_url",
        "webhook_listen",
        "webhook_port",
        "webhook_secret_env",
        "base_url",
        "business",
        "business_staff_chat",
        "business_staff_ids",
    }
)


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """Everything the Telegram adapter reads from the `[telegram]` table."""

    moderators_chat: int
    community_chats: tuple[int, ...]
    staff_user_ids: frozenset[int] = frozenset()
    admin_cache: timedelta = timedelta(minutes=10)
    private_messages: bool = True
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret_env: str = ""
    base_url: str = DEFAULT_BASE_URL
    # Telegram Business: customers' private chats with a business account connected to the bot.
    business: bool = False
    business_staff_chat: int | None = None  # None: each owner's private chat with the bot
    business_staff_ids: frozenset[int] = frozenset()  # employees, besides each account's owner


def _key(name: str) -> str:
    return f"telegram.{name}"


def _chat_id(value: object, key: str) -> int:
    # TOML integers are the natural spelling; a quoted id is accepted because ids copied
    # from other tools often come as strings.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(
            key, f"expected a chat id, got {shown(value)}", "write it like -1001234567890"
        )
    text = str(value).strip()
    if not _CHAT_ID.match(text):
        raise ConfigError(
            key, f"{shown(value)} is not a Telegram chat id", "write it like -1001234567890"
        )
    return int(text)


def _user_ids(value: object, key: str) -> frozenset[int]:
    if not isinstance(value, list):
        raise ConfigError(
            key, f"expected a list of user ids, got {shown(value)}", "write [12345678]"
        )
    ids = {_chat_id(item, key) for item in value}
    if any(i <= 0 for i in ids):
        raise ConfigError(key, "user ids are positive numbers", "write [12345678]")
    return frozenset(ids)


def _string(options: Mapping[str, Any], name: str, default: str, example: str) -> str:
    value = options.get(name, default)
    if not isinstance(value, str):
        raise ConfigError(_key(name), f"expected a string, got {shown(value)}", f"write {example}")
    return value.strip()


def section(config: Config) -> Mapping[str, Any]:
    """The `[telegram]` options of `config` (every key but `token_env`)."""
    return config.platforms[NAME].options


def parse_settings(options: Mapping[str, Any]) -> TelegramSettings:
    """Validate the `[telegram]` options (all keys but `token_env`)."""
    for name in options:
        if name not in KEYS:
            raise ConfigError(
                _key(name), "unknown key", f"remove it or use one of: {', '.join(sorted(KEYS))}"
            )
    if "moderators_chat" not in options:
        raise ConfigError(
            _key("moderators_chat"),
            "missing: review cards need a chat for the moderators",
            "add the moderators' group id, e.g. moderators_chat = -1001234567890",
        )
    moderators = _chat_id(options["moderators_chat"], _key("moderators_chat"))
    business = options.get("business", False)
    if not isinstance(business, bool):
        raise ConfigError(
            _key("business"), f"expected true or false, got {shown(business)}", "write true"
        )
    raw_chats = options.get("community_chats", [])
    # A small business may listen to its customers' private chats alone, without any group.
    if not isinstance(raw_chats, list) or not (raw_chats or business):
        raise ConfigError(
            _key("community_chats"),
            f"expected a non-empty list of chat ids, got {shown(raw_chats)}",
            "list the groups Huitaine listens to, e.g. community_chats = [-1001234567890]",
        )
    chats = tuple(dict.fromkeys(_chat_id(c, _key("community_chats")) for c in raw_chats))
    if moderators in chats:
        raise ConfigError(
            _key("community_chats"),
            "the moderators' chat is also a community chat",
            "use a separate group for the moderators: members must not see the cards",
        )
    staff = _user_ids(options.get("staff_user_ids", []), _key("staff_user_ids"))
    business_chat = (
        _chat_id(options["business_staff_chat"], _key("business_staff_chat"))
        if "business_staff_chat" in options
        else None
    )
    if business_chat is not None and business_chat in chats:
        raise ConfigError(
            _key("business_staff_chat"),
            "the business staff chat is also a community chat",
            "use a group of your own staff: customers must not see the cards",
        )
    business_staff = _user_ids(options.get("business_staff_ids", []), _key("business_staff_ids"))
    if not business and (business_chat is not None or business_staff):
        _LOGGER.warning("telegram.business_* options are ignored unless business = true")
    admin_cache = parse_duration(options.get("admin_cache", "10m"), _key("admin_cache"))
    if admin_cache > timedelta(days=1):
        raise ConfigError(
            _key("admin_cache"),
            f"{shown(options['admin_cache'])} keeps a demoted admin in charge too long",
            'use "1d" or less, e.g. "10m"',
        )
    private = options.get("private_messages", True)
    if not isinstance(private, bool):
        raise ConfigError(
            _key("private_messages"), f"expected true or false, got {shown(private)}", "write true"
        )
    mode = _string(options, "mode", "polling", '"polling"')
    if mode not in ("polling", "webhook"):
        raise ConfigError(
            _key("mode"), f"unknown mode {shown(mode)}", 'use "polling" or "webhook"'
        )
    webhook_url = _string(options, "webhook_url", "", '"https://bot.example.org/telegram"')
    listen = _string(options, "webhook_listen", "127.0.0.1", '"127.0.0.1"')
    port = options.get("webhook_port", 8443)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(
            _key("webhook_port"), f"{shown(port)} is not a port number", "write 8443"
        )
    secret_env = _string(options, "webhook_secret_env", "", '"TELEGRAM_WEBHOOK_SECRET"')
    if secret_env and not _ENV_NAME.match(secret_env):
        raise ConfigError(
            _key("webhook_secret_env"),
            f"{shown(secret_env)} is not an environment variable name"
            " (secrets never go in this file)",
            'name the variable that holds the secret, e.g. "TELEGRAM_WEBHOOK_SECRET"',
        )
    if mode == "webhook":
        if not webhook_url.startswith("https://"):
            raise ConfigError(
                _key("webhook_url"),
                f"webhook mode needs a public https:// URL, got {shown(webhook_url)}",
                'set webhook_url = "https://bot.example.org/telegram" (Telegram calls it)',
            )
    elif webhook_url or secret_env:
        _LOGGER.warning("telegram.webhook_* options are ignored in polling mode")
    base_url = _string(options, "base_url", DEFAULT_BASE_URL, f'"{DEFAULT_BASE_URL}"')
    if not base_url.startswith(("https://", "http://")):
        raise ConfigError(
            _key("base_url"),
            f"{shown(base_url)} is not an http(s) URL",
            f'use "{DEFAULT_BASE_URL}" or your Bot API server, e.g. "http://127.0.0.1:8081/bot"',
        )
    return TelegramSettings(
        moderators_chat=moderators,
        community_chats=chats,
        staff_user_ids=staff,
        admin_cache=admin_cache,
        private_messages=private,
        mode="webhook" if mode == "webhook" else "polling",
        webhook_url=webhook_url,
        webhook_listen=listen,
        webhook_port=port,
        webhook_secret_env=secret_env,
        base_url=base_url,
        business=business,
        business_staff_chat=business_chat,
        business_staff_ids=business_staff,
    )


# The `[telegram]` section of the file, checked at load by the same parser the adapter runs.
platforms.register(
    platforms.PlatformSection(
        NAME,
        token_env="TELEGRAM_TOKEN",
        validate=parse_settings,
        sdk="telegram",
        # A token from @BotFather: the bot's numeric id, a colon, then 35 letters, digits, - or _.
        token_shape=re.compile(r"^\d{5,}:[\w-]{30,}$"),
        token_hint="copy the token @BotFather gave you",
        identify=lambda token: (f"https://api.telegram.org/bot{token}/getMe", {}),
    )
)
