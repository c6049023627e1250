"""End to end, inbound: which Telegram messages reach the core, as what, and who is staff."""

from __future__ import annotations

from datetime import timedelta

from bot.models import CaseState
from tests.adapters.telegram.conftest import Harness
from tests.adapters.telegram.world import (
    ALICE,
    BOB,
    CAMILLE,
    DOMINIQUE,
    GROUP_ID,
    MOD_ID,
    payload,
)


def stored(tg: Harness) -> list[dict[str, object]]:
    return tg.core.store.rows("SELECT * FROM messages ORDER BY created_at, key")


async def test_a_staff_reply_in_the_group_answers_the_case_and_updates_its_card(
    tg: Harness,
) -> None:
    await tg.push(payload("group_complaint_fr"))
    card_id = tg.card_of(1)["message_id"]
    tg.clock.advance(timedelta(minutes=30))
    await tg.push(payload("staff_reply_fr"))  # Camille, an admin, replies to Alice
    case = tg.case(1)
    assert case.state is CaseState.ANSWERED
    assert case.answered_by == "Camille"
    card = tg.card_of(1)
    assert card["message_id"] == card_id  # edited in place, not posted again
    assert card["text"].startswith("✅ Cas n°1")
    assert "Répondu par Camille" in card["text"]
    assert tg.fake.bot_messages(GROUP_ID) == []  # the bot itself said nothing


async def test_an_edit_that_turns_into_a_question_opens_a_case(tg: Harness) -> None:
    message = await tg.say(GROUP_ID, ALICE, "Bonjour à tous")
    assert tg.core.cases.list() == []
    tg.fake.edit(GROUP_ID, message["message_id"], "Quelqu'un sait où trouver la facture ?")
    await tg.handled()
    (case,) = tg.core.cases.list()
    assert case.kind.value == "question"
    assert case.opened_at == tg.clock.now()  # from the original post, not the edit
    assert "trouver la facture" in tg.card_of(case.id)["text"]


async def test_a_follow_up_joins_the_case_and_the_card_follows(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    card_id = tg.card_of(1)["message_id"]
    tg.clock.advance(timedelta(minutes=5))
    await tg.say(GROUP_ID, ALICE, "Franchement, c'est inadmissible, je veux être remboursée")
    assert len(tg.core.cases.list()) == 1
    assert tg.card_of(1)["message_id"] == card_id


async def test_bots_are_ignored_and_the_admins_anonymous_voice_is_staff(tg: Harness) -> None:
    await tg.push(payload("other_bot_en"))
    await tg.push(payload("anonymous_admin_fr"))
    await tg.push(payload("automatic_forward_fr"))
    await tg.push(payload("sticker"))
    await tg.push(payload("new_member"))
    assert tg.core.cases.list() == []
    rows = {row["id"]: row for row in stored(tg)}
    assert rows["4209"]["author_bot"] == 1
    assert rows["4208"]["author_staff"] == 1
    assert rows["4213"]["author_staff"] == 1
    assert set(rows) == {"4209", "4208", "4213"}  # no text, nothing to store
    assert tg.fake.bot_messages(MOD_ID) == []


async def test_the_moderators_chat_and_other_chats_are_not_listened_to(tg: Harness) -> None:
    await tg.say(MOD_ID, CAMILLE, "Quelqu'un peut regarder le cas d'Alice ?")
    tg.fake.add_chat({"id": -1007777777777, "title": "Elsewhere", "type": "supergroup"})
    await tg.say(-1007777777777, BOB, "Where is my order? Still nothing!")
    assert stored(tg) == []


async def test_commands_from_members_are_not_messages(tg: Harness) -> None:
    await tg.say(
        GROUP_ID,
        BOB,
        "/start@huitaine_bot",
        entities=[{"type": "bot_command", "offset": 0, "length": 19}],
    )
    assert stored(tg) == []


async def test_staff_is_read_from_the_admin_list_and_the_list_expires(tg: Harness) -> None:
    await tg.say(GROUP_ID, BOB, "Salut")
    await tg.say(GROUP_ID, CAMILLE, "Bonjour Bob")
    await tg.say(GROUP_ID, DOMINIQUE, "Bienvenue")
    flags = {row["author_name"]: row["author_staff"] for row in stored(tg)}
    assert flags == {"Bob": 0, "Camille": 1, "Dominique": 1}
    assert len(tg.fake.calls_to("getChatAdministrators", chat_id=GROUP_ID)) == 1

    tg.fake.set_admins(GROUP_ID, DOMINIQUE, CAMILLE, BOB)  # Bob is promoted
    tg.clock.advance(timedelta(minutes=5))
    await tg.say(GROUP_ID, BOB, "Je suis admin maintenant")
    assert stored(tg)[-1]["author_staff"] == 0  # still cached
    tg.clock.advance(timedelta(minutes=6))
    await tg.say(GROUP_ID, BOB, "Et là ?")
    assert stored(tg)[-1]["author_staff"] == 1
    assert len(tg.fake.calls_to("getChatAdministrators", chat_id=GROUP_ID)) == 2


async def test_a_promoted_member_can_press_once_the_cache_expires(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    card = tg.card_of(1)
    query = await tg.press(BOB, card["message_id"], "h1:mine:1")
    (refusal,) = tg.fake.calls_to("answerCallbackQuery", callback_query_id=query)
    assert refusal.params["text"].startswith("Seuls")
    tg.fake.set_admins(GROUP_ID, DOMINIQUE, CAMILLE, BOB)
    tg.clock.advance(timedelta(minutes=11))
    await tg.press(BOB, card["message_id"], "h1:mine:1")
    assert tg.case(1).assignee == "Bob"
