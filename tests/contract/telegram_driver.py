"""The Telegram adapter under the contract: real python-telegram-bot against the fake Bot API.

Alice writes in the group, Camille (a group admin) moderates in the moderators' chat, Bob (a
member who is in the moderators' chat but administers nothing) presses buttons he should not.
The harness, the fake server and the people are the Telegram tests' own (tests/adapters/telegram).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import User

from adapters.telegram import keyboard
from adapters.telegram.keyboard import Act
from bot.models import Case, DismissReason, Feedback, Outgoing
from tests.adapters.telegram.conftest import Harness
from tests.adapters.telegram.world import ALICE, BOB, CAMILLE, FORUM_ID, GROUP_ID, MOD_ID
from tests.contract.driver import CardAction, CardShown, MsgRef, Reply, Who

_ACTIONS = {
    Act.SEND: CardAction.APPROVE,
    Act.EDIT: CardAction.EDIT,
    Act.DISMISS: CardAction.DISMISS,
    Act.SNOOZE: CardAction.SNOOZE,
    Act.MINE: CardAction.MINE,
    Act.CONFIRM: CardAction.CONFIRM_POSTED,
    Act.RESEND: CardAction.SEND_AGAIN,
    Act.HELPER_OK: CardAction.CONFIRM_HELPER,
    Act.TAKE_OVER: CardAction.TAKE_OVER,
}
_PEOPLE = {Who.MODERATOR: CAMILLE, Who.MEMBER: BOB}
# The contract's helper: a member who administers nothing (the world's admins are staff).
TELEGRAM_HELPER: dict[str, Any] = {"id": 555555555, "is_bot": False, "first_name": "Hana"}


def _buttons(message: dict[str, Any]) -> list[keyboard.Callback]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [keyboard.decode(button["callback_data"]) for row in rows for button in row]


def _data(message: dict[str, Any], act: Act, case_id: int, arg: str | None = None) -> str:
    wanted = keyboard.Callback(act, case_id, arg)
    assert wanted in _buttons(message), f"no {act} button for case {case_id}: {message}"
    return keyboard.encode(wanted)


class TelegramDriver:
    """Drives a `Harness` (one bot process that can be restarted on the same database)."""

    name = "telegram"

    def __init__(self, harness: Harness) -> None:
        """Drive the bot `harness` runs (already started)."""
        self.tg = harness

    def _told(self, query_id: str) -> str:
        answers = self.tg.fake.calls_to("answerCallbackQuery", callback_query_id=query_id)
        return " ".join(str(call.params.get("text", "")) for call in answers)

    async def member_says(self, text: str) -> MsgRef:
        message = await self.tg.say(GROUP_ID, ALICE, text)
        return MsgRef(str(message["message_id"]))

    async def member_says_elsewhere(self, text: str) -> MsgRef:
        message = await self.tg.say(FORUM_ID, ALICE, text)
        return MsgRef(str(message["message_id"]))

    async def member_edits(self, ref: MsgRef, text: str) -> None:
        self.tg.fake.edit(GROUP_ID, int(ref.id), text)
        await self.tg.handled()

    async def member_deletes(self, ref: MsgRef) -> None:
        # The Bot API sends no update when a message in a group is deleted.
        raise NotImplementedError("Telegram bots are not told of deleted group messages")

    async def press(
        self,
        who: Who,
        action: CardAction,
        case_id: int,
        *,
        reason: DismissReason | None = None,
    ) -> str:
        act = next(a for a, c in _ACTIONS.items() if c is action)
        card = self.tg.card_of(case_id)
        query = await self.tg.press(_PEOPLE[who], card["message_id"], _data(card, act, case_id))
        told = self._told(query)
        card = self.tg.card_of(case_id)
        if action is CardAction.DISMISS and any(b.action is Act.REASON for b in _buttons(card)):
            # The card now asks why; the reason's button dismisses.
            code = keyboard.reason_code(reason or DismissReason.NOT_A_REQUEST)
            data = _data(card, Act.REASON, case_id, code)
            told = self._told(await self.tg.press(_PEOPLE[who], card["message_id"], data))
        return told

    async def member_presses(self, feedback: Feedback, case_id: int, *, asker: bool) -> str:
        # The last reply the bot posted in the group carries the member's buttons.
        reply = self.tg.fake.bot_messages(GROUP_ID)[-1]
        act = Act.SOLVED if feedback is Feedback.SOLVED else Act.HELP
        data = _data(reply, act, case_id)
        query = self.tg.fake.press(ALICE if asker else BOB, GROUP_ID, reply["message_id"], data)
        await self.tg.handled()
        return self._told(query)

    async def helper_answers(self, ref: MsgRef, text: str) -> None:
        # Hana is the contract's helper ([staff] helper_ids), a member, not an admin.
        await self.tg.say(GROUP_ID, TELEGRAM_HELPER, text, reply_to=int(ref.id))

    async def edit_and_send(self, case_id: int, text: str) -> None:
        card = self.tg.card_of(case_id)
        await self.tg.press(CAMILLE, card["message_id"], _data(card, Act.EDIT, case_id))
        prompt = self.tg.fake.bot_messages(MOD_ID)[-1]
        # The moderator answers the bot's prompt with the new text; a draft comes back.
        await self.tg.say(MOD_ID, CAMILLE, text, reply_to=prompt["message_id"])
        draft = self.tg.fake.bot_messages(MOD_ID)[-1]
        await self.tg.press(CAMILLE, draft["message_id"], _data(draft, Act.FINAL, case_id))

    def replies(self) -> list[Reply]:
        return [
            Reply(
                message["text"],
                str(message["reply_to_message"]["message_id"])
                if "reply_to_message" in message
                else None,
            )
            for message in self.tg.fake.bot_messages(GROUP_ID)
        ]

    async def card(self, case_id: int) -> CardShown:
        await self.tg.bot.drain()
        card = self.tg.card_of(case_id)
        actions = frozenset(_ACTIONS[b.action] for b in _buttons(card) if b.action in _ACTIONS)
        return CardShown(
            ref=str(card["message_id"]),
            text=card["text"],
            actions=actions,
            snoozed="💤" in card["text"],
        )

    def moderator_place_texts(self) -> list[str]:
        return [message["text"] for message in self.tg.fake.bot_messages(MOD_ID)]

    async def restart(self) -> None:
        await self.tg.restart()
        await self.tg.bot.drain()

    async def tick(self, advance: timedelta) -> None:
        self.tg.clock.advance(advance)
        assert self.tg.runtime is not None
        await self.tg.runtime.tick()
        await self.tg.bot.drain()

    async def crash_after_approve(self, case_id: int) -> None:
        assert self.tg.runtime is not None
        camille = await self.tg.bot.actor(User.de_json(CAMILLE, None), str(GROUP_ID))
        await self.tg.runtime.call(self.tg.core.review.approve, camille, case_id)
        await self.restart()

    async def cases(self) -> list[Case]:
        assert self.tg.runtime is not None
        return await self.tg.runtime.call(self.tg.core.cases.list)

    async def case(self, case_id: int) -> Case:
        assert self.tg.runtime is not None
        return await self.tg.runtime.call(self.tg.core.cases.get, case_id)

    async def audit(self, case_id: int) -> list[dict[str, Any]]:
        assert self.tg.runtime is not None
        return await self.tg.runtime.call(self.tg.core.review.audit_log, case_id)

    async def outbox(self) -> list[Outgoing]:
        assert self.tg.runtime is not None
        return await self.tg.runtime.call(self.tg.core.review.outbox)
