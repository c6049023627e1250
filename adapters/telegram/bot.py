"""The python-telegram-bot glue: updates in; review cards, button presses and replies out."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from telegram import (
    CallbackQuery,
    Chat,
    ForceReply,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram import Message as TgMessage
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

from adapters.telegram.admins import AdminCache
from adapters.telegram.convert import (
    PLATFORM,
    PRIVATE_COMMUNITY,
    chat_name,
    message_link,
    split_text,
    to_message,
)
from adapters.telegram.keyboard import (
    Act,
    BadCallback,
    Callback,
    case_keyboard,
    decode,
    draft_keyboard,
    reasons_keyboard,
)
from adapters.telegram.render import (
    Place,
    prompt_case,
    render_card,
    render_case_list,
    render_prompt,
)
from adapters.telegram.sending import Refused, call_once
from adapters.telegram.settings import TelegramSettings, parse_settings
from adapters.telegram.texts import tr
from bot import redaction
from bot.adapter import PlatformSetupError, SendFailed
from bot.cards import CardRef
from bot.cardview import CardView
from bot.config import Config, ConfigError
from bot.i18n import format_time
from bot.models import Actor, Case, Notice, Outgoing, Standing
from bot.review import NotAllowed, ReviewError
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
POLL_TIMEOUT = timedelta(seconds=10)
DRAIN_TIMEOUT = 30.0  # seconds given to queued card updates at shutdown
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_KNOWN_USERNAMES = 10_000
_CARD_LOCKS = 64

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE


class PartlySent(Exception):
    """A long reply was cut in parts and only some were posted: a moderator must look."""


@dataclass(frozen=True, slots=True)
class _ChatInfo:
    name: str
    username: str | None


class _Answer:
    """Answers a callback query exactly once; the client shows a spinner until then."""

    def __init__(self, query: CallbackQuery) -> None:
        self._query = query
        self.done = False

    async def __call__(self, text: str | None = None, *, alert: bool = False) -> None:
        if self.done:
            return
        self.done = True
        try:
            await self._query.answer(text=text[:200] if text else None, show_alert=alert)
        except TelegramError as exc:
            _LOGGER.warning("could not answer a button press: %s", exc)


@dataclass(frozen=True, slots=True)
class _PlacedCard:
    view: CardView
    ref: CardRef | None


@dataclass(frozen=True, slots=True)
class _Press:
    callback: Callback
    case: Case
    actor: Actor
    user: User
    message: TgMessage
    answer: _Answer


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
        self.admins = AdminCache(self._fetch_admins, settings.admin_cache, self.core.clock.now)
        self._bot_id: int | None = None
        self._connected = False
        self._usernames: OrderedDict[str, int] = OrderedDict()
        self._chats: dict[int, _ChatInfo] = {}
        # A small pool of locks: two updates of one case must not both post a new card.
        self._card_locks = [asyncio.Lock() for _ in range(_CARD_LOCKS)]
        self._card_pending: set[int] = set()
        self._card_tasks: set[asyncio.Task[Any]] = set()
        self._stopped = asyncio.Event()
        self.updates_handled = 0
        self._handled = asyncio.Condition()
        self.application = self._build_application(token)

    # -- life cycle (opsdroid's four verbs) ---------------------------------------------------

    def _build_application(self, token: str) -> AnyApplication:
        app: AnyApplication = (
            ApplicationBuilder()
            .token(token)
            .base_url(self.settings.base_url)
            .job_queue(None)
            # One update at a time: a member's follow-up must meet the case its first message
            # opened, and an edit must follow the message it edits.
            .concurrent_updates(False)
            .build()
        )
        moderators = filters.Chat(chat_id=self.settings.moderators_chat)
        community: filters.BaseFilter = filters.Chat(chat_id=list(self.settings.community_chats))
        if self.settings.private_messages:
            community = community | filters.ChatType.PRIVATE
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(CommandHandler("cases", self._on_cases, filters=moderators))
        app.add_handler(CommandHandler("case", self._on_case, filters=moderators))
        app.add_handler(CommandHandler("report", self._on_report, filters=moderators))
        app.add_handler(
            MessageHandler(
                moderators
                & filters.UpdateType.MESSAGE
                & filters.REPLY
                & filters.TEXT
                & ~filters.COMMAND,
                self._on_moderator_reply,
            )
        )
        app.add_handler(
            MessageHandler(
                community
                & ~moderators
                & filters.UpdateType.MESSAGES
                & (filters.TEXT | filters.CAPTION)
                & ~filters.COMMAND,
                self._on_member_message,
            )
        )
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        app.add_handler(TypeHandler(Update, self._count), group=1)
        app.add_error_handler(self._on_error)
        return app

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
        _LOGGER.info("connected to Telegram as @%s", self.application.bot.username)

    def _connect_problem(self, exc: TelegramError) -> str:
        # PTB's InvalidToken quotes the token; this names the variable that holds it instead.
        if isinstance(exc, InvalidToken):
            return (
                f"telegram: Telegram rejected the bot token in ${self.config.telegram.token_env}. "
                "Fix: copy the token again from @BotFather (/mybots → API Token) and export it"
            )
        return (
            f"telegram: cannot reach the Bot API at {self.settings.base_url} ({exc}). "
            "Fix: check the network or telegram.base_url, then start again"
        )

    async def start(self) -> None:
        """Start receiving updates (long polling, or a webhook) without blocking."""
        updater = self.application.updater
        assert updater is not None
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
                allowed_updates=list(ALLOWED_UPDATES),
                secret_token=secret,
            )
        else:
            await updater.start_polling(
                timeout=POLL_TIMEOUT,
                allowed_updates=list(ALLOWED_UPDATES),
                error_callback=self._polling_error,
            )
        await self.application.start()
        await self.runtime.show_replies_in_doubt(PLATFORM)

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
            _LOGGER.warning("stopping with %d card updates unfinished", len(self._card_tasks))
        if self._connected:  # nothing to shut down if connect() failed
            await self.application.shutdown()
        self._stopped.set()

    def _polling_error(self, exc: TelegramError) -> None:
        _LOGGER.warning("polling Telegram failed (PTB retries): %s", exc)

    async def _on_error(self, update: object, context: Context) -> None:
        update_id = update.update_id if isinstance(update, Update) else "?"
        _LOGGER.error("update %s not handled", update_id, exc_info=context.error)

    async def _count(self, update: Update, context: Context) -> None:
        async with self._handled:
            self.updates_handled += 1
            self._handled.notify_all()

    async def wait_handled(self, count: int) -> None:
        """Wait until `count` updates have gone through every handler (tests and benches)."""
        async with self._handled:
            await self._handled.wait_for(lambda: self.updates_handled >= count)

    # -- who is who ---------------------------------------------------------------------------

    async def _fetch_admins(self, chat_id: int) -> Mapping[int, str]:
        members = await self.application.bot.get_chat_administrators(chat_id)
        return {member.user.id: str(member.status) for member in members}

    def _chats_for(self, community: str | None) -> tuple[int, ...]:
        # A case in a community chat: that chat's admins. Otherwise (a private message, a
        # command): the admins of any community chat.
        try:
            chat_id = int(community) if community is not None else None
        except ValueError:
            chat_id = None
        if chat_id in self.settings.community_chats:
            return (chat_id,) if chat_id is not None else ()
        return self.settings.community_chats

    async def _staff_ids(self, chat: Chat) -> set[int]:
        ids = set(self.settings.staff_user_ids)
        chats = self.settings.community_chats if chat.type == Chat.PRIVATE else (chat.id,)
        for chat_id in chats:
            ids.update((await self.admins.statuses(chat_id)).keys())
        return ids

    async def actor(self, user: User, community: str | None) -> Actor:
        """The Actor for a Telegram user: where they are a chat admin; the core decides the rest.

        Each community chat is its own standing: an admin of one group is nobody in another.
        Private messages to the bot have no admins of their own; they are the bot's inbox, so
        the facts reported for them are whether the user administers any community chat.
        """
        configured = user.id in self.settings.staff_user_ids
        standing: list[Standing] = []
        for chat_id in self._chats_for(community):
            status = (await self.admins.statuses(chat_id)).get(user.id)
            standing.append(Standing(str(chat_id), admin=configured or bool(status)))
        if community is None or community == PRIVATE_COMMUNITY:
            inbox_admin = any(s.admin for s in standing)
            standing.append(Standing(PRIVATE_COMMUNITY, admin=inbox_admin))
        return Actor(PLATFORM, str(user.id), user.full_name, tuple(standing))

    async def _require_moderator(self, actor: Actor, case_id: int) -> None:
        await self.runtime.call(self.core.review.case_for, actor, case_id)

    def _learn(self, message: TgMessage) -> None:
        chat = message.chat
        if chat.type != Chat.PRIVATE:
            self._chats[chat.id] = _ChatInfo(chat_name(chat), chat.username)
        user = message.from_user
        if user is not None and user.username:
            key = user.username.casefold()
            self._usernames[key] = user.id
            self._usernames.move_to_end(key)
            if len(self._usernames) > _KNOWN_USERNAMES:
                self._usernames.popitem(last=False)

    # -- inbound ------------------------------------------------------------------------------

    async def _on_member_message(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        self._learn(message)
        staff = await self._staff_ids(message.chat)
        edited = update.edited_message is not None
        converted = to_message(
            message, bot_id=self.bot_id, staff_ids=staff, usernames=self._usernames, edited=edited
        )
        if converted is None:
            return
        if edited:
            await self.runtime.edit(converted)
        else:
            await self.runtime.ingest(converted)

    async def _on_migrate(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            _LOGGER.error(
                "chat %s became supergroup %s: put the new id in the [telegram] options",
                message.chat.id,
                message.migrate_to_chat_id,
            )

    # -- cards --------------------------------------------------------------------------------

    async def _know_chat(self, channel: str) -> None:
        """Learn a group's title once (after a restart no member may have spoken yet)."""
        try:
            chat_id = int(channel)
        except ValueError:
            return
        if chat_id > 0 or chat_id in self._chats:
            return
        try:
            chat = await self.application.bot.get_chat(chat_id)
            self._chats[chat_id] = _ChatInfo(chat_name(chat), chat.username)
        except TelegramError as exc:
            _LOGGER.info("title of chat %s unknown: %s", chat_id, exc)
            self._chats[chat_id] = _ChatInfo(str(chat_id), None)

    def _place(self, case: Case) -> Place:
        try:
            chat_id = int(case.channel)
        except ValueError:
            return Place(case.channel)
        info = self._chats.get(chat_id)
        if chat_id > 0:
            name = tr("private_chat", self.language)
        else:
            name = info.name if info else str(chat_id)
        link = None
        if case.message_ids and case.message_ids[0].isdigit():
            thread = int(case.thread) if case.thread and case.thread.isdigit() else None
            link = message_link(
                chat_id,
                int(case.message_ids[0]),
                username=info.username if info else None,
                thread=thread,
            )
        return Place(name, link)

    def _card(self, view: CardView) -> tuple[str, InlineKeyboardMarkup | None]:
        text = render_card(
            view.case,
            language=self.language,
            tz=self.tz,
            place=self._place(view.case),
            unconfirmed=view.in_doubt,
            failed=view.failed,
            source=view.source_line(self.language, self.tz),
        )
        return text, case_keyboard(view.case.id, self.language, view.actions)

    async def show_case(self, case: Case) -> None:
        """Queue the card's update and return: cards never hold up the inbound updates.

        The moderators' chat has its own flood limits (about 20 messages a minute in a group);
        waiting them out must not stop members' messages from being stored and detected.
        """
        if case.id in self._card_pending:
            return  # the queued update reads the case when it runs: it will show this change
        self._card_pending.add(case.id)
        task = self.runtime.spawn(f"telegram-card-{case.id}", self._update_card(case.id))
        self._card_tasks.add(task)
        task.add_done_callback(self._card_tasks.discard)

    async def _update_card(self, case_id: int) -> None:
        try:
            async with self._card_locks[case_id % _CARD_LOCKS]:
                # From here on a new change queues a new update, which waits for this one.
                self._card_pending.discard(case_id)
                # The case is read afresh: the update shows the latest state, whatever queued it.
                view = await self.runtime.call(self._card_view, case_id)
                await self._know_chat(view.view.case.channel)
                await self._show(view, move=False)
        except Exception:
            # The case is safe in the database; the next change or /case N shows it again.
            _LOGGER.exception("card of case %d not shown", case_id)

    async def drain(self) -> None:
        """Wait until every queued card update is done."""
        while self._card_tasks:
            await asyncio.gather(*list(self._card_tasks), return_exceptions=True)

    def _card_view(self, case_id: int) -> _PlacedCard:
        # Runs on the core's thread: one hop for everything a card needs.
        return _PlacedCard(self.core.card(case_id), self.core.cards.for_case(case_id, PLATFORM))

    async def _show(self, placed: _PlacedCard, *, move: bool) -> None:
        """Post or edit a case's card; the caller holds the case's card lock."""
        case, ref = placed.view.case, placed.ref
        text, markup = self._card(placed.view)
        bot = self.application.bot
        if ref is not None and not move:
            try:
                await call_once(
                    functools.partial(
                        bot.edit_message_text,
                        text,
                        chat_id=int(ref.chat),
                        message_id=int(ref.message_id),
                        reply_markup=markup,
                        link_preview_options=NO_PREVIEW,
                    ),
                    what=f"card of case {case.id}",
                    sleep=self._sleep,
                )
                return
            except Refused as exc:
                reason = str(exc).casefold()
                if "not modified" in reason:
                    return
                if "not found" not in reason and "can't be edited" not in reason:
                    raise
                _LOGGER.info("card of case %d is gone; posting it again", case.id)
        sent = await call_once(
            functools.partial(
                bot.send_message,
                self.settings.moderators_chat,
                text,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            ),
            what=f"card of case {case.id}",
            sleep=self._sleep,
        )
        await self.runtime.call(
            self.core.cards.save,
            CardRef(case.id, PLATFORM, str(sent.chat_id), str(sent.message_id)),
        )
        if ref is not None and move:
            # The old card's buttons would be refused as stale; take them away.
            await self._quietly(
                bot.edit_message_reply_markup(
                    chat_id=int(ref.chat), message_id=int(ref.message_id), reply_markup=None
                )
            )

    async def _quietly(self, call: Awaitable[object]) -> None:
        try:
            await call
        except TelegramError as exc:
            _LOGGER.info("cosmetic call failed: %s", exc)

    # -- outbound -----------------------------------------------------------------------------

    async def send_reply(self, item: Outgoing) -> str:
        """Post an approved reply as a reply to the member's message, in plain text, once."""
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
                        self.application.bot.send_message,
                        chat_id,
                        part,
                        message_thread_id=thread,
                        reply_parameters=reply,
                    ),
                    what=f"reply #{item.id} ({index}/{len(parts)})",
                    sleep=self._sleep,
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

    async def post_notice(self, notice: Notice, case: Case) -> None:
        """Post a reminder or an escalation in the moderators' chat, under the case's card."""
        ref = await self.runtime.call(self.core.cards.for_case, case.id, PLATFORM)
        anchor = int(ref.message_id) if ref is not None else None
        await self.say(notice.text, reply_to=anchor)

    async def post_digest(self, text: str) -> None:
        """Post the core's weekly digest in the moderators' chat."""
        await self.say(text)

    async def say(self, text: str, *, reply_to: int | None = None) -> None:
        """Post a text (split if long) in the moderators' chat."""
        for part in split_text(text):
            reply = (
                ReplyParameters(reply_to, allow_sending_without_reply=True)
                if reply_to is not None
                else None
            )
            await call_once(
                functools.partial(
                    self.application.bot.send_message,
                    self.settings.moderators_chat,
                    part,
                    reply_parameters=reply,
                    link_preview_options=NO_PREVIEW,
                ),
                what="message to the moderators",
                sleep=self._sleep,
            )
            reply_to = None

    # -- button presses -----------------------------------------------------------------------

    async def _on_callback(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        answer = _Answer(query)
        user = query.from_user
        try:
            await self._press(query.data, query.message, user, answer)
        except NotAllowed:
            _LOGGER.warning("refused %r from user %s: not a moderator", query.data, user.id)
            await answer(tr("not_allowed", self.language), alert=True)
        except ReviewError as exc:
            await answer(tr("not_done", self.language, why=exc.explain(self.language)), alert=True)
        except Exception:
            _LOGGER.exception("button %r from user %s failed", query.data, user.id)
            await answer(tr("error", self.language), alert=True)
        finally:
            # Every press gets an answer, or the button keeps spinning on the presser's screen.
            await answer()

    async def _refuse(self, answer: _Answer, user: User, data: object, why: str) -> None:
        _LOGGER.warning("refused button %r from user %s: %s", data, user.id, why)
        await answer(tr("stale", self.language), alert=True)

    async def _press(self, data: object, message: object, user: User, answer: _Answer) -> None:
        try:
            callback = decode(data)
        except BadCallback as exc:
            await self._refuse(answer, user, data, str(exc))
            return
        if not isinstance(message, TgMessage) or message.chat.id != self.settings.moderators_chat:
            await self._refuse(answer, user, data, "not pressed in the moderators' chat")
            return
        anchor = message
        if callback.action in (Act.FINAL, Act.CANCEL):
            # A draft is the bot's reply to the card it belongs to.
            if message.from_user is None or message.from_user.id != self.bot_id:
                await self._refuse(answer, user, data, "not a draft of this bot")
                return
            if message.reply_to_message is None:
                await self._refuse(answer, user, data, "draft without its card")
                return
            anchor = message.reply_to_message
        ref = await self.runtime.call(
            self.core.cards.by_message, PLATFORM, str(message.chat.id), str(anchor.message_id)
        )
        if ref is None or ref.case_id != callback.case_id:
            await self._refuse(
                answer, user, data, f"message {anchor.message_id} is not that case's card"
            )
            return
        case = await self.runtime.call(self.core.cases.get, callback.case_id)
        actor = await self.actor(user, case.community)
        press = _Press(callback, case, actor, user, message, answer)
        await self._actions[callback.action](self, press)

    async def _act_send(self, press: _Press) -> None:
        # Approve first (the core checks the actor), answer at once, then send: a send that
        # waits out flood control must not leave the button spinning.
        item = await self.runtime.call(self.core.review.approve, press.actor, press.case.id)
        await press.answer(tr("sending", self.language))
        await self.runtime.send(item)

    async def _act_final(self, press: _Press) -> None:
        item = await self.runtime.call(
            self.core.review.approve, press.actor, press.case.id, text=press.message.text or ""
        )
        await press.answer(tr("sending", self.language))
        await self._quietly(press.message.edit_reply_markup(reply_markup=None))
        await self.runtime.send(item)

    async def _act_edit(self, press: _Press) -> None:
        await self._require_moderator(press.actor, press.case.id)
        prompt = render_prompt(press.case, press.actor.name, language=self.language)
        mention = MessageEntity(
            MessageEntity.TEXT_MENTION, prompt.name_offset, prompt.name_length, user=press.user
        )
        await call_once(
            functools.partial(
                self.application.bot.send_message,
                self.settings.moderators_chat,
                prompt.text,
                entities=[mention],
                reply_parameters=ReplyParameters(
                    press.message.message_id, allow_sending_without_reply=True
                ),
                # Selective: the keyboard opens for the moderator named in the prompt only.
                reply_markup=ForceReply(
                    selective=True, input_field_placeholder=tr("edit_placeholder", self.language)
                ),
            ),
            what=f"edit prompt of case {press.case.id}",
            sleep=self._sleep,
        )
        await press.answer(tr("edit_asked", self.language))

    async def _act_dismiss(self, press: _Press) -> None:
        await self._require_moderator(press.actor, press.case.id)
        await press.message.edit_reply_markup(
            reply_markup=reasons_keyboard(press.case.id, self.language)
        )
        await press.answer(tr("choose_reason", self.language))

    async def _act_back(self, press: _Press) -> None:
        await self._require_moderator(press.actor, press.case.id)
        await self.runtime.refresh(press.case.id)
        await press.answer()

    async def _act_reason(self, press: _Press) -> None:
        await self.runtime.call(
            self.core.review.dismiss, press.actor, press.case.id, press.callback.reason
        )
        await press.answer(tr("dismissed", self.language))
        await self.runtime.refresh(press.case.id)

    async def _act_snooze(self, press: _Press) -> None:
        case = await self.runtime.call(self.core.review.snooze, press.actor, press.case.id)
        until = format_time(case.snoozed_until or self.core.clock.now(), self.tz)
        await press.answer(tr("snoozed", self.language, when=until))
        await self.runtime.refresh(press.case.id)

    async def _act_mine(self, press: _Press) -> None:
        await self.runtime.call(self.core.review.assign, press.actor, press.case.id)
        await press.answer(tr("assigned", self.language))
        await self.runtime.refresh(press.case.id)

    async def _act_cancel(self, press: _Press) -> None:
        await self._require_moderator(press.actor, press.case.id)
        await self._quietly(press.message.delete())
        await press.answer(tr("cancelled", self.language))

    async def _unconfirmed(self, press: _Press) -> Outgoing | None:
        unconfirmed = (await self.runtime.call(self.core.card, press.case.id)).in_doubt
        if unconfirmed is None:
            await self._refuse(press.answer, press.user, press.callback, "nothing unconfirmed")
        return unconfirmed

    async def _act_confirm(self, press: _Press) -> None:
        item = await self._unconfirmed(press)
        if item is None:
            return
        await self.runtime.call(self.core.review.confirm_sent, press.actor, item.id)
        await press.answer(tr("confirmed", self.language))
        await self.runtime.refresh(press.case.id)

    async def _act_resend(self, press: _Press) -> None:
        item = await self._unconfirmed(press)
        if item is None:
            return
        again = await self.runtime.call(self.core.review.retry_send, press.actor, item.id)
        await press.answer(tr("sending", self.language))
        await self.runtime.send(again)

    _actions: Mapping[Act, Callable[[TelegramAdapter, _Press], Awaitable[None]]] = {
        Act.SEND: _act_send,
        Act.FINAL: _act_final,
        Act.EDIT: _act_edit,
        Act.DISMISS: _act_dismiss,
        Act.BACK: _act_back,
        Act.REASON: _act_reason,
        Act.SNOOZE: _act_snooze,
        Act.MINE: _act_mine,
        Act.CANCEL: _act_cancel,
        Act.CONFIRM: _act_confirm,
        Act.RESEND: _act_resend,
    }

    # -- the edit flow: a moderator's reply to a card or to its prompt --------------------------

    async def _on_moderator_reply(self, update: Update, context: Context) -> None:
        message = update.message
        if message is None or message.from_user is None or message.text is None:
            return
        target = message.reply_to_message
        if target is None or target.from_user is None or target.from_user.id != self.bot_id:
            return
        chat = str(message.chat.id)
        ref = await self.runtime.call(
            self.core.cards.by_message, PLATFORM, chat, str(target.message_id)
        )
        case_id = ref.case_id if ref is not None else prompt_case(target.text)
        if case_id is None:
            return
        card = ref or await self.runtime.call(self.core.cards.for_case, case_id, PLATFORM)
        case = await self.runtime.call(self.core.cases.find, case_id)
        if card is None or case is None or card.chat != chat:
            return
        actor = await self.actor(message.from_user, case.community)
        try:
            await self.runtime.call(self.core.review.case_for, actor, case_id)
        except ReviewError:
            _LOGGER.warning("draft for case %d from non-moderator %s ignored", case_id, actor.id)
            await self.say(tr("not_allowed", self.language), reply_to=message.message_id)
            return
        # The draft is posted as the bot's reply to the card: its Send button is then tied to
        # that card by Telegram itself, and its text is exactly what will be sent.
        await call_once(
            functools.partial(
                self.application.bot.send_message,
                self.settings.moderators_chat,
                message.text,
                reply_parameters=ReplyParameters(int(card.message_id)),
                reply_markup=draft_keyboard(case_id, self.language),
                link_preview_options=NO_PREVIEW,
            ),
            what=f"draft for case {case_id}",
            sleep=self._sleep,
        )

    # -- commands in the moderators' chat -----------------------------------------------------

    async def _command_actor(self, update: Update) -> Actor | None:
        user = update.effective_user
        message = update.effective_message
        if user is None or message is None:
            return None
        actor = await self.actor(user, None)
        if not await self.runtime.call(self.core.review.is_moderator, actor):
            _LOGGER.warning("command %r refused to user %s", message.text, user.id)
            await self.say(tr("not_allowed", self.language), reply_to=message.message_id)
            return None
        return actor

    async def _on_cases(self, update: Update, context: Context) -> None:
        actor = await self._command_actor(update)
        if actor is None:
            return
        cases = await self.runtime.call(self.core.waiting, self.core.review.scope(actor))
        now = self.core.clock.now()
        await self.say(render_case_list(cases, now, language=self.language, tz=self.tz))

    async def _on_case(self, update: Update, context: Context) -> None:
        actor = await self._command_actor(update)
        if actor is None:
            return
        args = context.args or []
        number = args[0].lstrip("#") if args else ""
        if not number.isdigit() or int(number) == 0:
            await self.say(tr("case_usage", self.language))
            return
        try:
            case = await self.runtime.call(self.core.review.case_for, actor, int(number))
        except NotAllowed:
            await self.say(tr("not_allowed", self.language))
            return
        except ReviewError:
            await self.say(tr("case_unknown", self.language, case=number))
            return
        # The card moves to the bottom of the chat, where the moderator is.
        async with self._card_locks[case.id % _CARD_LOCKS]:
            await self._show(await self.runtime.call(self._card_view, case.id), move=True)

    async def _on_report(self, update: Update, context: Context) -> None:
        actor = await self._command_actor(update)
        if actor is None:
            return
        scope = self.core.review.scope(actor)
        await self.say(await self.runtime.call(self.core.report_text, scope=scope))


def build(
    config: Config,
    runtime: Runtime,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> TelegramAdapter:
    """The Telegram adapter for `config`, registered with `runtime`; ConfigError if wrong.

    `sleep` waits out Telegram's flood control (tests pass one that does not really wait).
    """
    settings = parse_settings(config.telegram.options)
    token = config.telegram.token("telegram", "the token BotFather gave you")
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
