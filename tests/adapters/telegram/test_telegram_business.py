"""Telegram Business end to end: real python-telegram-bot, the fake Bot API, business updates.

Margaux runs a small shop and connected the bot to her business account; Léa, a customer,
writes to the shop in private. Cards reach Margaux in her private chat with the bot (or the
shop's staff group when one is configured); what she approves goes to Léa through the
business connection, in the shop's name, as a reply to Léa's message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from adapters.telegram import keyboard
from adapters.telegram.keyboard import Act
from bot.clock import ManualClock
from bot.config import community_key
from bot.models import CaseState, Kind
from tests.adapters.telegram.conftest import Harness, business_config
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.world import (
    ALICE,
    BOB,
    BUSINESS2_ID,
    BUSINESS_ID,
    CAMILLE,
    CUSTOMER,
    EMPLOYEE,
    GROUP_ID,
    MOD_ID,
    OWNER,
    SHOP_STAFF_ID,
    TOKEN_ENV,
)

OWNER_CHAT = OWNER["id"]
CUSTOMER_CHAT = CUSTOMER["id"]
COMPLAINT = (
    "Bonjour, ma commande n'est toujours pas arrivée après trois semaines, c'est inadmissible !"
)
COMMUNITY = f"business:{BUSINESS_ID}"


def buttons(message: dict[str, Any]) -> list[keyboard.Callback]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [keyboard.decode(button["callback_data"]) for row in rows for button in row]


def data(message: dict[str, Any], act: Act, case_id: int) -> str:
    wanted = keyboard.Callback(act, case_id)
    assert wanted in buttons(message), f"no {act} button for case {case_id}: {message}"
    return keyboard.encode(wanted)


def told(fake: FakeBotApi, query_id: str) -> str:
    calls = fake.calls_to("answerCallbackQuery", callback_query_id=query_id)
    return " ".join(str(call.params.get("text", "")) for call in calls)


def business_sends(fake: FakeBotApi) -> list[Any]:
    return [c for c in fake.calls_to("sendMessage") if c.params.get("business_connection_id")]


@pytest.fixture
async def shop(
    fake: FakeBotApi, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The bot with Telegram Business on, Margaux's account connected."""
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    harness = Harness(fake, business_config(fake), clock, db_path)
    await harness.start()
    fake.connect_business(BUSINESS_ID, OWNER)
    await harness.handled()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def shop_with_staff(
    fake: FakeBotApi, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """Cards in the shop's staff group; Hugo (an employee) may decide, Bob may not."""
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = business_config(
        fake, business_staff_chat=SHOP_STAFF_ID, business_staff_ids=[EMPLOYEE["id"]]
    )
    harness = Harness(fake, config, clock, db_path)
    await harness.start()
    fake.connect_business(BUSINESS_ID, OWNER)
    await harness.handled()
    try:
        yield harness
    finally:
        await harness.stop()


async def complain(shop: Harness, text: str = COMPLAINT) -> dict[str, Any]:
    message = shop.fake.business_say(BUSINESS_ID, CUSTOMER, text)
    await shop.handled()
    return message


def owner_texts(shop: Harness, chat: int = OWNER_CHAT) -> list[str]:
    return [str(m["text"]) for m in shop.fake.bot_messages(chat)]


async def test_connecting_tells_the_owner_in_their_chat(shop: Harness) -> None:
    (hello,) = owner_texts(shop)
    assert "Margaux Petit" in hello
    assert "Rien ne part sans vous" in hello
    assert shop.fake.calls_to("sendMessage", chat_id=MOD_ID) == []


async def test_a_french_complaint_becomes_a_card_the_owner_edits_and_sends_once(
    shop: Harness,
) -> None:
    complaint = await complain(shop)
    (case,) = shop.core.cases.list()
    assert (case.community, case.channel) == (COMMUNITY, str(CUSTOMER_CHAT))
    assert case.kind is Kind.COMPLAINT
    assert case.language == "fr"
    assert case.due_at - case.opened_at == timedelta(days=7)
    card = shop.card_of(case.id)
    assert card["chat"]["id"] == OWNER_CHAT
    assert "Léa Roux" in card["text"]
    assert "💼 Margaux Petit" in card["text"]
    # Margaux asks to edit, answers the prompt with her own words, then sends the draft.
    await shop.press(OWNER, card["message_id"], data(card, Act.EDIT, case.id), chat=OWNER_CHAT)
    prompt = shop.fake.bot_messages(OWNER_CHAT)[-1]
    text = "Bonjour Léa, toutes nos excuses : votre colis part demain matin. Margaux"
    await shop.say(OWNER_CHAT, OWNER, text, reply_to=prompt["message_id"])
    draft = shop.fake.bot_messages(OWNER_CHAT)[-1]
    assert draft["text"] == text
    shop.fake.echo_business = True  # Telegram tells the bot of what it sent, too
    await shop.press(OWNER, draft["message_id"], data(draft, Act.FINAL, case.id), chat=OWNER_CHAT)
    await shop.handled()  # the echo of the reply, which must change nothing
    (send,) = business_sends(shop.fake)
    assert send.params["business_connection_id"] == BUSINESS_ID
    assert int(send.params["chat_id"]) == CUSTOMER_CHAT
    assert send.params["reply_parameters"]["message_id"] == complaint["message_id"]
    assert send.params["text"] == text
    (reply,) = shop.fake.business_replies(CUSTOMER_CHAT)
    assert reply["from"]["id"] == OWNER["id"]  # Léa sees the shop, not a bot
    answered = shop.case(case.id)
    assert answered.state is CaseState.ANSWERED
    assert len(shop.core.cases.list()) == 1
    assert shop.card_of(case.id)["text"].startswith("✅")


async def test_the_owners_reply_from_the_app_answers_the_case(
    shop: Harness, clock: ManualClock
) -> None:
    await complain(shop)
    clock.advance(timedelta(minutes=42))
    shop.fake.business_say(
        BUSINESS_ID, CUSTOMER, "Bonjour Léa, je regarde avec le transporteur.", sender=OWNER
    )
    await shop.handled()
    (case,) = shop.core.cases.list()
    assert case.state is CaseState.ANSWERED
    assert case.answered_by == "Margaux Petit"
    assert case.first_response_at is not None
    assert case.first_response_at - case.opened_at == timedelta(minutes=42)
    assert "42 min" in shop.card_of(case.id)["text"]
    assert business_sends(shop.fake) == []


async def test_an_away_message_sent_by_telegram_does_not_answer_the_case(
    shop: Harness,
) -> None:
    await complain(shop)
    shop.fake.business_say(
        BUSINESS_ID,
        CUSTOMER,
        "Bonjour ! La boutique est fermée jusqu'à lundi.",
        sender=OWNER,
        is_from_offline=True,
    )
    await shop.handled()
    (case,) = shop.core.cases.list()
    assert case.state.waiting
    assert case.first_response_at is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"can_reply": False}, "retiré au bot le droit de répondre"),
        ({"enabled": False}, "a déconnecté le bot"),
    ],
)
async def test_a_revoked_connection_refuses_to_send_and_says_so_on_the_card(
    shop: Harness, change: dict[str, bool], says: str
) -> None:
    await complain(shop)
    (case,) = shop.core.cases.list()
    shop.fake.connect_business(BUSINESS_ID, OWNER, **change)
    await shop.handled()
    assert says in owner_texts(shop)[-1]
    card = shop.card_of(case.id)
    assert says in card["text"]
    query = await shop.press(
        OWNER, card["message_id"], data(card, Act.SEND, case.id), chat=OWNER_CHAT
    )
    assert says in told(shop.fake, query)
    assert business_sends(shop.fake) == []
    assert shop.core.review.outbox() == []  # nothing approved, nothing waiting to go
    assert shop.case(case.id).state.waiting
    # Reconnected with the right to reply: the warning goes, the reply can go.
    shop.fake.connect_business(BUSINESS_ID, OWNER)
    await shop.handled()
    card = shop.card_of(case.id)
    assert says not in card["text"]
    await shop.press(OWNER, card["message_id"], data(card, Act.SEND, case.id), chat=OWNER_CHAT)
    assert len(business_sends(shop.fake)) == 1


async def test_rights_lost_before_the_bot_heard_of_it_fail_clearly(shop: Harness) -> None:
    await complain(shop)
    (case,) = shop.core.cases.list()
    shop.fake.business[BUSINESS_ID]["rights"]["can_reply"] = False  # no update yet
    card = shop.card_of(case.id)
    await shop.press(OWNER, card["message_id"], data(card, Act.SEND, case.id), chat=OWNER_CHAT)
    assert shop.fake.business_replies(CUSTOMER_CHAT) == []
    assert "refusé" in shop.card_of(case.id)["text"]


async def test_someone_else_in_the_staff_group_is_refused_an_employee_is_not(
    shop_with_staff: Harness,
) -> None:
    shop = shop_with_staff
    await complain(shop)
    (case,) = shop.core.cases.list()
    card = shop.card_of(case.id)
    assert card["chat"]["id"] == SHOP_STAFF_ID
    for stranger in (BOB, CAMILLE):  # Camille moderates the group, not the shop
        query = await shop.press(
            stranger, card["message_id"], data(card, Act.SEND, case.id), chat=SHOP_STAFF_ID
        )
        assert "Seuls les modérateurs" in told(shop.fake, query)
    assert business_sends(shop.fake) == []
    await shop.press(
        EMPLOYEE, card["message_id"], data(card, Act.SEND, case.id), chat=SHOP_STAFF_ID
    )
    (send,) = business_sends(shop.fake)
    assert send.params["business_connection_id"] == BUSINESS_ID


async def test_an_edit_runs_detection_again_and_a_delete_withdraws(shop: Harness) -> None:
    chatter = await complain(shop, "Bonjour !")
    assert shop.core.cases.list() == []
    shop.fake.business_edit(CUSTOMER_CHAT, chatter["message_id"], "Vous livrez à Lyon ?")
    await shop.handled()
    (case,) = shop.core.cases.list()
    assert case.kind is Kind.QUESTION
    shop.fake.business_delete(BUSINESS_ID, CUSTOMER_CHAT, chatter["message_id"])
    await shop.handled()
    assert shop.case(case.id).state is CaseState.WITHDRAWN
    assert shop.card_of(case.id)["text"].startswith("↩️")


async def test_the_connection_survives_a_restart(shop: Harness) -> None:
    await shop.restart()
    await complain(shop)
    (case,) = shop.core.cases.list()
    card = shop.card_of(case.id)
    assert card["chat"]["id"] == OWNER_CHAT
    await shop.press(OWNER, card["message_id"], data(card, Act.SEND, case.id), chat=OWNER_CHAT)
    assert len(business_sends(shop.fake)) == 1


async def test_a_connection_made_while_the_bot_was_away_is_asked_for(
    fake: FakeBotApi, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    harness = Harness(fake, business_config(fake), clock, db_path)
    fake.connect_business(BUSINESS_ID, OWNER)
    fake.updates.clear()  # the update was lost: only getBusinessConnection knows
    await harness.start()
    try:
        await complain(harness)
        assert fake.calls_to("getBusinessConnection")
        (case,) = harness.core.cases.list()
        assert harness.card_of(case.id)["chat"]["id"] == OWNER_CHAT
    finally:
        await harness.stop()


async def test_groups_and_business_chats_are_scoped_apart(shop: Harness) -> None:
    await shop.say(GROUP_ID, ALICE, "Comment réinitialiser mon mot de passe ?")
    await complain(shop)
    group_case, shop_case = shop.core.cases.list()
    assert shop.card_of(group_case.id)["chat"]["id"] == MOD_ID
    assert shop.card_of(shop_case.id)["chat"]["id"] == OWNER_CHAT
    # Camille, an admin of the group, may not answer the shop's customers; Margaux may not
    # answer the group's members.
    card = shop.card_of(shop_case.id)
    query = await shop.press(
        CAMILLE, card["message_id"], data(card, Act.SEND, shop_case.id), chat=OWNER_CHAT
    )
    assert "Seuls les modérateurs" in told(shop.fake, query)
    card = shop.card_of(group_case.id)
    query = await shop.press(OWNER, card["message_id"], data(card, Act.SEND, group_case.id))
    assert "Seuls les modérateurs" in told(shop.fake, query)
    assert shop.fake.calls_to("sendMessage", chat_id=GROUP_ID) == []
    assert business_sends(shop.fake) == []


async def test_the_shop_and_the_group_each_get_their_own_digest_once(shop: Harness) -> None:
    await shop.say(GROUP_ID, ALICE, "Comment réinitialiser mon mot de passe ?")
    await complain(shop)
    assert shop.runtime is not None
    # Monday 10:00 in Paris: this week's digests (due at 09:00) go out on the first tick.
    await shop.runtime.tick()
    await shop.runtime.tick()
    await shop.restart()
    assert shop.runtime is not None
    await shop.runtime.tick()

    def digests(chat: int) -> list[str]:
        return [text for text in owner_texts(shop, chat) if text.startswith("📋")]

    # The group's moderators never read the shop's customers, nor Margaux the group's members.
    (group,) = digests(MOD_ID)
    assert "Alice" in group
    assert "Léa" not in group
    assert "commande" not in group
    (own,) = digests(OWNER_CHAT)
    assert "Léa Roux" in own
    assert "Alice" not in own


async def test_a_second_business_with_its_own_place_keeps_its_cards_and_language_apart(
    fake: FakeBotApi, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Margaux's shop uses the staff group; Bob's shop, on the same bot, has its own entry:
    # English, and its cards in Bob's chat with the bot. Nothing of his reaches her staff.
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = business_config(
        fake, business_staff_chat=SHOP_STAFF_ID, business_staff_ids=[EMPLOYEE["id"]]
    )
    bobs = replace(
        config, community=replace(config.community, language="en", review_place=str(BOB["id"]))
    )
    key = community_key("telegram", f"business:{BUSINESS2_ID}")
    shop = Harness(
        fake, replace(config, communities=MappingProxyType({key: bobs})), clock, db_path
    )
    await shop.start()
    try:
        fake.connect_business(BUSINESS_ID, OWNER)
        await shop.handled()
        fake.connect_business(BUSINESS2_ID, BOB)
        await shop.handled()
        (hello,) = owner_texts(shop, BOB["id"])
        assert "Nothing is sent without you" in hello
        fake.business_say(BUSINESS2_ID, ALICE, "My bike is still not repaired, this is awful!")
        await shop.handled()
        (case,) = shop.core.cases.list()
        card = shop.card_of(case.id)
        assert card["chat"]["id"] == BOB["id"]
        assert "Case #" in card["text"]
        staff_texts = " ".join(owner_texts(shop, SHOP_STAFF_ID))
        assert "bike" not in staff_texts
        assert "Bob" not in staff_texts
        await shop.press(BOB, card["message_id"], data(card, Act.SEND, case.id), chat=BOB["id"])
        (send,) = business_sends(fake)
        assert send.params["business_connection_id"] == BUSINESS2_ID
        assert send.params["chat_id"] == ALICE["id"]
    finally:
        await shop.stop()
