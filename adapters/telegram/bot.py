"""The Telegram adapter's wiring and life cycle: one Application, its handlers, the four verbs.

The work is done by one object per concern, each in its own module: `inbound` (members'
updates → Messages), `cards` (the moderators' chat: cards, notices, digest), `actions` (button
presses and drafts → the core's decisions), `commands` (/cases, /case, /report) and `people`
(who is who: chat admins, usernames, the Actor a user stands as). This class builds them, routes
Telegram's updates to them, and implements the core's `Adapter` protocol by delegating.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from telegram import Update, User
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from adapters.telegram.actions import Actions
from adapters.telegram.business import BUSINESS_UPDATES, BusinessDesk
from adapters.telegram.cards import Cards
from adapters.telegram.commands import Commands
from adapters.telegram.convert import PLATFORM
from adapters.telegram.inbound import Inbound
from adapters.telegram.inbox import JournalQueue, raw
from adapters.telegram.keyboard import feedback_keyboard
from adapters.telegram.people import Directory
from adapters.telegram.sending import send_reply
from adapters.telegram.settings import NAME, TelegramSettings, parse_settings, section
from bot import redaction
from bot.adapter import PlatformSetupError
from bot.cardview import CardView
from bot.config import Config, ConfigError
from bot.inbox import Inbox
from bot.models import Actor, Case, Notice, Outgoing
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
POLL_TIMEOUT = timedelta(seconds=10)
DRAIN_TIMEOUT = 30.0  # seconds given to queued card updates at shutdown

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE

# Updates fetched from Telegram and waiting for the bot, at most. When the queue is full, PTB's
# Updater waits to put the rest of its batch and asks for no more: memory stays bounded. The
# next getUpdates confirms (offset) every queued update; each was written to the inbox before
# it was queued (adapters/telegram/inbox.py), so a crash loses none (README, Guarantees).
UPDATE_QUEUE_SIZE = 64


class TelegramAdapter:
    """Huitaine on Telegram: community chats in, review in the moderators' chat, replies out."""

    name = PLATFORM

    def __init__(
        self,
        config: Config,
        runtime: Runtime,
        settings: TelegramSettings,
        token: str,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """Prepare the bot; nothing touches the network before `connect`."""
        self.config = config
        self.runtime = runtime
        self.core = runtime.core
        self.settings = settings
        self.language = config.community.language
        self.tz = config.community.tz
        self._sleep = sleep
        self._bot_id: int | None = None
        self._connected = False
        self._stopped = asyncio.Event()
        self.updates_handled = 0
        self._handled = asyncio.Condition()
        self.inbox = Inbox(self.core.store, PLATFORM, self.core.clock)
        self.application = self._build_application(token)
        bot = self.application.bot
        self.people = Directory(bot, settings, self.core.clock.now)
        self.business = BusinessDesk(
            runtime,
            settings,
            bot_id=lambda: self.bot_id,
            post=lambda chat, text: self.cards.say(text, chat=chat),
            get_connection=bot.get_business_connection,
        )
        self.people.business = self.business
        self.inbound = Inbound(runtime, self.people, lambda: self.bot_id)
        self.cards = Cards(
            runtime, settings, self.people, bot, language=self.language, tz=self.tz, sleep=sleep
        )
        self.actions = Actions(
            runtime,
            settings,
            self.people,
            self.cards,
            bot,
            lambda: self.bot_id,
            language=self.language,
            tz=self.tz,
            sleep=sleep,
        )
        self.commands = Commands(
            runtime, self.people, self.cards, language=self.language, tz=self.tz
        )
        self._add_handlers(self.application)

    # -- life cycle (opsdroid's four verbs) ---------------------------------------------------

    def _build_application(self, token: str) -> AnyApplication:
        return (
            ApplicationBuilder()
            .token(token)
            .base_url(self.settings.base_url)
            .job_queue(None)
            # One update at a time: a member's follow-up must meet the case its first message
            # opened, and an edit must follow the message it edits.
            .concurrent_updates(False)
            # Back-pressure: polling pauses while the bot is behind (see UPDATE_QUEUE_SIZE);
            # each update is on disk before it is queued, so before Telegram forgets it.
            .update_queue(JournalQueue(UPDATE_QUEUE_SIZE, self._keep))
            .build()
        )

    def _add_handlers(self, app: AnyApplication) -> None:
        commands: filters.BaseFilter = filters.Chat(chat_id=self.settings.moderators_chat)
        # Business cards live in owners' chats with the bot (or a staff group): drafts are
        # written there too, and nothing said there is a member's message.
        moderators = commands | self.business.places
        # A community's own moderators' chat ([communities."…"] review_place): drafts too, and
        # /cases, /case, /report, which answer there for that community only.
        places = self.cards.review_places()
        if places:
            moderators = moderators | filters.Chat(chat_id=list(places))
            commands = commands | filters.Chat(chat_id=list(places))
        community: filters.BaseFilter = filters.Chat(chat_id=list(self.settings.community_chats))
        if self.settings.private_messages:
            community = community | filters.ChatType.PRIVATE
        app.add_handler(CallbackQueryHandler(self.actions.on_callback))
        app.add_handler(CommandHandler("cases", self.commands.on_cases, filters=commands))
        app.add_handler(CommandHandler("case", self.commands.on_case, filters=commands))
        app.add_handler(CommandHandler("report", self.commands.on_report, filters=commands))
        app.add_handler(
            MessageHandler(
                moderators
                & filters.UpdateType.MESSAGE
                & filters.REPLY
                & filters.TEXT
                & ~filters.COMMAND,
                self.actions.on_moderator_reply,
            )
        )
        app.add_handler(
            MessageHandler(
                community
                & ~moderators
                & filters.UpdateType.MESSAGES
                & (filters.TEXT | filters.CAPTION)
                & ~filters.COMMAND,
                self.inbound.on_member_message,
            )
        )
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.inbound.on_migrate))
        if self.settings.business:
            for handler in self.business.handlers():
                app.add_handler(handler)
        app.add_handler(TypeHandler(Update, self._count), group=1)
        app.add_error_handler(self._on_error)

    @property
    def bot_id(self) -> int:
        """The bot's own user id (known once connected)."""
        if self._bot_id is None:
            raise RuntimeError("connect() first")
        return self._bot_id

    async def connect(self) -> None:
        """Check the token with getMe and get ready to receive updates."""
        try:
            await self.application.initialize()
        except (InvalidToken, NetworkError) as exc:
            await self.application.bot.shutdown()  # the HTTP pool opened before the failure
            raise PlatformSetupError(self._connect_problem(exc)) from None
        self._connected = True
        self._bot_id = self.application.bot.id
        await self.business.load()
        _LOGGER.info("connected to Telegram as @%s", self.application.bot.username)

    def _connect_problem(self, exc: TelegramError) -> str:
        # PTB's InvalidToken quotes the token; this names the variable that holds it instead.
        if isinstance(exc, InvalidToken):
            env = self.config.platforms[NAME].token_env
            return (
                f"telegram: Telegram rejected the bot token in ${env}. "
                "Fix: copy the token again from @BotFather (/mybots → API Token) and export it"
            )
        return (
            f"telegram: cannot reach the Bot API at {self.settings.base_url} ({exc}). "
            "Fix: check the network or telegram.base_url, then start again"
        )

    async def start(self) -> None:
        """Start receiving updates (long polling, or a webhook) without blocking.

        The updates a previous run kept but did not finish go first, in their order, before
        anything new is asked of Telegram.
        """
        updater = self.application.updater
        assert updater is not None
        await self.application.start()
        await self._replay()
        if self.settings.mode == "webhook":
            secret = (
                os.environ.get(self.settings.webhook_secret_env)
                if self.settings.webhook_secret_env
                else None
            )
            if secret:
                redaction.register(secret)
            await updater.start_webhook(
                listen=self.settings.webhook_listen,
                port=self.settings.webhook_port,
                url_path=urlparse(self.settings.webhook_url).path.lstrip("/"),
                webhook_url=self.settings.webhook_url,
                allowed_updates=self.allowed_updates,
                secret_token=secret,
            )
        else:
            await updater.start_polling(
                timeout=POLL_TIMEOUT,
                allowed_updates=self.allowed_updates,
                error_callback=self._polling_error,
            )
        await self.runtime.show_replies_in_doubt(PLATFORM)

    async def _keep(self, update: Update) -> None:
        """Write an update to the inbox, off the event loop, before it is queued.

        A moderator's button press is not kept: Telegram answers a press only for a few
        seconds, so after a restart the moderator presses again on the card, which is unchanged.
        """
        if update.callback_query is None:
            await self.runtime.call(self.inbox.keep, *raw(update))

    async def _replay(self) -> None:
        """Queue again the updates kept by a run that stopped before handling them."""
        pending = await self.runtime.call(self.inbox.pending)
        if not pending:
            return
        _LOGGER.warning("handling %d Telegram updates kept before the last stop", len(pending))
        for payload in pending:
            update = Update.de_json(payload, self.application.bot)
            await self.application.update_queue.put(update)

    @property
    def allowed_updates(self) -> list[str]:
        """The update types asked of Telegram: business ones only when business is on."""
        extra = BUSINESS_UPDATES if self.settings.business else ()
        return [*ALLOWED_UPDATES, *extra]

    async def listen(self) -> None:
        """Receive updates until `disconnect` is called."""
        await self.start()
        await self._stopped.wait()

    async def disconnect(self) -> None:
        """Stop receiving, finish the update in hand and the queued cards, and close."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await self.drain()
        except TimeoutError:
            _LOGGER.warning("stopping with %d card updates unfinished", len(self.cards.tasks))
        if self._connected:  # nothing to shut down if connect() failed
            await self.application.shutdown()
        self._stopped.set()

    def _polling_error(self, exc: TelegramError) -> None:
        _LOGGER.warning("polling Telegram failed (PTB retries): %s", exc)

    async def _on_error(self, update: object, context: Context) -> None:
        update_id = update.update_id if isinstance(update, Update) else "?"
        _LOGGER.error("update %s not handled", update_id, exc_info=context.error)

    async def _count(self, update: Update, context: Context) -> None:
        # Every handler has run for this update: the core has it, the inbox may let it go.
        # Not while the runtime holds events in memory (the database was unavailable): those
        # stay in the inbox until stored, and a later update clears them with it.
        if not self.runtime.held:
            try:
                await self.runtime.call(self.inbox.done_through, update.update_id)
            except Exception as exc:
                _LOGGER.warning("inbox not cleared (%s): handled again at the next start", exc)
        async with self._handled:
            self.updates_handled += 1
            self._handled.notify_all()

    async def wait_handled(self, count: int) -> None:
        """Wait until `count` updates have gone through every handler (tests and benches)."""
        async with self._handled:
            await self._handled.wait_for(lambda: self.updates_handled >= count)

    async def actor(self, user: User, community: str | None) -> Actor:
        """The Actor for a Telegram user in `community` (see `people.Directory.actor`)."""
        return await self.people.actor(user, community)

    async def drain(self) -> None:
        """Wait until every admitted message is processed and every queued card update done."""
        await self.runtime.settle()
        await self.cards.drain()

    # -- outbound: the calls the core makes (the Adapter protocol) ------------------------------

    async def show_case(self, view: CardView) -> None:
        """Queue the case's card update; cards never hold up the inbound updates."""
        await self.cards.show_case(view)

    async def send_reply(self, item: Outgoing) -> str:
        """Post an approved reply as a reply to the member's message, in plain text, once."""
        # The member who asked gets "solved / still need help" under the reply, in their
        # language; the core alone decides whose press counts. Not in a business chat: there
        # the reply is the business's own message to its customer, with no bot buttons.
        connection = self.business.connection_for(item)
        markup = None
        if connection is None:
            case = await self.runtime.call(self.core.cases.get, item.case_id)
            markup = feedback_keyboard(item.case_id, case.language)
        return await send_reply(
            self.application.bot,
            item,
            sleep=self._sleep,
            business_connection_id=connection,
            markup=markup,
        )

    async def post_notice(self, notice: Notice, case: Case) -> None:
        """Post a reminder or an escalation in the moderators' chat, under the case's card."""
        await self.cards.post_notice(notice, case)

    async def post_digest(self, text: str, *, community: str) -> None:
        """Post a community's weekly digest in that community's moderators' place."""
        await self.cards.post_digest(text, community=community)

    async def say(self, text: str, *, reply_to: int | None = None) -> None:
        """Post a text (split if long) in the moderators' chat."""
        await self.cards.say(text, reply_to=reply_to)


def build(
    config: Config,
    runtime: Runtime,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> TelegramAdapter:
    """The Telegram adapter for `config`, registered with `runtime`; ConfigError if wrong.

    `sleep` waits out Telegram's flood control (tests pass one that does not really wait).
    """
    settings = parse_settings(section(config))
    token = config.platforms[NAME].token("telegram", "the token BotFather gave you")
    if settings.mode == "webhook":
        if importlib.util.find_spec("tornado") is None:
            raise ConfigError(
                "telegram.mode",
                "webhook mode needs python-telegram-bot's webhooks extra (tornado)",
                'pip install "python-telegram-bot[webhooks]", or use mode = "polling"',
            )
        secret_env = settings.webhook_secret_env
        if secret_env and not os.environ.get(secret_env):
            raise ConfigError(
                "telegram.webhook_secret_env",
                f"the environment variable {secret_env} is empty or not set",
                f"export {secret_env}=<a random string of letters, digits, _ and ->",
            )
    adapter = TelegramAdapter(config, runtime, settings, token, sleep=sleep)
    runtime.register(adapter)
    return adapter
