"""Members' data: forget a member, erase deleted messages, purge old texts, export a member.

Erasing keeps the anonymous facts the reports are built from (kinds, states, times, who on the
team answered) and removes what names, identifies or quotes a member: names, user ids, texts,
excerpts, drafts, replies and reminder texts. The store runs with SQLite's `secure_delete` on,
so old bytes are overwritten in the file rather than left in free space; each erasure is followed
by a checkpoint that empties the WAL, where earlier copies of the pages would otherwise remain,
and `forget` rewrites the whole file (free space left by a version without `secure_delete`).
"""

from __future__ import annotations

import enum
import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cases import excerpt
from bot.clock import to_db
from bot.config import RetentionConfig
from bot.deadlines import WAITING_STATES
from bot.models import CaseState, DismissReason
from bot.storage import Store

_LOGGER = logging.getLogger(__name__)

# What an erased text, name or id becomes: empty, so nothing distinctive is left to match.
ERASED = ""
# What a member's name becomes inside someone else's text ("Hello Alice" -> "Hello …").
REDACTED = "…"
# Shorter names are not searched for inside other people's texts: "Al" would maim every "Al…".
MIN_NAME_CHARS = 3
# Rows per transaction when purging, so the live bot's other work interleaves between chunks.
CHUNK = 500
# How long a checkpoint waits for another process's readers before giving up for now.
CHECKPOINT_WAIT_MS = 250
# A day's purge is cut into runs of at most this many rows (one per scheduler tick).
RUN_BUDGET = 20_000
_REASONS = {reason.value for reason in DismissReason}
# A case with nothing left of its member; the detector's reasons go too (they quote words).
_ANONYMOUS_CASE = {"author_id": ERASED, "author_name": ERASED, "excerpt": ERASED, "reasons": "[]"}


class Erasure(enum.StrEnum):
    """The audit-log action recorded on a case whose member was forgotten."""

    FORGET = "forget"


@dataclass(frozen=True, slots=True)
class ForgetSummary:
    """What forgetting a member removed (counts only: nothing about the member)."""

    messages: int
    cases: int
    withdrawn: int
    replies: int
    addressed: int

    @property
    def found(self) -> bool:
        """True when anything of the member was stored."""
        return bool(self.messages or self.cases or self.replies)


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    """What one retention run erased."""

    messages: int = 0
    cases: int = 0
    digests: int = 0

    @property
    def total(self) -> int:
        """Rows touched."""
        return self.messages + self.cases + self.digests


@contextmanager
def erasing(store: Store) -> Iterator[None]:
    """Run the block, then checkpoint so that the WAL keeps no earlier copy of its pages.

    The store overwrites freed space (`secure_delete`), so the database file itself keeps no
    erased bytes. Enter this outside the block's transaction: a checkpoint needs it committed.
    """
    changes = store.db.conn.total_changes
    yield
    # Nothing written (a deletion of an unknown message): no checkpoint to pay for.
    if store.db.conn.total_changes != changes and not store.db.conn.in_transaction:
        checkpoint(store)


def checkpoint(store: Store) -> bool:
    """Copy the WAL into the database and empty it; False if a reader kept it from finishing.

    It waits for readers at most `CHECKPOINT_WAIT_MS`: the live bot must not stall behind a
    long report run from another process. The daily retention run tries again.
    """
    wait = int(store.execute("PRAGMA busy_timeout").fetchone()[0])
    store.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
    try:
        busy, _, _ = store.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        store.execute(f"PRAGMA busy_timeout = {wait}")
    if busy:
        _LOGGER.warning("the WAL of %s could not be emptied: another process reads it", store.path)
    return not busy


def compact(store: Store) -> bool:
    """Rewrite the file without free pages, then empty the WAL; False if a reader prevented it."""
    store.execute("VACUUM")
    return checkpoint(store)


def erase_message(store: Store, key: str) -> None:
    """Erase a deleted message's text; its case keeps an excerpt of what remains, if anything.

    Called in the deletion's transaction. The row stays (time, place, case) so the deletion is
    idempotent and the case's figures hold; the member took the words back, so they go.
    """
    row = store.row("SELECT case_id FROM messages WHERE key = ?", (key,))
    if row is None:
        return
    store.execute("UPDATE messages SET text = ?, reasons = '[]' WHERE key = ?", (ERASED, key))
    _drop_history_copies(store, [key])
    if row["case_id"] is None:
        return
    case_id = int(row["case_id"])
    unlearn(store, [case_id])
    case = store.row("SELECT excerpt FROM cases WHERE id = ?", (case_id,))
    left = store.row(
        "SELECT text FROM messages WHERE case_id = ? AND deleted_at IS NULL"
        " ORDER BY created_at, key LIMIT 1",
        (case_id,),
    )
    if left is None:
        # Drafts written for words that no longer exist will never be approved, and the
        # detector's reasons quote the matched words.
        store.execute("DELETE FROM suggestions WHERE case_id = ?", (case_id,))
        store.execute("UPDATE cases SET reasons = '[]' WHERE id = ?", (case_id,))
    new = excerpt(left["text"]) if left else ERASED
    if case is None or case["excerpt"] == new:
        return
    store.update("cases", "id", case_id, {"excerpt": new})
    # Reminders and digests quoted the old excerpt (cut to 120 and 80 characters).
    old = str(case["excerpt"])
    for cut in (120, 80):
        _replace_in(store, "notices", "text", old[:cut], new[:cut], "case_id = ?", (case_id,))
        _replace_in(store, "digests", "text", old[:cut], new[:cut])
        _replace_in(store, "community_digests", "text", old[:cut], new[:cut])


def forget_member(store: Store, platform: str, user_id: str, now: datetime) -> ForgetSummary:
    """Remove a member's messages, names, ids and texts from every table, in one transaction.

    Their waiting cases are withdrawn (as if they had deleted their messages: nothing is left to
    answer); every case keeps its kind, state and times, so the reports' figures do not move.
    Messages that reply to or mention them lose their text; their name is cut out of every other
    text. Each of their cases gets a `forget` row in the audit log, with nothing about them.
    Call `compact` afterwards to rewrite the file and empty the WAL.
    """
    with store.transaction():
        mine = store.rows(
            "SELECT key, community, channel, id, author_name FROM messages"
            " WHERE platform = ? AND author_id = ?",
            (platform, user_id),
        )
        cases = store.rows(
            "SELECT id, state, author_name, excerpt FROM cases"
            " WHERE platform = ? AND author_id = ?",
            (platform, user_id),
        )
        acted = store.rows(
            "SELECT DISTINCT actor_name FROM decisions WHERE actor_platform = ? AND actor_id = ?",
            (platform, user_id),
        )
        names = {str(r["author_name"]) for r in mine + cases} | {
            str(r["actor_name"]) for r in acted
        }
        names.discard(ERASED)
        case_ids = [int(c["id"]) for c in cases]
        touched = set(case_ids)  # cases whose texts change: heads fitted on them must go
        addressed = _erase_addressed(store, platform, user_id, touched)
        _drop_history_copies(store, (str(r["key"]) for r in mine))
        store.execute(
            "DELETE FROM messages WHERE platform = ? AND author_id = ?", (platform, user_id)
        )
        # Their raw updates not yet taken by the core (bot.inbox) go too.
        store.execute(
            "DELETE FROM inbox WHERE platform = ? AND member_id = ?", (platform, user_id)
        )
        withdrawn = 0
        for case in cases:
            changes: dict[str, Any] = dict(_ANONYMOUS_CASE)
            if case["state"] in WAITING_STATES:
                changes |= {
                    "state": CaseState.WITHDRAWN.value,
                    "closed_at": to_db(now),
                    "next_notice_at": None,
                }
                withdrawn += 1
            store.update("cases", "id", case["id"], changes)
        replies = store.execute(
            "UPDATE outgoing SET text = ?, member_id = ?,"
            " state = CASE state WHEN 'unconfirmed' THEN 'failed' ELSE state END"
            " WHERE platform = ? AND member_id = ?",
            (ERASED, ERASED, platform, user_id),
        ).rowcount
        _erase_case_texts(store, case_ids, keep_pending_notices=False)
        # Copies of their approved replies offered to other members carry their details too.
        for case_id in case_ids:
            store.execute(
                "DELETE FROM suggestions WHERE source = ?", (f"approved:case-{case_id}",)
            )
        store.execute(
            "UPDATE decisions SET actor_id = ?, actor_name = ?"
            " WHERE actor_platform = ? AND actor_id = ?",
            (ERASED, ERASED, platform, user_id),
        )
        # Digests quoted their excerpts; cut those before the names, which excerpts may hold.
        for case in cases:
            for cut in (120, 80):
                if len(case["excerpt"][:cut]) >= MIN_NAME_CHARS:
                    for table in ("digests", "community_digests"):
                        _replace_in(store, table, "text", case["excerpt"][:cut], REDACTED)
        for name in names:
            _cut_name(store, name, touched)
        for case_id in case_ids:
            store.insert(
                "decisions",
                {
                    "case_id": case_id,
                    "action": Erasure.FORGET.value,
                    "actor_platform": ERASED,
                    "actor_id": ERASED,
                    "actor_name": ERASED,
                    "at": to_db(now),
                },
            )
    unlearn(store, touched)
    summary = ForgetSummary(
        messages=len(mine),
        cases=len(cases),
        withdrawn=withdrawn,
        replies=replies,
        addressed=addressed,
    )
    # Counts only: the log must not become a list of who asked to be forgotten.
    _LOGGER.info("a %s member was forgotten: %s", platform, asdict(summary))
    return summary


def purge_older_than(store: Store, cutoff: datetime, *, budget: int = RUN_BUDGET) -> PurgeSummary:
    """Erase texts, names and ids older than `cutoff`; anonymous figures stay.

    A case a moderator still has to act on (open or suggested) keeps everything, whatever its
    age. Works in chunks of `CHUNK` rows, at most `budget` rows per call.
    """
    at = to_db(cutoff)
    cases = messages = 0
    touched: set[int] = set()
    # Both walks go forward by rowid, so rows erased earlier are never scanned twice in a call.
    last = 0
    while cases + messages < budget:
        with store.transaction():
            found = store.rows(
                "SELECT id FROM cases WHERE id > ? AND state NOT IN (?, ?)"
                " AND last_message_at < ? AND (author_name != '' OR author_id != ''"
                " OR excerpt != '') ORDER BY id LIMIT ?",
                (last, *WAITING_STATES, at, CHUNK),
            )
            ids = [int(r["id"]) for r in found]
            touched.update(ids)
            for case_id in ids:
                store.update("cases", "id", case_id, _ANONYMOUS_CASE)
            _erase_case_texts(store, ids, keep_pending_notices=True)
        cases += len(ids)
        if len(ids) < CHUNK:
            break
        last = ids[-1]
    last = 0
    while cases + messages < budget:
        with store.transaction():
            rows = store.rows(
                "SELECT rowid, key, mentions, case_id FROM messages"
                " WHERE rowid > ? AND created_at < ?"
                " AND (text != '' OR author_name != '' OR author_id != '')"
                " AND (case_id IS NULL OR case_id NOT IN"
                " (SELECT id FROM cases WHERE state IN (?, ?))) ORDER BY rowid LIMIT ?",
                (last, at, *WAITING_STATES, CHUNK),
            )
            touched.update(int(r["case_id"]) for r in rows if r["case_id"] is not None)
            for row in rows:
                # Ids of the people mentioned go; their number stays (the staff-tone figure).
                mentions = json.dumps([ERASED for _ in json.loads(row["mentions"])])
                store.execute(
                    "UPDATE messages SET text = ?, author_name = ?, author_id = ?,"
                    " reasons = '[]', mentions = ? WHERE rowid = ?",
                    (ERASED, ERASED, ERASED, mentions, row["rowid"]),
                )
            _drop_history_copies(store, (str(r["key"]) for r in rows))
        messages += len(rows)
        if len(rows) < CHUNK:
            break
        last = int(rows[-1]["rowid"])
    # Raw updates never taken by the core (bot.inbox) are not kept past the age either.
    store.execute("DELETE FROM inbox WHERE received_at < ?", (at,))
    digests = 0
    if cases + messages < budget:
        for table in ("digests", "community_digests"):
            digests += store.execute(
                f"UPDATE {table} SET text = ? WHERE created_at < ? AND delivered_at IS NOT NULL"
                " AND text != ''",
                (ERASED, at),
            ).rowcount
    unlearn(store, touched)
    return PurgeSummary(messages=messages, cases=cases, digests=digests)


class RetentionJob:
    """Applies `[retention]` once a day from the scheduler's tick."""

    def __init__(self, store: Store, config: RetentionConfig) -> None:
        """Purge `store` by the age in `config`."""
        self.store = store
        self.config = config
        self._next: datetime | None = None

    def run_if_due(self, now: datetime) -> PurgeSummary | None:
        """Purge what is older than the configured age, once a UTC day; None if not due.

        The cut-off is the start of the day minus the age, so every run of a day (after a
        restart, say) erases the same rows. A large first purge is spread over several ticks
        (`RUN_BUDGET` rows each), so the bot keeps answering in between.
        """
        erase_after = self.config.erase_after
        if erase_after is None or (self._next is not None and now < self._next):
            return None
        today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        summary = purge_older_than(self.store, today - erase_after)
        # Also empties what an earlier erasure's checkpoint could not (a reader was in the way).
        checkpoint(self.store)
        if summary.total < RUN_BUDGET:
            self._next = today + timedelta(days=1)
        if summary.total:
            _LOGGER.info("retention: erased the texts of %s", asdict(summary))
        return summary


def export_member(store: Store, platform: str, user_id: str) -> dict[str, Any]:
    """Everything stored about a member, as JSON-ready data (the right of access)."""
    messages = store.rows(
        "SELECT community, channel, thread, id, reply_to, author_name AS name, text,"
        " created_at, edited_at, deleted_at, case_id, question, complaint, language"
        " FROM messages WHERE platform = ? AND author_id = ? ORDER BY created_at, key",
        (platform, user_id),
    )
    cases = store.rows(
        "SELECT id, community, channel, thread, author_name AS name, kind, state, language,"
        " excerpt, opened_at, target_at, due_at, first_response_at, answered_by, closed_at"
        " FROM cases WHERE platform = ? AND author_id = ? ORDER BY id",
        (platform, user_id),
    )
    ids = json.dumps([case["id"] for case in cases])
    for case in cases:
        case["suggestions"] = [
            r["text"]
            for r in store.rows(
                "SELECT text FROM suggestions WHERE case_id = ? ORDER BY rank", (case["id"],)
            )
        ]
        case["reminders"] = store.rows(
            "SELECT kind, text, created_at FROM notices WHERE case_id = ? ORDER BY id",
            (case["id"],),
        )
        case["decisions"] = store.rows(
            "SELECT action, at, text, reason FROM decisions WHERE case_id = ? ORDER BY id",
            (case["id"],),
        )
    replies = store.rows(
        "SELECT case_id, channel, reply_to, text, state, created_at, sent_at FROM outgoing"
        " WHERE (platform = ? AND member_id = ?)"
        " OR case_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        (platform, user_id, ids),
    )
    names = sorted({str(r["name"]) for r in messages + cases} - {ERASED})
    return {
        "platform": platform,
        "user_id": user_id,
        "names": names,
        "messages": messages,
        "cases": cases,
        "replies": replies,
    }


def _erase_addressed(store: Store, platform: str, user_id: str, touched: set[int]) -> int:
    """Erase the texts of others' messages that reply to or mention the member.

    The cases of those messages are added to `touched`.
    """
    # A reply points at a message of the same channel, so the replied message's key is exact.
    keys = {
        str(r["key"])
        for r in store.rows(
            "SELECT o.key FROM messages o WHERE o.platform = ? AND o.author_id != ?"
            " AND o.reply_to IS NOT NULL AND EXISTS (SELECT 1 FROM messages m WHERE"
            " m.key = o.platform || ':' || o.community || ':' || o.channel || ':' || o.reply_to"
            " AND m.author_id = ?)",
            (platform, user_id, user_id),
        )
    }
    mentioning = store.rows(
        "SELECT key, mentions FROM messages WHERE platform = ? AND author_id != ?"
        " AND EXISTS (SELECT 1 FROM json_each(mentions) WHERE value = ?)",
        (platform, user_id, user_id),
    )
    keys.update(r["key"] for r in mentioning)
    for row in mentioning:
        others = [ERASED if m == user_id else m for m in json.loads(row["mentions"])]
        store.update("messages", "key", row["key"], {"mentions": json.dumps(others)})
    for key in keys:
        store.update("messages", "key", key, {"text": ERASED, "reasons": "[]"})
        touched.update(_case_of(store, key))
    _drop_history_copies(store, keys)
    return len(keys)


def _drop_history_copies(store: Store, keys: Iterable[str]) -> None:
    """Drop drafts copied from these messages (a staff answer offered to another member).

    Retrieval names such a draft `history:KEY` when the answer it copies never closed a case:
    once the answer's words are erased, the copy must not outlive them.
    """
    for key in keys:
        store.execute("DELETE FROM suggestions WHERE source = ?", (f"history:{key}",))


def _case_of(store: Store, key: str) -> list[int]:
    row = store.row("SELECT case_id FROM messages WHERE key = ?", (key,))
    return [int(row["case_id"])] if row is not None and row["case_id"] is not None else []


def unlearn(store: Store, case_ids: Iterable[int]) -> None:
    """Remove at once the detector heads fitted on these cases' texts (refitted without them).

    Called after every erasure; a head file that cannot be removed now is caught at the next
    learning check, which refits any head whose cases lost their texts.
    """
    ids = set(case_ids)
    if not ids:
        return
    from bot.detect.learning_log import forget_cases, heads_root

    try:
        forget_cases(heads_root(), ids, store.path)
    except OSError as exc:
        _LOGGER.warning("heads fitted on erased texts not removed now (%s); next check will", exc)


def _erase_case_texts(store: Store, case_ids: list[int], *, keep_pending_notices: bool) -> None:
    """Drafts, reply texts, decision texts and reminder texts of these cases."""
    for case_id in case_ids:
        store.execute("DELETE FROM suggestions WHERE case_id = ?", (case_id,))
        store.execute(
            "UPDATE outgoing SET text = ?, member_id = ? WHERE case_id = ?",
            (ERASED, ERASED, case_id),
        )
        for row in store.rows(
            "SELECT id, reason FROM decisions WHERE case_id = ? AND (text IS NOT NULL"
            " OR reason IS NOT NULL)",
            (case_id,),
        ):
            # A dismissal's reason is one of a fixed list and says nothing about the member.
            reason = row["reason"] if row["reason"] in _REASONS else None
            store.update("decisions", "id", row["id"], {"text": None, "reason": reason})
        store.execute(
            "UPDATE notices SET text = ? WHERE case_id = ? AND delivered_at IS NOT NULL",
            (ERASED, case_id),
        )
        if not keep_pending_notices:
            # A reminder not posted yet would be posted empty; the case no longer waits anyway.
            store.execute(
                "DELETE FROM notices WHERE case_id = ? AND delivered_at IS NULL", (case_id,)
            )


# Free-text columns where a member's name may appear inside someone else's words.
_TEXT_COLUMNS = (
    ("messages", "text", "key"),
    ("cases", "excerpt", "id"),
    ("suggestions", "text", "id"),
    ("outgoing", "text", "id"),
    ("decisions", "text", "id"),
    ("notices", "text", "id"),
    ("digests", "text", "week"),
    ("community_digests", "text", "id"),
)
# Columns that hold a name and nothing else (a moderator who was also forgotten, say).
_NAME_COLUMNS = (
    ("cases", "answered_by"),
    ("cases", "assignee"),
    ("outgoing", "approved_by"),
    ("decisions", "actor_name"),
)


def _cut_name(store: Store, name: str, touched: set[int]) -> None:
    for table, column in _NAME_COLUMNS:
        store.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (ERASED, name))
    if len(name.strip()) < MIN_NAME_CHARS:
        return
    pattern = re.compile(rf"(?<!\w){re.escape(name.strip())}(?!\w)", re.IGNORECASE)
    for table, column, pk in _TEXT_COLUMNS:
        # instr() is case-sensitive: the prefilter lowers both sides (ASCII only, as
        # SQLite's lower() does), and the regex decides.
        for row in store.rows(
            f"SELECT {pk} AS pk, {column} AS value FROM {table}"
            f" WHERE instr(lower({column}), lower(?)) > 0",
            (name.strip(),),
        ):
            cut = pattern.sub(REDACTED, str(row["value"]))
            if cut != row["value"]:
                store.update(table, pk, row["pk"], {column: cut})
                if table == "messages":
                    touched.update(_case_of(store, str(row["pk"])))
                elif table == "cases":
                    touched.add(int(row["pk"]))


def _replace_in(
    store: Store,
    table: str,
    column: str,
    old: str,
    new: str,
    where: str = "1",
    params: Iterable[Any] = (),
) -> None:
    if not old or old == new:
        return
    store.execute(
        f"UPDATE {table} SET {column} = replace({column}, ?, ?)"
        f" WHERE {where} AND instr({column}, ?) > 0",
        (old, new, *params, old),
    )
