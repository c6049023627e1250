"""Cases: opening, joining, answering and withdrawing them, and reading them back."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.clock import from_db, to_db
from bot.config import Config, DeadlineConfig
from bot.deadlines import WAITING_STATES, DeadlinePolicy, Policies
from bot.models import (
    Answerer,
    Author,
    Case,
    CaseState,
    Detection,
    Feedback,
    Kind,
    Message,
    Suggestion,
)
from bot.staff import Scope
from bot.storage import Store, dumps, loads

EXCERPT_CHARS = 280
# Case ids per IN (…) query: well under SQLite's limit on bound parameters.
_BATCH = 500


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A one-line excerpt of a message for cards and listings."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class CaseBook:
    """Reads and writes cases; callers hold the transaction."""

    def __init__(self, store: Store, deadlines: DeadlineConfig | Config) -> None:
        """Work on `store` with the configured deadline policy.

        Given the whole `Config`, each community's own deadlines, hours and time zone apply.
        """
        self.store = store
        config = deadlines if isinstance(deadlines, Config) else Config(deadlines=deadlines)
        self.policies = Policies(config)
        self.policy = DeadlinePolicy(config.deadlines, config.hours, config.community.tz)

    def policy_of(self, case: Case | Message) -> DeadlinePolicy:
        """The deadline policy of the community a case or a message belongs to."""
        return self.policies(case.platform, case.community)

    def open(self, message: Message, detection: Detection, kind: Kind) -> int:
        """Open a case for `message` and return its id."""
        opened = message.created_at
        target_at, due_at = self.policy_of(message).deadlines(kind, opened)
        case_id = self.store.insert(
            "cases",
            {
                "platform": message.platform,
                "community": message.community,
                "channel": message.channel,
                "thread": message.thread,
                "author_id": message.author.id,
                "author_name": message.author.name,
                "kind": kind.value,
                "state": CaseState.OPEN.value,
                "language": detection.language,
                "confidence": round(detection.confidence, 4),
                "reasons": dumps(list(detection.reasons)),
                "excerpt": excerpt(message.text),
                "opened_at": to_db(opened),
                "last_message_at": to_db(opened),
                "target_at": to_db(target_at),
                "due_at": to_db(due_at),
                # The scheduler works out the real next point on its next tick.
                "next_notice_at": to_db(opened),
            },
        )
        self.store.update("messages", "key", message.key, {"case_id": case_id})
        return case_id

    def active_for(self, message: Message, since: datetime) -> int | None:
        """The member's waiting case in the same place with a message since `since`."""
        row = self.store.row(
            "SELECT id FROM cases WHERE platform = ? AND community = ? AND channel = ?"
            " AND thread IS ? AND author_id = ? AND state IN (?, ?) AND last_message_at >= ?"
            " ORDER BY id DESC LIMIT 1",
            (
                message.platform,
                message.community,
                message.channel,
                message.thread,
                message.author.id,
                *WAITING_STATES,
                to_db(since),
            ),
        )
        return int(row["id"]) if row else None

    def join(self, case_id: int, message: Message, detection: Detection | None) -> None:
        """Add a follow-up to a case; a complaint turns a question case into a complaint."""
        changes: dict[str, Any] = {"last_message_at": to_db(message.created_at)}
        case = self.get(case_id)
        if (
            detection is not None
            and case.kind is Kind.QUESTION
            and detection.kind() is Kind.COMPLAINT
        ):
            # Complaint wins; the earlier of the two targets keeps the promise already made.
            target = self.policy_of(case).target_as_complaint(case.opened_at, case.target_at)
            changes |= {
                "kind": Kind.COMPLAINT.value,
                "target_at": to_db(target),
                "next_notice_at": to_db(case.opened_at),
            }
        self.store.update("cases", "id", case_id, changes)
        self.store.update("messages", "key", message.key, {"case_id": case_id})

    def answered_by(self, message: Message) -> list[int]:
        """Waiting cases that a staff `message` answers (reply, thread or mention)."""
        found: set[int] = set()
        if message.reply_to is not None:
            # A reply points at a message of the same channel: its key is known exactly.
            replied = replace(message, id=message.reply_to).key
            row = self.store.row(
                "SELECT case_id FROM messages WHERE key = ? AND case_id IS NOT NULL", (replied,)
            )
            if row:
                found.add(int(row["case_id"]))
        if message.thread is not None:
            for row in self.store.rows(
                "SELECT id FROM cases WHERE platform = ? AND community = ? AND thread = ?"
                " AND state IN (?, ?) AND opened_at <= ?",
                (
                    message.platform,
                    message.community,
                    message.thread,
                    *WAITING_STATES,
                    to_db(message.created_at),
                ),
            ):
                found.add(int(row["id"]))
        place = (message.platform, message.community, message.channel)
        if message.mentions:
            # Platform mentions carry user ids: an exact, indexed look-up.
            marks = ", ".join("?" * len(message.mentions))
            for row in self.store.rows(
                f"SELECT id FROM cases WHERE platform = ? AND community = ? AND channel = ?"
                f" AND author_id IN ({marks}) AND state IN (?, ?) AND opened_at <= ?",
                (*place, *message.mentions, *WAITING_STATES, to_db(message.created_at)),
            ):
                found.add(int(row["id"]))
        lowered = message.text.casefold()
        if "@" in lowered:
            # A typed "@Name" is matched against recent cases only: scanning every case ever
            # left unanswered in a busy channel would grow without bound.
            for row in self.store.rows(
                "SELECT id, author_name FROM cases WHERE platform = ? AND community = ?"
                " AND channel = ? AND state IN (?, ?) AND opened_at <= ? AND opened_at >= ?",
                (
                    *place,
                    *WAITING_STATES,
                    to_db(message.created_at),
                    to_db(message.created_at - self.policy_of(message).limit),
                ),
            ):
                if f"@{row['author_name'].casefold()}" in lowered:
                    found.add(int(row["id"]))
        return sorted(found)

    def mark_answered(
        self, case_id: int, when: datetime, by: str, *, answerer: Answerer = Answerer.STAFF
    ) -> bool:
        """Record a human answer (the first one's time stays); False if the case was not
        waiting. A helper's answer is "answered by the community" until a moderator confirms
        it or takes the case over."""
        cursor = self.store.execute(
            "UPDATE cases SET state = ?, first_response_at = COALESCE(first_response_at, ?),"
            " answered_by = COALESCE(answered_by, ?), next_notice_at = NULL,"
            " answered_as = ?, answered_at = ?, helper_confirmed = 0"
            " WHERE id = ? AND state IN (?, ?)",
            (
                CaseState.ANSWERED.value,
                to_db(when),
                by,
                answerer.value,
                to_db(when),
                case_id,
                *WAITING_STATES,
            ),
        )
        return cursor.rowcount == 1

    def answered_for(self, message: Message, since: datetime) -> int | None:
        """The member's case in the same place answered since `since` (a follow-up to it)."""
        row = self.store.row(
            "SELECT id FROM cases WHERE platform = ? AND community = ? AND channel = ?"
            " AND thread IS ? AND author_id = ? AND state = ? AND answered_at >= ?"
            " AND answered_at <= ? ORDER BY id DESC LIMIT 1",
            (
                message.platform,
                message.community,
                message.channel,
                message.thread,
                message.author.id,
                CaseState.ANSWERED.value,
                to_db(since),
                to_db(message.created_at),
            ),
        )
        return int(row["id"]) if row else None

    def reopen(self, case_id: int, when: datetime) -> bool:
        """The member waits again from `when`: a new target and a new week (the next-response
        clock); the first response's time stays for the reports. False if not reopenable."""
        case = self.get(case_id)
        if case.state not in (CaseState.ANSWERED, CaseState.RESOLVED):
            return False
        policy = self.policy_of(case)
        target_at, due_at = policy.deadlines(case.kind, when)
        state = CaseState.SUGGESTED if case.suggestions else CaseState.OPEN
        self.store.update(
            "cases",
            "id",
            case_id,
            {
                "state": state.value,
                "target_at": to_db(target_at),
                "due_at": to_db(due_at),
                "last_message_at": to_db(when),
                "reopened": case.reopened + 1,
                "answered_as": None,
                "answered_at": None,
                "helper_confirmed": 0,
                "snoozed_until": None,
                "closed_at": None,
                "next_notice_at": to_db(when),
            },
        )
        return True

    def confirm_helper(self, case_id: int) -> bool:
        """A moderator agrees with the community's answer; False if there was none to confirm
        (or it was confirmed already: a second press changes nothing)."""
        cursor = self.store.execute(
            # helper_confirmed = 0: a replayed confirmation is refused, not logged twice.
            "UPDATE cases SET helper_confirmed = 1 WHERE id = ? AND state = ? AND answered_as = ?"
            " AND helper_confirmed = 0",
            (case_id, CaseState.ANSWERED.value, Answerer.HELPER.value),
        )
        return cursor.rowcount == 1

    def take_over(self, case_id: int, when: datetime, assignee: str) -> bool:
        """A moderator takes back a case a helper answered: it waits again, theirs, with its
        target unchanged. False if no helper answered it."""
        case = self.get(case_id)
        if not case.answered_by_community:
            return False
        state = CaseState.SUGGESTED if case.suggestions else CaseState.OPEN
        self.store.update(
            "cases",
            "id",
            case_id,
            {
                "state": state.value,
                "answered_as": None,
                "answered_at": None,
                "assignee": assignee,
                "next_notice_at": to_db(when),
            },
        )
        return True

    def record_feedback(self, case_id: int, feedback: Feedback, when: datetime) -> None:
        """What the member said of the answer, latest press wins."""
        self.store.update(
            "cases", "id", case_id, {"feedback": feedback.value, "feedback_at": to_db(when)}
        )

    def set_state(self, case_id: int, state: CaseState, when: datetime) -> None:
        """Move a case to `state`; closing states record when."""
        changes: dict[str, Any] = {"state": state.value}
        if not state.waiting:
            changes |= {"closed_at": to_db(when), "next_notice_at": None}
        self.store.update("cases", "id", case_id, changes)

    def save_suggestions(self, case_id: int, suggestions: list[Suggestion]) -> None:
        """Replace a case's suggestions; a waiting case with one becomes `suggested`."""
        self.store.execute("DELETE FROM suggestions WHERE case_id = ?", (case_id,))
        for rank, suggestion in enumerate(suggestions):
            self.store.insert(
                "suggestions",
                {
                    "case_id": case_id,
                    "rank": rank,
                    "text": suggestion.text,
                    "language": suggestion.language,
                    "source": suggestion.source,
                    "score": suggestion.score,
                },
            )
        if suggestions:
            self.store.execute(
                "UPDATE cases SET state = ? WHERE id = ? AND state = ?",
                (CaseState.SUGGESTED.value, case_id, CaseState.OPEN.value),
            )

    def get(self, case_id: int) -> Case:
        """Read one case with its messages and suggestions; KeyError if there is none."""
        row = self.store.row("SELECT * FROM cases WHERE id = ?", (case_id,))
        if row is None:
            raise KeyError(case_id)
        return self._build(row)

    def find(self, case_id: int) -> Case | None:
        """Read one case, or None."""
        try:
            return self.get(case_id)
        except KeyError:
            return None

    def list(
        self,
        *,
        states: tuple[CaseState, ...] | None = None,
        limit: int | None = None,
        scope: Scope | None = None,
    ) -> list[Case]:
        """Cases by id; only those in `scope` when one is given (what a moderator may see)."""
        sql = "SELECT * FROM cases"
        where: list[str] = []
        params: tuple[Any, ...] = ()
        if states:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            params += tuple(s.value for s in states)
        if scope is not None:
            where.append("platform = ?")
            params += (scope.platform,)
            if scope.communities is not None:
                where.append(f"community IN ({', '.join('?' for _ in scope.communities)})")
                params += tuple(sorted(scope.communities))
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return _cases_from_rows(self.store, self.store.rows(sql, params))

    def _build(self, row: dict[str, Any]) -> Case:
        return _cases_from_rows(self.store, [row])[0]


def _cases_from_rows(store: Store, rows: list[dict[str, Any]]) -> list[Case]:
    """Cases from their rows, with messages and drafts read in a few queries, not per case."""
    messages: dict[int, list[str]] = defaultdict(list)
    drafts: dict[int, list[Suggestion]] = defaultdict(list)
    ids = [int(row["id"]) for row in rows]
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        marks = ", ".join("?" for _ in chunk)
        for r in store.rows(
            f"SELECT case_id, id FROM messages WHERE case_id IN ({marks})"
            " ORDER BY case_id, created_at, key",
            tuple(chunk),
        ):
            messages[int(r["case_id"])].append(r["id"])
        for r in store.rows(
            f"SELECT * FROM suggestions WHERE case_id IN ({marks}) ORDER BY case_id, rank",
            tuple(chunk),
        ):
            drafts[int(r["case_id"])].append(
                Suggestion(r["text"], r["language"], r["source"], r["score"])
            )
    return [
        _case(row, tuple(messages[int(row["id"])]), tuple(drafts[int(row["id"])])) for row in rows
    ]


def _case(
    row: dict[str, Any], message_ids: tuple[str, ...], suggestions: tuple[Suggestion, ...]
) -> Case:
    """The one place a `cases` row becomes a Case."""
    case_id = int(row["id"])
    return Case(
        id=case_id,
        platform=row["platform"],
        community=row["community"],
        channel=row["channel"],
        thread=row["thread"],
        author=Author(id=row["author_id"], name=row["author_name"]),
        kind=Kind(row["kind"]),
        state=CaseState(row["state"]),
        language=row["language"],
        confidence=row["confidence"],
        opened_at=from_db(row["opened_at"]),
        last_message_at=from_db(row["last_message_at"]),
        target_at=from_db(row["target_at"]),
        due_at=from_db(row["due_at"]),
        message_ids=message_ids,
        excerpt=row["excerpt"],
        reasons=tuple(loads(row["reasons"])),
        first_response_at=_maybe_time(row["first_response_at"]),
        answered_by=row["answered_by"],
        assignee=row["assignee"],
        snoozed_until=_maybe_time(row["snoozed_until"]),
        suggestions=suggestions,
        answered_as=Answerer(row["answered_as"]) if row.get("answered_as") else None,
        helper_confirmed=bool(row.get("helper_confirmed")),
        reopened=int(row.get("reopened") or 0),
        feedback=Feedback(row["feedback"]) if row.get("feedback") else None,
    )


def _maybe_time(text: str | None) -> datetime | None:
    return from_db(text) if text else None
