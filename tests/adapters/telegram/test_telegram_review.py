"""End to end: a member's message, the card, moderators' presses, and the reply, exactly once.

Every test drives the real python-telegram-bot Application (long polling) against the fake
Bot API on 127.0.0.1, with the real core on a SQLite file and a manual clock.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from bot.models import CaseState, SendState
from tests.adapters.telegram.conftest import Harness
from tests.adapters.telegram.world import (
    ALICE,
    BOB,
    CAMILLE,
    FORUM_ID,
    GROUP_ID,
    MOD_ID,
    payload,
)


async def open_complaint(tg: Harness) -> dict[str, Any]:
    """Alice's French complaint arrives in the group; its card is posted; returns the card."""
    await tg.push(payload("group_complaint_fr"))
    return tg.card_of(1)


def group_replies(tg: Harness, chat_id: int = GROUP_ID) -> list[dict[str, Any]]:
    return tg.fake.bot_messages(chat_id)


def answers(tg: Harness, query_id: str) -> list[dict[str, Any]]:
    return [c.params for c in tg.fake.calls_to("answerCallbackQuery", callback_query_id=query_id)]


async def test_french_complaint_edit_then_send_answers_once(tg: Harness) -> None:
    card = await open_complaint(tg)
    assert card["text"].startswith("🔔 Cas n°1 · réclamation")
    assert "Alice Martin · L'Atelier — entraide" in card["text"]
    assert "Objectif 2026-11-03 10:00 CET · limite 2026-11-09 10:00 CET" in card["text"]
    assert "toujours pas reçu ma commande" in card["text"]
    assert "Réponse proposée" in card["text"]
    buttons = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["h1:send:1", "h1:edit:1", "h1:dis:1", "h1:snz:1", "h1:mine:1"]

    tg.clock.advance(timedelta(hours=2))
    edit = await tg.press(CAMILLE, card["message_id"], "h1:edit:1")
    prompt = tg.fake.bot_messages(MOD_ID)[-1]
    assert prompt["text"].startswith("✏️ #1 · Camille : répondez à ce message")
    assert prompt["reply_to_message"]["message_id"] == card["message_id"]
    prompt_call = tg.fake.calls_to("sendMessage", chat_id=MOD_ID)[-1].params
    assert prompt_call["reply_markup"]["force_reply"] is True
    assert prompt_call["entities"][0]["type"] == "text_mention"

    new_text = "Bonjour Alice, votre colis n°4587 part ce soir, avec nos excuses. — Camille"
    await tg.say(MOD_ID, CAMILLE, new_text, reply_to=prompt["message_id"])
    draft = tg.fake.bot_messages(MOD_ID)[-1]
    assert draft["text"] == new_text
    assert draft["reply_to_message"]["message_id"] == card["message_id"]
    assert group_replies(tg) == []  # nothing goes out before the final press

    send = await tg.press(CAMILLE, draft["message_id"], "h1:final:1")
    replies = group_replies(tg)
    assert len(replies) == 1
    assert replies[0]["text"] == new_text
    assert replies[0]["reply_to_message"]["message_id"] == 4201
    call = tg.fake.calls_to("sendMessage", chat_id=GROUP_ID)[0].params
    assert "parse_mode" not in call
    assert call["reply_parameters"] == {"message_id": 4201, "allow_sending_without_reply": True}

    case = tg.case(1)
    assert case.state is CaseState.ANSWERED
    assert case.answered_by == "Camille"
    assert case.first_response_at is not None
    assert case.first_response_at - case.opened_at == timedelta(hours=2)
    card = tg.card_of(1)
    answered = "Répondu par Camille le 2026-11-02 12:00 CET (première réponse en 2 h 00 min)"
    assert answered in card["text"]
    assert "reply_markup" not in card  # nothing left to decide
    assert "reply_markup" not in tg.fake.messages[(MOD_ID, draft["message_id"])]
    assert [a["text"] for a in answers(tg, edit)] == [
        "Répondez au message ✏️ avec le nouveau texte."
    ]
    assert [a["text"] for a in answers(tg, send)] == ["Envoi en cours…"]
    actions = [row["action"] for row in tg.core.review.audit_log(1)]
    assert actions == ["edit"]


async def test_send_approves_the_suggestion_signed_by_the_moderator(tg: Harness) -> None:
    card = await open_complaint(tg)
    await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    (reply,) = group_replies(tg)
    assert reply["text"].startswith("Bonjour Alice Martin")
    assert reply["text"].endswith("— Camille")
    assert tg.core.review.outbox(SendState.SENT)[0].platform_message_id == str(reply["message_id"])


async def test_a_member_pressing_send_is_refused_and_nothing_is_sent(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    card = await open_complaint(tg)
    with caplog.at_level(logging.WARNING):
        query = await tg.press(BOB, card["message_id"], "h1:send:1")
    assert answers(tg, query) == [
        {
            "callback_query_id": query,
            "text": "Seuls les modérateurs peuvent faire cela.",
            "show_alert": True,
        }
    ]
    assert group_replies(tg) == []
    assert tg.case(1).state is CaseState.SUGGESTED
    assert tg.core.review.audit_log() == []
    assert "not a moderator" in caplog.text


@pytest.mark.parametrize(
    "data",
    ["h1:send:999", "h1:send:1:nr", "h0:send:1", "h2:send:1", "garbage", "h1:why:1:zz", "x" * 64],
)
async def test_forged_callback_data_is_refused_even_for_an_admin(
    tg: Harness, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    card = await open_complaint(tg)
    with caplog.at_level(logging.WARNING):
        query = await tg.press(CAMILLE, card["message_id"], data)
    assert [a["text"] for a in answers(tg, query)] == ["Ce bouton n'est plus valable."]
    assert answers(tg, query)[0]["show_alert"] is True
    assert group_replies(tg) == []
    assert tg.core.review.audit_log() == []
    assert tg.case(1).state is CaseState.SUGGESTED
    assert "refused button" in caplog.text


async def test_valid_data_on_a_message_that_is_not_its_card_is_refused(tg: Harness) -> None:
    card = await open_complaint(tg)
    await tg.push(payload("private_question_en"))
    other_card = tg.card_of(2)
    # Case 1's data pressed on case 2's card: both exist, but they do not belong together.
    query = await tg.press(CAMILLE, other_card["message_id"], "h1:send:1")
    assert [a["text"] for a in answers(tg, query)] == ["Ce bouton n'est plus valable."]
    # A draft button on the card itself (not on a draft the bot wrote under it).
    query = await tg.press(CAMILLE, card["message_id"], "h1:final:1")
    assert [a["text"] for a in answers(tg, query)] == ["Ce bouton n'est plus valable."]
    assert group_replies(tg) == []
    assert tg.core.review.audit_log() == []


async def test_flood_control_on_the_send_is_waited_out_and_posts_once(tg: Harness) -> None:
    card = await open_complaint(tg)
    tg.fake.fail(
        "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=GROUP_ID
    )
    query = await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    first, second = tg.fake.calls_to("sendMessage", chat_id=GROUP_ID)
    assert (first.status, second.status) == (429, 200)
    assert tg.sleep.waits == [1.0]  # Telegram's retry_after, waited out before the retry
    assert len(group_replies(tg)) == 1
    assert tg.case(1).state is CaseState.ANSWERED
    assert [a["text"] for a in answers(tg, query)] == ["Envoi en cours…"]


async def test_a_dropped_connection_is_never_resent_and_a_moderator_confirms(
    tg: Harness,
) -> None:
    card = await open_complaint(tg)
    # Telegram posts the reply, then the connection drops before the answer arrives.
    tg.fake.drop("sendMessage", chat_id=GROUP_ID)
    await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    assert len(tg.fake.calls_to("sendMessage", chat_id=GROUP_ID)) == 1
    (item,) = tg.core.review.outbox()
    assert item.state is SendState.UNCONFIRMED
    card = tg.card_of(1)
    assert "Envoi incertain (réponse n°1 de Camille)" in card["text"]
    buttons = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["h1:ok:1", "h1:again:1"]

    await tg.press(CAMILLE, card["message_id"], "h1:ok:1")
    assert tg.core.review.outbox()[0].state is SendState.SENT
    assert tg.case(1).state is CaseState.ANSWERED
    assert len(tg.fake.calls_to("sendMessage", chat_id=GROUP_ID)) == 1


async def test_an_unconfirmed_reply_can_be_sent_again_by_a_moderator(tg: Harness) -> None:
    card = await open_complaint(tg)
    tg.fake.drop("sendMessage", apply_first=False, chat_id=GROUP_ID)
    await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    assert tg.core.review.outbox()[0].state is SendState.UNCONFIRMED
    assert group_replies(tg) == []
    await tg.press(CAMILLE, card["message_id"], "h1:again:1")
    assert len(group_replies(tg)) == 1
    assert tg.core.review.outbox()[0].state is SendState.SENT


async def test_a_refused_send_is_failed_and_can_be_approved_again(tg: Harness) -> None:
    card = await open_complaint(tg)
    tg.fake.fail(
        "sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat", chat_id=GROUP_ID
    )
    await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    assert tg.core.review.outbox()[0].state is SendState.FAILED
    assert len(tg.fake.calls_to("sendMessage", chat_id=GROUP_ID)) == 1  # a 403 is not retried
    assert "Telegram a refusé la réponse n°1" in tg.card_of(1)["text"]
    await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    assert len(group_replies(tg)) == 1
    assert tg.case(1).state is CaseState.ANSWERED


async def test_a_press_after_a_restart_still_works(tg: Harness) -> None:
    card = await open_complaint(tg)
    first_app = tg.bot.application
    await tg.restart()
    assert tg.bot.application is not first_app
    query = await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    assert len(group_replies(tg)) == 1
    assert group_replies(tg)[0]["reply_to_message"]["message_id"] == 4201
    assert tg.case(1).state is CaseState.ANSWERED
    assert answers(tg, query)[0]["text"] == "Envoi en cours…"
    assert tg.card_of(1)["message_id"] == card["message_id"]  # edited in place


async def test_the_edit_flow_survives_a_restart(tg: Harness) -> None:
    card = await open_complaint(tg)
    await tg.press(CAMILLE, card["message_id"], "h1:edit:1")
    prompt = tg.fake.bot_messages(MOD_ID)[-1]
    await tg.restart()
    await tg.say(MOD_ID, CAMILLE, "C'est reparti, Alice !", reply_to=prompt["message_id"])
    draft = tg.fake.bot_messages(MOD_ID)[-1]
    await tg.restart()
    await tg.press(CAMILLE, draft["message_id"], "h1:final:1")
    assert [m["text"] for m in group_replies(tg)] == ["C'est reparti, Alice !"]
    # No member spoke since the restart: the group's title came from getChat.
    assert "👤 Alice Martin · L'Atelier — entraide" in tg.card_of(1)["text"]


async def test_a_draft_from_a_member_of_the_moderators_chat_is_not_offered(tg: Harness) -> None:
    card = await open_complaint(tg)
    await tg.say(MOD_ID, BOB, "Envoyez plutôt ceci", reply_to=card["message_id"])
    last = tg.fake.bot_messages(MOD_ID)[-1]
    assert last["text"] == "Seuls les modérateurs peuvent faire cela."
    assert "reply_markup" not in last


async def test_dismiss_asks_why_then_closes_the_case(tg: Harness) -> None:
    card = await open_complaint(tg)
    await tg.press(CAMILLE, card["message_id"], "h1:dis:1")
    reasons = tg.card_of(1)["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in reasons] == [
        "h1:why:1:nr",
        "h1:why:1:sp",
        "h1:why:1:du",
        "h1:why:1:he",
        "h1:why:1:ot",
        "h1:back:1",
    ]
    await tg.press(CAMILLE, card["message_id"], "h1:back:1")
    assert tg.card_of(1)["reply_markup"] == card["reply_markup"]
    await tg.press(CAMILLE, card["message_id"], "h1:dis:1")
    await tg.press(CAMILLE, card["message_id"], "h1:why:1:sp")
    assert tg.case(1).state is CaseState.DISMISSED
    assert tg.core.review.audit_log(1)[0]["reason"] == "spam"
    card = tg.card_of(1)
    assert card["text"].startswith("🗑 Cas n°1")
    assert "🗑 Écarté" in card["text"]
    assert "reply_markup" not in card
    assert group_replies(tg) == []


async def test_a_member_cannot_even_open_the_dismiss_menu(tg: Harness) -> None:
    card = await open_complaint(tg)
    query = await tg.press(ALICE, card["message_id"], "h1:dis:1")
    assert answers(tg, query)[0]["text"] == "Seuls les modérateurs peuvent faire cela."
    assert tg.card_of(1)["reply_markup"] == card["reply_markup"]


async def test_snooze_and_mine_show_on_the_card(tg: Harness) -> None:
    card = await open_complaint(tg)
    query = await tg.press(CAMILLE, card["message_id"], "h1:snz:1")
    assert answers(tg, query)[0]["text"] == "Suspendu jusqu'au 2026-11-02 14:00 CET."
    await tg.press(CAMILLE, card["message_id"], "h1:mine:1")
    text = tg.card_of(1)["text"]
    assert "💤 Rappels suspendus jusqu'au 2026-11-02 14:00 CET" in text
    assert "✋ Pris en charge par Camille" in text


async def test_a_press_on_an_answered_case_says_why_nothing_happens(tg: Harness) -> None:
    card = await open_complaint(tg)
    await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    query = await tg.press(CAMILLE, card["message_id"], "h1:send:1")  # an old client's tap
    assert answers(tg, query)[0]["text"].startswith("Impossible : le cas n°1 est répondu")
    assert len(group_replies(tg)) == 1


async def test_forum_reply_goes_to_the_topic(tg: Harness) -> None:
    await tg.push(payload("forum_topic_question_en"))
    card = tg.card_of(1)
    assert "Atelier Forum (sujet 76)" in card["text"]
    assert "https://t.me/atelier_forum/76/312" in card["text"]
    await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    call = tg.fake.calls_to("sendMessage", chat_id=FORUM_ID)[0].params
    assert call["message_thread_id"] == 76
    assert call["reply_parameters"]["message_id"] == 312


async def test_private_question_reply_goes_to_the_private_chat(tg: Harness) -> None:
    await tg.push(payload("private_question_en"))
    card = tg.card_of(1)
    assert "👤 Bob · message privé" in card["text"]
    await tg.press(CAMILLE, card["message_id"], "h1:send:1")
    (reply,) = group_replies(tg, BOB["id"])
    assert reply["reply_to_message"]["message_id"] == 57


async def test_every_press_is_answered_exactly_once(tg: Harness) -> None:
    card = await open_complaint(tg)
    queries = [
        await tg.press(BOB, card["message_id"], "h1:send:1"),
        await tg.press(CAMILLE, card["message_id"], "nonsense"),
        await tg.press(CAMILLE, card["message_id"], "h1:mine:1"),
        await tg.press(CAMILLE, card["message_id"], "h1:send:1"),
        await tg.press(CAMILLE, card["message_id"], "h1:send:1"),
    ]
    assert [len(answers(tg, q)) for q in queries] == [1, 1, 1, 1, 1]
    assert all(c.status == 200 for c in tg.fake.calls_to("answerCallbackQuery"))


async def test_an_admin_of_another_group_cannot_act_on_this_groups_cases(tg: Harness) -> None:
    # Bob administers the forum, not the group where Alice complained.
    tg.fake.set_admins(FORUM_ID, CAMILLE, BOB)
    card = await open_complaint(tg)
    for data in ("h1:send:1", "h1:snz:1", "h1:mine:1", "h1:dis:1", "h1:edit:1"):
        query = await tg.press(BOB, card["message_id"], data)
        assert answers(tg, query)[0]["text"] == "Seuls les modérateurs peuvent faire cela."
    await tg.say(
        MOD_ID, BOB, "/case 1", entities=[{"type": "bot_command", "offset": 0, "length": 5}]
    )
    assert tg.fake.bot_messages(MOD_ID)[-1]["text"] == "Seuls les modérateurs peuvent faire cela."
    await tg.say(
        MOD_ID, BOB, "/cases", entities=[{"type": "bot_command", "offset": 0, "length": 6}]
    )
    assert "Alice" not in tg.fake.bot_messages(MOD_ID)[-1]["text"]
    assert group_replies(tg) == []
    assert tg.core.review.audit_log(1) == []
    assert tg.case(1).state is CaseState.SUGGESTED


async def test_a_reply_left_sending_by_a_crash_shows_its_doubt_on_the_card_after_restart(
    tg: Harness,
) -> None:
    card = await open_complaint(tg)
    # The process dies after recording the approval, before (or while) posting the reply.
    camille = await tg.bot.actor(_user(CAMILLE), str(GROUP_ID))
    tg.core.review.approve(camille, 1)
    await tg.restart()
    await tg.bot.drain()
    shown = tg.card_of(1)
    buttons = [b["callback_data"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    assert "h1:ok:1" in buttons
    assert "h1:again:1" in buttons
    assert "h1:send:1" not in buttons
    assert group_replies(tg) == []  # never re-sent blindly
    await tg.press(CAMILLE, card["message_id"], "h1:ok:1")
    assert tg.core.review.outbox()[0].state is SendState.SENT
    assert group_replies(tg) == []


def _user(data: dict[str, Any]) -> Any:
    from telegram import User

    return User.de_json(data, None)
