"""Reminders before each deadline and escalation after the one-week limit, driven by `tick`."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from bot.cases import CaseBook
from bot.clock import to_db
from bot.config import Config
from bot.i18n import format_time, human_duration, t
from bot.models import Case, Notice, NoticeKind
from bot.storage import Store

_LOGGER = logging.getLogger(__name__)


def notice_points(case: Case, config: Config) -> list[tuple[NoticeKind, datetime]]:
    """Every moment a case calls for the moderators' attention, in time order."""
    deadlines = config.deadlines
    points = [
        (NoticeKind.REMINDER_TARGET, case.target_at - r) for r in deadlines.remind_before_target
    ]
    points += [(NoticeKind.REMINDER_LIMIT, case.due_at - r) for r in deadlines.remind_before_limit]
    points.append((NoticeKind.ESCALATION, case.due_at))
    return sorted(
        ((kind, when) for kind, when in points if when >= case.opened_at),
        key=lambda pair: pair[1],
    )


class Scheduler:
    """Decides which notices are due; all its state lives in the database."""

    def __init__(self, store: Store, config: Config) -> None:
        """Wire the scheduler to the store and the deadline policy."""
        self.store = store
        self.config = config
        self.cases = CaseBook(store, config.deadlines)

    def tick(self, now: datetime) -> list[Notice]:
        """Record the notices due at `now` and return those not yet delivered.

        Each (case, kind, moment) is written once, under a unique key, in the same transaction
        that moves the case's next check forward: a restart neither repeats nor loses one.
        """
        with self.store.transaction():
            due = self.store.rows(
                "SELECT id FROM cases WHERE next_notice_at IS NOT NULL AND next_notice_at <= ?"
                " AND state IN ('open', 'suggested')",
                (to_db(now),),
            )
            for row in due:
                self._advance(self.cases.get(int(row["id"])), now)
            # Cases that stopped waiting need no further checks.
            self.store.execute(
                "UPDATE cases SET next_notice_at = NULL WHERE next_notice_at IS NOT NULL"
                " AND state NOT IN ('open', 'suggested')"
            )
        return self.pending()

    def _advance(self, case: Case, now: datetime) -> None:
        snoozed = case.snoozed_until is not None and now < case.snoozed_until
        upcoming: list[datetime] = []
        for kind, when in notice_points(case, self.config):
            if when > now:
                upcoming.append(when)
                continue
            if snoozed and kind is not NoticeKind.ESCALATION:
                continue
            self._record(case, kind, when, now)
        if snoozed and case.snoozed_until is not None:
            upcoming.append(case.snoozed_until)
        next_at = to_db(min(upcoming)) if upcoming else None
        self.store.update("cases", "id", case.id, {"next_notice_at": next_at})

    def _record(self, case: Case, kind: NoticeKind, when: datetime, now: datetime) -> None:
        language = self.config.community.language
        values = {
            "case": case.id,
            "member": case.author.name,
            "kind": t(case.kind.value, language),
            "waited": human_duration((now - case.opened_at).total_seconds(), language),
            "when": format_time(
                case.target_at if kind is NoticeKind.REMINDER_TARGET else case.due_at,
                self.config.community.tz,
            ),
            "excerpt": case.excerpt[:120],
            "mention": self.config.deadlines.escalate_to,
        }
        mention = self.config.deadlines.escalate_to if kind is NoticeKind.ESCALATION else None
        try:
            self.store.insert(
                "notices",
                {
                    "case_id": case.id,
                    "kind": kind.value,
                    "point": to_db(when),
                    "text": t(kind.value, language, **values),
                    "mention": mention,
                    "created_at": to_db(now),
                },
            )
        except sqlite3.IntegrityError:
            return  # already recorded before a restart
        _LOGGER.info("case %d: %s due at %s", case.id, kind.value, when.isoformat())

    def pending(self) -> list[Notice]:
        """Notices recorded but not yet delivered to the moderators, oldest first."""
        return [
            Notice(
                id=int(row["id"]),
                case_id=int(row["case_id"]),
                kind=NoticeKind(row["kind"]),
                due_at=datetime.fromisoformat(row["point"]),
                text=row["text"],
                mention=row["mention"],
            )
            for row in self.store.rows(
                "SELECT * FROM notices WHERE delivered_at IS NULL ORDER BY point, id"
            )
        ]

    def mark_delivered(self, notice_id: int, when: datetime) -> None:
        """The adapter posted the notice; it will not be offered again."""
        self.store.execute(
            "UPDATE notices SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
            (to_db(when), notice_id),
        )
