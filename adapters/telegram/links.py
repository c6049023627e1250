"""Links back to Telegram messages, for reports: pure, no SDK needed."""

from __future__ import annotations


def message_link(community: str, channel: str, message_id: str) -> str | None:
    """A t.me link to a message of a supergroup (its -100… id); other chats have none."""
    if not (channel.startswith("-100") and message_id.isdigit()):
        return None
    return f"https://t.me/c/{channel[4:]}/{message_id}"
