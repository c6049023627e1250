"""An approved reply out: posted once, as a reply to the member, pinging nobody else."""

from __future__ import annotations

from typing import Any

from adapters.discord.convert import split_text
from adapters.discord.sdk import discord
from bot.adapter import SendFailed
from bot.models import Outgoing


async def send_reply(
    client: discord.Client, item: Outgoing, *, view: discord.ui.View | None = None
) -> str:
    """Post an approved reply once, as a reply to the member's message; return its id.

    `view` (the member's "solved / still need help") goes under the reply's last part.

    Only the member answered can be pinged, whatever the text says. A nonce with
    enforce_nonce makes Discord drop a duplicate if discord.py retries after a 5xx.
    """
    channel = client.get_partial_messageable(
        int(item.thread or item.channel), guild_id=int(item.community)
    )
    mentions = discord.AllowedMentions(
        everyone=False,
        roles=False,
        users=[discord.Object(int(item.member_id))],
        replied_user=True,
    )
    reference = None
    if item.reply_to:
        reference = discord.MessageReference(
            message_id=int(item.reply_to),
            channel_id=channel.id,
            guild_id=int(item.community),
            fail_if_not_exists=False,
        )
    first: str | None = None
    chunks = split_text(item.text)
    for index, chunk in enumerate(chunks):
        # Only the first part replies to the member's message; the rest follows it.
        extra: dict[str, Any] = {"reference": reference} if index == 0 and reference else {}
        if view is not None and index == len(chunks) - 1:
            extra["view"] = view
        try:
            posted = await channel.send(
                chunk,
                **extra,
                allowed_mentions=mentions,
                nonce=f"huitaine-{item.id}-{index}",
            )
        except discord.HTTPException as exc:
            # A 4xx answer means Discord rejected the request: nothing was posted. Only the
            # first part can be "surely not posted"; a later failure leaves a partial reply.
            if first is None and 400 <= exc.status < 500:
                raise SendFailed(f"{exc.status} {exc.text}".strip()) from exc
            raise
        first = first or str(posted.id)
    if first is None:
        raise SendFailed("the reply is empty")
    return first
