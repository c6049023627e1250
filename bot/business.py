"""Business accounts that lent the bot their private chats (Telegram Business), as facts.

A small business connects the bot to its own account; its customers' private chats then reach
the bot, and a reply can go back in the account's name. Each connection is one community. The
platform may revoke it or take away the right to reply at any time: the link is stored as the
platform last described it, so that a restart still knows whether a reply may be sent, and the
cards can say why not.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.clock import from_db, to_db
from bot.storage import Store

_LOGGER = logging.getLogger(__name__)

COMMUNITY_PREFIX = "business:"


class LinkState(enum.StrEnum):
    """Whether replies may go out through a business link."""

    ACTIVE = "active"  # connected, with the right to reply
    NO_REPLY = "no_reply"  # connected, but the owner took away the right to reply
    ENDED = "ended"  # the owner disconnected the bot (or never connected it)


@dataclass(frozen=True, slots=True)
class BusinessLink:
    """One business account's connection with the bot, as the platform last reported it."""

    platform: str
    id: str
    owner_id: str
    owner_name: str
    owner_chat: str  # the owner's private chat with the bot: where their cards go by default
    can_reply: bool
    enabled: bool
    updated_at: datetime

    @property
    def community(self) -> str:
        """The community its customers' chats belong to: one per connection."""
        return community_of(self.id)

    @property
    def state(self) -> LinkState:
        """Whether a reply may be sent through it now."""
        if not self.enabled:
            return LinkState.ENDED
        return LinkState.ACTIVE if self.can_reply else LinkState.NO_REPLY


def community_of(link_id: str) -> str:
    """The community name of a business link's chats."""
    return f"{COMMUNITY_PREFIX}{link_id}"


def link_of(community: str) -> str | None:
    """The business link id of a community, or None for a group or a bot's inbox."""
    if community.startswith(COMMUNITY_PREFIX):
        return community[len(COMMUNITY_PREFIX) :] or None
    return None


class BusinessLinks:
    """Reads and writes business links; the latest report of the platform wins."""

    def __init__(self, store: Store) -> None:
        """Work on `store`."""
        self.store = store

    def save(self, link: BusinessLink) -> BusinessLink | None:
        """Record `link`; return what was known before (None for a new connection)."""
        before = self.get(link.platform, link.id)
        self.store.execute(
            "INSERT INTO business_links (platform, id, owner_id, owner_name, owner_chat,"
            " can_reply, enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (platform, id) DO UPDATE SET owner_id = excluded.owner_id,"
            " owner_name = excluded.owner_name, owner_chat = excluded.owner_chat,"
            " can_reply = excluded.can_reply, enabled = excluded.enabled,"
            " updated_at = excluded.updated_at",
            (
                link.platform,
                link.id,
                link.owner_id,
                link.owner_name,
                link.owner_chat,
                int(link.can_reply),
                int(link.enabled),
                to_db(link.updated_at),
            ),
        )
        if before is None or before.state is not link.state:
            _LOGGER.info("business link %s of %s: %s", link.id, link.owner_id, link.state)
        return before

    def get(self, platform: str, link_id: str) -> BusinessLink | None:
        """The link as last reported, or None if the platform never told of it."""
        row = self.store.row(
            "SELECT * FROM business_links WHERE platform = ? AND id = ?", (platform, link_id)
        )
        return _link(row) if row else None

    def all(self, platform: str) -> list[BusinessLink]:
        """Every link the platform told of, enabled or not."""
        rows = self.store.rows(
            "SELECT * FROM business_links WHERE platform = ? ORDER BY id", (platform,)
        )
        return [_link(row) for row in rows]


def _link(row: dict[str, object]) -> BusinessLink:
    return BusinessLink(
        platform=str(row["platform"]),
        id=str(row["id"]),
        owner_id=str(row["owner_id"]),
        owner_name=str(row["owner_name"]),
        owner_chat=str(row["owner_chat"]),
        can_reply=bool(row["can_reply"]),
        enabled=bool(row["enabled"]),
        updated_at=from_db(str(row["updated_at"])),
    )
