"""One bot in two Discord servers: each server's cases, moderators and language stay its own.

The second server ([communities."discord:<GUILD2>"]) speaks French, reviews in its own channel
and is moderated by Bob, by id. Camille's Moderator role is the first server's: it gives her
nothing in the second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

import pytest

from adapters.discord import ids
from adapters.discord.ids import Action
from bot.clock import ManualClock
from bot.config import Config, community_key
from tests.adapters.discord import dpy_seams
from tests.adapters.discord.conftest import StartBot, discord_config
from tests.adapters.discord.fake_discord import (
    ALICE,
    BOB,
    CAMILLE,
    GUILD,
    GUILD2,
    HELP,
    HELP2,
    REVIEW,
    REVIEW2,
    FakeDiscord,
)

QUESTION = "Bonjour, comment réinitialiser mon mot de passe ?"


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeDiscord]:
    """The fake Discord with its second server."""
    server = FakeDiscord(clock.now, second_guild=True)
    base = await server.start()
    with dpy_seams.pointed_at(base):
        yield server
    await server.stop()


def two_servers() -> Config:
    """The first server as the Discord tests know it; the second French, Bob's, reviewed apart."""
    config = discord_config(guild_ids=[int(GUILD), int(GUILD2)])
    second = replace(
        config,
        community=replace(config.community, language="fr", review_place=REVIEW2),
        staff=replace(config.staff, user_ids=frozenset({f"discord:{BOB.id}"})),
    )
    return replace(
        config, communities=MappingProxyType({community_key("discord", GUILD2): second})
    )


async def test_the_second_servers_case_is_reviewed_there_in_its_language_by_its_moderator(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot(two_servers())
    await fake.say(ALICE, HELP2, QUESTION)
    (card,) = await fake.wait_for(lambda: fake.channel_posts(REVIEW2))
    assert fake.channel_posts(REVIEW) == []  # not in the first server's review channel
    embed = card.body["embeds"][0]
    assert embed["footer"]["text"] == "Huitaine · cas n°1"
    assert embed["url"].startswith(f"https://discord.com/channels/{GUILD2}/{HELP2}/")
    send = ids.make(Action.SEND, 1)
    assert {c["label"] for row in card.body["components"] for c in row["components"]} >= {
        "Envoyer",
        "Modifier",
    }

    # Camille moderates the first server only: refused, in the second server's language.
    camille = await fake.press(CAMILLE, card.id, send)
    assert await fake.answer_text(camille) == (
        "Seuls les modérateurs peuvent agir sur les cas. Rien n'a été modifié."
    )
    assert (await bot.runtime.call(bot.core.cases.get, 1)).state.waiting
    bob = await fake.press(BOB, card.id, send)
    assert (await fake.answer_text(bob)).startswith("✅ Réponse publiée")
    (reply,) = fake.channel_posts(HELP2)
    assert str(reply.body["message_reference"]["guild_id"]) == GUILD2
    assert fake.channel_posts(HELP) == []


async def test_the_first_servers_moderator_is_not_the_seconds_and_back(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot(two_servers())
    await fake.say(ALICE, HELP, "Hi, how do I reset my password?")
    (card,) = await fake.wait_for(lambda: fake.channel_posts(REVIEW))
    assert card.body["embeds"][0]["footer"]["text"] == "Huitaine · case #1"  # English here
    # Bob moderates the second server, by id: nothing in the first.
    bob = await fake.press(BOB, card.id, ids.make(Action.SEND, 1))
    assert await fake.answer_text(bob) == "Only moderators can act on cases. Nothing was changed."
    assert (await bot.runtime.call(bot.core.cases.get, 1)).state.waiting
    assert fake.channel_posts(REVIEW2) == []


async def test_the_second_server_is_not_pinged_with_the_first_servers_role(
    fake: FakeDiscord, start_bot: StartBot, clock: ManualClock
) -> None:
    bot = await start_bot(two_servers())
    await fake.say(ALICE, HELP2, QUESTION)
    await fake.wait_for(lambda: fake.channel_posts(REVIEW2))
    clock.advance(timedelta(days=8))  # past the one-week limit
    await bot.runtime.tick()
    (escalation,) = (p for p in fake.channel_posts(REVIEW2) if "🚨" in (p.body["content"] or ""))
    # [discord] escalation_role is a role of the first server: the second has none to ping.
    assert escalation.body["content"].startswith("🚨")
    assert "Cas n°1" in escalation.body["content"]  # the second server's language
    assert escalation.body["allowed_mentions"] == {"parse": []}
    assert fake.channel_posts(REVIEW) == []
