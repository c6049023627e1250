"""Members' updates in: new and edited messages become the core's `Message`s."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Update
from telegram.ext import ContextTypes

from adapters.telegram.convert import to_message
from adapters.telegram.people import Directory
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


class Inbound:
    """Turns community chats' updates into ingestions and edits, in arrival order."""

    def __init__(self, runtime: Runtime, people: Directory, bot_id: Callable[[], int]) -> None:
        """Feed `runtime`; `bot_id` is the bot's own id (known once connected)."""
        self.runtime = runtime
        self.people = people
        self._bot_id = bot_id

    async def on_member_message(self, update: Update, context: Context) -> None:
        """A member's new or edited message in a community chat (or a private message)."""
        message = update.effective_message
        if message is None:
            return
        self.people.learn(message)
        admins = await self.people.admin_ids(message.chat)
        edited = update.edited_message is not None
        converted = to_message(
            message,
            bot_id=self._bot_id(),
            admin_ids=admins,
            usernames=self.people.usernames,
            edited=edited,
        )
        if converted is not None:
            await self.runtime.take(converted)

    async def on_migrate(self, update: Update, context: Context) -> None:
        """A group became a supergroup: its id changed, and only the operator can follow."""
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            _LOGGER.error(
                "chat %s became supergroup %s: put the new id in the [telegram] options",
                message.chat.id,
                message.migrate_to_chat_id,
            )
