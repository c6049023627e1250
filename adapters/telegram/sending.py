"""Calling the Bot API without ever posting twice: retry only what surely did not arrive.

Replies to members are exactly once: a reply in doubt waits for a moderator. Reminders,
escalations and digests to the moderators' chat are AT LEAST ONCE, on purpose: the Bot API has
no idempotency key, so a notice posted and then lost to a kill (or a read timeout) before it is
marked delivered is posted again after the restart. A second reminder in the moderators' own
chat costs a glance; a lost escalation would let a member wait past the one-week limit unseen.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import os
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import httpx
from telegram import Bot, InlineKeyboardMarkup, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from adapters.telegram.convert import split_text
from bot.adapter import SendFailed
from bot.models import Outgoing

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

# PTB 22 builds every RetryAfter by reading its own `retry_after`, which warns that the int
# form is deprecated unless this documented opt-in is set; the warning would come out of each
# 429 (and fail a test suite run with warnings as errors). This adapter is the process's only
# PTB user and reads time periods in either form; an explicit setting is left alone.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# httpx raises these before a single byte of the request left: Telegram cannot have seen it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
BACKOFF = (0.5, 2.0, 5.0)
# The delivery promise for notices and digests (see the module docstring and the README).
NOTICE_DELIVERY = "at-least-once"


class Verdict(enum.Enum):
    """What a failed call means for the message it carried."""

    RETRY = "retry"  # not posted, and worth another try (flood control, no connection)
    REFUSED = "refused"  # not posted, and trying again will not help (400, 403, bad token)
    UNCERTAIN = "uncertain"  # may have been posted (a read timeout, a dropped connection)


class Refused(Exception):
    """Telegram surely did not post the message; the message is safe to show moderators."""


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds, whatever PTB's time-period setting."""
    with warnings.catch_warnings():
        # PTB 22 warns that the int form of `retry_after` will become a timedelta.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: BaseException) -> Verdict:
    """Whether a failed Bot API call may have posted its message."""
    if isinstance(exc, RetryAfter):
        return Verdict.RETRY
    # BadRequest is a NetworkError in PTB's hierarchy: test the refusals first.
    if isinstance(exc, BadRequest | Forbidden | InvalidToken | ChatMigrated | EndPointNotFound):
        return Verdict.REFUSED
    if isinstance(exc, TimedOut | NetworkError) and isinstance(exc.__cause__, _NOT_SENT):
        return Verdict.RETRY
    return Verdict.UNCERTAIN


async def call_once(
    action: Callable[[], Awaitable[T]],
    *,
    what: str,
    max_wait: float = 60.0,
    attempts: int = 4,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Run one Bot API call that posts something, retrying only when it surely did not post.

    Raises Refused when nothing was posted, and lets any other error through unchanged: the
    caller must then treat the outcome as unknown.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await action()
        except Exception as exc:
            verdict = classify(exc)
            if verdict is Verdict.UNCERTAIN:
                raise
            if verdict is Verdict.REFUSED:
                raise Refused(f"{type(exc).__name__}: {exc}") from exc
            if isinstance(exc, RetryAfter):
                delay = retry_after_seconds(exc)
                if delay > max_wait:
                    raise Refused(f"flood control: retry in {delay:.0f} s") from exc
            else:
                delay = BACKOFF[min(attempt - 1, len(BACKOFF) - 1)]
            if attempt == attempts:
                raise Refused(f"{type(exc).__name__} after {attempts} attempts: {exc}") from exc
            _LOGGER.warning(
                "%s: %s; trying again in %.1f s (%d/%d)", what, exc, delay, attempt, attempts
            )
            await sleep(delay)
    raise AssertionError("unreachable")


class PartlySent(Exception):
    """A long reply was cut in parts and only some were posted: a moderator must look."""


async def send_reply(
    bot: Bot,
    item: Outgoing,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    business_connection_id: str | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> str:
    """Post an approved reply as a reply to the member's message, in plain text, once.

    In a customer's chat with a business, `business_connection_id` sends it in the business's
    name. `markup` (the member's "solved / still need help") goes under the reply's last part.

    Raises SendFailed when nothing was posted; any other error leaves the reply in doubt.
    """
    try:
        chat_id = int(item.channel)
    except ValueError:
        raise SendFailed(f"{item.channel!r} is not a Telegram chat") from None
    previous = int(item.reply_to) if item.reply_to.isdigit() else None
    thread = int(item.thread) if item.thread and item.thread.isdigit() else None
    parts = split_text(item.text)
    if not parts:
        raise SendFailed("the reply is empty")
    first: int | None = None
    for index, part in enumerate(parts, start=1):
        reply = (
            ReplyParameters(previous, allow_sending_without_reply=True)
            if previous is not None
            else None
        )
        try:
            sent = await call_once(
                functools.partial(
                    bot.send_message,
                    chat_id,
                    part,
                    message_thread_id=thread,
                    reply_parameters=reply,
                    business_connection_id=business_connection_id,
                    reply_markup=markup if index == len(parts) else None,
                ),
                what=f"reply #{item.id} ({index}/{len(parts)})",
                sleep=sleep,
            )
        except Refused as exc:
            if first is None:
                raise SendFailed(str(exc)) from exc
            raise PartlySent(f"{index - 1} of {len(parts)} parts posted; then {exc}") from exc
        except Exception as exc:
            if first is None:
                raise
            raise PartlySent(f"{index - 1} of {len(parts)} parts posted; then {exc}") from exc
        first = first if first is not None else sent.message_id
        # Later parts answer the part before them, so the reply reads as one block.
        previous = sent.message_id
    assert first is not None
    _LOGGER.info("reply #%d posted in chat %s as message %d", item.id, chat_id, first)
    return str(first)
