"""The deadline policy: one home for targets, the one-week limit, reminder points and snooze."""

from datetime import UTC, datetime, timedelta

from bot.config import parse_config
from bot.deadlines import WAITING_STATES, DeadlinePolicy
from bot.models import Kind, NoticeKind

OPENED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POLICY = DeadlinePolicy(parse_config({}).deadlines)


def test_targets_per_kind_and_the_week() -> None:
    assert POLICY.deadlines(Kind.COMPLAINT, OPENED) == (
        OPENED + timedelta(hours=24),
        OPENED + timedelta(days=7),
    )
    assert POLICY.deadlines(Kind.QUESTION, OPENED)[0] == OPENED + timedelta(hours=48)


def test_a_question_turned_complaint_keeps_the_earlier_promise() -> None:
    question_target = OPENED + timedelta(hours=48)
    assert POLICY.target_as_complaint(OPENED, question_target) == OPENED + timedelta(hours=24)
    late_join = OPENED + timedelta(hours=10)  # already promised sooner than a complaint's 24 h
    assert POLICY.target_as_complaint(OPENED, late_join) == late_join


def test_reminders_then_escalation_in_time_order_never_before_opening() -> None:
    target, due = POLICY.deadlines(Kind.QUESTION, OPENED)
    assert POLICY.notice_points(OPENED, target, due) == [
        (NoticeKind.REMINDER_TARGET, target - timedelta(hours=2)),
        (NoticeKind.REMINDER_LIMIT, due - timedelta(hours=24)),
        (NoticeKind.ESCALATION, due),
    ]
    short = DeadlinePolicy(parse_config({"deadlines": {"complaint_target": "1h"}}).deadlines)
    target, due = short.deadlines(Kind.COMPLAINT, OPENED)
    kinds = [kind for kind, _ in short.notice_points(OPENED, target, due)]
    assert NoticeKind.REMINDER_TARGET not in kinds  # 2 h before a 1 h target: before opening


def test_a_snooze_never_holds_past_the_limit() -> None:
    due = OPENED + timedelta(days=7)
    now = due - timedelta(hours=1)
    assert POLICY.snooze_until(now, timedelta(hours=4), due) == due
    assert POLICY.snooze_until(OPENED, timedelta(hours=4), due) == OPENED + timedelta(hours=4)
    assert set(WAITING_STATES) == {"open", "suggested"}
