"""Moderators' presses and drafts in: buttons and replies to a card become the core's decisions.

Every press is checked twice: here that it is a real card of this bot in the moderators' chat
(forged or stale buttons are refused), then by the core that the presser may moderate the case.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from telegram import Bot, CallbackQuery, ForceReply, MessageEntity, ReplyParameters, Update, User
from telegram import Message as TgMessage
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from adapters.telegram.cards import NO_PREVIEW, Cards, quietly
from adapters.telegram.convert import PLATFORM
from adapters.telegram.keyboard import (
    MEMBER_ACTS,
    Act,
    BadCallback,
    Callback,
    decode,
    draft_keyboard,
    reasons_keyboard,
)
from adapters.telegram.people import Directory
from adapters.telegram.render import prompt_case, render_prompt
from adapters.telegram.sending import call_once
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.texts import tr
from bot.cardview import MEMBER_THANKS, member_text
from bot.i18n import format_time
from bot.models import Actor, Case, Feedback, Outgoing
from bot.review import NotAllowed, ReviewError
from bot.runtime import Runtime

_LOGGER = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


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
class _Press:
    callback: Callback
    case: Case
    actor: Actor
    user: User
    message: TgMessage
    answer: _Answer


class Actions:
    """Button presses on cards and drafts, and moderators' replies that write a draft."""

    def __init__(
        self,
        runtime: Runtime,
        settings: TelegramSettings,
        people: Directory,
        cards: Cards,
        bot: Bot,
        bot_id: Callable[[], int],
        *,
        language: str,
        tz: ZoneInfo,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """Decide through `runtime`; `bot_id` is the bot's own id (known once connected)."""
        self.runtime = runtime
        self.core = runtime.core
        self.settings = settings
        self.people = people
        self.cards = cards
        self._bot = bot
        self._bot_id = bot_id
        self.language = language
        self.tz = tz
        self._sleep = sleep

    async def _require_moderator(self, actor: Actor, case_id: int) -> None:
        await self.runtime.call(self.core.review.case_for, actor, case_id)

    # -- button presses -----------------------------------------------------------------------

    async def on_callback(self, update: Update, context: Context) -> None:
        """A button was pressed: whatever happens, the press gets an answer."""
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
        if callback.action in MEMBER_ACTS and isinstance(message, TgMessage):
            await self._member_press(callback, message, user, answer)
            return
        if not isinstance(message, TgMessage) or not self._review_chat(message.chat.id):
            await self._refuse(answer, user, data, "not pressed in the moderators' chat")
            return
        anchor = message
        if callback.action in (Act.FINAL, Act.CANCEL):
            # A draft is the bot's reply to the card it belongs to.
            if message.from_user is None or message.from_user.id != self._bot_id():
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
        actor = await self.people.actor(user, case.community)
        press = _Press(callback, case, actor, user, message, answer)
        await self._actions[callback.action](self, press)

    def _review_chat(self, chat_id: int) -> bool:
        business = self.people.business
        if business is not None and business.is_place(chat_id):
            return True
        return chat_id == self.settings.moderators_chat or chat_id in self.cards.review_places()

    async def _cannot_send(self, press: _Press) -> bool:
        """True (and the presser told why) when no reply can go to the case's chat now."""
        business = self.people.business
        why = business.refusal(press.case.community) if business is not None else None
        if why is None:
            return False
        await self._require_moderator(press.actor, press.case.id)  # others learn nothing
        _LOGGER.warning("case %d: send refused: %s", press.case.id, why)
        await press.answer(why, alert=True)
        await self.runtime.refresh(press.case.id)
        return True

    async def _member_press(
        self, callback: Callback, message: TgMessage, user: User, answer: _Answer
    ) -> None:
        """A member pressed "solved" / "still need help" under an approved reply.

        The pressed message must be the reply the bot posted for that case (forged data names
        another case in vain); the core then checks that the presser is the member who asked.
        """
        replies = await self.runtime.call(self.core.review.replies_of, callback.case_id)
        posted = {(r.channel, r.platform_message_id) for r in replies}
        if (str(message.chat.id), str(message.message_id)) not in posted:
            await self._refuse(answer, user, callback, "not that case's reply")
            return
        case = await self.runtime.call(self.core.cases.get, callback.case_id)
        action = MEMBER_ACTS[callback.action]
        member = Actor(PLATFORM, str(user.id), user.full_name)
        try:
            await self.runtime.call(
                self.core.review.member_feedback, member, case.id, Feedback(action.value)
            )
        except ReviewError as exc:
            await answer(exc.explain(case.language), alert=True)
            return
        await answer(member_text(MEMBER_THANKS, action, case.language))
        await self.runtime.refresh(case.id)

    async def _act_send(self, press: _Press) -> None:
        if await self._cannot_send(press):
            return
        # Approve first (the core checks the actor), answer at once, then send: a send that
        # waits out flood control must not leave the button spinning.
        item = await self.runtime.call(self.core.review.approve, press.actor, press.case.id)
        await press.answer(tr("sending", self.language))
        await self.runtime.send(item)

    async def _act_final(self, press: _Press) -> None:
        if await self._cannot_send(press):
            return
        item = await self.runtime.call(
            self.core.review.approve, press.actor, press.case.id, text=press.message.text or ""
        )
        await press.answer(tr("sending", self.language))
        await quietly(press.message.edit_reply_markup(reply_markup=None))
        await self.runtime.send(item)

    async def _act_edit(self, press: _Press) -> None:
        await self._require_moderator(press.actor, press.case.id)
        prompt = render_prompt(press.case, press.actor.name, language=self.language)
        mention = MessageEntity(
            MessageEntity.TEXT_MENTION, prompt.name_offset, prompt.name_length, user=press.user
        )
        await call_once(
            functools.partial(
                self._bot.send_message,
                press.message.chat.id,
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
        await quietly(press.message.delete())
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
        if item is None or await self._cannot_send(press):
            return
        again = await self.runtime.call(self.core.review.retry_send, press.actor, item.id)
        await press.answer(tr("sending", self.language))
        await self.runtime.send(again)

    async def _act_confirm_helper(self, press: _Press) -> None:
        # The core checks the presser moderates the case and that a helper's answer awaits
        # a word; a replayed press after that is refused with the core's reason.
        await self.runtime.call(self.core.review.confirm_helper, press.actor, press.case.id)
        await press.answer(tr("helper_confirmed", self.language))
        await self.runtime.refresh(press.case.id)

    async def _act_take_over(self, press: _Press) -> None:
        await self.runtime.call(self.core.review.take_over, press.actor, press.case.id)
        await press.answer(tr("taken_over", self.language))
        await self.runtime.refresh(press.case.id)

    _actions: Mapping[Act, Callable[[Actions, _Press], Awaitable[None]]] = {
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
        Act.HELPER_OK: _act_confirm_helper,
        Act.TAKE_OVER: _act_take_over,
    }

    # -- the edit flow: a moderator's reply to a card or to its prompt --------------------------

    async def on_moderator_reply(self, update: Update, context: Context) -> None:
        """A moderator replied to a card or its prompt: post the text back as a draft to send."""
        message = update.message
        if message is None or message.from_user is None or message.text is None:
            return
        target = message.reply_to_message
        if target is None or target.from_user is None or target.from_user.id != self._bot_id():
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
        actor = await self.people.actor(message.from_user, case.community)
        try:
            await self.runtime.call(self.core.review.case_for, actor, case_id)
        except ReviewError:
            _LOGGER.warning("draft for case %d from non-moderator %s ignored", case_id, actor.id)
            await self.cards.say(
                tr("not_allowed", self.language),
                reply_to=message.message_id,
                chat=message.chat.id,
            )
            return
        # The draft is posted as the bot's reply to the card: its Send button is then tied to
        # that card by Telegram itself, and its text is exactly what will be sent.
        await call_once(
            functools.partial(
                self._bot.send_message,
                message.chat.id,
                message.text,
                reply_parameters=ReplyParameters(int(card.message_id)),
                reply_markup=draft_keyboard(case_id, self.language),
                link_preview_options=NO_PREVIEW,
            ),
            what=f"draft for case {case_id}",
            sleep=self._sleep,
        )
