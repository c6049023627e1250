"""A helper's answer on Discord: the card offers "confirm" and "take over", and only them.

Hugo holds the server's Helper role ([staff] helper_roles): his reply answers the case "by the
community". Camille (Moderator) confirms his answer or takes the case back; Bob (no role) cannot.
Every press is checked by the core; a replayed or forged button is refused in words.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from adapters.discord import ids
from adapters.discord.ids import Action
from bot.config import Config, community_key
from bot.models import Answerer, CaseState
from tests.adapters.discord.conftest import Running, StartBot, discord_config
from tests.adapters.discord.fake_discord import (
    ALICE,
    BOB,
    CAMILLE,
    GUILD,
    HELP,
    HELPER,
    REVIEW,
    FakeDiscord,
    Post,
)

QUESTION = "Hi, how do I reset my password?"


def helpers_config(language: str = "en") -> Config:
    """The fake guild, with the Helper role answering for the community, in `language`."""
    config = discord_config()
    config = replace(config, staff=replace(config.staff, helper_roles=frozenset({"helper"})))
    if language == config.community.language:
        return config
    own = replace(config, community=replace(config.community, language=language))
    return replace(config, communities=MappingProxyType({community_key("discord", GUILD): own}))


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """custom id → label of every button on a message."""
    return {
        c["custom_id"]: c.get("label", "")
        for row in message.get("components", [])
        for c in row["components"]
    }


async def helped(fake: FakeDiscord, bot: Running) -> Post:
    """Alice asks, Hugo answers her; return the card once it shows the helper's answer."""
    await fake.say(ALICE, HELP, QUESTION)
    (card,) = await fake.wait_for(lambda: fake.channel_posts(REVIEW))
    asked = next(m for m in fake.messages.values() if m["content"] == QUESTION)
    await fake.say(HELPER, HELP, "Settings, then Reset", reply_to=asked["id"])
    await fake.wait_for(lambda: ids.make(Action.TAKE_OVER, 1) in buttons(fake.messages[card.id]))
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert case.answered_as is Answerer.HELPER
    return card


async def test_the_card_of_a_helpers_answer_offers_confirm_and_take_over(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot(helpers_config())
    card = await helped(fake, bot)
    shown = fake.messages[card.id]
    assert buttons(shown) == {
        ids.make(Action.HELPER_OK, 1): "Confirm the helper's answer",
        ids.make(Action.TAKE_OVER, 1): "Take over",
    }
    fields = {f["name"]: f["value"] for f in shown["embeds"][0]["fields"]}
    assert fields["Answered by the community"].startswith("A helper answered")
    assert fake.channel_posts(HELP) == []  # the bot said nothing


async def test_a_moderator_confirms_once_and_a_replay_is_refused(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot(helpers_config())
    card = await helped(fake, bot)
    confirm = ids.make(Action.HELPER_OK, 1)

    bob = await fake.press(BOB, card.id, confirm)
    assert await fake.answer_text(bob) == (
        "Only moderators can act on cases. Nothing was changed."
    )
    camille = await fake.press(CAMILLE, card.id, confirm)
    assert await fake.answer_text(camille) == "Case #1: the helper's answer is confirmed."
    await fake.wait_for(lambda: buttons(fake.messages[card.id]) == {})
    # The same button pressed again (an old copy of the card): nothing is recorded twice.
    again = await fake.press(CAMILLE, card.id, confirm, forge=True)
    assert await fake.answer_text(again) == (
        "Refused: case 1 was not answered by the community. Nothing was changed."
    )
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert (case.state, case.helper_confirmed) == (CaseState.ANSWERED, True)
    log = await bot.runtime.call(bot.core.review.audit_log, 1)
    assert [row["action"] for row in log] == ["confirm_helper"]


async def test_a_moderator_takes_over_and_the_case_waits_for_them(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    bot = await start_bot(helpers_config())
    card = await helped(fake, bot)
    take = ids.make(Action.TAKE_OVER, 1)
    pressed = await fake.press(CAMILLE, card.id, take)
    assert await fake.answer_text(pressed) == ("Case #1 is yours again: it waits for your reply.")
    await fake.wait_for(lambda: ids.make(Action.SEND, 1) in buttons(fake.messages[card.id]))
    assert take not in buttons(fake.messages[card.id])
    case = await bot.runtime.call(bot.core.cases.get, 1)
    assert case.state.waiting
    assert case.assignee == "Camille"
    again = await fake.press(CAMILLE, card.id, take, forge=True)
    assert "Refused: case 1 was not answered by the community" in await fake.answer_text(again)
    assert (await bot.runtime.call(bot.core.cases.get, 1)).assignee == "Camille"


async def test_forged_helper_buttons_are_refused(fake: FakeDiscord, start_bot: StartBot) -> None:
    bot = await start_bot(helpers_config())
    card = await helped(fake, bot)
    for forged in ("huitaine:v1:takeover:1:0", "huitaine:v1:helperok:0", "huitaine:v1:takeover:x"):
        pressed = await fake.press(CAMILLE, card.id, forged, forge=True)
        assert await fake.answer_text(pressed) == (
            "This button is not one Huitaine understands. Nothing was changed."
        )
    # A real button for a case that does not exist names the case.
    missing = await fake.press(CAMILLE, card.id, ids.make(Action.HELPER_OK, 99), forge=True)
    assert await fake.answer_text(missing) == "Case #99 does not exist. Nothing was changed."
    assert (await bot.runtime.call(bot.core.cases.get, 1)).answered_by_community


async def test_a_french_community_gets_a_french_card_and_answers(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    # [community] is English; [communities."discord:<the guild>"] says French.
    bot = await start_bot(helpers_config("fr"))
    card = await helped(fake, bot)
    shown = fake.messages[card.id]
    assert shown["embeds"][0]["title"] == "❓ Question n°1 · répondu"
    assert shown["embeds"][0]["footer"]["text"] == "Huitaine · cas n°1"
    assert set(buttons(shown).values()) == {"Confirmer la réponse de l'aidant", "Reprendre le cas"}
    bob = await fake.press(BOB, card.id, ids.make(Action.TAKE_OVER, 1))
    assert (await fake.answer_text(bob)).startswith("Seuls les modérateurs")
    camille = await fake.press(CAMILLE, card.id, ids.make(Action.TAKE_OVER, 1))
    assert (await fake.answer_text(camille)).startswith("Le cas n°1 est à nouveau le vôtre")
