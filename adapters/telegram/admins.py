"""Who administers each community chat, fetched from Telegram and kept for a bounded time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

_LOGGER = logging.getLogger(__name__)
# After a failed fetch, try again this soon rather than after a whole lifetime.
RETRY_AFTER_FAILURE = timedelta(minutes=1)

Fetch = Callable[[int], Awaitable[Mapping[int, str]]]


@dataclass(slots=True)
class _Entry:
    statuses: Mapping[int, str]
    expires: datetime


class AdminCache:
    """Chat id → {user id: "creator" | "administrator"}, refreshed once its lifetime is over.

    A demoted admin keeps their status at most `lifetime`; that bound is the price of not
    calling getChatAdministrators for every message.
    """

    def __init__(self, fetch: Fetch, lifetime: timedelta, now: Callable[[], datetime]) -> None:
        """Fetch with `fetch`, keep each answer `lifetime`, read the time from `now`."""
        self._fetch = fetch
        self._lifetime = lifetime
        self._now = now
        self._entries: dict[int, _Entry] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def statuses(self, chat_id: int) -> Mapping[int, str]:
        """The admins of `chat_id` and their status; empty if Telegram never told us."""
        entry = self._entries.get(chat_id)
        if entry is not None and self._now() < entry.expires:
            return entry.statuses
        # One fetch per chat at a time: a burst of messages must not become a burst of calls.
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            entry = self._entries.get(chat_id)
            if entry is not None and self._now() < entry.expires:
                return entry.statuses
            try:
                fetched = MappingProxyType(dict(await self._fetch(chat_id)))
            except Exception as exc:
                _LOGGER.warning("admins of chat %s unavailable: %s", chat_id, exc)
                kept: Mapping[int, str] = entry.statuses if entry else MappingProxyType({})
                self._entries[chat_id] = _Entry(kept, self._now() + RETRY_AFTER_FAILURE)
                return kept
            self._entries[chat_id] = _Entry(fetched, self._now() + self._lifetime)
            return fetched

    def forget(self, chat_id: int) -> None:
        """Drop what is known of a chat (its admins changed)."""
        self._entries.pop(chat_id, None)
