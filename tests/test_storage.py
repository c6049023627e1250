"""Storage on a real SQLite file: WAL, migrations, and durability across a reopen."""

from pathlib import Path

import pytest

from bot.storage import MIGRATIONS, Store


def test_new_file_is_migrated_and_in_wal_mode(db_path: Path) -> None:
    store = Store(db_path)
    assert store.schema_version == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"messages", "cases", "suggestions", "decisions", "outgoing", "notices"} <= set(
        store.db.table_names()
    )
    store.close()


def test_reopening_applies_nothing_twice_and_keeps_rows(db_path: Path) -> None:
    store = Store(db_path)
    store.execute(
        "INSERT INTO cases (platform, community, channel, author_id, author_name, kind, state,"
        " language, confidence, reasons, excerpt, opened_at, last_message_at, target_at, due_at)"
        " VALUES ('d', 'c', 'g', 'u', 'U', 'question', 'open', 'en', 0.9, '[]', 'x', 't', 't',"
        " 't', 't')"
    )
    store.close()
    again = Store(db_path)
    assert again.schema_version == len(MIGRATIONS)
    assert again.row("SELECT COUNT(*) AS n FROM cases") == {"n": 1}
    again.close()


def test_a_failed_transaction_leaves_nothing(db_path: Path) -> None:
    store = Store(db_path)

    def crash_in_the_middle() -> None:
        with store.transaction():
            store.execute(
                "INSERT INTO messages (key, platform, community, channel, id, author_id,"
                " author_name, author_staff, author_bot, text, mentions, created_at)"
                " VALUES ('k', 'd', 'c', 'g', '1', 'u', 'U', 0, 0, 'hi', '[]', 't')"
            )
            raise RuntimeError("crash in the middle")

    with pytest.raises(RuntimeError):
        crash_in_the_middle()
    assert store.row("SELECT COUNT(*) AS n FROM messages") == {"n": 0}
    store.close()


def test_a_newer_database_is_refused(db_path: Path) -> None:
    store = Store(db_path)
    store.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    store.close()
    with pytest.raises(RuntimeError, match="upgrade Huitaine"):
        Store(db_path)
