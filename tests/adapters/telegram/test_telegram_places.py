"""End to end: /cases, /case and /report in each community's own moderators' chat.

The group keeps the default moderators' chat and French; the forum has its own chat, speaks
English and has its own moderator (Bob, by id). Camille administers the group only here. Each
chat answers for its own community, in its language, and tells the other's moderator nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from bot.clock import ManualClock
from bot.config import community_key
from tests.adapters.telegram.conftest import Harness, telegram_config
from tests.adapters.telegram.fake_bot_api import FakeBotApi
from tests.adapters.telegram.world import (
    ALICE,
    BOB,
    CAMILLE,
    DOMINIQUE,
    FORUM_ID,
    GROUP_ID,
    MOD_ID,
    SHOP_STAFF_ID,
    TOKEN_ENV,
)

GROUP_QUESTION = "Comment réinitialiser mon mot de passe ?"
FORUM_QUESTION = "Where do I find the invoice for my order?"


@pytest.fixture
async def two(
    fake: FakeBotApi, clock: ManualClock, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """Both communities, each with a waiting question: the group's case 1, the forum's 2."""
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    fake.set_admins(FORUM_ID, DOMINIQUE)  # Camille moderates the group, not the forum
    config = telegram_config(fake)
    forum = replace(
        config,
        community=replace(
            config.community, language="en", name="Forum", review_place=str(SHOP_STAFF_ID)
        ),
        staff=replace(config.staff, user_ids=frozenset({f"telegram:{BOB['id']}"})),
        review=replace(config.review, snooze=timedelta(hours=2)),
    )
    key = community_key("telegram", str(FORUM_ID))
    tg = Harness(fake, replace(config, communities=MappingProxyType({key: forum})), clock, db_path)
    await tg.start()
    try:
        await tg.say(GROUP_ID, ALICE, GROUP_QUESTION)
        await tg.say(FORUM_ID, ALICE, FORUM_QUESTION)
        yield tg
    finally:
        await tg.stop()


async def command(tg: Harness, chat: int, user: dict[str, object], text: str) -> str:
    """`user` types `text` in `chat`; the bot's last message there."""
    name = text.split()[0]
    entities = [{"type": "bot_command", "offset": 0, "length": len(name)}]
    await tg.say(chat, user, text, entities=entities)
    return str(tg.fake.bot_messages(chat)[-1]["text"])


async def test_cases_in_a_communitys_own_chat_lists_that_community_only(two: Harness) -> None:
    listing = await command(two, SHOP_STAFF_ID, BOB, "/cases")
    assert listing.startswith("📋 1 waiting, soonest target first:")  # the forum's English
    assert "#2 · question" in listing
    assert "invoice" in listing
    assert "mot de passe" not in listing
    # The group's moderator, in the forum's chat: refused, and shown nothing of the forum.
    refused = await command(two, SHOP_STAFF_ID, CAMILLE, "/cases")
    assert refused == "Only moderators can do this."
    # In the default chat, Camille sees the group's case and nothing of the forum.
    listing = await command(two, MOD_ID, CAMILLE, "/cases")
    assert listing.startswith("📋 1 en attente")
    assert "mot de passe" in listing
    assert "invoice" not in listing


async def test_report_in_a_communitys_own_chat_reports_on_that_community(two: Harness) -> None:
    report = await command(two, SHOP_STAFF_ID, BOB, "/report")
    assert report.startswith("Huitaine report")
    assert "#2 Alice Martin (question, 0 min): Where do I find the invoice" in report
    assert "mot de passe" not in report
    assert "#1 " not in report
    refused = await command(two, SHOP_STAFF_ID, CAMILLE, "/report")
    assert refused == "Only moderators can do this."
    # The default chat's report leaves the forum out, even for Bob, who moderates it.
    group = await command(two, MOD_ID, CAMILLE, "/report")
    assert group.startswith("Rapport Huitaine")
    assert "#1 Alice Martin (question, 0 min): Comment réinitialiser" in group
    assert "#2 " not in group
    assert await command(two, MOD_ID, BOB, "/report") == (
        "Seuls les modérateurs peuvent faire cela."
    )


async def test_case_in_a_communitys_own_chat_shows_its_cases_only(two: Harness) -> None:
    before = two.card_of(2)
    await command(two, SHOP_STAFF_ID, BOB, "/case 2")
    after = two.card_of(2)
    assert after["chat"]["id"] == SHOP_STAFF_ID
    assert after["message_id"] > before["message_id"]
    # The forum's moderator, in the forum's chat, asking for the group's case: refused.
    refused = await command(two, SHOP_STAFF_ID, BOB, "/case 1")
    assert refused == "Only moderators can do this."
    assert two.card_of(1)["chat"]["id"] == MOD_ID


async def test_the_snooze_button_holds_reminders_as_long_as_the_community_says(
    two: Harness,
) -> None:
    now = two.clock.now()
    forum_card = two.card_of(2)
    await two.press(BOB, forum_card["message_id"], "h1:snz:2", chat=SHOP_STAFF_ID)
    assert two.case(2).snoozed_until == now + timedelta(hours=2)  # the forum's own snooze
    group_card = two.card_of(1)
    await two.press(CAMILLE, group_card["message_id"], "h1:snz:1")
    assert two.case(1).snoozed_until == now + two.config.review.snooze  # the default
    assert two.config.review.snooze != timedelta(hours=2)
