"""Telegram's updates written to the core's inbox before Telegram may forget them.

python-telegram-bot confirms an update to Telegram (the next getUpdates offset) once it has put
it in the application's queue, and its webhook answers Telegram once it is put there too; the
core stores it only later. `JournalQueue` writes each update to the inbox (bot.inbox) before
it enters the queue, so every update Telegram forgets is on disk: the adapter clears it once
handled and replays the rest at start-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import NetworkError

_LOGGER = logging.getLogger(__name__)


class InboxUnavailable(NetworkError):
    """The inbox could not take an update: PTB's polling retries later, Telegram keeps it."""


def raw(update: Update) -> tuple[int, str | None, dict[str, Any]]:
    """What the inbox keeps of an update: its id, the member it comes from, its JSON."""
    user = update.effective_user
    return update.update_id, str(user.id) if user else None, update.to_dict()


class JournalQueue(asyncio.Queue[Any]):
    """The application's bounded update queue; `put` keeps each update on disk first."""

    def __init__(self, maxsize: int, keep: Callable[[Update], Awaitable[object]]) -> None:
        """A queue of `maxsize` that awaits `keep(update)` (off the event loop) before queueing."""
        super().__init__(maxsize=maxsize)
        self._keep = keep

    async def put(self, item: Any) -> None:
        """Write `item` to the inbox (an Update; PTB's own signals pass through), then queue it.

        A failure raises a NetworkError: the polling loop logs one line and asks Telegram
        again later without confirming; a webhook answers Telegram with an error and it resends.
        """
        if isinstance(item, Update):
            try:
                await self._keep(item)
            except Exception as exc:
                _LOGGER.debug("update %d not kept", item.update_id, exc_info=exc)
                raise InboxUnavailable(
                    f"update {item.update_id} could not be written to the inbox: {exc}"
                ) from exc
        await super().put(item)
