"""End to end: a helper answers in the group; the card offers "confirm" and "take over".

The buttons' data is checked twice: the press must be on that case's card (forged data naming
another case is refused as stale), then the core judges the presser and the case (a replayed
press after the decision is refused with the core's reason).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram.keyboard import Act, Callback, decode, encode
from bot.clock import ManualClock
from bot.models import Answerer, CaseState
from tests.adapters.telegram.conftest import Harness, telegram_config
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.world import ALICE, BOB, CAMILLE, GROUP_ID, TOKEN_ENV

HANA: dict[str, Any] = {"id": 555555555, "is_bot": False, "first_name": "Hana"}


@pytest.fixture
async def helped(
    fake: FakeBotApi, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The French world with Hana as a helper; Alice asks, Hana answers her."""
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = telegram_config(fake)
    config = replace(
        config, staff=replace(config.staff, helper_ids=frozenset({f"telegram:{HANA['id']}"}))
    )
    tg = Harness(fake, config, clock, db_path)
    await tg.start()
    try:
        question = await tg.say(GROUP_ID, ALICE, "Comment réinitialiser mon mot de passe ?")
        await tg.say(
            GROUP_ID, HANA, "Va dans Réglages puis Réinitialiser", reply_to=question["message_id"]
        )
        yield tg
    finally:
        await tg.stop()


def buttons(card: dict[str, Any]) -> list[tuple[str, str]]:
    rows = card.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


def told(tg: Harness, query: str) -> str:
    calls = tg.fake.calls_to("answerCallbackQuery", callback_query_id=query)
    return " ".join(str(c.params.get("text", "")) for c in calls)


def test_the_helper_buttons_round_trip_and_odd_data_is_refused() -> None:
    for act in (Act.HELPER_OK, Act.TAKE_OVER):
        assert decode(encode(Callback(act, 42))) == Callback(act, 42)
    assert decode("h1:hok:7").action is Act.HELPER_OK
    assert decode("h1:take:7").action is Act.TAKE_OVER
    for forged in ("h1:hok:0", "h1:hok:7:nr", "h1:take:", "h1:takes:7", "h1:hok:7\n"):
        with pytest.raises(ValueError, match=r"."):
            decode(forged)


async def test_a_helpers_answer_offers_confirm_and_take_over_in_french(helped: Harness) -> None:
    tg = helped
    card = tg.card_of(1)
    assert "🤝 Répondu par la communauté (Hana)" in card["text"]
    assert buttons(card) == [
        ("🤝 Confirmer la réponse du membre", "h1:hok:1"),
        ("✋ Reprendre", "h1:take:1"),
    ]


async def test_confirm_is_for_moderators_once_and_on_that_cards_only(helped: Harness) -> None:
    tg = helped
    card = tg.card_of(1)
    # Bob moderates nothing: refused, nothing changes.
    query = await tg.press(BOB, card["message_id"], "h1:hok:1")
    assert told(tg, query) == "Seuls les modérateurs peuvent faire cela."
    assert tg.case(1).answered_by_community
    # Forged data naming another case on this card: refused as stale.
    query = await tg.press(CAMILLE, card["message_id"], "h1:hok:2")
    assert told(tg, query) == "Ce bouton n'est plus valable."
    query = await tg.press(CAMILLE, card["message_id"], "h1:hok:1")
    assert told(tg, query) == "La réponse de la communauté est confirmée."
    case = tg.case(1)
    assert case.helper_confirmed
    assert case.answered_as is Answerer.HELPER
    card = tg.card_of(1)
    assert "🤝 La réponse de la communauté est confirmée." in card["text"]
    assert buttons(card) == []
    # The same press replayed: the core says why nothing more happens.
    query = await tg.press(CAMILLE, card["message_id"], "h1:hok:1")
    refusal = "Impossible : le cas n°1 n'a pas reçu de réponse de la communauté"
    assert told(tg, query) == refusal
    assert [d["action"] for d in tg.core.review.audit_log(1)].count("confirm_helper") == 1
    assert tg.fake.bot_messages(GROUP_ID) == []  # nothing was said in the group


async def test_take_over_gives_the_case_back_to_the_moderator(helped: Harness) -> None:
    tg = helped
    card = tg.card_of(1)
    query = await tg.press(CAMILLE, card["message_id"], "h1:take:1")
    assert told(tg, query) == "Le cas vous revient : il attend votre réponse."
    case = tg.case(1)
    assert case.state in (CaseState.OPEN, CaseState.SUGGESTED)
    assert case.assignee == "Camille"
    card = tg.card_of(1)
    assert "✋ Pris en charge par Camille" in card["text"]
    data = [d for _, d in buttons(card)]
    assert "h1:send:1" in data
    assert "h1:take:1" not in data
    # A replayed "take over" on a case that waits again is refused, not applied twice.
    query = await tg.press(CAMILLE, card["message_id"], "h1:take:1")
    assert told(tg, query).startswith("Impossible : ")


async def test_the_buttons_speak_english_in_an_english_community(
    fake: FakeBotApi, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    config = telegram_config(fake)
    config = replace(
        config,
        community=replace(config.community, language="en"),
        staff=replace(config.staff, helper_ids=frozenset({f"telegram:{HANA['id']}"})),
    )
    tg = Harness(fake, config, clock, db_path)
    await tg.start()
    try:
        question = await tg.say(GROUP_ID, ALICE, "How do I reset my password?")
        await tg.say(GROUP_ID, HANA, "Settings, then Reset", reply_to=question["message_id"])
        card = tg.card_of(1)
        assert "🤝 Answered by the community (Hana)" in card["text"]
        assert [label for label, _ in buttons(card)] == [
            "🤝 Confirm the helper's answer",
            "✋ Take over",
        ]
    finally:
        await tg.stop()
