"""Reports on the quality of the conversation: who waits, how fast answers come, the week kept."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from bot.config import ONE_WEEK
from bot.i18n import Catalog, format_time, human_duration, t
from bot.models import Answerer, Case, CaseState, Feedback

_CLOSED_UNANSWERED = (CaseState.DISMISSED, CaseState.WITHDRAWN)


@dataclass(frozen=True, slots=True)
class Report:
    """Figures computed from the cases at one moment."""

    now: datetime
    by_kind_state: dict[str, dict[str, int]]
    answered: int
    median_first_response: timedelta | None
    p90_first_response: timedelta | None
    judged_target: int
    within_target: int
    judged_week: int
    within_week: int
    oldest_waiting: tuple[Case, ...]
    # Who answers: requests (not dismissed or withdrawn) by their latest answer.
    by_staff: int = 0
    by_helpers: int = 0
    by_nobody: int = 0
    # Per week the cases opened (Monday's date): (week, answered, solved, still need help).
    weeks: tuple[tuple[str, int, int, int], ...] = ()

    @property
    def share_within_target(self) -> float | None:
        """Share of judged cases answered by their target."""
        return self.within_target / self.judged_target if self.judged_target else None

    @property
    def share_within_week(self) -> float | None:
        """Share of judged cases answered within seven days (the one-week rule)."""
        return self.within_week / self.judged_week if self.judged_week else None

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""

        def seconds(value: timedelta | None) -> float | None:
            return None if value is None else value.total_seconds()

        return {
            "now": self.now.isoformat(),
            "by_kind_state": self.by_kind_state,
            "answered": self.answered,
            "median_first_response_s": seconds(self.median_first_response),
            "p90_first_response_s": seconds(self.p90_first_response),
            "within_target": self.within_target,
            "judged_target": self.judged_target,
            "share_within_target": self.share_within_target,
            "within_week": self.within_week,
            "judged_week": self.judged_week,
            "share_within_week": self.share_within_week,
            "oldest_waiting": [case.id for case in self.oldest_waiting],
            "answered_by": {
                "staff": self.by_staff,
                "helpers": self.by_helpers,
                "nobody": self.by_nobody,
            },
            "weeks": [
                {
                    "week": week,
                    "answered": answered,
                    "solved": solved,
                    "still_need_help": unsolved,
                    "share_solved": solved / answered if answered else None,
                    "satisfaction": solved / (solved + unsolved) if solved + unsolved else None,
                }
                for week, answered, solved, unsolved in self.weeks
            ],
        }


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def build_report(cases: list[Case], now: datetime, *, oldest: int = 5) -> Report:
    """Compute the report over `cases` as things stand at `now`.

    A case counts towards "within target" once it is answered or its target has passed (so a
    fresh case is not yet a failure); dismissed and withdrawn cases are not requests and do not
    count; the same goes for the week.
    """
    by_kind_state: dict[str, Counter[str]] = {}
    delays: list[float] = []
    judged_target = within_target = judged_week = within_week = 0
    for case in cases:
        by_kind_state.setdefault(case.kind.value, Counter())[case.state.value] += 1
        if case.state in _CLOSED_UNANSWERED:
            continue
        answered_at = case.first_response_at
        if answered_at is not None:
            delays.append((answered_at - case.opened_at).total_seconds())
        if answered_at is not None or now > case.target_at:
            judged_target += 1
            within_target += answered_at is not None and answered_at <= case.target_at
        if answered_at is not None or now > case.opened_at + ONE_WEEK:
            judged_week += 1
            within_week += answered_at is not None and answered_at <= case.opened_at + ONE_WEEK
    delays.sort()
    waiting = sorted((c for c in cases if c.state.waiting), key=lambda c: (c.opened_at, c.id))
    who = Counter(answerer(c) for c in cases if c.state not in _CLOSED_UNANSWERED)
    return Report(
        now=now,
        by_kind_state={kind: dict(states) for kind, states in sorted(by_kind_state.items())},
        answered=len(delays),
        median_first_response=timedelta(seconds=statistics.median(delays)) if delays else None,
        p90_first_response=timedelta(seconds=_quantile(delays, 0.9)) if delays else None,
        judged_target=judged_target,
        within_target=within_target,
        judged_week=judged_week,
        within_week=within_week,
        oldest_waiting=tuple(waiting[:oldest]),
        by_staff=who[Answerer.STAFF],
        by_helpers=who[Answerer.HELPER],
        by_nobody=who[None],
        weeks=_weeks(cases),
    )


def answerer(case: Case) -> Answerer | None:
    """Who answered a case last: staff (an approved reply counts), a helper, or nobody yet."""
    if case.state.waiting or case.first_response_at is None:
        return None  # a reopened case waits again: nobody has answered the member's follow-up
    return case.answered_as or Answerer.STAFF  # answered before helpers existed: staff


def _weeks(cases: list[Case]) -> tuple[tuple[str, int, int, int], ...]:
    """Per week of opening: answered cases, and the members' "solved" / "still need help"."""
    weeks: dict[str, list[int]] = {}
    for case in cases:
        if case.state in _CLOSED_UNANSWERED:
            continue
        day = case.opened_at.date()
        week = (day - timedelta(days=day.weekday())).isoformat()
        row = weeks.setdefault(week, [0, 0, 0])
        row[0] += case.first_response_at is not None
        row[1] += case.feedback is Feedback.SOLVED
        row[2] += case.feedback is Feedback.STILL_NEED_HELP
    return tuple((week, *row) for week, row in sorted(weeks.items()))  # type: ignore[misc]


_label = Catalog(
    {
        "title": {"en": "Huitaine report", "fr": "Rapport Huitaine"},
        "cases": {"en": "Cases", "fr": "Cas"},
        "first": {"en": "First response", "fr": "Première réponse"},
        "median": {"en": "median", "fr": "médiane"},
        "target": {"en": "Answered within target", "fr": "Répondu dans l'objectif"},
        "week": {"en": "Answered within 7 days", "fr": "Répondu en 7 jours"},
        "oldest": {"en": "Oldest waiting", "fr": "Attendent depuis le plus longtemps"},
        "none": {"en": "none", "fr": "aucun"},
        "nobody": {"en": "nobody is waiting", "fr": "personne n'attend"},
        "who": {
            "en": "Answered by: staff {staff} · helpers {helpers} · nobody {nobody}",
            "fr": "Répondu par : l'équipe {staff} · des membres aidants {helpers} · personne "
            "{nobody}",
        },
        "weekly": {
            "en": "Week of {week}: {solved}/{answered} marked solved by the member"
            " · satisfaction {satisfaction}",
            "fr": "Semaine du {week} : {solved}/{answered} marqués résolus par le membre"
            " · satisfaction {satisfaction}",
        },
    }
)


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "—"


def render_text(report: Report, *, language: str = "en", tz: tzinfo | None = None) -> str:
    """The report as plain text for a terminal or a chat message."""
    tz = tz or report.now.tzinfo
    assert tz is not None
    lines = [f"{_label('title', language)} — {format_time(report.now, tz)}", ""]
    lines.append(f"{_label('cases', language)}:")
    for kind, states in report.by_kind_state.items():
        parts = ", ".join(f"{t(state, language)} {n}" for state, n in sorted(states.items()))
        lines.append(f"  {t(kind, language)}: {sum(states.values())} ({parts})")
    if not report.by_kind_state:
        lines.append(f"  {_label('none', language)}")
    if report.median_first_response is not None and report.p90_first_response is not None:
        median = human_duration(report.median_first_response.total_seconds(), language)
        p90 = human_duration(report.p90_first_response.total_seconds(), language)
        lines.append(
            f"{_label('first', language)}: {_label('median', language)} {median}, p90 {p90}"
        )
    lines.append(
        f"{_label('target', language)}: {_share(report.within_target, report.judged_target)}"
    )
    lines.append(f"{_label('week', language)}: {_share(report.within_week, report.judged_week)}")
    lines.append(
        _label(
            "who",
            language,
            staff=report.by_staff,
            helpers=report.by_helpers,
            nobody=report.by_nobody,
        )
    )
    for week, answered, solved, unsolved in report.weeks:
        if solved + unsolved:
            lines.append(
                _label(
                    "weekly",
                    language,
                    week=week,
                    answered=answered,
                    solved=solved,
                    satisfaction=f"{solved / (solved + unsolved):.0%}",
                )
            )
    lines.append(f"{_label('oldest', language)}:")
    for case in report.oldest_waiting:
        waited = human_duration((report.now - case.opened_at).total_seconds(), language)
        flag = f" [{t('overdue', language)}]" if case.overdue(report.now) else ""
        lines.append(
            f"  #{case.id} {case.author.name} ({t(case.kind.value, language)}, {waited}){flag}: "
            f"{case.excerpt[:80]}"
        )
    if not report.oldest_waiting:
        lines.append(f"  {_label('nobody', language)}")
    return "\n".join(lines)
