"""One storage suite over both backends (SQLite file, PostgreSQL schema), and what only
several processes on PostgreSQL need: claims that hold across connections, and the copy."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.review import ReviewError
from bot.storage import MIGRATIONS, Store
from tests.backends import BACKENDS, database, fresh_schema
from tests.conftest import MOD, MessageFactory

MESSAGE = (
    "INSERT INTO messages (key, platform, community, channel, id, author_id,"
    " author_name, author_staff, author_bot, text, mentions, created_at)"
    " VALUES (?, 'd', 'c', 'g', ?, 'u', 'U', ?, 0, ?, '[]', 't')"
)


@pytest.fixture(params=BACKENDS)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    with database(request.param, tmp_path) as location:
        yield location


def test_a_new_database_is_migrated_and_reopening_keeps_rows(where: str | Path) -> None:
    store = Store(where)
    assert store.schema_version == len(MIGRATIONS)
    store.execute(MESSAGE, ("k1", "1", False, "hi"))
    store.close()
    again = Store(where)
    assert again.schema_version == len(MIGRATIONS)
    assert again.row("SELECT COUNT(*) AS n, SUM(author_staff) AS staff FROM messages") == {
        "n": 1,
        "staff": 0,
    }
    again.close()


def test_a_failed_transaction_leaves_nothing(where: str | Path) -> None:
    store = Store(where)

    def crash_in_the_middle() -> None:
        with store.transaction():
            store.execute(MESSAGE, ("k1", "1", False, "hi"))
            raise RuntimeError("crash in the middle")

    with pytest.raises(RuntimeError):
        crash_in_the_middle()
    assert store.row("SELECT COUNT(*) AS n FROM messages") == {"n": 0}
    store.close()


def test_a_duplicate_key_is_refused_without_spoiling_the_transaction(where: str | Path) -> None:
    store = Store(where)
    with store.transaction():
        store.execute(MESSAGE, ("k1", "1", False, "first"))
        # The modules catch SQLite's class on both backends (scheduler, digests).
        with pytest.raises(sqlite3.IntegrityError):
            store.execute(MESSAGE, ("k1", "1", False, "again"))
        store.execute(MESSAGE, ("k2", "2", True, "second"))
    assert [r["text"] for r in store.rows("SELECT text FROM messages ORDER BY key")] == [
        "first",
        "second",
    ]
    assert store.insert_new("digests", {"week": "w", "text": "t", "created_at": "c"})
    assert not store.insert_new("digests", {"week": "w", "text": "t", "created_at": "c"})
    assert (
        store.insert_many_new(
            "digests", [{"week": w, "text": "", "created_at": ""} for w in "wxy"]
        )
        == 2
    )
    store.close()


def test_ids_count_up_and_text_sorts_byte_wise_as_sqlite_does(where: str | Path) -> None:
    store = Store(where)
    for key in ("b", "B", "é", "a"):
        store.execute(MESSAGE, (key, key, False, key))
    assert [r["key"] for r in store.rows("SELECT key FROM messages ORDER BY key")] == [
        "B",
        "a",
        "b",
        "é",
    ]
    # The implicit rowid of SQLite exists on PostgreSQL too (retention walks by it).
    assert [r["key"] for r in store.rows("SELECT key FROM messages ORDER BY rowid")] == [
        "b",
        "B",
        "é",
        "a",
    ]
    row = {"week": "w", "text": "x", "created_at": "t"}
    assert store.insert("digests", row) in (0, 1)  # no id column: nothing to return
    case = {
        "platform": "d", "community": "c", "channel": "g", "author_id": "u",
        "author_name": "U", "kind": "question", "state": "open", "language": "en",
        "confidence": 0.123456789, "reasons": "[]", "excerpt": "x", "opened_at": "t",
        "last_message_at": "t", "target_at": "t", "due_at": "t",
    }  # fmt: skip
    first, second = store.insert("cases", case), store.insert("cases", case)
    assert second == first + 1
    # Full double precision, as SQLite's REAL.
    assert store.row("SELECT confidence FROM cases WHERE id = ?", (first,)) == {
        "confidence": 0.123456789
    }
    store.close()


def test_a_newer_database_is_refused(where: str | Path) -> None:
    store = Store(where)
    if store.backend == "sqlite":
        store.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    else:
        store.execute(f"INSERT INTO huitaine_schema (version) VALUES ({len(MIGRATIONS) + 1})")
    store.close()
    with pytest.raises(RuntimeError, match="upgrade Huitaine"):
        Store(where)


# --- several processes on one PostgreSQL database (each core has its own connection) ---


@pytest.fixture
def shared() -> Iterator[str]:
    with fresh_schema() as dsn:
        yield dsn


def _wait_released(store: Store, name: str) -> None:
    """Wait, in the server, until a closed connection's backend has let `name` go."""
    key = store.locks.key(name)  # type: ignore[attr-defined]
    store.execute("SET lock_timeout = '10s'")
    store.execute("SELECT pg_advisory_lock(?)", (key,))
    store.execute("SELECT pg_advisory_unlock(?)", (key,))
    store.execute("SET lock_timeout = 0")


def _cores(n: int, dsn: str, config: Config, clock: ManualClock) -> list[Huitaine]:
    return [Huitaine(config, clock=clock, database=dsn) for _ in range(n)]


def test_processes_delivered_the_same_messages_store_and_open_each_once(
    shared: str, config: Config, clock: ManualClock, msg: MessageFactory
) -> None:
    cores = _cores(3, shared, config, clock)
    history = [
        msg(f"Bonjour, où en est ma commande {i} ? Toujours rien reçu.", author=f"u{i % 5}")
        for i in range(40)
    ]
    barrier = threading.Barrier(len(cores))

    def replay(core: Huitaine) -> None:
        barrier.wait()
        for message in history:
            core.ingest(message)

    threads = [threading.Thread(target=replay, args=(core,)) for core in cores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store = cores[0].store
    assert store.row("SELECT COUNT(*) AS n FROM messages WHERE processed = 1") == {"n": 40}
    # One case per member, joined by their follow-ups: as one process would have it.
    assert store.row("SELECT COUNT(*) AS n FROM cases") == {"n": 5}
    for core in cores:
        core.close()


def test_two_processes_approving_one_case_send_one_reply(
    shared: str, config: Config, clock: ManualClock, msg: MessageFactory
) -> None:
    first, second = _cores(2, shared, config, clock)
    (case_id,) = first.ingest(msg("Ma commande n'est jamais arrivée, c'est inadmissible")).case_ids
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def approve(core: Huitaine) -> None:
        barrier.wait()
        try:
            outcomes.append(core.review.approve(MOD, case_id))
        except ReviewError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=approve, args=(core,)) for core in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["Outgoing", "ReviewError"]
    assert first.store.row("SELECT COUNT(*) AS n FROM outgoing") == {"n": 1}
    first.close()
    second.close()


def test_one_process_schedules_and_another_takes_over_when_it_dies(
    shared: str, config: Config, clock: ManualClock
) -> None:
    first, second = Store(shared), Store(shared)
    assert first.leads("scheduler")
    assert not second.leads("scheduler")
    first.close()  # a killed process: its connection, and with it the lock, is gone
    _wait_released(second, "huitaine:scheduler")
    assert second.leads("scheduler")
    second.close()


def test_migrate_copies_a_sqlite_database_with_its_ids(
    shared: str, config: Config, clock: ManualClock, msg: MessageFactory, db_path: Path
) -> None:
    from huitaine.cli import main

    core = Huitaine(config, clock=clock, database=db_path)
    core.ingest(msg("Ma commande n'est jamais arrivée, c'est inadmissible", author="a"))
    (case_id,) = core.ingest(msg("Comment changer mon adresse ?", author="b")).case_ids
    core.review.mark_sent(core.review.approve(MOD, case_id).id, "p-1")
    before = {
        t: core.store.rows(f"SELECT * FROM {t} ORDER BY 1")
        for t in ("messages", "cases", "outgoing", "decisions", "suggestions")
    }
    core.close()
    assert main(["migrate", "--db", str(db_path), "--to", shared]) == 0
    copied = Huitaine(config, clock=clock, database=shared)
    for table, rows in before.items():
        got = copied.store.rows(f"SELECT * FROM {table} ORDER BY 1")
        if table == "messages":
            got = [{k: v for k, v in r.items() if k != "rowid"} for r in got]
        assert got == rows, table
    # New rows continue after the copied ids.
    (new_id,) = copied.ingest(msg("Où est passé mon colis ?", author="c")).case_ids
    assert new_id == case_id + 1
    copied.close()
    # A second copy into the same database is refused, nothing doubled.
    assert main(["migrate", "--db", str(db_path), "--to", shared]) == 2


def test_a_process_starting_leaves_another_live_process_s_sends_alone(
    shared: str, config: Config, clock: ManualClock, msg: MessageFactory
) -> None:
    first = Huitaine(config, clock=clock, database=shared)
    (live,) = first.ingest(msg("Ma commande n'est jamais arrivée, c'est inadmissible")).case_ids
    (dead,) = first.ingest(msg("Comment changer mon adresse ?", author="b")).case_ids
    sending = first.review.approve(MOD, live)
    doomed = Huitaine(config, clock=clock, database=shared)
    orphan = doomed.review.approve(MOD, dead)
    doomed.close()  # killed between approving and sending
    _wait_released(first.store, f"sending:{orphan.id}")
    # A third process starts: the reply of the dead one is in doubt, the live one's is not.
    third = Huitaine(config, clock=clock, database=shared)
    assert [item.id for item in third.unconfirmed] == [orphan.id]
    assert first.review.mark_sent(sending.id, "p-1").state.value == "sent"
    for core in (first, third):
        core.close()


def test_check_says_whether_the_postgresql_server_answers(shared: str, tmp_path: Path) -> None:
    from bot.check import Status, check_database

    assert check_database(shared).status is Status.OK
    # A socket folder with no server behind it: refused, with the fix.
    finding = check_database(f"postgresql://huitaine@/nothing?host={tmp_path}")
    assert finding.status is Status.PROBLEM
    assert "PGPASSWORD" in finding.detail


def test_a_lost_connection_is_one_held_statement_then_connected_again(shared: str) -> None:
    from bot.runtime import database_unavailable

    store, other = Store(shared), Store(shared)
    assert store.leads("scheduler")
    pid = store.row("SELECT pg_backend_pid() AS pid")["pid"]  # type: ignore[index]
    other.execute("SELECT pg_terminate_backend(?)", (pid,))  # a server restart, for this one
    _wait_released(other, "huitaine:scheduler")
    with pytest.raises(sqlite3.OperationalError) as lost:
        store.execute(MESSAGE, ("k1", "1", False, "hi"))
    # The runtime holds live events in memory while this lasts, then stores them.
    assert database_unavailable(lost.value)
    store.execute(MESSAGE, ("k1", "1", False, "hi"))
    assert store.row("SELECT COUNT(*) AS n FROM messages") == {"n": 1}
    assert store.leads("scheduler")  # the new session takes the role again
    store.close()
    other.close()


def test_sqlite_statements_are_translated_at_one_point() -> None:
    from bot.storage_pg import translate, translate_schema

    assert translate("SELECT * FROM t WHERE a = ? AND b LIKE '%?%'") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE '%%?%%'"
    )
    assert translate("INSERT OR IGNORE INTO t (a) VALUES (?)") == (
        "INSERT INTO t (a) VALUES (%s) ON CONFLICT DO NOTHING"
    )
    assert translate("UPDATE n SET d = MAX(?, c) WHERE t IS ? AND u IS NOT ?") == (
        "UPDATE n SET d = GREATEST(%s, c) WHERE t IS NOT DISTINCT FROM %s"
        " AND u IS DISTINCT FROM %s"
    )
    assert translate("SELECT value FROM json_each(?) WHERE instr(x, ?) > 0") == (
        "SELECT value FROM json_array_elements_text(CAST(%s AS json)) WHERE strpos(x, %s) > 0"
    )
    with pytest.raises(ValueError, match="ON CONFLICT"):
        translate("INSERT OR REPLACE INTO t (a) VALUES (?)")
    schema = translate_schema(
        "CREATE TABLE messages (\n        key TEXT PRIMARY KEY, text TEXT NOT NULL,"
        " n INTEGER, s REAL\n    );\n"
        "CREATE TABLE c (\n        id INTEGER PRIMARY KEY AUTOINCREMENT\n    );"
    )
    assert 'text TEXT COLLATE "C" NOT NULL' in schema
    assert "n BIGINT, s DOUBLE PRECISION" in schema
    assert "rowid BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE" in schema
    assert "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" in schema
