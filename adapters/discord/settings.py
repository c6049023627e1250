"""The `[discord]` options: parsed and validated once, at start-up, into typed settings."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import platforms
from bot.config import Config, ConfigError, shown

_LOGGER = logging.getLogger(__name__)

NAME = "discord"

# Snowflakes are unsigned 64-bit integers in the API; Discord never hands out id 0.
_MAX_SNOWFLAKE = 2**64 - 1
KEYS = frozenset(
    {
        "guild_ids",
        "review_channel",
        "channels",
        "ignore_channels",
        "staff_roles",
        "manage_messages_is_staff",
        "escalation_role",
        "sync_commands",
        "shard_count",
        "shard_ids",
    }
)
# Discord asks a bot to shard from 2,500 guilds (one gateway connection per shard).
_MAX_SHARDS = 10_000


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """Everything the Discord adapter reads from `[discord]`, ids kept as decimal strings."""

    review_channel: str
    guild_ids: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    ignore_channels: frozenset[str] = frozenset()
    staff_roles: frozenset[str] = frozenset()
    manage_messages_is_staff: bool = False
    escalation_role: str | None = None
    sync_commands: bool = True
    # Sharding through discord.py (AutoShardedClient): how many shards the bot has in all, and
    # which of them this process runs (all of them when `shard_ids` is empty).
    shard_count: int | None = None
    shard_ids: tuple[int, ...] = ()
    # Communities' own review channels (`[communities."discord:…"] community.review_place`):
    # moderators talk there, so like `review_channel` they are never read as members' talk.
    review_places: frozenset[str] = frozenset()

    def client_options(self) -> dict[str, Any]:
        """discord.py's sharding arguments; empty for one unsharded connection."""
        if self.shard_count is None:
            return {}
        return {"shard_count": self.shard_count, "shard_ids": list(self.shard_ids) or None}

    def watches_guild(self, guild_id: str | None) -> bool:
        """True for a guild the bot listens to (every guild when `guild_ids` is empty)."""
        if guild_id is None:
            return False
        return not self.guild_ids or guild_id in self.guild_ids


def _fix_key(key: str) -> str:
    return f"discord.{key}"


def _snowflake(value: object, key: str) -> str:
    example = "an id like 123456789012345678 (Developer Mode → right click → Copy ID)"
    if isinstance(value, bool):
        raise ConfigError(_fix_key(key), f"expected an id, got {shown(value)}", f"write {example}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 < value <= _MAX_SNOWFLAKE:
        raise ConfigError(_fix_key(key), f"{shown(value)} is not a Discord id", f"write {example}")
    return str(value)


def _snowflakes(value: object, key: str) -> frozenset[str]:
    if not isinstance(value, list):
        raise ConfigError(
            _fix_key(key),
            f"expected a list of ids, got {shown(value)}",
            "write [123456789012345678]",
        )
    return frozenset(_snowflake(item, key) for item in value)


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            _fix_key(key), f"expected true or false, got {shown(value)}", "write true"
        )
    return value


def _roles(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            "discord.staff_roles",
            f"expected a list of role names, got {shown(value)}",
            'write ["Moderator", "Support"]',
        )
    return frozenset(item.casefold() for item in value)


def _shards(options: Mapping[str, Any]) -> tuple[int | None, tuple[int, ...]]:
    """`shard_count` and `shard_ids`, checked against each other."""
    count = options.get("shard_count")
    ids = options.get("shard_ids", [])
    if count is None:
        if ids:
            raise ConfigError(
                "discord.shard_ids", "given without shard_count", "add shard_count = N"
            )
        return None, ()
    if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= _MAX_SHARDS:
        raise ConfigError(
            "discord.shard_count",
            f"{shown(count)} is not a number of shards",
            "write a whole number like 2 (Discord says how many: about one per 1,000 guilds)",
        )
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < count for i in ids
    ):
        raise ConfigError(
            "discord.shard_ids",
            f"{shown(ids)} is not a list of shard ids below shard_count ({count})",
            f"write the shards this process runs, like [0, 1] (from 0 to {count - 1})",
        )
    return count, tuple(sorted(set(ids)))


def section(config: Config) -> Mapping[str, Any]:
    """The `[discord]` options of `config` (every key but `token_env`)."""
    return config.platforms[NAME].options


def parse_settings(config: Config) -> DiscordSettings:
    """Validate `[discord]`; unset `staff_roles` default to the core's moderator roles."""
    settings = parse_options(section(config), config.staff.roles)
    places = frozenset(
        own.community.review_place
        for key, own in config.communities.items()
        if key.startswith(f"{NAME}:") and own.community.review_place
    )
    return dataclasses.replace(settings, review_places=places)


def parse_options(options: Mapping[str, Any], default_roles: frozenset[str]) -> DiscordSettings:
    """Validate the `[discord]` options; `default_roles` answer as staff when unset."""
    for key in options:
        if key not in KEYS:
            raise ConfigError(
                _fix_key(key),
                "unknown key",
                f"remove it or use one of: token_env, {', '.join(sorted(KEYS))}",
            )
    if "review_channel" not in options:
        raise ConfigError(
            "discord.review_channel",
            "missing: Huitaine needs a channel where moderators review cases",
            "create a private channel for moderators and write its id here",
        )
    manage_messages = _bool(
        options.get("manage_messages_is_staff", False), "manage_messages_is_staff"
    )
    staff_roles = _roles(options["staff_roles"]) if "staff_roles" in options else None
    escalation = options.get("escalation_role")
    shard_count, shard_ids = _shards(options)
    settings = DiscordSettings(
        review_channel=_snowflake(options["review_channel"], "review_channel"),
        guild_ids=_snowflakes(options.get("guild_ids", []), "guild_ids"),
        channels=_snowflakes(options.get("channels", []), "channels"),
        ignore_channels=_snowflakes(options.get("ignore_channels", []), "ignore_channels"),
        # Default: whoever the core treats as a moderator also answers as staff.
        staff_roles=staff_roles if staff_roles is not None else default_roles,
        manage_messages_is_staff=manage_messages,
        escalation_role=None if escalation is None else _snowflake(escalation, "escalation_role"),
        sync_commands=_bool(options.get("sync_commands", True), "sync_commands"),
        shard_count=shard_count,
        shard_ids=shard_ids,
    )
    if settings.review_channel in settings.channels:
        raise ConfigError(
            "discord.channels",
            "the review channel is listed among the channels members talk in",
            "remove it: the moderators' channel is never read as member talk",
        )
    return settings


# The `[discord]` section of the file: checked at load (the default roles do not change what is
# valid), and `staff_roles` answer as staff without making moderators (`bot.staff`).
platforms.register(
    platforms.PlatformSection(
        NAME,
        token_env="DISCORD_TOKEN",
        validate=lambda options: parse_options(options, frozenset()),
        answer_roles="staff_roles",
        sdk="discord",
        identify=lambda token: (
            "https://discord.com/api/v10/users/@me",
            {"Authorization": f"Bot {token}", "User-Agent": "Huitaine (check)"},
        ),
    )
)
