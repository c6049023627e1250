"""The weekly digest: the week's numbers and the cases closest to their seven-day limit."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.cases import CaseBook
from bot.clock import to_db
from bot.config import Config, community_key
from bot.i18n import Catalog, format_time, human_duration, t
from bot.models import Case
from bot.report import build_report
from bot.storage import Store

_x = Catalog(
    {
        "title": {"en": "Weekly digest", "fr": "Bilan de la semaine"},
        "opened": {
            "en": "{n} new cases ({q} questions, {c} complaints)",
            "fr": "{n} nouveaux cas ({q} questions, {c} réclamations)",
        },
        "median": {"en": "median first response {d}", "fr": "première réponse médiane {d}"},
        "week": {"en": "{share} answered within 7 days", "fr": "{share} répondus en 7 jours"},
        "closest": {
            "en": "Closest to the one-week limit:",
            "fr": "Au plus près de la limite d'une semaine :",
        },
        "none": {"en": "Nobody is waiting. 🎉", "fr": "Personne n'attend. 🎉"},
        "left": {"en": "{d} left", "fr": "encore {d}"},
        "late": {"en": "{d} late", "fr": "{d} de retard"},
    }
)


def build_digest(
    cases: list[Case],
    now: datetime,
    config: Config,
    *,
    closest: int = 5,
    learned: str | None = None,
) -> str:
    """The digest text for the week ending at `now`; `learned` is what the detector learned."""
    language = config.community.ui_language
    week_ago = now - timedelta(days=7)
    recent = [c for c in cases if c.opened_at >= week_ago]
    report = build_report(recent, now)
    lines = [f"📋 {_x('title', language)} — {format_time(now, config.community.tz)}"]
    questions = sum(1 for c in recent if c.kind.value == "question")
    lines.append(_x("opened", language, n=len(recent), q=questions, c=len(recent) - questions))
    if report.median_first_response is not None:
        lines.append(
            _x(
                "median",
                language,
                d=human_duration(report.median_first_response.total_seconds(), language),
            )
        )
    if report.share_within_week is not None:
        lines.append(_x("week", language, share=f"{report.share_within_week:.0%}"))
    if learned:
        lines.append(learned)
    waiting = sorted((c for c in cases if c.state.waiting), key=lambda c: c.due_at)[:closest]
    if not waiting:
        lines.append(_x("none", language))
    else:
        lines.append(_x("closest", language))
        for case in waiting:
            remaining = (case.due_at - now).total_seconds()
            when = human_duration(abs(remaining), language)
            status = (
                _x("left", language, d=when) if remaining >= 0 else _x("late", language, d=when)
            )
            lines.append(
                f"• #{case.id} {case.author.name} ({t(case.kind.value, language)}, {status}): "
                f"{case.excerpt[:80]}"
            )
    return "\n".join(lines)


def scheduled_time(now: datetime, config: Config) -> datetime:
    """The most recent digest moment at or before `now`, in the community's time zone."""
    local = now.astimezone(config.community.tz)
    moment = local.replace(hour=config.digest.hour, minute=0, second=0, microsecond=0)
    moment -= timedelta(days=(local.weekday() - config.digest.weekday) % 7)
    if moment > local:
        moment -= timedelta(days=7)
    return moment


@dataclass(frozen=True, slots=True)
class DueDigest:
    """One community's digest for one week, recorded and waiting to be posted."""

    id: int
    week: str
    platform: str
    community: str
    text: str


class Digests:
    """Decides when each community's weekly digest is due; each is recorded once a week.

    A digest only ever speaks of its own community's cases: moderators of one group (or one
    Telegram Business shop) never read the names and words of another's members.
    """

    def __init__(self, store: Store, config: Config, *, heads: Path | None = None) -> None:
        """Work on `store` with the configured day and hour; `heads` holds learning journals."""
        self.store = store
        self.config = config
        self.heads = heads
        self.cases = CaseBook(store, config)

    def due(self, now: datetime) -> list[DueDigest]:
        """The digests to post now, one per community with cases; recorded before returned."""
        if not self.store.leads("scheduler"):
            return []
        by_community: dict[tuple[str, str], list[Case]] = {}
        for case in self.cases.list():
            by_community.setdefault((case.platform, case.community), []).append(case)
        due = []
        for (platform, community), cases in sorted(by_community.items()):
            digest = self._due_in(platform, community, cases, now)
            if digest is not None:
                due.append(digest)
        return due

    def _due_in(
        self, platform: str, community: str, cases: list[Case], now: datetime
    ) -> DueDigest | None:
        config = self.config.for_community(platform, community)
        if not config.digest.enabled:
            return None
        moment = scheduled_time(now, config)
        week = moment.date().isoformat()
        key = (week, platform, community)
        found = self.store.row(
            "SELECT id, text, delivered_at FROM community_digests"
            " WHERE week = ? AND platform = ? AND community = ?",
            key,
        )
        if found is not None:
            if found["delivered_at"]:
                return None
            return DueDigest(int(found["id"]), *key, str(found["text"]))
        # Only this week's digest: a bot that was down for a month posts one, not four.
        if now - moment > timedelta(days=1):
            return None
        week_ago = now - timedelta(days=7)
        if not any(c.opened_at >= week_ago or c.state.waiting for c in cases):
            return None  # a quiet community gets no digest that week
        learned = self._learned(platform, community, config, now)
        text = build_digest(cases, now, config, learned=learned)
        try:
            digest_id = self.store.insert(
                "community_digests",
                {
                    "week": week,
                    "platform": platform,
                    "community": community,
                    "text": text,
                    "created_at": to_db(now),
                },
            )
        except sqlite3.IntegrityError:
            return None  # another process recorded it first and posts it
        return DueDigest(int(digest_id), *key, text)

    def _learned(self, platform: str, community: str, config: Config, now: datetime) -> str | None:
        """What the detector learned from this community's decisions this past week."""
        from bot.detect.learning_log import heads_root, log_path, read_attempts, weekly_line
        from bot.detect.model import community_key as file_key

        root = self.heads or heads_root()
        journal = log_path(root, file_key(community_key(platform, community)))
        attempts = read_attempts(journal)
        language = config.community.ui_language
        return weekly_line(attempts, now - timedelta(days=7), now, language)

    def mark_delivered(self, digest_id: int, when: datetime) -> None:
        """The digest was posted; it will not be offered again."""
        self.store.execute(
            "UPDATE community_digests SET delivered_at = ? WHERE id = ?", (to_db(when), digest_id)
        )
