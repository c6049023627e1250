"""Business hours through every adapter: a case opened Friday evening is due on Monday.

The community keeps Paris office hours (Monday to Friday, 09:00-18:00) and a 4 h target for
questions; the one-week limit stays calendar time whatever the hours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Config, HoursConfig
from tests.conftest import START
from tests.contract.driver import PlatformDriver

# START is Monday 2 November 2026, 09:00 UTC; Friday 6 November, 18:30 in Paris is 17:30 UTC.
FRIDAY_EVENING = datetime(2026, 11, 6, 17, 30, tzinfo=UTC)
# Four open hours from Monday 9 November 09:00 in Paris (08:00 UTC).
MONDAY_TARGET = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)


@pytest.fixture
def contract_config() -> Callable[[Config], Config]:
    """Paris office hours and a 4 h question target, on every platform."""

    def office(config: Config) -> Config:
        return replace(
            config,
            community=replace(config.community, timezone="Europe/Paris"),
            hours=HoursConfig(enabled=True),
            deadlines=replace(config.deadlines, question_target=timedelta(hours=4)),
        )

    return office


async def test_a_case_opened_friday_evening_is_due_monday_in_business_hours(
    platform: PlatformDriver,
) -> None:
    await platform.tick(FRIDAY_EVENING - START)
    await platform.member_says("How do I reset my password?")
    (case,) = await platform.cases()
    assert case.target_at == MONDAY_TARGET
    assert case.due_at == FRIDAY_EVENING + timedelta(days=7)  # calendar time
    shown = "\n".join(platform.moderator_place_texts())
    # In the moderators' language: the Telegram fixture's community speaks French.
    assert "Monday 13:00 (business hours)" in shown or "lundi 13:00 (heures ouvrées)" in shown
    # Nothing reminds the moderators over the weekend: the target is hours away in open time.
    await platform.tick(timedelta(days=2))
    assert not [text for text in platform.moderator_place_texts() if "⏰" in text]
