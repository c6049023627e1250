"""The deadline policy, in one place: targets per kind, the one-week limit, reminders, snooze.

Cases, the scheduler, review and the cards all ask this policy; none keeps its own copy of the
rules. Times are aware UTC datetimes; the configuration says the durations once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.config import Config, DeadlineConfig, HoursConfig
from bot.models import CaseState, Kind, NoticeKind

# The states in which a member still waits, as stored in the database.
WAITING_STATES: tuple[str, ...] = tuple(state.value for state in CaseState if state.waiting)


# Business hours are walked a day at a time; a target of at most a week, with at least one
# working day a week, never needs more than this many days (holidays included, with margin).
_MAX_DAYS = 400
_DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
_BUSINESS = {"en": "business hours", "fr": "heures ouvrées"}


class BusinessHours:
    """A community's open hours: time is counted only while it is open (local time)."""

    def __init__(self, hours: HoursConfig, tz: tzinfo) -> None:
        """Count time inside `hours`, read in the time zone `tz`."""
        self.hours = hours
        self.tz = tz

    def _open_on(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.hours.days or day in self.hours.holidays:
            return None
        start = datetime.combine(day, self.hours.open, self.tz).astimezone(UTC)
        return start, datetime.combine(day, self.hours.close, self.tz).astimezone(UTC)

    def _spans(self, start: datetime, step: int) -> Iterator[tuple[datetime, datetime]]:
        day = start.astimezone(self.tz).date()
        for _ in range(_MAX_DAYS):
            span = self._open_on(day)
            if span is not None:
                yield span
            day += timedelta(days=step)
        raise ValueError("business hours: no open time within a year")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of open time has passed after `start`."""
        left = duration
        for opens, closes in self._spans(start, 1):
            begin = max(opens, start)
            if begin >= closes:
                continue
            if begin + left <= closes:
                return begin + left
            left -= closes - begin
        raise AssertionError("unreachable")  # _spans raises first

    def subtract(self, end: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of open time before `end`."""
        left = duration
        for opens, closes in self._spans(end, -1):
            finish = min(closes, end)
            if finish <= opens:
                continue
            if finish - left >= opens:
                return finish - left
            left -= finish - opens
        raise AssertionError("unreachable")


class DeadlinePolicy:
    """When a case should be answered, when moderators hear of it, and how long a snooze lasts.

    With business hours, targets and their reminders count open time only; the one-week limit
    always counts calendar time (a member waits a week whatever the shop's hours).
    """

    def __init__(
        self,
        config: DeadlineConfig,
        hours: HoursConfig | None = None,
        tz: tzinfo = UTC,
    ) -> None:
        """Apply the configured targets, limit, reminder points, escalation and hours."""
        self.config = config
        self.tz = tz
        self.business = BusinessHours(hours, tz) if hours is not None and hours.enabled else None

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
        due = opened_at + self.limit
        return self.target_from(kind, opened_at, due), due

    def target_from(self, kind: Kind, start: datetime, due_at: datetime) -> datetime:
        """The target of a kind counted from `start` (open time only with business hours),
        never past the limit `due_at`."""
        if self.business is None:
            return min(start + self.target_for(kind), due_at)
        return min(self.business.add(start, self.target_for(kind)), due_at)

    def target_as_complaint(self, opened_at: datetime, target_at: datetime) -> datetime:
        """A question that turns into a complaint keeps the earlier of the two targets."""
        return min(target_at, self.target_from(Kind.COMPLAINT, opened_at, target_at))

    def describe_target(self, target_at: datetime, language: str) -> str:
        """How a card names the target: "Monday 10:00 (business hours)" when hours apply."""
        local = target_at.astimezone(self.tz)
        if self.business is None:
            return local.strftime("%Y-%m-%d %H:%M %Z")
        lang = language if language in _DAY_NAMES else "en"
        day = _DAY_NAMES[lang][local.weekday()]
        return f"{day} {local:%H:%M} ({_BUSINESS[lang]})"

    def notice_points(
        self, opened_at: datetime, target_at: datetime, due_at: datetime
    ) -> list[tuple[NoticeKind, datetime]]:
        """Every moment a case calls for the moderators' attention, in time order."""
        points = [
            (NoticeKind.REMINDER_TARGET, self._before_target(target_at, r))
            for r in self.config.remind_before_target
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

    def _before_target(self, target_at: datetime, ahead: timedelta) -> datetime:
        # With business hours, "2 h before the target" means two open hours before it.
        if self.business is None:
            return target_at - ahead
        return self.business.subtract(target_at, ahead)


class Policies:
    """The deadline policy of each community, built once per community from the config."""

    def __init__(self, config: Config) -> None:
        """Read each community's deadlines, hours and time zone from `config`."""
        self.config = config
        self._built: dict[tuple[str, str], DeadlinePolicy] = {}

    def __call__(self, platform: str, community: str) -> DeadlinePolicy:
        """The policy in force in `community` on `platform`."""
        key = (platform, community)
        policy = self._built.get(key)
        if policy is None:
            own = self.config.for_community(platform, community)
            policy = DeadlinePolicy(own.deadlines, own.hours, own.community.tz)
            self._built[key] = policy
        return policy
