"""SQLite storage through sqlite-utils: one file, WAL, versioned migrations."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

_LOGGER = logging.getLogger(__name__)

# Each entry is one schema version; a database records how many it has applied. Never edit an
# entry once released: append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE messages (
        key TEXT PRIMARY KEY,
        platform TEXT NOT NULL, community TEXT NOT NULL, channel TEXT NOT NULL,
        id TEXT NOT NULL, thread TEXT, reply_to TEXT,
        author_id TEXT NOT NULL, author_name TEXT NOT NULL,
        author_staff INTEGER NOT NULL, author_bot INTEGER NOT NULL,
        text TEXT NOT NULL, mentions TEXT NOT NULL,
        created_at TEXT NOT NULL, edited_at TEXT, deleted_at TEXT,
        processed INTEGER NOT NULL DEFAULT 0,
        question REAL, complaint REAL, language TEXT, reasons TEXT,
        case_id INTEGER
    );
    CREATE INDEX messages_case ON messages(case_id);
    CREATE INDEX messages_pending ON messages(created_at, key) WHERE processed = 0;
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        platform TEXT NOT NULL, community TEXT NOT NULL, channel TEXT NOT NULL, thread TEXT,
        author_id TEXT NOT NULL, author_name TEXT NOT NULL,
        kind TEXT NOT NULL, state TEXT NOT NULL, language TEXT NOT NULL,
        confidence REAL NOT NULL, reasons TEXT NOT NULL, excerpt TEXT NOT NULL,
        opened_at TEXT NOT NULL, last_message_at TEXT NOT NULL,
        target_at TEXT NOT NULL, due_at TEXT NOT NULL,
        first_response_at TEXT, answered_by TEXT, assignee TEXT, snoozed_until TEXT,
        closed_at TEXT, next_notice_at TEXT
    );
    CREATE INDEX cases_next_notice ON cases(next_notice_at) WHERE next_notice_at IS NOT NULL;
    CREATE INDEX cases_place ON cases(platform, community, channel, author_id, state);
    CREATE INDEX cases_state ON cases(state, due_at);
    CREATE INDEX cases_recent ON cases(platform, community, channel, state, opened_at);
    CREATE INDEX cases_thread ON cases(platform, community, thread) WHERE thread IS NOT NULL;
    CREATE TABLE suggestions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        rank INTEGER NOT NULL, text TEXT NOT NULL, language TEXT NOT NULL,
        source TEXT NOT NULL, score REAL NOT NULL
    );
    CREATE INDEX suggestions_case ON suggestions(case_id, rank);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        action TEXT NOT NULL, actor_platform TEXT NOT NULL, actor_id TEXT NOT NULL,
        actor_name TEXT NOT NULL, at TEXT NOT NULL, text TEXT, reason TEXT
    );
    CREATE INDEX decisions_case ON decisions(case_id);
    CREATE TABLE outgoing (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        decision_id INTEGER NOT NULL REFERENCES decisions(id),
        platform TEXT NOT NULL, community TEXT NOT NULL, channel TEXT NOT NULL, thread TEXT,
        reply_to TEXT NOT NULL, member_id TEXT NOT NULL, text TEXT NOT NULL,
        state TEXT NOT NULL, approved_by TEXT NOT NULL, created_at TEXT NOT NULL,
        sent_at TEXT, platform_message_id TEXT, error TEXT
    );
    CREATE INDEX outgoing_state ON outgoing(state);
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        kind TEXT NOT NULL, point TEXT NOT NULL, text TEXT NOT NULL, mention TEXT,
        created_at TEXT NOT NULL, delivered_at TEXT,
        UNIQUE (case_id, kind, point)
    );
    CREATE INDEX notices_pending ON notices(point) WHERE delivered_at IS NULL;
    """,
    # 2: where each case's review card was posted, so adapters edit it in place after a restart.
    """
    CREATE TABLE cards (
        case_id INTEGER NOT NULL REFERENCES cases(id),
        platform TEXT NOT NULL, chat TEXT NOT NULL, message_id TEXT NOT NULL,
        PRIMARY KEY (case_id, platform)
    );
    CREATE INDEX cards_message ON cards(platform, chat, message_id);
    """,
    # 3: weekly digests, one per week, recorded before they are posted.
    """
    CREATE TABLE digests (
        week TEXT PRIMARY KEY, text TEXT NOT NULL, created_at TEXT NOT NULL, delivered_at TEXT
    );
    """,
    # 4: a card reads its own case's replies, not the whole outbox.
    """
    CREATE INDEX outgoing_case ON outgoing(case_id);
    """,
    # 5: how often a member answered others lately (bot.conversation), without a table scan.
    """
    CREATE INDEX messages_author ON messages(platform, community, author_id, created_at);
    """,
    # 6: a thread's first message (bot.conversation), without a scan of every message: the
    # scan made each message in a thread slower as the database grew (p95 50 → 149 ms / 3 min).
    """
    CREATE INDEX messages_thread ON messages(platform, community, thread, created_at, key)
    WHERE thread IS NOT NULL;
    """,
    # 7: accounts that lent the bot their chats (Telegram Business), and whether it may reply.
    """
    CREATE TABLE business_links (
        platform TEXT NOT NULL, id TEXT NOT NULL,
        owner_id TEXT NOT NULL, owner_name TEXT NOT NULL, owner_chat TEXT NOT NULL,
        can_reply INTEGER NOT NULL, enabled INTEGER NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (platform, id)
    );
    """,
    # 8: who answered (staff or a helper), the next-response clock and the member's feedback.
    """
    ALTER TABLE messages ADD COLUMN author_helper INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE cases ADD COLUMN answered_as TEXT;
    ALTER TABLE cases ADD COLUMN answered_at TEXT;
    ALTER TABLE cases ADD COLUMN helper_confirmed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE cases ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE cases ADD COLUMN feedback TEXT;
    ALTER TABLE cases ADD COLUMN feedback_at TEXT;
    CREATE INDEX cases_answered ON cases(platform, community, channel, author_id, answered_at)
        WHERE answered_at IS NOT NULL;
    """,
    # 9: retrieval by meaning (bot.retrieval). Answers worth remembering are queued by triggers
    # as they happen (a reply sent, a staff message processed), so the index grows
    # incrementally and no other module has to call it. Embeddings are int8 blobs; texts are
    # never copied: they are read from messages/outgoing, and triggers drop an entry the
    # moment its member's or staff's text is edited, erased or deleted.
    """
    CREATE TABLE answer_queue (
        id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, ref TEXT NOT NULL
    );
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        origin TEXT NOT NULL, ref TEXT NOT NULL,
        platform TEXT NOT NULL, community TEXT NOT NULL, language TEXT NOT NULL,
        request_key TEXT NOT NULL, case_id INTEGER,
        request_vec BLOB NOT NULL, request_scale REAL NOT NULL,
        answer_vec BLOB NOT NULL, answer_scale REAL NOT NULL,
        UNIQUE (origin, ref)
    );
    CREATE INDEX answers_request ON answers(request_key);
    CREATE INDEX answers_case ON answers(case_id);
    CREATE TRIGGER answer_sent AFTER UPDATE OF state ON outgoing
        WHEN NEW.state = 'sent' AND OLD.state != 'sent'
        BEGIN INSERT INTO answer_queue (origin, ref) VALUES ('approved', NEW.id); END;
    CREATE TRIGGER answer_staff AFTER UPDATE OF processed ON messages
        WHEN NEW.processed = 1 AND OLD.processed = 0 AND NEW.author_staff = 1
        AND NEW.author_bot = 0 AND (NEW.reply_to IS NOT NULL OR NEW.thread IS NOT NULL)
        BEGIN INSERT INTO answer_queue (origin, ref) VALUES ('staff', NEW.key); END;
    CREATE TRIGGER answer_text_changed AFTER UPDATE OF text, deleted_at ON messages
        BEGIN DELETE FROM answers WHERE request_key = NEW.key
        OR (origin = 'staff' AND ref = NEW.key); END;
    CREATE TRIGGER answer_message_gone AFTER DELETE ON messages
        BEGIN DELETE FROM answers WHERE request_key = OLD.key
        OR (origin = 'staff' AND ref = OLD.key); END;
    CREATE TRIGGER answer_reply_changed AFTER UPDATE OF text ON outgoing
        BEGIN DELETE FROM answers WHERE origin = 'approved' AND ref = CAST(NEW.id AS TEXT); END;
    CREATE TRIGGER answer_reply_gone AFTER DELETE ON outgoing
        BEGIN DELETE FROM answers WHERE origin = 'approved' AND ref = CAST(OLD.id AS TEXT); END;
    INSERT INTO answer_queue (origin, ref)
        SELECT 'approved', id FROM outgoing WHERE state = 'sent' ORDER BY id;
    INSERT INTO answer_queue (origin, ref)
        SELECT 'staff', key FROM messages WHERE processed = 1 AND author_staff = 1
        AND author_bot = 0 AND deleted_at IS NULL AND (reply_to IS NOT NULL OR thread IS NOT NULL)
        ORDER BY created_at, key;
    """,
    # 10: one weekly digest per community: moderators read only their own members' cases.
    # The old `digests` table (one text over every community) stays, readable, unwritten.
    """
    CREATE TABLE community_digests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        week TEXT NOT NULL, platform TEXT NOT NULL, community TEXT NOT NULL,
        text TEXT NOT NULL, created_at TEXT NOT NULL, delivered_at TEXT,
        UNIQUE (week, platform, community)
    );
    """,
    # 11: raw inbound updates kept until the core has taken them (bot.inbox): Telegram forgets
    # an update once the bot has queued it, before the core stores it.
    """
    CREATE TABLE inbox (
        platform TEXT NOT NULL, update_id INTEGER NOT NULL, member_id TEXT,
        received_at TEXT NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (platform, update_id)
    );
    """,
)


_PG_SCHEMES = ("postgresql://", "postgres://")


class Store:
    """The one SQLite file that holds messages, cases, decisions and the outbox.

    Given a `postgresql://` connection string instead of a path, `Store(...)` is a `PgStore`
    (bot.storage_pg): the same methods on PostgreSQL, for several processes on one database.
    """

    backend = "sqlite"

    def __new__(cls, path: str | Path) -> Store:
        """A `PgStore` for a PostgreSQL connection string, else a SQLite store."""
        if cls is Store and isinstance(path, str) and path.startswith(_PG_SCHEMES):
            try:
                from bot.storage_pg import PgStore
            except ImportError as exc:  # psycopg is an optional extra
                raise RuntimeError(
                    "storage.database is a PostgreSQL address but psycopg is not installed:"
                    " pip install 'huitaine[postgresql]'"
                ) from exc
            return super().__new__(PgStore)
        return super().__new__(cls)

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the database at `path` and bring its schema up to date."""
        self.path = str(path)
        # One connection, used by one thread at a time (the core's worker), guarded by a lock
        # so that a misuse shows up as waiting rather than as a corrupted transaction.
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            self.db.enable_wal()
        # NORMAL is durable across process crashes in WAL mode; only a power cut may lose the
        # last transactions, and those never include a send (see the outbox protocol).
        conn.execute("PRAGMA synchronous=NORMAL")
        # Checkpoints are where WAL mode syncs to disk; every 1,000 pages (the default) they
        # cost about a third of ingestion time. 10,000 pages (~40 MB of WAL) keeps durability
        # as it is and the file bounded, with the WAL trimmed back after each checkpoint.
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        conn.execute("PRAGMA journal_size_limit=67108864")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        # Every rewrite of a row (processing, an edit, an erasure) frees its old copy inside
        # the page; zeroing it is what keeps a deleted or forgotten text out of the file.
        # Many SQLite builds have it off by default (Debian's has it on).
        conn.execute("PRAGMA secure_delete=ON")
        self._migrate()

    @property
    def schema_version(self) -> int:
        """How many migrations this database has applied."""
        row = self.db.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise RuntimeError(
                f"{self.path} has schema version {current}, newer than this Huitaine "
                f"({len(MIGRATIONS)}); upgrade Huitaine"
            )
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            _LOGGER.info("applying migration %d to %s", version, self.path)
            with self.transaction():
                for statement in _statements(script):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction: all of it is committed, or none of it."""
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                # Nested use joins the outer transaction.
                yield
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement."""
        with self._lock:
            return self.db.execute(sql, params)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert `row` into `table` and return its rowid."""
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values())
        )
        return int(cursor.lastrowid or 0)

    def insert_new(self, table: str, row: dict[str, Any]) -> bool:
        """Insert `row` unless its primary key exists; True if it was new."""
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self.execute(
            f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})", tuple(row.values())
        )
        return cursor.rowcount == 1

    def insert_many_new(self, table: str, rows: list[dict[str, Any]]) -> int:
        """Insert the rows whose primary key is new, in one transaction; return how many."""
        if not rows:
            return 0
        columns = ", ".join(rows[0])
        marks = ", ".join("?" for _ in rows[0])
        with self.transaction():
            before = self.db.conn.total_changes
            self.db.conn.executemany(
                f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})",
                [tuple(row.values()) for row in rows],
            )
            return self.db.conn.total_changes - before

    def update(self, table: str, pk: str, value: Any, changes: dict[str, Any]) -> None:
        """Set `changes` on the row of `table` whose `pk` is `value`."""
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self.execute(
            f"UPDATE {table} SET {assignments} WHERE {pk} = ?", (*changes.values(), value)
        )

    def rows(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> list[dict[str, Any]]:
        """Run a query and return its rows as dictionaries."""
        with self._lock:
            # The plain cursor is several times faster than sqlite-utils' query() on the hot path.
            cursor = self.db.conn.execute(sql, params)
            columns = [description[0] for description in cursor.description]
            return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]

    def row(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> dict[str, Any] | None:
        """Run a query and return its first row, if any."""
        found = self.rows(sql, params)
        return found[0] if found else None

    def leads(self, role: str) -> bool:
        """True if this process holds `role` (e.g. the scheduler): one SQLite file, one process."""
        return True

    def lock(self, name: str) -> None:
        """Hold `name` until the end of the transaction: BEGIN IMMEDIATE already serialises."""

    def hold(self, name: str) -> None:
        """Hold `name` while this process lives (or until `release`): nothing to do here."""

    def release(self, name: str) -> None:
        """Let go of `name`."""

    def orphaned(self, name: str) -> bool:
        """True if no live process holds `name`: with one SQLite process, none other does."""
        return True

    def close(self) -> None:
        """Close the connection; everything committed is on disk."""
        with self._lock:
            self.db.conn.close()


def _statements(script: str) -> Iterator[str]:
    """The statements of `script`; a trigger's body (with its own ";") stays one statement."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def dumps(values: Any) -> str:
    """Serialise a small JSON value for a TEXT column."""
    if not values and isinstance(values, list | tuple):
        return "[]"  # the common case on the hot path (no mentions, no reasons)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> Any:
    """Read back a value written by `dumps`."""
    return json.loads(text) if text else []
