"""The weekly digest's schedule and content."""

from datetime import UTC, datetime, timedelta

from bot.app import Huitaine
from bot.config import parse_config
from bot.digest import build_digest, scheduled_time
from tests.conftest import MessageFactory


def test_scheduled_time_follows_day_hour_and_time_zone() -> None:
    config = parse_config(
        {"community": {"timezone": "Europe/Paris"}, "digest": {"day": "friday", "hour": 17}}
    )
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
    moment = scheduled_time(now, config)
    assert moment.weekday() == 4
    assert moment.hour == 17
    assert moment.astimezone(UTC) == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def test_digest_lists_the_week_and_the_cases_closest_to_the_limit(
    core: Huitaine, msg: MessageFactory
) -> None:
    core.ingest(msg("ma commande n'est jamais arrivée, c'est inadmissible"))
    core.ingest(
        msg("how do I change my email?", author="u-b", name="Bob", after=timedelta(days=2))
    )
    now = core.clock.now() + timedelta(days=6)
    text = build_digest(core.cases.list(), now, core.config)
    assert "2 nouveaux cas" in text  # the fixture community speaks French
    alice, bob = text.index("Alice"), text.index("Bob")
    assert alice < bob  # Alice's limit comes first
    assert "encore" in text


def test_a_digest_is_recorded_once_even_across_restarts(core: Huitaine) -> None:
    monday = datetime(2026, 11, 9, 9, 30, tzinfo=UTC)
    due = core.digests.due(monday)
    assert due is not None
    assert core.digests.due(monday) == due  # not delivered yet: offered again, same text
    core.digests.mark_delivered(due[0], monday)
    assert core.digests.due(monday + timedelta(hours=1)) is None
    assert core.digests.due(monday + timedelta(days=3)) is None
