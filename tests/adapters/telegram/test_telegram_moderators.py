"""End to end, the moderators' chat: commands, reminders, the weekly digest, card upkeep."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from adapters.telegram.convert import utf16_len
from bot.clock import ManualClock
from bot.config import community_key
from bot.models import Outgoing, SendState
from tests.adapters.telegram.conftest import Harness, telegram_config
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.world import (
    ALICE,
    BOB,
    CAMILLE,
    FORUM_ID,
    GROUP_ID,
    MOD_ID,
    SHOP_STAFF_ID,
    TOKEN_ENV,
    payload,
)


def last_text(tg: Harness) -> str:
    return str(tg.fake.bot_messages(MOD_ID)[-1]["text"])


async def command(tg: Harness, user: dict[str, object], text: str) -> None:
    name = text.split()[0]
    await tg.say(
        MOD_ID, user, text, entities=[{"type": "bot_command", "offset": 0, "length": len(name)}]
    )


async def test_cases_lists_waiting_cases_for_staff_only(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    await tg.push(payload("private_question_en"))
    await command(tg, BOB, "/cases")
    assert last_text(tg) == "Seuls les modérateurs peuvent faire cela."
    await command(tg, CAMILLE, "/cases")
    listing = last_text(tg)
    assert listing.startswith("📋 2 en attente, objectif le plus proche d'abord :")
    assert listing.index("#1 · réclamation · Alice Martin") < listing.index("#2 · question · Bob")


async def test_case_moves_the_card_to_the_bottom(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    old = tg.card_of(1)
    await command(tg, CAMILLE, "/case 1")
    new = tg.card_of(1)
    assert new["message_id"] > old["message_id"]
    assert new["text"] == old["text"]
    assert "reply_markup" not in tg.fake.messages[(MOD_ID, old["message_id"])]
    query = await tg.press(CAMILLE, old["message_id"], "h1:send:1")  # the old card is stale
    answer = tg.fake.calls_to("answerCallbackQuery", callback_query_id=query)[0].params
    assert answer["text"] == "Ce bouton n'est plus valable."
    await tg.press(CAMILLE, new["message_id"], "h1:send:1")
    assert len(tg.fake.bot_messages(GROUP_ID)) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("/case", "Écrivez /case et un numéro"), ("/case 42", "Il n'y a pas de cas n°42.")],
)
async def test_case_explains_itself(tg: Harness, text: str, expected: str) -> None:
    await command(tg, CAMILLE, text)
    assert last_text(tg).startswith(expected)


async def test_report_for_staff(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    await command(tg, CAMILLE, "/report@huitaine_bot")
    report = last_text(tg)
    assert report.startswith("Rapport Huitaine — 2026-11-02 10:00 CET")
    assert "#1 Alice Martin" in report
    await command(tg, BOB, "/report")
    assert last_text(tg) == "Seuls les modérateurs peuvent faire cela."


def texts_in(fake: FakeBotApi, chat: int, prefix: str) -> list[str]:
    return [m["text"] for m in fake.bot_messages(chat) if m["text"].startswith(prefix)]


def bot_texts(tg: Harness, prefix: str) -> list[dict[str, Any]]:
    return [m for m in tg.fake.bot_messages(MOD_ID) if m["text"].startswith(prefix)]


async def test_reminders_and_escalation_go_under_the_card(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    card = tg.card_of(1)
    assert tg.runtime is not None
    tg.clock.advance(timedelta(hours=22, minutes=30))
    (notice,) = await tg.runtime.tick()
    (reminder,) = bot_texts(tg, "⏰")
    assert reminder["text"] == notice.text
    assert reminder["text"].startswith("⏰ Cas n°1 : Alice Martin attend une réponse")
    assert reminder["reply_to_message"]["message_id"] == card["message_id"]
    tg.clock.advance(timedelta(days=7))
    delivered = await tg.runtime.tick()
    assert delivered[-1].kind.value == "escalation"
    (escalation,) = bot_texts(tg, "🚨")
    assert escalation["text"].startswith("🚨 @moderators Cas n°1")
    assert escalation["reply_to_message"]["message_id"] == card["message_id"]
    assert await tg.runtime.tick() == []


async def test_a_failed_notice_is_delivered_on_the_next_tick(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    tg.clock.advance(timedelta(hours=22, minutes=30))
    tg.fake.fail("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    assert tg.runtime is not None
    assert await tg.runtime.tick() == []
    assert len(await tg.runtime.tick()) == 1


async def test_the_core_weekly_digest_is_posted_once_a_week(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    assert tg.runtime is not None
    # Monday 10:00 in Paris: this week's digest (due at 09:00) goes out on the first tick.
    await tg.runtime.tick()
    await tg.runtime.tick()
    (digest,) = bot_texts(tg, "📋 Bilan de la semaine")
    assert "#1 Alice Martin" in digest["text"]
    tg.clock.advance(timedelta(days=7))
    await tg.runtime.tick()
    assert len(bot_texts(tg, "📋 Bilan de la semaine")) == 2


async def test_a_long_reply_is_split_and_chained(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    paragraph = ("Merci pour votre patience. " * 50).strip()
    text = "\n\n".join([paragraph] * 7)  # about 9,500 characters
    item = Outgoing(
        id=99,
        case_id=1,
        platform="telegram",
        community=str(GROUP_ID),
        channel=str(GROUP_ID),
        thread=None,
        reply_to="4201",
        member_id="111111111",
        text=text,
        state=SendState.SENDING,
        approved_by="Camille",
        created_at=tg.clock.now(),
    )
    first = await tg.bot.send_reply(item)
    parts = tg.fake.bot_messages(GROUP_ID)
    assert len(parts) == 3
    assert all(utf16_len(p["text"]) <= 4096 for p in parts)
    assert first == str(parts[0]["message_id"])
    assert parts[0]["reply_to_message"]["message_id"] == 4201
    assert parts[1]["reply_to_message"]["message_id"] == parts[0]["message_id"]
    assert parts[2]["reply_to_message"]["message_id"] == parts[1]["message_id"]


async def test_a_card_is_only_edited_when_it_changes(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await tg.push(payload("group_complaint_fr"))
    assert tg.runtime is not None
    with caplog.at_level(logging.ERROR):
        await tg.runtime.refresh(1)  # Telegram answers "message is not modified"
        await tg.bot.drain()
    assert len(tg.fake.calls_to("editMessageText")) == 1
    assert len(tg.cards()) == 1
    assert caplog.text == ""


async def test_a_deleted_card_is_posted_again(tg: Harness) -> None:
    await tg.push(payload("group_complaint_fr"))
    old = tg.card_of(1)
    del tg.fake.messages[(MOD_ID, old["message_id"])]  # someone deleted it
    await tg.push(payload("staff_reply_fr"))
    new = tg.card_of(1)
    assert new["message_id"] != old["message_id"]
    assert "Répondu par Camille" in new["text"]


async def test_the_token_never_reaches_the_logs(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await tg.push(payload("group_complaint_fr"))
    tg.fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await tg.press(CAMILLE, tg.card_of(1)["message_id"], "h1:send:1")
    assert "HTTP Request: POST" in caplog.text  # httpx did log the URLs…
    assert tg.fake.token not in caplog.text  # …with the token masked
    assert tg.fake.token.split(":")[1] not in caplog.text


async def test_flood_control_in_the_moderators_chat_does_not_hold_up_members(
    tg: Harness,
) -> None:
    tg.fake.fail(
        "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=MOD_ID
    )
    tg.sleep.hold()  # the flood limit's wait lasts until the test says so
    tg.fake.push_update(payload("group_complaint_fr"))
    tg.fake.say(GROUP_ID, BOB, "Bonjour tout le monde")
    tg.seen += 2
    async with asyncio.timeout(5):
        await tg.bot.wait_handled(tg.seen)
    await tg.sleep.called()
    # Both messages are stored while the card still waits out the flood limit.
    assert len(tg.core.store.rows("SELECT key FROM messages")) == 2
    assert tg.core.cards.for_case(1, "telegram") is None
    assert tg.sleep.waits == [1.0]
    tg.sleep.release()
    await tg.bot.drain()
    assert tg.card_of(1)["text"].startswith("🔔 Cas n°1")
    assert [c.status for c in tg.fake.calls_to("sendMessage", chat_id=MOD_ID)] == [429, 200]


class Killed(Exception):
    """Stands for a SIGKILL between posting a notice and recording it as delivered."""


async def test_notices_are_at_least_once_a_kill_after_posting_repeats_never_loses(
    tg: Harness,
) -> None:
    from adapters.telegram.sending import NOTICE_DELIVERY

    assert NOTICE_DELIVERY == "at-least-once"  # the README states this choice
    await tg.push(payload("group_complaint_fr"))
    tg.clock.advance(timedelta(hours=22, minutes=30))
    assert tg.runtime is not None
    mark = tg.core.scheduler.mark_delivered

    def killed(notice_id: int, when: object) -> None:
        raise Killed

    tg.core.scheduler.mark_delivered = killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await tg.runtime.tick()
    tg.core.scheduler.mark_delivered = mark  # type: ignore[method-assign]
    assert len(await tg.runtime.tick()) == 1
    assert await tg.runtime.tick() == []
    assert len(bot_texts(tg, "⏰")) == 2  # posted again after the "restart": never lost


async def test_a_community_with_its_own_review_place_gets_its_cards_and_digest_there(
    fake: FakeBotApi, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = telegram_config(fake)
    # The forum's moderators have a chat of their own; the group keeps the default one.
    forum = replace(config, community=replace(config.community, review_place=str(SHOP_STAFF_ID)))
    key = community_key("telegram", str(FORUM_ID))
    tg = Harness(fake, replace(config, communities=MappingProxyType({key: forum})), clock, db_path)
    await tg.start()
    try:
        await tg.say(GROUP_ID, ALICE, "Comment réinitialiser mon mot de passe ?")
        await tg.say(FORUM_ID, BOB, "Où trouver la facture de ma commande ?")
        group_case, forum_case = tg.core.cases.list()
        assert tg.card_of(group_case.id)["chat"]["id"] == MOD_ID
        assert tg.card_of(forum_case.id)["chat"]["id"] == SHOP_STAFF_ID
        assert tg.runtime is not None
        await tg.runtime.tick()  # Monday 10:00 in Paris: past the digest's hour
        (group,) = texts_in(fake, MOD_ID, "📋")
        assert "Alice" in group
        assert "facture" not in group
        (own,) = texts_in(fake, SHOP_STAFF_ID, "📋")
        assert "facture" in own
        assert "Alice" not in own
        # The forum's reminders go in its own place too.
        clock.advance(timedelta(hours=46))
        await tg.runtime.tick()
        forum_reminder = f"⏰ Cas n°{forum_case.id} "
        assert any(t.startswith(forum_reminder) for t in texts_in(fake, SHOP_STAFF_ID, "⏰"))
        assert not any(t.startswith(forum_reminder) for t in texts_in(fake, MOD_ID, "⏰"))
        # A press on the card in that chat counts: the reply goes to the forum, once.
        card = tg.card_of(forum_case.id)
        await tg.press(CAMILLE, card["message_id"], f"h1:send:{forum_case.id}", chat=SHOP_STAFF_ID)
        (reply,) = fake.bot_messages(FORUM_ID)
        assert reply["reply_to_message"]["from"]["id"] == BOB["id"]
        assert not tg.case(forum_case.id).state.waiting
    finally:
        await tg.stop()
