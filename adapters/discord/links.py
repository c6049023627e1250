"""Links back to Discord messages, for reports: pure, no SDK needed."""

from __future__ import annotations


def message_link(community: str, channel: str, message_id: str) -> str | None:
    """The jump link that opens a message in the Discord client, when the ids are Discord's."""
    if not (community.isdigit() and channel.isdigit() and message_id.isdigit()):
        return None  # an export or a replay whose ids are not snowflakes has no link
    return f"https://discord.com/channels/{community}/{channel}/{message_id}"
