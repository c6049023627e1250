"""Two communities on one bot: cases, staff and language stay in their own community.

The bot's first community keeps the defaults; the second (`[communities."platform:id"]`) has
its own language and its own moderator, who moderates nothing in the first. Only platforms
whose test world has a second community the bot listens to can run this (GAPS otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

import pytest

from bot.config import Config, community_key
from tests.adapters.discord.fake_discord import BOB as DISCORD_BOB
from tests.adapters.discord.fake_discord import GUILD2, REVIEW2
from tests.adapters.telegram.world import BOB, FORUM_ID
from tests.contract.business_driver import SECOND_COMMUNITY as BUSINESS_SECOND
from tests.contract.business_driver import SECOND_PLACE as BUSINESS_SECOND_PLACE
from tests.contract.console_driver import SECOND_COMMUNITY, SECOND_MODERATOR
from tests.contract.driver import CardAction, PlatformDriver, Who

GAPS: dict[tuple[str, str], tuple[str, type[BaseException]]] = {}
# The second community of each platform's world, and who moderates only it.
SECOND = {
    "telegram": (str(FORUM_ID), f"telegram:{BOB['id']}"),
    "discord": (GUILD2, f"discord:{DISCORD_BOB.id}"),
    "console": (SECOND_COMMUNITY, SECOND_MODERATOR),
    # Bob's own business account: he owns it, so he moderates it (and only it).
    "telegram-business": (BUSINESS_SECOND, f"telegram:{BOB['id']}"),
}
# The platform a driver's configuration speaks of: Telegram Business is the Telegram adapter.
CONFIG_PLATFORM = {"telegram-business": "telegram"}
# Where the second community's cards go, when not the bot's default review place: a second
# Discord server has its own moderators' channel.
SECOND_PLACE = {"discord": REVIEW2, "telegram-business": str(BUSINESS_SECOND_PLACE)}


@pytest.fixture(autouse=True)
def _known_gaps(request: pytest.FixtureRequest) -> None:
    callspec = getattr(request.node, "callspec", None)
    platform = str(callspec.params.get("platform")) if callspec else ""
    gap = GAPS.get((request.node.originalname, platform))
    if gap is not None:
        reason, raises = gap
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=reason, raises=raises))


@pytest.fixture
def contract_config() -> Callable[[Config], Config]:
    """The second community speaks the other language and has its own moderator (Bob)."""

    def two(config: Config) -> Config:
        other = "en" if config.community.language == "fr" else "fr"
        overrides = {}
        for platform, (community, moderator) in SECOND.items():
            key = community_key(CONFIG_PLATFORM.get(platform, platform), community)
            overrides[key] = replace(
                config,
                community=replace(
                    config.community,
                    language=other,
                    name="Second",
                    review_place=SECOND_PLACE.get(platform, config.community.review_place),
                ),
                staff=replace(config.staff, user_ids=config.staff.user_ids | {moderator}),
            )
        return replace(config, communities=MappingProxyType(overrides))

    return two


async def test_two_communities_keep_apart_cases_staff_and_language(
    platform: PlatformDriver,
) -> None:
    await platform.member_says("How do I reset my password?")
    await platform.member_says_elsewhere("How do I reset my password?")
    first, second = await platform.cases()
    assert first.community != second.community
    # Each card speaks its own community's language.
    first_card, second_card = await platform.card(first.id), await platform.card(second.id)
    assert ("cas n°" in first_card.text.casefold()) != ("cas n°" in second_card.text.casefold())
    # The second community's moderator decides there, and nowhere else.
    refused = await platform.press(Who.MEMBER, CardAction.APPROVE, first.id)
    assert (await platform.case(first.id)).state.waiting, refused
    await platform.press(Who.MEMBER, CardAction.APPROVE, second.id)
    assert not (await platform.case(second.id)).state.waiting
    (reply,) = await platform.outbox()
    assert reply.community == second.community  # posted there, nothing in the first
    assert platform.replies() == []  # the first community's place got nothing


async def test_each_community_gets_its_own_digest_once(platform: PlatformDriver) -> None:
    await platform.member_says("How do I reset my password?")  # Monday, past the digest's hour
    await platform.member_says_elsewhere("Where do I find the invoice for my order?")
    await platform.tick(timedelta(minutes=1))
    await platform.restart()
    await platform.tick(timedelta(hours=1))

    def digests() -> list[str]:
        return [text for text in platform.moderator_place_texts() if "📋" in text]

    # Two digests, once each, and neither names the other community's member's words.
    first, second = sorted(digests(), key=lambda text: "invoice" in text)
    assert "password" in first
    assert "invoice" not in first
    assert "invoice" in second
    assert "password" not in second
