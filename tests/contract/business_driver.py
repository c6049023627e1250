"""Telegram Business under the contract: a customer's private chat with a small business.

Léa (a customer) writes to Margaux's shop in private; the shop connected the bot to its business
account. Cards go to the shop's staff group, where Hugo (an employee named in
`business_staff_ids`) decides and Bob (in the group, but no one the shop named) presses what he
should not. Replies reach Léa through the business connection. Bob runs a second business on
the same bot (`member_says_elsewhere`: Alice writes to it); its cards go to the place its own
`[communities]` entry names, if any. The harness, the fake Bot API and the people are the
Telegram tests' own (tests/adapters/telegram).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import User

from adapters.telegram import keyboard
from adapters.telegram.keyboard import Act
from bot.models import Case, DismissReason, Feedback, Outgoing
from tests.adapters.telegram.conftest import Harness
from tests.adapters.telegram.world import (
    ALICE,
    BOB,
    BUSINESS2_ID,
    BUSINESS_ID,
    CUSTOMER,
    EMPLOYEE,
    OWNER,
    SHOP_STAFF_ID,
)
from tests.contract.driver import CardAction, CardShown, MsgRef, Reply, Who
from tests.contract.telegram_driver import _ACTIONS, _buttons, _data

_PEOPLE = {Who.MODERATOR: EMPLOYEE, Who.MEMBER: BOB}
CUSTOMER_CHAT = CUSTOMER["id"]
COMMUNITY = f"business:{BUSINESS_ID}"
SECOND_COMMUNITY = f"business:{BUSINESS2_ID}"
# Bob's private chat with the bot: where his business's cards go when it has a place of its own.
SECOND_PLACE = BOB["id"]


class BusinessDriver:
    """Drives a `Harness` whose bot has Telegram Business on and the shop connected."""

    name = "telegram-business"

    def __init__(self, harness: Harness) -> None:
        """Drive the bot `harness` runs (already started)."""
        self.tg = harness

    async def connect(self) -> None:
        """Each shop's owner connects the bot to their business account."""
        self.tg.fake.connect_business(BUSINESS_ID, OWNER)
        await self.tg.handled()
        self.tg.fake.connect_business(BUSINESS2_ID, BOB)
        await self.tg.handled()

    def _told(self, query_id: str) -> str:
        answers = self.tg.fake.calls_to("answerCallbackQuery", callback_query_id=query_id)
        return " ".join(str(call.params.get("text", "")) for call in answers)

    async def member_says(self, text: str) -> MsgRef:
        message = self.tg.fake.business_say(BUSINESS_ID, CUSTOMER, text)
        await self.tg.handled()
        return MsgRef(str(message["message_id"]))

    async def member_says_elsewhere(self, text: str) -> MsgRef:
        message = self.tg.fake.business_say(BUSINESS2_ID, ALICE, text)
        await self.tg.handled()
        return MsgRef(str(message["message_id"]))

    async def member_presses(self, feedback: Feedback, case_id: int, *, asker: bool) -> str:
        # The reply is the business's own message to its customer: it carries no bot buttons.
        raise NotImplementedError("replies sent as the business carry no member buttons")

    async def helper_answers(self, ref: MsgRef, text: str) -> None:
        raise NotImplementedError("whoever writes from the business account is the business")

    async def member_edits(self, ref: MsgRef, text: str) -> None:
        self.tg.fake.business_edit(CUSTOMER_CHAT, int(ref.id), text)
        await self.tg.handled()

    async def member_deletes(self, ref: MsgRef) -> None:
        self.tg.fake.business_delete(BUSINESS_ID, CUSTOMER_CHAT, int(ref.id))
        await self.tg.handled()

    async def _press(
        self, who: dict[str, Any], message_id: int, data: str, *, chat: int = SHOP_STAFF_ID
    ) -> str:
        return await self.tg.press(who, message_id, data, chat=chat)

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
        chat = card["chat"]["id"]  # the case's business's place
        data = _data(card, act, case_id)
        told = self._told(await self._press(_PEOPLE[who], card["message_id"], data, chat=chat))
        card = self.tg.card_of(case_id)
        if action is CardAction.DISMISS and any(b.action is Act.REASON for b in _buttons(card)):
            code = keyboard.reason_code(reason or DismissReason.NOT_A_REQUEST)
            data = _data(card, Act.REASON, case_id, code)
            query = await self._press(_PEOPLE[who], card["message_id"], data, chat=chat)
            told = self._told(query)
        return told

    async def edit_and_send(self, case_id: int, text: str) -> None:
        card = self.tg.card_of(case_id)
        await self._press(EMPLOYEE, card["message_id"], _data(card, Act.EDIT, case_id))
        prompt = self.tg.fake.bot_messages(SHOP_STAFF_ID)[-1]
        await self.tg.say(SHOP_STAFF_ID, EMPLOYEE, text, reply_to=prompt["message_id"])
        draft = self.tg.fake.bot_messages(SHOP_STAFF_ID)[-1]
        await self._press(EMPLOYEE, draft["message_id"], _data(draft, Act.FINAL, case_id))

    def replies(self) -> list[Reply]:
        return [
            Reply(
                message["text"],
                str(message["reply_to_message"]["message_id"])
                if "reply_to_message" in message
                else None,
            )
            for message in self.tg.fake.business_replies(CUSTOMER_CHAT)
        ]

    async def card(self, case_id: int) -> CardShown:
        await self.tg.bot.drain()
        card = self.tg.card_of(case_id)
        second = (await self.case(case_id)).community == SECOND_COMMUNITY
        assert card["chat"]["id"] == (SECOND_PLACE if second else SHOP_STAFF_ID)
        actions = frozenset(_ACTIONS[b.action] for b in _buttons(card) if b.action in _ACTIONS)
        return CardShown(
            ref=str(card["message_id"]),
            text=card["text"],
            actions=actions,
            snoozed="💤" in card["text"],
        )

    def moderator_place_texts(self) -> list[str]:
        # The owners' "connected" notices came before any test began: they are the set-up.
        texts = [
            message["text"]
            for chat in dict.fromkeys((SHOP_STAFF_ID, SECOND_PLACE))
            for message in self.tg.fake.bot_messages(chat)
        ]
        return [text for text in texts if not text.startswith("💼")]

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
        hugo = await self.tg.bot.actor(User.de_json(EMPLOYEE, None), COMMUNITY)
        await self.tg.runtime.call(self.tg.core.review.approve, hugo, case_id)
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
