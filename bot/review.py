"""Moderators' decisions on cases, the audit log, and the outbox that sends each reply once."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.cases import CaseBook
from bot.clock import Clock, from_db, to_db
from bot.config import Config
from bot.errors import HuitaineError
from bot.i18n import Catalog, t
from bot.ingest import message_from_row
from bot.models import (
    Action,
    Actor,
    Case,
    CaseState,
    Detection,
    DismissReason,
    Feedback,
    Kind,
    Outgoing,
    SendState,
)
from bot.staff import Scope, StaffPolicy
from bot.storage import Store
from bot.suggest import Suggester, sign

_LOGGER = logging.getLogger(__name__)
MAX_REPLY_CHARS = 20_000


class Refusal(enum.StrEnum):
    """Why a decision was refused."""

    NOT_MODERATOR = "not_moderator"
    NO_CASE = "no_case"
    CASE_CLOSED = "case_closed"
    REPLY_PENDING = "reply_pending"
    NO_SUGGESTION = "no_suggestion"
    EMPTY_REPLY = "empty_reply"
    REPLY_TOO_LONG = "reply_too_long"
    REPLY_STATE = "reply_state"
    NO_REPLY = "no_reply"
    NOT_ANSWERED = "not_answered"
    NO_MESSAGE = "no_message"
    ALREADY_A_CASE = "already_a_case"
    NOT_ASKER = "not_asker"
    NOT_BY_HELPER = "not_by_helper"


_REFUSALS = Catalog(
    {
        "not_moderator": {
            "en": "only moderators can act on cases",
            "fr": "seuls les modérateurs peuvent agir sur les cas",
        },
        "no_case": {"en": "case {case} does not exist", "fr": "le cas n°{case} n'existe pas"},
        "case_closed": {
            "en": "case {case} is {state}; nothing to do",
            "fr": "le cas n°{case} est {state} ; rien à faire",
        },
        "reply_pending": {
            "en": "case {case} already has a reply {state} (#{reply})",
            "fr": "le cas n°{case} a déjà une réponse {state} (n°{reply})",
        },
        "no_suggestion": {
            "en": "case {case} has no suggestion #{rank}",
            "fr": "le cas n°{case} n'a pas de suggestion n°{rank}",
        },
        "empty_reply": {"en": "the reply is empty", "fr": "la réponse est vide"},
        "reply_too_long": {
            "en": "the reply is longer than {limit} characters",
            "fr": "la réponse dépasse {limit} caractères",
        },
        "reply_state": {
            "en": "reply #{reply} is {state}",
            "fr": "la réponse n°{reply} est {state}",
        },
        "no_reply": {
            "en": "reply #{reply} does not exist",
            "fr": "la réponse n°{reply} n'existe pas",
        },
        "no_message": {
            "en": "message {message} is not known",
            "fr": "le message {message} est inconnu",
        },
        "already_a_case": {
            "en": "that message is already in case {case}",
            "fr": "ce message est déjà dans le cas n°{case}",
        },
        "not_answered": {
            "en": "case {case} is {state}; answer it first",
            "fr": "le cas n°{case} est {state} ; répondez d'abord",
        },
        "not_asker": {
            "en": "only the member who asked can say whether this helped",
            "fr": "seul le membre qui a posé la question peut dire si cela l'a aidé",
        },
        "not_by_helper": {
            "en": "case {case} was not answered by the community",
            "fr": "le cas n°{case} n'a pas reçu de réponse de la communauté",
        },
    }
)


class ReviewError(HuitaineError):
    """A decision that cannot be taken; `explain` words it for the moderator."""

    def __init__(self, refusal: Refusal, **values: object) -> None:
        """Record why, with the values the explanation needs."""
        self.refusal = refusal
        self.values = values
        super().__init__(self.explain("en"))

    def explain(self, language: str) -> str:
        """The refusal in `language` (states are translated too)."""
        values = dict(self.values)
        if "state" in values:
            values["state"] = t(str(values["state"]), language)
        return _REFUSALS(self.refusal.value, language, **values)


class NotAllowed(ReviewError):
    """The actor is not a moderator."""

    def __init__(self) -> None:
        """Refuse someone who is not a moderator."""
        super().__init__(Refusal.NOT_MODERATOR)


class Review:
    """Takes moderators' decisions; never sends anything itself."""

    def __init__(
        self,
        store: Store,
        config: Config,
        clock: Clock,
        *,
        answered_late: Callable[[int, datetime], object] | None = None,
    ) -> None:
        """Wire the review desk to the store, the configuration and the clock.

        `answered_late(case_id, posted_at)` reads again the member's messages written after a
        reply that is recorded only later (confirmed after a doubt): the ingestor's rule.
        """
        self.store = store
        self.config = config
        self.clock = clock
        self.answered_late = answered_late
        self.cases = CaseBook(store, config)
        self.staff = StaffPolicy(config)

    def is_moderator(self, actor: Actor) -> bool:
        """True when `actor` moderates at least one community (a gate for commands only).

        Decisions on a case are judged in that case's community (`case_for`), never by this.
        """
        return self.staff.moderates_somewhere(actor)

    def scope(self, actor: Actor) -> Scope:
        """The cases `actor` may list and act on."""
        return self.staff.scope(actor)

    def case_for(self, actor: Actor, case_id: int) -> Case:
        """The case, if `actor` moderates its community; checked on every decision.

        A case of a community the actor does not moderate is refused as not allowed, whether
        or not it exists, so its number tells a stranger nothing.
        """
        if not self.staff.moderates_somewhere(actor):
            _LOGGER.warning(
                "refused: %s (%s:%s) is not a moderator", actor.name, actor.platform, actor.id
            )
            raise NotAllowed()
        case = self.cases.find(case_id)
        if case is None:
            raise ReviewError(Refusal.NO_CASE, case=case_id)
        if not self.staff.may_decide(actor, case):
            raise NotAllowed()
        return case

    def _log(
        self,
        case_id: int,
        action: Action,
        actor: Actor,
        *,
        text: str | None = None,
        reason: str | None = None,
    ) -> int:
        return self.store.insert(
            "decisions",
            {
                "case_id": case_id,
                "action": action.value,
                "actor_platform": actor.platform,
                "actor_id": actor.id,
                "actor_name": actor.name,
                "at": to_db(self.clock.now()),
                "text": text,
                "reason": reason,
            },
        )

    def approve(
        self, actor: Actor, case_id: int, *, text: str | None = None, suggestion_rank: int = 0
    ) -> Outgoing:
        """Approve a suggestion (or `text`, edited by the moderator) and queue it to send once.

        The outgoing row is committed as *sending* before this returns, so the adapter may send
        it; whatever happens next, it is never sent a second time without a moderator.
        """
        with self.store.transaction():
            # Two processes approving the same case at once: the second sees the first's reply.
            self.store.lock(f"case:{case_id}")
            case = self.case_for(actor, case_id)
            if not case.state.waiting:
                raise ReviewError(Refusal.CASE_CLOSED, case=case_id, state=case.state.value)
            # A case the member reopened (a follow-up, "still need help") takes a new reply;
            # one in flight or in doubt still blocks, so nothing is ever sent twice.
            done = (SendState.FAILED, SendState.SENT) if case.reopened else (SendState.FAILED,)
            pending = self.store.row(
                "SELECT id, state FROM outgoing WHERE case_id = ?"
                f" AND state NOT IN ({', '.join('?' for _ in done)})",
                (case_id, *(state.value for state in done)),
            )
            if pending:
                raise ReviewError(
                    Refusal.REPLY_PENDING,
                    case=case_id,
                    state=pending["state"],
                    reply=pending["id"],
                )
            if text is None:
                if not 0 <= suggestion_rank < len(case.suggestions):
                    raise ReviewError(
                        Refusal.NO_SUGGESTION, case=case_id, rank=suggestion_rank + 1
                    )
                body = sign(case.suggestions[suggestion_rank].text, actor.name)
                action = Action.APPROVE
            else:
                body = text.strip()
                action = Action.EDIT
            if not body:
                raise ReviewError(Refusal.EMPTY_REPLY)
            if len(body) > MAX_REPLY_CHARS:
                raise ReviewError(Refusal.REPLY_TOO_LONG, limit=MAX_REPLY_CHARS)
            decision = self._log(case_id, action, actor, text=body)
            reply_to = case.message_ids[0] if case.message_ids else ""
            now = self.clock.now()
            outgoing_id = self.store.insert(
                "outgoing",
                {
                    "case_id": case_id,
                    "decision_id": decision,
                    "platform": case.platform,
                    "community": case.community,
                    "channel": case.channel,
                    "thread": case.thread,
                    "reply_to": reply_to,
                    "member_id": case.author.id,
                    "text": body,
                    "state": SendState.SENDING.value,
                    "approved_by": actor.name,
                    "created_at": to_db(now),
                },
            )
            # Other processes on the same database see this reply as being sent, not orphaned.
            self.store.hold(f"sending:{outgoing_id}")
        return self.outgoing(outgoing_id)

    def mark_sent(
        self,
        outgoing_id: int,
        platform_message_id: str | None = None,
        *,
        posted_at: datetime | None = None,
    ) -> Outgoing:
        """The adapter confirms the platform accepted the reply: the case is answered.

        `posted_at`, for a reply recorded after the fact (confirmed after a doubt), dates the
        answer when it was posted; the member's messages since are then read again as
        follow-ups to it (`answered_late`).
        """
        with self.store.transaction():
            item = self.outgoing(outgoing_id)
            if item.state not in (SendState.SENDING, SendState.UNCONFIRMED):
                raise ReviewError(Refusal.REPLY_STATE, reply=outgoing_id, state=item.state.value)
            when = posted_at or self.clock.now()
            self.store.update(
                "outgoing",
                "id",
                outgoing_id,
                {
                    "state": SendState.SENT.value,
                    "sent_at": to_db(when),
                    "platform_message_id": platform_message_id,
                },
            )
            answered = self.cases.mark_answered(item.case_id, when, item.approved_by)
            if answered and posted_at is not None and self.answered_late is not None:
                self.answered_late(item.case_id, posted_at)
        self.store.release(f"sending:{outgoing_id}")
        return self.outgoing(outgoing_id)

    def mark_failed(self, outgoing_id: int, error: str) -> Outgoing:
        """The platform surely refused the reply (nothing was posted): it may be approved again."""
        with self.store.transaction():
            item = self.outgoing(outgoing_id)
            if item.state is not SendState.SENDING:
                raise ReviewError(Refusal.REPLY_STATE, reply=outgoing_id, state=item.state.value)
            self.store.update(
                "outgoing",
                "id",
                outgoing_id,
                {"state": SendState.FAILED.value, "error": error[:500]},
            )
        self.store.release(f"sending:{outgoing_id}")
        return self.outgoing(outgoing_id)

    def mark_unconfirmed(self, outgoing_id: int) -> Outgoing:
        """The send ended in doubt (a timeout, a dropped connection): a moderator must check."""
        with self.store.transaction():
            item = self.outgoing(outgoing_id)
            if item.state is not SendState.SENDING:
                raise ReviewError(Refusal.REPLY_STATE, reply=outgoing_id, state=item.state.value)
            self.store.update(
                "outgoing", "id", outgoing_id, {"state": SendState.UNCONFIRMED.value}
            )
        self.store.release(f"sending:{outgoing_id}")
        return self.outgoing(outgoing_id)

    def recover(self) -> list[Outgoing]:
        """At start-up: replies left *sending* by a crash may or may not have been posted.

        They become *unconfirmed* and wait for a moderator to check the channel and either
        confirm them or ask for a resend; they are never re-sent blindly.
        """
        with self.store.transaction():
            rows = self.store.rows(
                "SELECT id FROM outgoing WHERE state = ?", (SendState.SENDING.value,)
            )
            # Another live process on the same PostgreSQL database may be sending some now.
            rows = [row for row in rows if self.store.orphaned(f"sending:{row['id']}")]
            for row in rows:
                self.store.execute(
                    "UPDATE outgoing SET state = ? WHERE id = ? AND state = ?",
                    (SendState.UNCONFIRMED.value, row["id"], SendState.SENDING.value),
                )
        if rows:
            _LOGGER.warning("%d replies were being sent when the process stopped", len(rows))
        return [self.outgoing(int(row["id"])) for row in rows]

    def confirm_sent(
        self, actor: Actor, outgoing_id: int, *, posted_at: datetime | None = None
    ) -> Outgoing:
        """A moderator saw the unconfirmed reply on the platform: record it as sent.

        The member was answered when the reply was posted, not now: `posted_at` when the
        platform tells it, else when the last attempt to send it began.
        """
        item = self.outgoing(outgoing_id)
        with self.store.transaction():
            self.case_for(actor, item.case_id)
            if item.state is not SendState.UNCONFIRMED:
                raise ReviewError(Refusal.REPLY_STATE, reply=outgoing_id, state=item.state.value)
            self._log(item.case_id, Action.CONFIRM_SENT, actor)
            return self.mark_sent(outgoing_id, posted_at=posted_at or self._last_attempt(item))

    def _last_attempt(self, item: Outgoing) -> datetime:
        """When the last attempt to send `item` began: its approval or a moderator's resend.

        A case has one reply in flight or in doubt at a time, so the case's resends since the
        approval are this reply's.
        """
        row = self.store.row(
            "SELECT MAX(at) AS at FROM decisions WHERE case_id = ? AND action = ? AND at >= ?",
            (item.case_id, Action.RETRY_SEND.value, to_db(item.created_at)),
        )
        return from_db(row["at"]) if row and row["at"] else item.created_at

    def retry_send(self, actor: Actor, outgoing_id: int) -> Outgoing:
        """A moderator checked the reply is not on the platform: queue it once more."""
        item = self.outgoing(outgoing_id)
        with self.store.transaction():
            self.case_for(actor, item.case_id)
            if item.state is not SendState.UNCONFIRMED:
                raise ReviewError(Refusal.REPLY_STATE, reply=outgoing_id, state=item.state.value)
            self._log(item.case_id, Action.RETRY_SEND, actor)
            self.store.update("outgoing", "id", outgoing_id, {"state": SendState.SENDING.value})
            self.store.hold(f"sending:{outgoing_id}")
        return self.outgoing(outgoing_id)

    def dismiss(
        self, actor: Actor, case_id: int, reason: DismissReason, note: str | None = None
    ) -> Case:
        """Close a case that was not a real question or complaint."""
        with self.store.transaction():
            case = self.case_for(actor, case_id)
            if not case.state.waiting:
                raise ReviewError(Refusal.CASE_CLOSED, case=case_id, state=case.state.value)
            self._log(case_id, Action.DISMISS, actor, reason=reason.value, text=note)
            self.cases.set_state(case_id, CaseState.DISMISSED, self.clock.now())
        return self.cases.get(case_id)

    def snooze(self, actor: Actor, case_id: int, duration: timedelta | None = None) -> Case:
        """Hold reminders for a while; the seven-day limit and its escalation still stand.

        Without `duration`, the case's community's `[review] snooze` (its own, else the default).
        """
        with self.store.transaction():
            case = self.case_for(actor, case_id)
            own = self.config.for_community(case.platform, case.community).review
            duration = duration or own.snooze
            if not case.state.waiting:
                raise ReviewError(Refusal.CASE_CLOSED, case=case_id, state=case.state.value)
            until = self.cases.policy_of(case).snooze_until(
                self.clock.now(), duration, case.due_at
            )
            self._log(case_id, Action.SNOOZE, actor, text=to_db(until))
            self.store.update(
                "cases",
                "id",
                case_id,
                {"snoozed_until": to_db(until), "next_notice_at": to_db(until)},
            )
        return self.cases.get(case_id)

    def assign(self, actor: Actor, case_id: int, assignee: Actor | None = None) -> Case:
        """Assign a case to a moderator (by default the one acting: "mine")."""
        assignee = assignee or actor
        with self.store.transaction():
            case = self.case_for(actor, case_id)
            if not case.state.waiting:
                raise ReviewError(Refusal.CASE_CLOSED, case=case_id, state=case.state.value)
            self._log(case_id, Action.ASSIGN, actor, text=assignee.name)
            self.store.update("cases", "id", case_id, {"assignee": assignee.name})
        return self.cases.get(case_id)

    def resolve(self, actor: Actor, case_id: int) -> Case:
        """Close an answered case: the member's matter is settled."""
        with self.store.transaction():
            case = self.case_for(actor, case_id)
            if case.state is not CaseState.ANSWERED:
                raise ReviewError(Refusal.NOT_ANSWERED, case=case_id, state=case.state.value)
            self._log(case_id, Action.RESOLVE, actor)
            self.cases.set_state(case_id, CaseState.RESOLVED, self.clock.now())
        return self.cases.get(case_id)

    def confirm_helper(self, actor: Actor, case_id: int) -> Case:
        """A moderator confirms the community's answer: the case counts as answered for good."""
        with self.store.transaction():
            self.case_for(actor, case_id)
            if not self.cases.confirm_helper(case_id):
                raise ReviewError(Refusal.NOT_BY_HELPER, case=case_id)
            self._log(case_id, Action.CONFIRM_HELPER, actor)
        return self.cases.get(case_id)

    def take_over(self, actor: Actor, case_id: int) -> Case:
        """A moderator takes back a case a helper answered: it waits again, assigned to them."""
        with self.store.transaction():
            self.case_for(actor, case_id)
            if not self.cases.take_over(case_id, self.clock.now(), actor.name):
                raise ReviewError(Refusal.NOT_BY_HELPER, case=case_id)
            self._log(case_id, Action.TAKE_OVER, actor)
        return self.cases.get(case_id)

    def member_feedback(self, member: Actor, case_id: int, feedback: Feedback) -> Case:
        """The member who asked presses "solved" or "still need help" under the reply.

        Only the case's own author counts (same platform, same id): anyone else's press is
        refused and changes nothing. "Solved" resolves the case; "still need help" reopens it
        with a new target (the next-response clock).
        """
        with self.store.transaction():
            case = self.cases.find(case_id)
            if case is None:
                raise ReviewError(Refusal.NO_CASE, case=case_id)
            if (member.platform, member.id) != (case.platform, case.author.id):
                _LOGGER.warning(
                    "refused: %s:%s pressed %s on case %d, asked by someone else",
                    member.platform,
                    member.id,
                    feedback.value,
                    case_id,
                )
                raise ReviewError(Refusal.NOT_ASKER)
            if case.first_response_at is None or case.state in (
                CaseState.DISMISSED,
                CaseState.WITHDRAWN,
            ):
                raise ReviewError(Refusal.NOT_ANSWERED, case=case_id, state=case.state.value)
            now = self.clock.now()
            self.cases.record_feedback(case_id, feedback, now)
            if feedback is Feedback.SOLVED:
                self._log(case_id, Action.MEMBER_SOLVED, member)
                if case.state is not CaseState.RESOLVED:
                    self.cases.set_state(case_id, CaseState.RESOLVED, now)
            else:
                self._log(case_id, Action.MEMBER_NEEDS_HELP, member)
                self.cases.reopen(case_id, now)
        return self.cases.get(case_id)

    def open_by_hand(
        self, actor: Actor, message_key: str, kind: Kind, *, suggester: Suggester
    ) -> Case:
        """Open a case for a stored message the detector missed (a lesson for training)."""
        if not self.is_moderator(actor):
            raise NotAllowed()
        with self.store.transaction():
            row = self.store.row("SELECT * FROM messages WHERE key = ?", (message_key,))
            if row is None:
                raise ReviewError(Refusal.NO_MESSAGE, message=message_key.rsplit(":", 1)[-1])
            if not self.staff.may_moderate(actor, row["platform"], row["community"]):
                _LOGGER.warning(
                    "refused: %s may not open a case in %s", actor.id, row["community"]
                )
                raise NotAllowed()
            if row["case_id"] is not None:
                raise ReviewError(Refusal.ALREADY_A_CASE, case=row["case_id"])
            message = message_from_row(row)
            language = (
                row["language"]
                if row["language"] not in (None, "und")
                else (
                    self.config.for_community(row["platform"], row["community"]).community.language
                )
            )
            detection = Detection(
                question=float(row["question"] or 0.0),
                complaint=float(row["complaint"] or 0.0),
                language=language,
                reasons=("opened by a moderator",),
            )
            case_id = self.cases.open(message, detection, kind)
            self.cases.save_suggestions(
                case_id,
                suggester.suggest(
                    text=message.text,
                    kind=kind,
                    language=language,
                    member=message.author.name,
                    community=self.config.for_community(
                        message.platform, message.community
                    ).community.name,
                ),
            )
            self._log(case_id, Action.OPEN, actor, text=kind.value)
        return self.cases.get(case_id)

    def outgoing(self, outgoing_id: int) -> Outgoing:
        """Read one outgoing reply; ReviewError if there is none."""
        row = self.store.row("SELECT * FROM outgoing WHERE id = ?", (outgoing_id,))
        if row is None:
            raise ReviewError(Refusal.NO_REPLY, reply=outgoing_id)
        return _outgoing(row)

    def outbox(self, *states: SendState) -> list[Outgoing]:
        """Outgoing replies in the given states (all when none given)."""
        wanted = [s.value for s in states] or [s.value for s in SendState]
        rows = self.store.rows(
            f"SELECT * FROM outgoing WHERE state IN ({', '.join('?' * len(wanted))}) ORDER BY id",
            tuple(wanted),
        )
        return [_outgoing(row) for row in rows]

    def replies_of(self, case_id: int) -> list[Outgoing]:
        """The approved replies of one case, oldest first (one query)."""
        rows = self.store.rows("SELECT * FROM outgoing WHERE case_id = ? ORDER BY id", (case_id,))
        return [_outgoing(row) for row in rows]

    def audit_log(self, case_id: int | None = None) -> list[dict[str, Any]]:
        """Every decision, oldest first (optionally for one case)."""
        if case_id is None:
            return self.store.rows("SELECT * FROM decisions ORDER BY id")
        return self.store.rows("SELECT * FROM decisions WHERE case_id = ? ORDER BY id", (case_id,))


def _outgoing(row: dict[str, Any]) -> Outgoing:
    return Outgoing(
        id=int(row["id"]),
        case_id=int(row["case_id"]),
        platform=row["platform"],
        community=row["community"],
        channel=row["channel"],
        thread=row["thread"],
        reply_to=row["reply_to"],
        member_id=row["member_id"],
        text=row["text"],
        state=SendState(row["state"]),
        approved_by=row["approved_by"],
        created_at=from_db(row["created_at"]),
        platform_message_id=row["platform_message_id"],
    )
