"""The deadline policy, in one place: targets per kind, the one-week limit, reminders, snooze.

Cases, the scheduler, review and the cards all ask this policy; none keeps its own copy of the
rules. Times are aware UTC datetimes; the configuration says the durations once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import DeadlineConfig
from bot.models import CaseState, Kind, NoticeKind

# The states in which a member still waits, as stored in the database.
WAITING_STATES: tuple[str, ...] = tuple(state.value for state in CaseState if state.waiting)


class DeadlinePolicy:
    """When a case should be answered, when moderators hear of it, and how long a snooze lasts."""

    def __init__(self, config: DeadlineConfig) -> None:
        """Apply the configured targets, limit, reminder points and escalation."""
        self.config = config

    @property
    def limit(self) -> timedelta:
        """The hard limit (the one-week rule): past it, the case escalates."""
        return self.config.limit

    @property
    def escalate_to(self) -> str:
        """Who is called once a case passes the limit."""
        return self.config.escalate_to

    def target_for(self, kind: Kind) -> timedelta:
        """The response target of a kind of case."""
        if kind is Kind.COMPLAINT:
            return self.config.complaint_target
        return self.config.question_target

    def deadlines(self, kind: Kind, opened_at: datetime) -> tuple[datetime, datetime]:
        """(target, limit) of a case opened at `opened_at`."""
        return opened_at + self.target_for(kind), opened_at + self.limit

    def target_as_complaint(self, opened_at: datetime, target_at: datetime) -> datetime:
        """A question that turns into a complaint keeps the earlier of the two targets."""
        return min(target_at, opened_at + self.target_for(Kind.COMPLAINT))

    def notice_points(
        self, opened_at: datetime, target_at: datetime, due_at: datetime
    ) -> list[tuple[NoticeKind, datetime]]:
        """Every moment a case calls for the moderators' attention, in time order."""
        points = [
            (NoticeKind.REMINDER_TARGET, target_at - r) for r in self.config.remind_before_target
        ]
        points += [
            (NoticeKind.REMINDER_LIMIT, due_at - r) for r in self.config.remind_before_limit
        ]
        points.append((NoticeKind.ESCALATION, due_at))
        # A reminder that would fall before the case even opened (a short target) is skipped.
        return sorted(((k, when) for k, when in points if when >= opened_at), key=lambda p: p[1])

    def snooze_until(self, now: datetime, duration: timedelta, due_at: datetime) -> datetime:
        """A snooze holds reminders, never the limit: it ends at the limit at the latest."""
        return min(now + duration, due_at)
