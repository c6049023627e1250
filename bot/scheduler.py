"""Reminders before each deadline and escalation after the one-week limit, driven by `tick`."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from typing import Any

from bot.clock import from_db, to_db
from bot.config import Config
from bot.deadlines import WAITING_STATES, Policies
from bot.i18n import format_time, human_duration, t
from bot.models import Notice, NoticeKind
from bot.storage import Store

_LOGGER = logging.getLogger(__name__)


class Scheduler:
    """Decides which notices are due; all its state lives in the database."""

    def __init__(self, store: Store, config: Config) -> None:
        """Wire the scheduler to the store and the deadline policy."""
        self.store = store
        self.config = config
        self.policies = Policies(config)
        # Whether undelivered notices may exist; spares a query per tick on the hot path.
        self._maybe_pending = True

    def tick(self, now: datetime) -> list[Notice]:
        """Record the notices due at `now` and return those not yet delivered.

        Each (case, kind, moment) is written once, under a unique key, in the same transaction
        that moves the case's next check forward: a restart neither repeats nor loses one.
        """
        if not self.store.leads("scheduler"):
            return []  # another process sharing the database schedules and delivers
        due = self.store.rows(
            "SELECT * FROM cases WHERE next_notice_at IS NOT NULL AND next_notice_at <= ?",
            (to_db(now),),
        )
        if due:
            with self.store.transaction():
                for row in due:
                    self._advance(row, now)
        return self.pending()

    def _advance(self, row: dict[str, Any], now: datetime) -> None:
        if row["state"] not in WAITING_STATES:
            self.store.update("cases", "id", row["id"], {"next_notice_at": None})
            return
        opened_at, target_at, due_at = (
            from_db(row[k]) for k in ("opened_at", "target_at", "due_at")
        )
        snoozed_until = from_db(row["snoozed_until"]) if row["snoozed_until"] else None
        snoozed = snoozed_until is not None and now < snoozed_until
        upcoming: list[datetime] = []
        policy = self.policies(row["platform"], row["community"])
        for kind, when in policy.notice_points(opened_at, target_at, due_at):
            deadline = target_at if kind is NoticeKind.REMINDER_TARGET else due_at
            if when > now:
                upcoming.append(when)
            elif kind is NoticeKind.ESCALATION:
                self._record(row, kind, when, now)
            elif not snoozed and now <= deadline:
                # A reminder whose deadline has already passed (after downtime or a snooze)
                # would only be noise next to the escalation or the lateness it announces.
                self._record(row, kind, when, now)
        if snoozed and snoozed_until is not None:
            upcoming.append(snoozed_until)
        next_at = to_db(min(upcoming)) if upcoming else None
        self.store.update("cases", "id", row["id"], {"next_notice_at": next_at})

    def _record(
        self, row: dict[str, Any], kind: NoticeKind, when: datetime, now: datetime
    ) -> None:
        own = self.config.for_community(row["platform"], row["community"])
        policy = self.policies(row["platform"], row["community"])
        language = own.community.language
        deadline = row["target_at"] if kind is NoticeKind.REMINDER_TARGET else row["due_at"]
        when_text = (
            policy.describe_target(from_db(deadline), language)
            if kind is NoticeKind.REMINDER_TARGET
            else format_time(from_db(deadline), own.community.tz)
        )
        values = {
            "case": row["id"],
            "member": row["author_name"],
            "kind": t(row["kind"], language),
            "waited": human_duration((now - from_db(row["opened_at"])).total_seconds(), language),
            "when": when_text,
            "excerpt": row["excerpt"][:120],
            "mention": policy.escalate_to,
        }
        mention = policy.escalate_to if kind is NoticeKind.ESCALATION else None
        try:
            self.store.insert(
                "notices",
                {
                    "case_id": row["id"],
                    "kind": kind.value,
                    "point": to_db(when),
                    "text": t(kind.value, language, **values),
                    "mention": mention,
                    "created_at": to_db(now),
                },
            )
        except sqlite3.IntegrityError:
            return  # already recorded before a restart
        self._maybe_pending = True
        _LOGGER.info("case %s: %s due at %s", row["id"], kind.value, when.isoformat())

    def pending(self) -> list[Notice]:
        """Notices recorded but not yet delivered to the moderators, oldest first."""
        if not self._maybe_pending:
            return []
        notices = [
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
        self._maybe_pending = bool(notices)
        return notices

    def mark_delivered(self, notice_id: int, when: datetime) -> None:
        """The adapter posted the notice; it will not be offered again.

        Never earlier than the notice itself: a replay that restarts after a kill begins with
        the clock at the history's first timestamp, and delivers what the kill left undelivered.
        """
        # to_db is fixed-width UTC, so SQLite's text MAX is the later of the two times.
        self.store.execute(
            "UPDATE notices SET delivered_at = MAX(?, created_at)"
            " WHERE id = ? AND delivered_at IS NULL",
            (to_db(when), notice_id),
        )
