"""PostgreSQL storage: the same `Store` API over psycopg 3, for several processes on one database.

The modules write SQLite's SQL; the few dialect differences are translated here, at one point
(`translate` for statements, `translate_schema` for the migrations), so that each module keeps
one text of its queries:

- `?` placeholders become `%s`; `INSERT OR IGNORE` becomes `ON CONFLICT DO NOTHING`;
- `WHERE 1 AND …` (an integer as a truth value) becomes `WHERE TRUE AND …`;
- `x IS ?` (SQLite's equality that matches NULL) becomes `IS NOT DISTINCT FROM`;
- SQLite's two-argument `MAX(?, x)` becomes `GREATEST`, `instr` becomes `strpos`, and
  `json_each(x)` becomes `json_array_elements_text(x::json)` (its column is `value` too);
- `INTEGER PRIMARY KEY AUTOINCREMENT` becomes an identity column, `INTEGER` 64-bit, `REAL`
  double precision, and `TEXT` compares byte-wise (`COLLATE "C"`) as SQLite's does, so that
  every `ORDER BY` gives the same order on both backends;
- `messages` gets a `rowid` identity column, which SQLite has implicitly;
- PRAGMAs are SQLite's business: the ones the modules issue answer as a quiet SQLite would.

The schema has one source, `bot.storage.MIGRATIONS`; written for PostgreSQL alone are only
the version table (SQLite's `user_version`) and SQLite's `julianday`, as a SQL function.

Times are stored as SQLite stores them, fixed-width UTC text (`bot.clock.to_db`), so they sort
and compare the same way. Errors keep SQLite's classes (`IntegrityError` and `OperationalError`
here subclass `sqlite3`'s), so the modules' `except sqlite3.IntegrityError` works on both.
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.adapt import Loader

from bot.storage import MIGRATIONS, Store

_LOGGER = logging.getLogger(__name__)

SCHEMA_TABLE = "huitaine_schema"
# Any number that other applications on the same database are unlikely to pick.
_MIGRATION_LOCK = 0x48554954  # "HUIT"
# Said of every connection failure: the runtime's "database unavailable" test looks for
# "busy", and holds live events in memory until the database answers again.
UNAVAILABLE = "PostgreSQL busy or unreachable"
_STRING = re.compile(r"('(?:[^']|'')*')")
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_OR_REPLACE = re.compile(r"^\s*INSERT\s+OR\s+REPLACE\b", re.IGNORECASE)
_RETURNING = re.compile(r"\sRETURNING\s", re.IGNORECASE)
_SCALAR_MAX = re.compile(r"\bMAX\(\s*\?\s*,", re.IGNORECASE)
_IS_NOT_PARAM = re.compile(r"\bIS\s+NOT\s+\?", re.IGNORECASE)
_IS_PARAM = re.compile(r"\bIS\s+\?", re.IGNORECASE)
_WHERE_ONE = re.compile(r"\bWHERE\s+1\s+AND\b", re.IGNORECASE)
_INSTR = re.compile(r"\binstr\(", re.IGNORECASE)
_JSON_EACH = re.compile(r"\bjson_each\(([^()]*)\)", re.IGNORECASE)
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)", re.IGNORECASE)
_MUTATION = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_PLAIN_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
# What the modules ask of SQLite's PRAGMAs, answered as a database with nothing to report.
_PRAGMA_ROWS: dict[str, tuple[Any, ...]] = {
    "busy_timeout": (5000,),
    "wal_checkpoint": (0, 0, 0),
    "journal_mode": ("postgresql",),
}


class IntegrityError(sqlite3.IntegrityError):
    """A constraint refused a row on PostgreSQL (a duplicate key): SQLite's class, so one
    `except` serves both backends."""


class OperationalError(sqlite3.OperationalError):
    """PostgreSQL could not run a statement now (connection lost, lock timeout)."""


def is_postgres(location: object) -> bool:
    """True when a database location is a PostgreSQL connection string, not a file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """SQLite's SQL, as the modules write it, in PostgreSQL's dialect."""
    if _OR_REPLACE.match(sql):
        raise ValueError("INSERT OR REPLACE has no conflict target: write ON CONFLICT (…)")
    ignore = bool(_OR_IGNORE.match(sql))
    if ignore:
        sql = _OR_IGNORE.sub("INSERT INTO", sql, count=1)
    sql = _SCALAR_MAX.sub("GREATEST(?,", sql)
    sql = _INSTR.sub("strpos(", sql)
    sql = _WHERE_ONE.sub("WHERE TRUE AND", sql)
    sql = _IS_NOT_PARAM.sub("IS DISTINCT FROM ?", sql)
    sql = _IS_PARAM.sub("IS NOT DISTINCT FROM ?", sql)
    sql = _JSON_EACH.sub(r"json_array_elements_text(CAST(\1 AS json))", sql)
    # Placeholders and psycopg's own `%` escaping, outside string literals only.
    parts = _STRING.split(sql)
    for i, part in enumerate(parts):
        part = part.replace("%", "%%")
        parts[i] = part if i % 2 else part.replace("?", "%s")
    sql = "".join(parts)
    if ignore:
        returning = _RETURNING.search(sql)
        if returning:
            at = returning.start()
            sql = f"{sql[:at]} ON CONFLICT DO NOTHING{sql[at:]}"
        else:
            sql = f"{sql.rstrip().rstrip(';')} ON CONFLICT DO NOTHING"
    return sql


_AUTOINCREMENT = re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.IGNORECASE)
# Types are written in capitals and names in lower case in the migrations (a column is called
# `text`), so the types are matched case-sensitively.
_INTEGER = re.compile(r"\bINTEGER\b")
_REAL = re.compile(r"\bREAL\b")
_TEXT = re.compile(r"\bTEXT\b")
_BLOB = re.compile(r"\bBLOB\b")
_MESSAGES = re.compile(r"CREATE TABLE messages \(", re.IGNORECASE)
_IDENTITY = "BIGINT GENERATED BY DEFAULT AS IDENTITY"


def translate_schema(script: str) -> str:
    """One migration of `bot.storage.MIGRATIONS`, in PostgreSQL's types."""
    script = _AUTOINCREMENT.sub(f"{_IDENTITY} PRIMARY KEY", script)
    script = _INTEGER.sub("BIGINT", script)
    script = _REAL.sub("DOUBLE PRECISION", script)
    script = _TEXT.sub('TEXT COLLATE "C"', script)
    script = _BLOB.sub("BYTEA", script)
    # SQLite numbers a table's rows implicitly; privacy's retention walks messages by it.
    return _MESSAGES.sub(f"CREATE TABLE messages (\n        rowid {_IDENTITY} UNIQUE,", script)


# SQLite's row triggers (`CREATE TRIGGER … ON t [WHEN c] BEGIN body; END;`): PostgreSQL runs a
# trigger's body as a function of its own, so each becomes a plpgsql function and a trigger.
_TRIGGER = re.compile(
    r"CREATE TRIGGER (\w+) (AFTER .*?) ON (\w+)\s+(?:WHEN (.*?)\s+)?BEGIN (.*?);\s*END;",
    re.IGNORECASE | re.DOTALL,
)


def _trigger(match: re.Match[str]) -> tuple[str, str]:
    name, when, table, condition, body = match.groups()
    action = f"{body.strip()};"
    if condition:
        action = f"IF {condition.strip()} THEN {action} END IF;"
    function = (
        f"CREATE OR REPLACE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS"
        f" $$ BEGIN {action} RETURN NULL; END $$"
    )
    trigger = f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_fn()"
    return function, trigger


def schema_statements(script: str) -> list[str]:
    """One migration of `bot.storage.MIGRATIONS` as PostgreSQL statements, in order.

    Triggers are taken out first (their bodies hold ";" and keep SQLite's types as written),
    then the rest is translated and split; the triggers come last, once their tables exist.
    """
    triggers: list[str] = []

    def take(match: re.Match[str]) -> str:
        triggers.extend(_trigger(match))
        return ""

    rest = _TRIGGER.sub(take, script)
    statements = [s for s in translate_schema(rest).split(";") if s.strip()]
    return statements + triggers


def conflicting_tables(migrations: Sequence[str]) -> frozenset[str]:
    """The tables where an insert may hit a unique key other than a numbered id."""
    found = set()
    blocks = re.findall(r"CREATE TABLE (\w+) \((.*?)\n\s*\);", "\n".join(migrations), re.S)
    for table, body in blocks:
        rest = body.replace("id INTEGER PRIMARY KEY AUTOINCREMENT", "")
        if rest == body or "UNIQUE" in rest or "PRIMARY KEY" in rest:
            found.add(table)
    return frozenset(found)


def identity_tables(migrations: Sequence[str]) -> frozenset[str]:
    """The tables whose `id` the database numbers (SQLite's AUTOINCREMENT)."""
    found = re.findall(
        r"CREATE TABLE (\w+) \(\s*id INTEGER PRIMARY KEY AUTOINCREMENT", "\n".join(migrations)
    )
    return frozenset(found)


class _NumericLoader(Loader):
    """SUM and AVG of integers are `numeric` in PostgreSQL: read them as SQLite returns them."""

    def load(self, data: Any) -> int | float:
        value = float(bytes(data).decode())
        return int(value) if value.is_integer() else value


class _Cursor:
    """The answer to one statement, with sqlite3's cursor attributes the modules read."""

    def __init__(
        self,
        rows: list[tuple[Any, ...]],
        description: Sequence[Any] | None,
        rowcount: int,
        lastrowid: int | None = None,
    ) -> None:
        self._rows = rows
        self.description = [(d[0],) for d in description] if description else None
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None."""
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        """The remaining rows."""
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


def _param(value: Any) -> Any:
    # SQLite stores Python's bools as 0 and 1 in INTEGER columns; PostgreSQL refuses them there.
    return int(value) if isinstance(value, bool) else value


def _params(params: tuple[Any, ...] | dict[str, Any] | Sequence[Any]) -> Any:
    if isinstance(params, dict):
        return {key: _param(value) for key, value in params.items()}
    return tuple(_param(value) for value in params)


class PgConnection:
    """One psycopg connection with the parts of sqlite3's connection the modules use."""

    def __init__(self, dsn: str) -> None:
        """Connect in autocommit mode: transactions are opened explicitly, as on SQLite."""
        self._dsn = dsn
        self.conn = self._connect()
        # Called when a lost connection is replaced: its session's advisory locks are gone.
        self.on_reconnect: list[Callable[[], None]] = []
        self.total_changes = 0
        self.in_transaction = False
        # An insert into these cannot be refused for a duplicate: no savepoint needed.
        self.numbered_only = identity_tables(MIGRATIONS) - conflicting_tables(MIGRATIONS)

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._dsn, autocommit=True)
        except psycopg.OperationalError as exc:
            raise OperationalError(f"{UNAVAILABLE}: {exc}") from exc
        conn.adapters.register_loader("numeric", _NumericLoader)
        return conn

    def ensure(self) -> None:
        """Replace a connection the server dropped (a restart, a failover), between
        transactions: the statement that met the loss failed; the next ones work again."""
        if self.conn.broken and not self.in_transaction:
            _LOGGER.warning("the PostgreSQL connection was lost; connecting again")
            self.conn = self._connect()
            for callback in self.on_reconnect:
                callback()

    def execute(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] | Sequence[Any] = ()
    ) -> _Cursor:
        """Run one statement written for SQLite."""
        self.ensure()
        pragma = _PRAGMA.match(sql)
        if pragma:
            row = _PRAGMA_ROWS.get(pragma.group(1).lower())
            return _Cursor([row] if row and "=" not in sql else [], None, -1)
        text = translate(sql)
        # On PostgreSQL a failed statement spoils its whole transaction; a savepoint keeps a
        # refused insert (an `except IntegrityError` in a module) from taking the rest with it.
        plain_insert = _PLAIN_INSERT.match(sql)
        guarded = bool(
            self.in_transaction
            and plain_insert
            and plain_insert.group(1) not in self.numbered_only
        )
        try:
            if guarded:
                self.conn.execute("SAVEPOINT huitaine_statement")
            try:
                cursor = self.conn.execute(text, _params(params))
            except psycopg.Error:
                if guarded:
                    self.conn.execute("ROLLBACK TO SAVEPOINT huitaine_statement")
                raise
            if guarded:
                self.conn.execute("RELEASE SAVEPOINT huitaine_statement")
        except psycopg.errors.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        except psycopg.OperationalError as exc:
            raise OperationalError(f"{UNAVAILABLE}: {exc}") from exc
        rows = cursor.fetchall() if cursor.description else []
        if _MUTATION.match(sql) and cursor.rowcount > 0:
            self.total_changes += cursor.rowcount
        return _Cursor(rows, cursor.description, cursor.rowcount)

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each set of parameters."""
        self.ensure()
        text = translate(sql)
        try:
            with self.conn.cursor() as cursor:
                cursor.executemany(text, [_params(p) for p in seq], returning=False)
                if cursor.rowcount > 0:
                    self.total_changes += cursor.rowcount
        except psycopg.errors.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        except psycopg.OperationalError as exc:
            raise OperationalError(f"{UNAVAILABLE}: {exc}") from exc

    def close(self) -> None:
        """Close the connection (a transaction left open is rolled back by the server)."""
        self.conn.close()


def read_only(dsn: str) -> PgConnection:
    """A connection that cannot write (for metrics scrapes), with sqlite3's methods."""
    conn = PgConnection(dsn)
    conn.conn.execute("SET default_transaction_read_only = on")
    return conn


class PgDatabase:
    """Stands where sqlite-utils' `Database` stands on `Store.db`: `conn` and `execute`."""

    def __init__(self, conn: PgConnection) -> None:
        """Wrap the connection."""
        self.conn = conn

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> _Cursor:
        """Run one statement written for SQLite."""
        return self.conn.execute(sql, params)

    def table_names(self) -> list[str]:
        """The tables of the current schema."""
        cursor = self.conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() ORDER BY table_name"
        )
        return [str(row[0]) for row in cursor.fetchall()]


def lock_key(name: str) -> int:
    """A stable 32-bit key for a PostgreSQL advisory lock named `name`."""
    return zlib.crc32(name.encode("utf-8"))


class Locks:
    """Advisory locks held by this process's connection (released when it dies)."""

    def __init__(self, conn: PgConnection, lock: threading.RLock) -> None:
        """Locks taken on `conn`, under the store's thread lock."""
        self._conn = conn
        self._lock = lock
        self.held: set[str] = set()
        conn.on_reconnect.append(self.held.clear)
        # Advisory locks are per server: two Huitaine databases (or schemas) on one server
        # must not share them.
        row = conn.execute("SELECT current_database() || '.' || current_schema()").fetchone()
        self.namespace = str(row[0]) if row else ""

    def key(self, name: str) -> int:
        """The advisory lock key of `name` in this database and schema."""
        return lock_key(f"{self.namespace}:{name}")

    def try_hold(self, name: str) -> bool:
        """Hold the lock `name` for the life of the connection if no other process holds it."""
        with self._lock:
            if name in self.held:
                return True
            row = self._conn.execute("SELECT pg_try_advisory_lock(?)", (self.key(name),))
            got = bool(row.fetchone()[0])  # type: ignore[index]
            if got:
                self.held.add(name)
            return got

    def release(self, name: str) -> None:
        """Let another process take the lock `name`."""
        with self._lock:
            if name in self.held:
                self._conn.execute("SELECT pg_advisory_unlock(?)", (self.key(name),))
                self.held.discard(name)


@contextmanager
def transaction(conn: PgConnection, lock: threading.RLock) -> Iterator[None]:
    """One transaction on `conn`; a nested use joins the outer one, as on SQLite."""
    with lock:
        if conn.in_transaction:
            yield
            return
        conn.ensure()
        try:
            conn.conn.execute("BEGIN")
        except psycopg.OperationalError as exc:
            raise OperationalError(f"{UNAVAILABLE}: {exc}") from exc
        conn.in_transaction = True
        try:
            yield
        except BaseException:
            conn.in_transaction = False
            if not (conn.conn.closed or conn.conn.broken):
                conn.conn.execute("ROLLBACK")
            raise
        conn.in_transaction = False
        try:
            conn.conn.execute("COMMIT")
        except psycopg.errors.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        except psycopg.OperationalError as exc:
            raise OperationalError(f"{UNAVAILABLE}: {exc}") from exc


# SQLite functions the modules call that PostgreSQL lacks, defined in the database (the one
# part of the schema written for PostgreSQL alone). Times are `bot.clock.to_db` text.
_FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION julianday(t text) RETURNS double precision"
    " LANGUAGE sql IMMUTABLE AS"
    " $$ SELECT extract(epoch FROM CAST(t AS timestamptz)) / 86400.0 + 2440587.5 $$",
)


def migrate(conn: PgConnection, migrations: Sequence[str], where: str) -> int:
    """Apply the migrations this database lacks, one process at a time; return its version."""
    lock = threading.RLock()
    conn.execute("SELECT pg_advisory_lock(?)", (_MIGRATION_LOCK,))
    try:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (version BIGINT NOT NULL)")
        row = conn.execute(f"SELECT MAX(version) FROM {SCHEMA_TABLE}").fetchone()
        current = int(row[0] or 0) if row else 0
        if current > len(migrations):
            raise RuntimeError(
                f"{where} has schema version {current}, newer than this Huitaine "
                f"({len(migrations)}); upgrade Huitaine"
            )
        for version, script in enumerate(migrations[current:], start=current + 1):
            _LOGGER.info("applying migration %d to %s", version, where)
            with transaction(conn, lock):
                for statement in schema_statements(script):
                    conn.conn.execute(statement)
                conn.conn.execute(f"INSERT INTO {SCHEMA_TABLE} (version) VALUES ({version})")
            current = version
        for function in _FUNCTIONS:
            conn.conn.execute(function)
        return current
    finally:
        conn.execute("SELECT pg_advisory_unlock(?)", (_MIGRATION_LOCK,))


def redact(dsn: str) -> str:
    """The connection string without its password, for logs and errors."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", dsn)


class PgStore(Store):
    """`Store` on PostgreSQL: the same methods, several processes on one database."""

    backend = "postgresql"

    def __init__(self, path: str | Path) -> None:
        """Connect to the database at the DSN `path` and bring its schema up to date."""
        self.path = redact(str(path))
        self._lock = threading.RLock()
        self.conn = PgConnection(str(path))
        self.db = PgDatabase(self.conn)  # type: ignore[assignment]
        self.locks = Locks(self.conn, self._lock)
        self._identity = identity_tables(MIGRATIONS)
        try:
            self._version = migrate(self.conn, MIGRATIONS, self.path)
        except BaseException:
            self.conn.close()
            raise

    @property
    def schema_version(self) -> int:
        """How many migrations this database has applied."""
        return self._version

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction: all of it is committed, or none of it."""
        with transaction(self.conn, self._lock):
            yield

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        """Run one statement written for SQLite."""
        with self._lock:
            return self.conn.execute(sql, params)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert `row` into `table` and return its id (0 for a table without one)."""
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        returning = " RETURNING id" if table in self._identity else ""
        cursor = self.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}){returning}", tuple(row.values())
        )
        found = cursor.fetchone() if returning else None
        return int(found[0]) if found else 0

    def insert_many_new(self, table: str, rows: list[dict[str, Any]]) -> int:
        """Insert the rows whose primary key is new, in one transaction; return how many."""
        if not rows:
            return 0
        columns = ", ".join(rows[0])
        marks = ", ".join("?" for _ in rows[0])
        with self.transaction():
            before = self.conn.total_changes
            self.conn.executemany(
                f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})",
                [tuple(row.values()) for row in rows],
            )
            return self.conn.total_changes - before

    def rows(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> list[dict[str, Any]]:
        """Run a query and return its rows as dictionaries."""
        with self._lock:
            cursor = self.conn.execute(sql, params)
            if cursor.description is None:
                return []
            columns = [description[0] for description in cursor.description]
            return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]

    def leads(self, role: str) -> bool:
        """True if this process holds `role` (e.g. the scheduler) among all processes.

        A session advisory lock: the first process to ask keeps it while it lives; when it
        dies, its connection closes and the next process to ask takes over.
        """
        return self.locks.try_hold(f"huitaine:{role}")

    def hold(self, name: str) -> None:
        """Hold `name` while this process's connection lives (or until `release`)."""
        self.locks.try_hold(name)

    def release(self, name: str) -> None:
        """Let go of `name`."""
        self.locks.release(name)

    def orphaned(self, name: str) -> bool:
        """True if no live process holds `name` (its holder died, or never was)."""
        with self._lock:
            if name in self.locks.held:
                return False
            key = self.locks.key(name)
            free = bool(self.execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()[0])
            if free:
                self.execute("SELECT pg_advisory_unlock(?)", (key,))
            return free

    def lock(self, name: str) -> None:
        """Hold `name` until the end of the current transaction: other processes wait."""
        self.execute("SELECT pg_advisory_xact_lock(?)", (self.locks.key(name),))

    def close(self) -> None:
        """Close the connection; everything committed is stored."""
        with self._lock:
            self.conn.close()


def copy_from_sqlite(source: Store, target: PgStore, *, chunk: int = 5000) -> dict[str, int]:
    """Copy every table of a SQLite store into an empty PostgreSQL one; rows per table.

    Ids are kept (cards and buttons carry case ids), and each identity column continues after
    the largest copied id. One transaction: an interrupted copy leaves the target empty.
    """
    tables = [
        str(row["name"])
        for row in source.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        )
    ]
    if source.schema_version != target.schema_version:
        raise RuntimeError(
            f"{source.path} has schema version {source.schema_version} and {target.path} "
            f"{target.schema_version}: open both with this Huitaine first"
        )
    for table in tables:
        if target.row(f"SELECT 1 AS found FROM {table} LIMIT 1"):
            raise RuntimeError(f"{target.path} already holds {table}: copy into an empty database")
    copied: dict[str, int] = {}
    with target.transaction():
        for table in tables:
            # SQLite's implicit rowid is an ordinary column on PostgreSQL (see translate_schema).
            extra = "rowid, " if table == "messages" else ""
            columns: list[str] | None = None
            count = 0
            last = 0
            while True:
                rows = source.rows(
                    f"SELECT {extra}rowid AS _at, * FROM {table} WHERE rowid > ?"
                    " ORDER BY rowid LIMIT ?",
                    (last, chunk),
                )
                if not rows:
                    break
                last = int(rows[-1]["_at"])
                if columns is None:
                    columns = [c for c in rows[0] if c != "_at"]
                names = ", ".join(columns)
                with (
                    target.conn.conn.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row([row[c] for c in columns])
                count += len(rows)
            copied[table] = count
            identity = "rowid" if table == "messages" else "id"
            if table in target._identity or table == "messages":
                target.conn.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{identity}'),"
                    f" COALESCE((SELECT MAX({identity}) FROM {table}), 0) + 1, false)"
                )
    return copied
