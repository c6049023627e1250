"""The weekly digest's schedule and content."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, community_key, parse_config
from bot.digest import build_digest, scheduled_time
from tests.backends import BACKENDS, database
from tests.conftest import COMMUNITY, START, MessageFactory


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


OTHER = "other-guild"


@pytest.fixture
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    """One database on each backend, opened again by a second `Huitaine` as a restart."""
    with database(request.param, tmp_path) as place:
        yield place


def two_communities(config: Config) -> Config:
    """The fixture's French community, and an English one in Tokyo that wants Tuesdays."""
    other = replace(
        config,
        community=replace(config.community, language="en", timezone="Asia/Tokyo"),
        digest=replace(config.digest, day="tuesday"),
    )
    key = community_key("discord", OTHER)
    return replace(config, communities=MappingProxyType({key: other}))


@pytest.mark.parametrize("where", BACKENDS, indirect=True)
def test_each_community_gets_its_own_digest_once_even_across_a_restart(
    config: Config, clock: ManualClock, msg: MessageFactory, where: str | Path
) -> None:
    config = two_communities(config)
    core = Huitaine(config, clock=clock, database=where)
    core.ingest(msg("ma commande n'est jamais arrivée, c'est inadmissible"))
    core.ingest(
        replace(msg("how do I change my email?", author="u-b", name="Bob"), community=OTHER)
    )
    # Monday 9:30 UTC: the first community's hour (Mondays 9:00 UTC); Tokyo waits for Tuesday.
    monday = START + timedelta(days=7, minutes=30)
    (first,) = core.digests.due(monday)
    assert (first.platform, first.community) == ("discord", COMMUNITY)
    assert "Alice" in first.text
    assert "Bob" not in first.text
    assert "email" not in first.text
    assert "nouveaux cas" in first.text  # in its own language
    assert core.digests.due(monday) == [first]  # not delivered yet: offered again, same text
    core.digests.mark_delivered(first.id, monday)
    core.close()

    # Tuesday 9:00 in Tokyo is Tuesday 0:00 UTC; a restart loses nothing and repeats nothing.
    core = Huitaine(config, clock=clock, database=where)
    tuesday = START + timedelta(days=8, minutes=5)
    (second,) = core.digests.due(tuesday)
    assert (second.platform, second.community) == ("discord", OTHER)
    assert "Bob" in second.text
    assert "Alice" not in second.text
    assert "commande" not in second.text
    assert "new cases" in second.text
    assert "18:05 JST" in second.text  # in its own time zone
    core.close()

    core = Huitaine(config, clock=clock, database=where)
    assert core.digests.due(tuesday) == [second]  # recorded, not delivered: the same one
    core.digests.mark_delivered(second.id, tuesday)
    assert core.digests.due(tuesday + timedelta(hours=1)) == []
    assert core.digests.due(monday + timedelta(days=3)) == []
    core.close()


def test_a_community_with_nothing_that_week_gets_no_digest(
    core: Huitaine, msg: MessageFactory
) -> None:
    # Alice asked and was answered; five weeks on, nothing is left to tell the moderators.
    core.ingest(msg("how do I change my email?"))
    core.ingest(
        msg("Settings, then Account.", author="u-mod", name="Mod", staff=True, reply_to="m1")
    )
    assert not core.cases.list()[0].state.waiting
    (this_week,) = core.digests.due(START + timedelta(minutes=30))  # its own week: one
    core.digests.mark_delivered(this_week.id, START + timedelta(minutes=30))
    assert core.digests.due(START + timedelta(weeks=5, minutes=30)) == []
