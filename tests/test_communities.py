"""Several communities on one bot, business hours, follow-ups, helpers and the member's say."""

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import ConfigError, parse_config
from bot.deadlines import DeadlinePolicy
from bot.ingest import IngestResult, Outcome
from bot.models import Action, Actor, Answerer, Author, CaseState, Feedback, Kind, Standing
from bot.report import build_report, render_text
from bot.review import ReviewError
from bot.staff import StaffPolicy
from tests.backends import BACKENDS, database
from tests.conftest import COMMUNITY, MOD, START, MessageFactory

# Friday 4 December 2026, 18:30 in Paris (17:30 UTC): after closing time.
FRIDAY_EVENING = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
OTHER = "guild-2"

RAW = {
    "community": {"name": "Atelier", "language": "fr", "timezone": "Europe/Paris"},
    "detection": {"detector": "rules"},
    "communities": {
        f"discord:{OTHER}": {
            "community": {"name": "Workshop", "language": "en", "timezone": "America/New_York"},
            "staff": {"roles": ["Support"], "helper_roles": ["Helper"]},
            "deadlines": {"question_target": "4h"},
        },
    },
}


@pytest.fixture
def two(clock: ManualClock, db_path: Path) -> Iterator[Huitaine]:
    app = Huitaine(parse_config(RAW), clock=clock, database=db_path)
    yield app
    app.close()


def test_a_community_overrides_only_what_it_sets() -> None:
    config = parse_config(RAW)
    own = config.for_community("discord", OTHER)
    assert own.community.language == "en"
    assert own.community.name == "Workshop"
    assert own.deadlines.question_target == timedelta(hours=4)
    assert own.deadlines.complaint_target == timedelta(hours=24)  # the default, written once
    assert own.staff.roles == frozenset({"support"})
    assert config.for_community("discord", COMMUNITY) is config
    # The same id on another platform is another community.
    assert config.for_community("telegram", OTHER) is config


@pytest.mark.parametrize(
    ("raw", "key", "hint"),
    [
        ({"communities": {"1234": {}}}, 'communities."1234"', "discord:1234"),
        (
            {"communities": {"discord:1": {"community": {"language": "ja"}}}},
            'communities."discord:1".community.language',
            '"fr"',
        ),
        (
            {"communities": {"discord:1": {"detection": {}}}},
            'communities."discord:1".detection',
            "deadlines",
        ),
        ({"hours": {"open": "18:00", "close": "09:00"}}, "hours.close", "later"),
        ({"hours": {"holidays": ["25/12"]}}, "hours.holidays", "2026-12-25"),
        ({"staff": {"helper_ids": ["42"]}}, "staff.helper_ids", "telegram:42"),
    ],
)
def test_community_errors_name_the_key_and_the_fix(raw: dict, key: str, hint: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(raw)
    assert error.value.key == key
    assert hint in str(error.value)


def test_two_communities_keep_apart_language_staff_and_reports(
    two: Huitaine, msg: MessageFactory
) -> None:
    here = two.ingest(msg("Comment réinitialiser mon mot de passe ?")).case_ids[0]
    there = two.ingest(replace(msg("How do I reset my password?"), community=OTHER)).case_ids[0]
    assert two.cases.get(there).target_at == START + timedelta(hours=4)
    assert two.cases.get(here).target_at == START + timedelta(hours=48)
    # A moderator by role in one server is nobody in the other, even with the other's role name.
    support = Actor("discord", "s-1", "Sam", (Standing(OTHER, frozenset({"Support"})),))
    assert two.review.staff.may_decide(support, two.cases.get(there))
    moderator_there = Actor("discord", "s-2", "Max", (Standing(OTHER, frozenset({"Moderator"})),))
    assert not two.review.staff.may_decide(moderator_there, two.cases.get(there))
    assert not two.review.staff.may_decide(support, two.cases.get(here))
    report = two.report_text(scope=two.review.scope(support))
    assert "Huitaine report" in report  # the community's own language
    assert "How do I reset" in report
    assert "Comment" not in report  # the other community's member is not shown
    assert "Rapport Huitaine" in two.report_text(scope=two.review.scope(MOD))


def test_report_command_per_community(
    two: Huitaine, msg: MessageFactory, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from huitaine.cli import main

    two.ingest(msg("Comment réinitialiser mon mot de passe ?"))
    two.ingest(replace(msg("How do I reset my password?"), community=OTHER))
    two.close()
    config = db_path.parent / "c.toml"
    config.write_text(
        '[community]\nlanguage = "fr"\n[communities."discord:guild-2".community]\n'
        'language = "en"\n',
        encoding="utf-8",
    )
    args = ["--config", str(config), "report", "--db", str(db_path), "--json"]
    assert main([*args, "--community", f"discord:{OTHER}"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["by_kind_state"] == {"question": {"suggested": 1}}
    assert main([*args[:-1], "--community", f"discord:{OTHER}"]) == 0
    assert "Huitaine report" in capsys.readouterr().out
    assert main(args[:-1]) == 0
    assert "Rapport Huitaine" in capsys.readouterr().out


def test_friday_evening_case_is_due_monday_in_business_hours_and_a_calendar_week_later() -> None:
    config = parse_config(
        {
            "community": {"timezone": "Europe/Paris"},
            "hours": {"enabled": True, "open": "09:00", "close": "18:00"},
            "deadlines": {"complaint_target": "2h", "remind_before_target": ["1h"]},
        }
    )
    policy = DeadlinePolicy(config.deadlines, config.hours, config.community.tz)
    target, limit = policy.deadlines(Kind.COMPLAINT, FRIDAY_EVENING)
    # Monday 7 December, 11:00 in Paris: two open hours after Monday's 09:00.
    assert target == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert limit == FRIDAY_EVENING + timedelta(days=7)
    assert policy.describe_target(target, "en") == "Monday 11:00 (business hours)"
    assert policy.describe_target(target, "fr") == "lundi 11:00 (heures ouvrées)"
    # "1 h before the target" is one open hour before it, Monday 10:00, not Monday 10:00 UTC-1.
    (reminder, _), *_ = policy.notice_points(FRIDAY_EVENING, target, limit)
    assert reminder.value == "reminder_target"
    assert policy.notice_points(FRIDAY_EVENING, target, limit)[0][1] == datetime(
        2026, 12, 7, 9, 0, tzinfo=UTC
    )


def test_holidays_and_long_targets_in_business_hours() -> None:
    config = parse_config(
        {
            "hours": {"enabled": True, "holidays": ["2026-12-07"]},
            "deadlines": {"question_target": "12h"},
        }
    )
    policy = DeadlinePolicy(config.deadlines, config.hours)
    # Friday 17:30 UTC: 30 min Friday, Monday is a holiday, 9 h Tuesday, 2 h 30 Wednesday.
    target, _ = policy.deadlines(Kind.QUESTION, FRIDAY_EVENING)
    assert target == datetime(2026, 12, 9, 11, 30, tzinfo=UTC)
    # Without business hours the target is calendar time, as before.
    plain = DeadlinePolicy(config.deadlines)
    assert plain.deadlines(Kind.QUESTION, FRIDAY_EVENING)[0] == FRIDAY_EVENING + timedelta(
        hours=12
    )


def test_a_target_never_passes_the_one_week_limit() -> None:
    config = parse_config(
        {"hours": {"enabled": True, "days": ["monday"]}, "deadlines": {"question_target": "48h"}}
    )
    policy = DeadlinePolicy(config.deadlines, config.hours)
    target, limit = policy.deadlines(Kind.QUESTION, FRIDAY_EVENING)
    assert target == limit


def test_a_follow_up_after_an_answer_reopens_the_case_with_a_new_target(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    case_id = core.ingest(msg("How do I reset my password?")).case_ids[0]
    core.ingest(msg("@Alice use the link in settings", author="s-1", name="Sam", staff=True))
    assert core.cases.get(case_id).state is CaseState.ANSWERED
    assert core.ingest(msg("thanks!", after=timedelta(hours=1))).outcome is Outcome.STORED
    assert core.cases.get(case_id).state is CaseState.ANSWERED
    later = timedelta(hours=3)
    result = core.ingest(msg("It still does not work, why is the link missing?", after=later))
    assert result == IngestResult(Outcome.REOPENED, (case_id,))
    case = core.cases.get(case_id)
    assert case.state.waiting
    assert case.reopened == 1
    assert case.kind is Kind.COMPLAINT  # "it still does not work"
    assert case.target_at == START + later + timedelta(hours=24)
    assert case.due_at == START + later + timedelta(days=7)
    assert case.first_response_at == START  # the first answer's time stays for the reports
    assert [d["action"] for d in core.review.audit_log(case_id)] == [Action.REOPEN.value]


def test_a_helpers_reply_marks_answered_by_the_community_and_a_moderator_decides(
    clock: ManualClock, db_path: Path, msg: MessageFactory
) -> None:
    config = parse_config(
        {"detection": {"detector": "rules"}, "staff": {"helper_ids": ["discord:h-1"]}}
    )
    core = Huitaine(config, clock=clock, database=db_path)
    try:
        first = core.ingest(msg("How do I reset my password?")).case_ids[0]
        answer = msg("@Alice settings > reset", author="h-1", name="Hana")
        assert core.ingest(answer) == IngestResult(Outcome.ANSWERED, (first,))
        case = core.cases.get(first)
        assert case.answered_by_community
        assert case.answered_as is Answerer.HELPER
        # A role the platform reports counts only when configured as a helper role.
        role_helper = Author("h-2", "Hugo", standing=Standing(COMMUNITY, frozenset({"Helper"})))
        assert not core.ingestor.staff.answers_as_helper(replace(answer, author=role_helper))
        assert not core.ingestor.is_helper(replace(answer, author=role_helper))
        with_role = StaffPolicy(parse_config({"staff": {"helper_roles": ["helper"]}}))
        assert with_role.answers_as_helper(replace(answer, author=role_helper))
        assert core.review.confirm_helper(MOD, first).helper_confirmed
        second = core.ingest(msg("Why is my invoice missing?", author="u-2", name="Bo"))
        core.ingest(msg("@Bo check your spam", author="h-1", name="Hana"))
        taken = core.review.take_over(MOD, second.case_ids[0])
        assert taken.state.waiting
        assert taken.assignee == MOD.name
        with pytest.raises(ReviewError):
            core.review.take_over(MOD, first)  # confirmed: nothing to take over
        report = build_report(core.cases.list(), clock.now())
        assert (report.by_staff, report.by_helpers, report.by_nobody) == (0, 1, 1)
        assert "helpers 1" in render_text(report)
    finally:
        core.close()


def test_only_the_asking_member_closes_the_loop(
    core: Huitaine, msg: MessageFactory, clock: ManualClock
) -> None:
    case_id = core.ingest(msg("How do I reset my password?")).case_ids[0]
    sent = core.review.approve(MOD, case_id)
    core.review.mark_sent(sent.id, "r-1")
    stranger = Actor("discord", "u-bob", "Bob")
    with pytest.raises(ReviewError):
        core.review.member_feedback(stranger, case_id, Feedback.SOLVED)
    assert core.cases.get(case_id).feedback is None
    alice = Actor("discord", "u-alice", "Alice")
    clock.advance(timedelta(hours=5))
    reopened = core.review.member_feedback(alice, case_id, Feedback.STILL_NEED_HELP)
    assert reopened.state.waiting
    assert reopened.target_at == clock.now() + timedelta(hours=48)
    sent = core.review.approve(MOD, case_id)
    core.review.mark_sent(sent.id, "r-2")
    solved = core.review.member_feedback(alice, case_id, Feedback.SOLVED)
    assert solved.state is CaseState.RESOLVED
    report = build_report(core.cases.list(), clock.now())
    assert report.weeks == (("2026-11-02", 1, 1, 0),)
    assert "satisfaction 100%" in render_text(report)


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_community_snoozes_for_its_own_length(
    backend: str, clock: ManualClock, tmp_path: Path, msg: MessageFactory
) -> None:
    raw = json.loads(json.dumps(RAW))
    raw["review"] = {"snooze": "1d"}
    raw["communities"][f"discord:{OTHER}"]["review"] = {"snooze": "2h"}
    config = parse_config(raw)
    assert config.for_community("discord", OTHER).review.snooze == timedelta(hours=2)
    with database(backend, tmp_path) as where:
        core = Huitaine(config, clock=clock, database=where)
        try:
            here = core.ingest(msg("Comment réinitialiser mon mot de passe ?")).case_ids[0]
            there = core.ingest(replace(msg("How do I reset it?"), community=OTHER)).case_ids[0]
            support = Actor("discord", "s-1", "Sam", (Standing(OTHER, frozenset({"Support"})),))
            # The snooze a moderator presses lasts what the case's own community says.
            assert core.review.snooze(support, there).snoozed_until == START + timedelta(hours=2)
            assert core.review.snooze(MOD, here).snoozed_until == START + timedelta(days=1)
            # A length typed by the moderator still wins over both.
            again = core.review.snooze(support, there, timedelta(minutes=30))
            assert again.snoozed_until == START + timedelta(minutes=30)
        finally:
            core.close()
