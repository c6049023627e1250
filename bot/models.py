"""Domain objects shared by every part of Huitaine: messages, detections, cases, reviews."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Kind(enum.StrEnum):
    """What a detected message asks of the community."""

    QUESTION = "question"
    COMPLAINT = "complaint"
    OTHER = "other"


class CaseState(enum.StrEnum):
    """Life cycle of a case; `overdue` is derived, never stored."""

    OPEN = "open"
    SUGGESTED = "suggested"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    WITHDRAWN = "withdrawn"

    @property
    def waiting(self) -> bool:
        """True while the member is still waiting for a human answer."""
        return self in (CaseState.OPEN, CaseState.SUGGESTED)


class Action(enum.StrEnum):
    """A moderator's decision on a case, as written to the audit log."""

    APPROVE = "approve"
    EDIT = "edit"
    DISMISS = "dismiss"
    SNOOZE = "snooze"
    ASSIGN = "assign"
    RESOLVE = "resolve"
    CONFIRM_SENT = "confirm_sent"
    RETRY_SEND = "retry_send"
    OPEN = "open"  # a moderator opened a case the detector missed
    CONFIRM_HELPER = "confirm_helper"  # a moderator confirms the community's answer
    TAKE_OVER = "take_over"  # a moderator takes back a case a helper answered
    MEMBER_SOLVED = "member_solved"  # the member who asked says it is solved
    MEMBER_NEEDS_HELP = "member_needs_help"  # the member who asked still needs help
    REOPEN = "reopen"  # the member followed up after an answer: waiting again


class Answerer(enum.StrEnum):
    """Who answered a case: staff (or an approved reply), or a helper from the community."""

    STAFF = "staff"
    HELPER = "helper"  # "answered by the community": moderators may confirm or take over


class Feedback(enum.StrEnum):
    """What the member who asked said of the answer (their buttons under the reply)."""

    SOLVED = "solved"
    STILL_NEED_HELP = "still_need_help"


class DismissReason(enum.StrEnum):
    """Why a moderator dismissed a case; kept for learning and reports."""

    NOT_A_REQUEST = "not_a_request"
    SPAM = "spam"
    DUPLICATE = "duplicate"
    HANDLED_ELSEWHERE = "handled_elsewhere"
    OTHER = "other"


class SendState(enum.StrEnum):
    """Where an approved reply stands; `sending` is written before the platform call."""

    SENDING = "sending"
    SENT = "sent"
    UNCONFIRMED = "unconfirmed"
    FAILED = "failed"


class NoticeKind(enum.StrEnum):
    """Messages the scheduler addresses to moderators."""

    REMINDER_TARGET = "reminder_target"
    REMINDER_LIMIT = "reminder_limit"
    ESCALATION = "escalation"


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a message, as the platform reports it.

    `standing` holds the platform's facts about the author in the message's own community
    (role names, the admin flag); the core's StaffPolicy alone turns them into "answers as
    staff". `is_staff` is that decision once taken and stored (read back from the database);
    an adapter leaves it unset.
    """

    id: str
    name: str
    is_staff: bool = False
    is_bot: bool = False
    standing: Standing | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One platform-neutral inbound message."""

    platform: str
    community: str
    channel: str
    id: str
    author: Author
    text: str
    created_at: datetime
    thread: str | None = None
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    edited: bool = False

    @property
    def key(self) -> str:
        """Globally unique key: the same platform message always maps to the same key."""
        return f"{self.platform}:{self.community}:{self.channel}:{self.id}"


@dataclass(frozen=True, slots=True)
class Detection:
    """What a detector says of one text."""

    question: float
    complaint: float
    language: str
    reasons: tuple[str, ...] = ()

    def kind(self, threshold: float = 0.5) -> Kind:
        """The case kind this detection calls for: complaint wins over question."""
        if self.complaint >= threshold:
            return Kind.COMPLAINT
        if self.question >= threshold:
            return Kind.QUESTION
        return Kind.OTHER

    @property
    def confidence(self) -> float:
        """Confidence of the strongest signal."""
        return max(self.question, self.complaint)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A drafted reply for a case; `{moderator}` is filled in when a moderator acts."""

    text: str
    language: str
    source: str
    score: float


@dataclass(frozen=True, slots=True)
class Case:
    """One thing a member is waiting on."""

    id: int
    platform: str
    community: str
    channel: str
    thread: str | None
    author: Author
    kind: Kind
    state: CaseState
    language: str
    confidence: float
    opened_at: datetime
    last_message_at: datetime
    target_at: datetime
    due_at: datetime
    message_ids: tuple[str, ...]
    excerpt: str
    reasons: tuple[str, ...] = ()
    first_response_at: datetime | None = None
    answered_by: str | None = None
    assignee: str | None = None
    snoozed_until: datetime | None = None
    suggestions: tuple[Suggestion, ...] = field(default=())
    answered_as: Answerer | None = None  # who gave the latest answer
    helper_confirmed: bool = False  # a moderator confirmed a helper's answer
    reopened: int = 0  # times the member came back after an answer
    feedback: Feedback | None = None  # the member's last press under the reply

    @property
    def answered_by_community(self) -> bool:
        """Answered by a helper and not yet confirmed or taken over by a moderator."""
        return (
            self.state is CaseState.ANSWERED
            and self.answered_as is Answerer.HELPER
            and not self.helper_confirmed
        )

    def overdue(self, now: datetime) -> bool:
        """Not answered and past the hard seven-day limit."""
        return self.state.waiting and now > self.due_at

    def late(self, now: datetime) -> bool:
        """Not answered and past its target."""
        return self.state.waiting and now > self.target_at


@dataclass(frozen=True, slots=True)
class Standing:
    """What a platform says of someone in one community (a guild, a group chat): facts only."""

    community: str
    roles: frozenset[str] = frozenset()  # role names as the platform writes them
    admin: bool = False  # the platform's own admin flag there, when the adapter counts it


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone pressing a button or typing a command, with the platform's facts about them.

    The facts are per community: a role held in one Discord server says nothing of another, so
    the core weighs only the standing in the case's own community (`bot.staff`).
    """

    platform: str
    id: str
    name: str
    standing: tuple[Standing, ...] = ()

    def standing_in(self, community: str) -> Standing | None:
        """The facts reported for `community`, if any."""
        return next((s for s in self.standing if s.community == community), None)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An approved reply on its way to the platform."""

    id: int
    case_id: int
    platform: str
    community: str
    channel: str
    thread: str | None
    reply_to: str
    member_id: str
    text: str
    state: SendState
    approved_by: str
    created_at: datetime
    platform_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A reminder or an escalation for the moderators of one case."""

    id: int
    case_id: int
    kind: NoticeKind
    due_at: datetime
    text: str
    mention: str | None = None
