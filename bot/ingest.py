"""Ingestion: store each message first, then detect, then open, join or answer cases."""

from __future__ import annotations

import enum
import functools
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.cases import CaseBook, excerpt
from bot.clock import EARLIEST, LATEST, from_db, in_range, to_db
from bot.config import Config, community_key
from bot.conversation import MIN_ANSWERS, answers_given, is_helper_question
from bot.detect.base import Detector
from bot.memory import ReplyMemory
from bot.models import Action, Answerer, Author, CaseState, Detection, Kind, Message
from bot.privacy import erase_message, erasing
from bot.retrieval_drafts import build_drafter
from bot.staff import StaffPolicy
from bot.storage import Store, dumps, loads
from bot.suggest import Suggester, load_templates

_LOGGER = logging.getLogger(__name__)

# Texts beyond this are stored truncated: a chat message is never this long, a paste or an
# attack is, and the moderators still see the beginning.
MAX_TEXT_CHARS = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Outcome(enum.StrEnum):
    """What ingesting one event did."""

    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    STORED = "stored"
    OPENED = "opened"
    JOINED = "joined"
    ANSWERED = "answered"
    UPDATED = "updated"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"
    REOPENED = "reopened"  # the member followed up on an answered case: waiting again
    HELD = "held"  # the database could not take it yet: held in memory and retried


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome of one event and the cases it touched."""

    outcome: Outcome
    case_ids: tuple[int, ...] = ()


def clean_text(text: str) -> str:
    """Drop characters SQLite and terminals choke on, and cap the length."""
    # NUL ends strings in C APIs and control characters garble cards; both are dropped, while
    # newlines, tabs and every printable script (RTL, emoji, zero-width joiners) are kept.
    # Lone surrogates (from broken JSON escapes) cannot be stored as UTF-8: they become "?".
    text = text[:MAX_TEXT_CHARS].encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", text)


class Ingestor:
    """Turns platform-neutral events into stored messages and case changes."""

    def __init__(
        self, store: Store, config: Config, detector: Detector, suggester: Suggester
    ) -> None:
        """Wire the ingestor to its store, detector and suggester."""
        self.store = store
        self.config = config
        self.detector = detector
        self.suggester = suggester
        self.cases = CaseBook(store, config)
        self.memory = ReplyMemory(store)
        self.staff = StaffPolicy(config)
        self.drafter = build_drafter(store, config, detector, suggester)
        self._suggesters: dict[tuple[str, str], Suggester] = {}
        # Imports (`huitaine audit`) set this: frequent non-staff answerers count as helpers.
        self.infer_helpers = False
        # Keys of messages whose processing raised in this run; start-up covers older runs.
        self._failed: set[str] = set()

    def is_staff(self, message: Message) -> bool:
        """Whether the message answers as staff: the StaffPolicy judges the author's facts."""
        return self.staff.answers_as_staff(message)

    def is_helper(self, message: Message) -> bool:
        """A configured helper of the message's community (never staff: staff wins)."""
        return not self.is_staff(message) and self.staff.answers_as_helper(message)

    def ingest(self, message: Message, detection: Detection | None = None) -> IngestResult:
        """Store `message` once and act on it; delivering it again changes nothing.

        `detection`, when the caller scored the text ahead in a batch (`detect_ahead`), saves
        scoring it again.
        """
        if _out_of_range(message):
            return IngestResult(Outcome.IGNORED)
        stored = self.store_new(message)
        if stored is None:
            # Delivered again: if an earlier attempt stored it but died before processing it,
            # this is the moment to finish the job rather than call it a duplicate.
            row = self.store.row(
                "SELECT * FROM messages WHERE key = ? AND processed = 0", (message.key,)
            )
            if row is None:
                return IngestResult(Outcome.DUPLICATE)
            return self._guarded(str(row["key"]), lambda: self._process_row(row))
        return self.process(stored, detection)

    def detect_ahead(self, messages: Sequence[Message]) -> dict[str, Detection]:
        """Score, in one batch, the members' texts among `messages`, by message key.

        Detection depends on the text alone, so scoring a window of a history ahead and then
        acting on each message in order gives the same cases as one at a time, at the
        detector's batched speed.
        """
        wanted = [
            _cleaned(m) for m in messages if self.needs_detection(m) and not _out_of_range(m)
        ]
        if not wanted:
            return {}
        found: dict[str, Detection] = {}
        by_community: dict[tuple[str, str], list[Message]] = {}
        for m in wanted:
            by_community.setdefault((m.platform, m.community), []).append(m)
        for (platform, community), some in by_community.items():
            scored = self._detect_in(platform, community, [m.text for m in some])
            found |= {m.key: detection for m, detection in zip(some, scored, strict=True)}
        return found

    def store_new(self, message: Message) -> Message | None:
        """Store a message (cleaned) unless it is known; None for a duplicate.

        Committed before detection: if detection fails or the process dies, the message is
        still here and `process_pending` picks it up. One statement: its own transaction.
        """
        message = _cleaned(message)
        if not self.store.insert_new("messages", self._row(message)):
            return None
        return message

    def _row(self, message: Message) -> dict[str, object]:
        row = _message_row(message, self.is_staff(message))
        row["author_helper"] = int(self.is_helper(message))
        return row

    def needs_detection(self, message: Message) -> bool:
        """Only members' messages are scored; staff and bots never open cases."""
        return not (message.author.is_bot or self.is_staff(message))

    def process(self, message: Message, detection: Detection | None = None) -> IngestResult:
        """Act on a stored message; `detection` saves scoring it again when it is known.

        If acting fails (detection raised, the database refused), the message stays stored and
        unprocessed: `retry_failed` tries it again, and start-up does in any case.
        """
        return self._guarded(message.key, lambda: self._process(message, detection))

    def retry_failed(self) -> list[IngestResult]:
        """Process again the messages whose processing failed in this run; return the results."""
        results = []
        for key in sorted(self._failed):
            row = self.store.row("SELECT * FROM messages WHERE key = ? AND processed = 0", (key,))
            if row is not None:
                try:
                    results.append(self._guarded(key, functools.partial(self._process_row, row)))
                except Exception:
                    _LOGGER.exception("message %s still cannot be processed; will retry", key)
                    continue
            self._failed.discard(key)
        return results

    def _guarded(self, key: str, work: Callable[[], IngestResult]) -> IngestResult:
        try:
            result = work()
        except Exception:
            self._failed.add(key)
            raise
        self._failed.discard(key)
        return result

    def _process_row(self, row: dict[str, Any]) -> IngestResult:
        """Finish a stored, unprocessed message: new ones as new, edited ones as edits."""
        message = message_from_row(row)
        if row["question"] is not None:
            # Scored before, then edited: the edit's detection is what is missing.
            return self._redetect(message, row["case_id"])
        return self._process(message, helper=bool(row.get("author_helper")))

    def store_many(self, messages: Iterable[Message], *, batch: int = 5000) -> int:
        """Store a history in bulk, unprocessed, skipping known messages; return how many new.

        Detection and cases follow in `process_pending`, in time order, so an import is fast
        and a crash in the middle of either step loses nothing.
        """
        added = 0
        rows: list[dict[str, object]] = []
        for message in messages:
            if _out_of_range(message):
                continue
            message = _cleaned(message)
            rows.append(self._row(message))
            if len(rows) >= batch:
                added += self.store.insert_many_new("messages", rows)
                rows = []
        return added + self.store.insert_many_new("messages", rows)

    def process_pending(self, *, chunk: int = 1000) -> int:
        """Process stored but unprocessed messages in time order; return how many.

        Reads in chunks so that a million pending messages never sit in memory at once.
        """
        done = 0
        while True:
            rows = self.store.rows(
                "SELECT * FROM messages WHERE processed = 0 ORDER BY created_at, key LIMIT ?",
                (chunk,),
            )
            if not rows:
                return done
            # New members' messages are scored in one batch; edits and staff go one by one.
            fresh = {r["key"]: message_from_row(r) for r in rows if r["question"] is None}
            ahead = self.detect_ahead(list(fresh.values()))
            for row in rows:
                key = row["key"]
                if key in ahead:
                    helper = bool(row.get("author_helper"))
                    work = functools.partial(self._process, fresh[key], ahead[key], helper=helper)
                    self._guarded(key, work)
                else:
                    self._process_row(row)
            done += len(rows)

    def _process(
        self, message: Message, detection: Detection | None = None, *, helper: bool | None = None
    ) -> IngestResult:
        """Act on one stored message; `helper` is the stored flag when rebuilt from its row
        (the author's roles are not stored)."""
        staff = self.is_staff(message)
        if helper is None:
            helper = self.is_helper(message)
        # A row stored before dates were checked must not stop every later start-up.
        if message.author.is_bot or _out_of_range(message):
            self._mark_processed(message, None)
            return IngestResult(Outcome.IGNORED)
        if staff:
            with self.store.transaction():
                if not self._claim(message, None):
                    return IngestResult(Outcome.DUPLICATE)
                answered = [
                    case_id
                    for case_id in self.cases.answered_by(message)
                    if self.cases.mark_answered(case_id, message.created_at, message.author.name)
                ]
            return IngestResult(Outcome.ANSWERED if answered else Outcome.STORED, tuple(answered))
        if helper or self.infer_helpers:
            with self.store.transaction():
                # A helper answering someone else's case answers "by the community"; their
                # own questions are a member's like any other.
                others = [
                    case_id
                    for case_id in self.cases.answered_by(message)
                    if self.cases.get(case_id).author.id != message.author.id
                ]
                if others and not helper:
                    # An import names no helpers: a member who often answers others is one.
                    helper = answers_given(self.store, message) >= MIN_ANSWERS
                if others and helper:
                    # Claimed like any message: a second process (or a replay) finds it done.
                    if not self._claim(message, None):
                        return IngestResult(Outcome.DUPLICATE)
                    answered = [
                        case_id
                        for case_id in others
                        if self.cases.mark_answered(
                            case_id,
                            message.created_at,
                            message.author.name,
                            answerer=Answerer.HELPER,
                        )
                    ]
                    outcome = Outcome.ANSWERED if answered else Outcome.STORED
                    return IngestResult(outcome, tuple(answered))
        if detection is None:
            detection = self._detect(message)
        with self.store.transaction():
            if not self._claim(message, detection):
                return IngestResult(Outcome.DUPLICATE)
            window_start = message.created_at - self.config.cases.join_window
            active = self.cases.active_for(message, window_start)
            if active is not None:
                self.cases.join(active, message, detection)
                return IngestResult(Outcome.JOINED, (active,))
            kind = detection.kind(self.config.detection.threshold)
            reopened = self._follow_up(message, detection, kind)
            if reopened is not None:
                return IngestResult(Outcome.REOPENED, (reopened,))
            if kind is Kind.OTHER or is_helper_question(
                self.store, message, kind, self.config.detection.threshold
            ):
                return IngestResult(Outcome.STORED)
            case_id = self.cases.open(message, detection, kind)
            self._suggest(case_id, message, kind, detection.language)
        return IngestResult(Outcome.OPENED, (case_id,))

    def _follow_up(self, message: Message, detection: Detection, kind: Kind) -> int | None:
        """Reopen the member's recently answered case when they ask again (the next-response
        clock): "answered" means the member is not left waiting, not "someone touched it".

        Only a question or a complaint reopens: a "thanks!" after an answer is not waiting.
        """
        if kind is Kind.OTHER:
            return None
        since = message.created_at - self.config.cases.reopen_window
        case_id = self.cases.answered_for(message, since)
        if case_id is None:
            return None
        self._reopen(case_id, message, detection)
        return case_id

    def _reopen(self, case_id: int, message: Message, detection: Detection) -> None:
        """The member's follow-up `message` reopens the answered case, logged and redrafted."""
        # Joined first, so that a question the member now complains about reopens as a
        # complaint, its target counted from the follow-up.
        self.cases.join(case_id, message, detection)
        self.cases.reopen(case_id, message.created_at)
        self.store.insert(
            "decisions",
            {
                "case_id": case_id,
                "action": Action.REOPEN.value,
                "actor_platform": message.platform,
                "actor_id": message.author.id,
                "actor_name": message.author.name,
                "at": to_db(message.created_at),
                "text": None,
                "reason": None,
            },
        )
        case = self.cases.get(case_id)
        self._suggest(case_id, message, case.kind, case.language)

    def answered_late(self, case_id: int, answered_at: datetime) -> None:
        """Read again the member's messages that a reply recorded late turns out to precede.

        A reply confirmed posted after a crash or a timeout is dated when it was posted; the
        member's messages written since joined the case while it still seemed to wait. They
        are taken as an uninterrupted run would have taken them: a "thanks" is not part of an
        answered case, the first question or complaint within the reopen window reopens it
        (the next-response clock), and one beyond it opens a case of its own, which the
        member's later messages join. The caller holds the transaction.
        """
        case = self.cases.get(case_id)
        rows = self.store.rows(
            "SELECT * FROM messages WHERE case_id = ? AND author_id = ? AND created_at > ?"
            " AND deleted_at IS NULL ORDER BY created_at, key",
            (case_id, case.author.id, to_db(answered_at)),
        )
        threshold = self.config.detection.threshold
        for index, row in enumerate(rows):
            message = message_from_row(row)
            detection = _stored_detection(row, case.language)
            kind = detection.kind(threshold)
            if kind is Kind.OTHER:
                self.store.update("messages", "key", message.key, {"case_id": None})
                continue
            if message.created_at - answered_at <= self.config.cases.reopen_window:
                self._reopen(case_id, message, detection)
                return
            new_id = self.cases.open(message, detection, kind)
            for later in rows[index + 1 :]:
                self.cases.join(
                    new_id, message_from_row(later), _stored_detection(later, case.language)
                )
            self._suggest(new_id, message, kind, detection.language)
            _LOGGER.info(
                "case %d: the member's message %s came after the late answer: case %d",
                case_id,
                message.id,
                new_id,
            )
            break
        if rows:
            # The case's last message is its last one before the answer again.
            self.store.execute(
                "UPDATE cases SET last_message_at = COALESCE((SELECT MAX(created_at) FROM"
                " messages WHERE case_id = ?), last_message_at) WHERE id = ?",
                (case_id, case_id),
            )

    def edit(self, message: Message, edited_at: datetime) -> IngestResult:
        """Apply an edit: update the text and detect again; an unknown message is ingested.

        The new text and "not processed yet" are committed together, so a crash or a failed
        detection between them is finished later (by `retry_failed`, at start-up, or when the
        same edit comes again) instead of being taken for a duplicate.
        """
        if _out_of_range(message):
            return IngestResult(Outcome.IGNORED)
        message = _cleaned(message)
        row = self.store.row("SELECT * FROM messages WHERE key = ?", (message.key,))
        if row is None:
            return self.ingest(message)
        if row["text"] == message.text:
            if row["processed"]:
                return IngestResult(Outcome.DUPLICATE)
            return self._guarded(message.key, lambda: self._process_row(row))
        member = not (row["author_staff"] or row["author_bot"])
        changes: dict[str, object] = {"text": message.text, "edited_at": to_db(edited_at)}
        if member:
            changes["processed"] = 0
        with self.store.transaction():
            self.store.update("messages", "key", message.key, changes)
        if not member:
            return IngestResult(Outcome.UPDATED)
        fresh = {**row, **changes}
        return self._guarded(message.key, lambda: self._process_row(fresh))

    def _redetect(self, stored: Message, case_id: object) -> IngestResult:
        """Detect an edited member's message again and act on the new text."""
        detection = self._detect(stored)
        kind = detection.kind(self.config.detection.threshold)
        with self.store.transaction():
            if not self._claim(stored, detection):
                return IngestResult(Outcome.DUPLICATE)
            if case_id is None:
                if kind is Kind.OTHER:
                    return IngestResult(Outcome.UPDATED)
                # The member has been waiting since they first posted, so the deadline runs
                # from the original time, not from the edit.
                new_id = self.cases.open(stored, detection, kind)
                self._suggest(new_id, stored, kind, detection.language)
                return IngestResult(Outcome.OPENED, (new_id,))
            case = self.cases.get(int(str(case_id)))
            if case.state.waiting and kind is Kind.COMPLAINT and case.kind is Kind.QUESTION:
                self.cases.join(case.id, stored, detection)
                self._suggest(case.id, stored, kind, case.language)
            elif case.state.waiting and case.message_ids[:1] == (stored.id,):
                # The card quotes the member's first words: show what they say now, and draft
                # for it, so nobody approves an answer to a text the member replaced.
                self.store.update("cases", "id", case.id, {"excerpt": excerpt(stored.text)})
                self._suggest(case.id, stored, case.kind, case.language)
        return IngestResult(Outcome.UPDATED, (case.id,))

    def delete(
        self, platform: str, community: str, channel: str, message_id: str, deleted_at: datetime
    ) -> IngestResult:
        """Apply a deletion; a waiting case whose messages are all deleted is withdrawn."""
        key = f"{platform}:{community}:{channel}:{message_id}"
        # The member took their words back: the text is erased, in the file and its WAL too.
        with erasing(self.store), self.store.transaction():
            row = self.store.row("SELECT case_id FROM messages WHERE key = ?", (key,))
            if row is None:
                _LOGGER.info("delete of unknown message %s ignored", key)
                return IngestResult(Outcome.UNKNOWN)
            self.store.update("messages", "key", key, {"deleted_at": to_db(deleted_at)})
            erase_message(self.store, key)
            case_id = row["case_id"]
            if case_id is None:
                return IngestResult(Outcome.UPDATED)
            remaining = self.store.row(
                "SELECT COUNT(*) AS n FROM messages WHERE case_id = ? AND deleted_at IS NULL",
                (case_id,),
            )
            case = self.cases.get(int(case_id))
            if remaining and remaining["n"] == 0 and case.state.waiting:
                self.cases.set_state(case.id, CaseState.WITHDRAWN, deleted_at)
                return IngestResult(Outcome.WITHDRAWN, (case.id,))
        return IngestResult(Outcome.UPDATED, (int(case_id),))

    def _detect(self, message: Message) -> Detection:
        return self._detect_in(message.platform, message.community, [message.text])[0]

    def _detect_in(self, platform: str, community: str, texts: list[str]) -> list[Detection]:
        # The model detector scores each community with its own head (`detect_for`).
        detect_for = getattr(self.detector, "detect_for", None)
        if detect_for is None:
            return self.detector.detect_batch(texts)
        scored: list[Detection] = detect_for(community_key(platform, community), texts)
        return scored

    def _suggest(self, case_id: int, message: Message, kind: Kind, language: str) -> None:
        own = self.config.for_community(message.platform, message.community)
        ranked = self.drafter.draft(
            text=message.text,
            kind=kind,
            language=language,
            member=message.author.name,
            community_name=own.community.name,
            platform=message.platform,
            community=message.community,
            exclude_case=case_id,
            suggester=self._suggester_for(own),
        )
        self.cases.save_suggestions(case_id, ranked)

    def _suggester_for(self, own: Config) -> Suggester:
        """The community's own templates and fallback language, loaded once; the default
        suggester where the community keeps the defaults."""
        key = (own.responses.directory, own.community.language)
        if key == (self.config.responses.directory, self.config.community.language):
            return self.suggester
        if key not in self._suggesters:
            self._suggesters[key] = Suggester(
                load_templates(own.responses.directory or None),
                fallback_language=own.community.language,
            )
        return self._suggesters[key]

    def _claim(self, message: Message, detection: Detection | None) -> bool:
        """Mark the message processed in this transaction; False if it already was.

        Several processes may share one PostgreSQL database: the community's lock keeps its
        cases opened and joined in one order, and the row lock of this update makes a second
        process find the message processed and leave it. On SQLite, BEGIN IMMEDIATE does both.
        """
        self.store.lock(f"community:{message.platform}:{message.community}")
        changes = self._processed_changes(detection)
        assignments = ", ".join(f"{column} = ?" for column in changes)
        claimed = self.store.execute(
            f"UPDATE messages SET {assignments} WHERE key = ? AND processed = 0",
            (*changes.values(), message.key),
        )
        return claimed.rowcount == 1

    def _mark_processed(self, message: Message, detection: Detection | None) -> None:
        self.store.update("messages", "key", message.key, self._processed_changes(detection))

    def _processed_changes(self, detection: Detection | None) -> dict[str, object]:
        changes: dict[str, object] = {"processed": 1}
        if detection is not None:
            changes |= {
                "question": round(detection.question, 4),
                "complaint": round(detection.complaint, 4),
                "language": detection.language,
                "reasons": dumps(list(detection.reasons)),
            }
        return changes


def _out_of_range(message: Message) -> bool:
    """True (with a log line) for a message dated where deadlines cannot be computed, or with
    an id that cannot be stored (a lone surrogate from a broken escape: ids must stay exact)."""
    try:
        message.key.encode("utf-8")
        for value in (message.author.id, message.thread, message.reply_to, *message.mentions):
            if value is not None:
                value.encode("utf-8")
    except UnicodeEncodeError:
        _LOGGER.warning("message %a skipped: an id is not valid text", message.key)
        return True
    if in_range(message.created_at):
        return False
    _LOGGER.warning(
        "message %s skipped: its date %s is outside %d-%d",
        message.key,
        message.created_at.isoformat(),
        EARLIEST.year,
        LATEST.year - 1,
    )
    return True


def _cleaned(message: Message) -> Message:
    """The message as stored: text cleaned, a name's broken characters shown as "?"."""
    message = _with_text(message, clean_text(message.text))
    name = message.author.name.encode("utf-8", "replace").decode("utf-8")
    if name != message.author.name:
        message = replace(message, author=replace(message.author, name=name))
    return message


def _with_text(message: Message, text: str) -> Message:
    return message if text == message.text else replace(message, text=text)


def _message_row(message: Message, staff: bool) -> dict[str, object]:
    return {
        "key": message.key,
        "platform": message.platform,
        "community": message.community,
        "channel": message.channel,
        "id": message.id,
        "thread": message.thread,
        "reply_to": message.reply_to,
        "author_id": message.author.id,
        "author_name": message.author.name,
        "author_staff": int(staff),
        "author_bot": int(message.author.is_bot),
        "text": message.text,
        "mentions": dumps(list(message.mentions)),
        "created_at": to_db(message.created_at),
    }


def _stored_detection(row: dict[str, Any], language: str) -> Detection:
    """The detection stored with a processed message."""
    return Detection(
        question=float(row["question"] or 0.0),
        complaint=float(row["complaint"] or 0.0),
        language=str(row["language"] or language),
    )


def message_from_row(row: dict[str, object]) -> Message:
    """Rebuild a stored message."""
    return Message(
        platform=str(row["platform"]),
        community=str(row["community"]),
        channel=str(row["channel"]),
        id=str(row["id"]),
        thread=row["thread"] if row["thread"] is None else str(row["thread"]),
        reply_to=row["reply_to"] if row["reply_to"] is None else str(row["reply_to"]),
        author=Author(
            id=str(row["author_id"]),
            name=str(row["author_name"]),
            is_staff=bool(row["author_staff"]),
            is_bot=bool(row["author_bot"]),
        ),
        text=str(row["text"]),
        mentions=tuple(loads(str(row["mentions"]))),
        created_at=from_db(str(row["created_at"])),
    )
