"""Each adapter's link builder, for the reports the core renders (which know no platform)."""

from __future__ import annotations

from collections.abc import Callable

from adapters.discord import links as discord_links
from adapters.telegram import links as telegram_links

_BUILDERS: dict[str, Callable[[str, str, str], str | None]] = {
    "discord": discord_links.message_link,
    "telegram": telegram_links.message_link,
}


def message_link(platform: str, community: str, channel: str, message_id: str) -> str | None:
    """A link back to the message on its platform, where the platform has one."""
    builder = _BUILDERS.get(platform)
    return builder(community, channel, message_id) if builder else None
