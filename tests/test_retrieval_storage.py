"""Schema 6: answers are queued by triggers, an older database's history is queued on upgrade."""

from pathlib import Path

import pytest

from bot import storage
from bot.storage import Store

ROW = {
    "platform": "discord",
    "community": "guild-1",
    "channel": "general",
    "author_id": "staff-1",
    "author_name": "Sam",
    "author_staff": 1,
    "author_bot": 0,
    "mentions": "[]",
    "created_at": "2026-11-20T10:00:00+00:00",
}


def staff_reply(store: Store, key: str, processed: int) -> None:
    store.insert(
        "messages",
        {**ROW, "key": key, "id": key, "reply_to": "m1", "text": "Voici", "processed": processed},
    )


def test_an_older_database_gets_its_staff_answers_queued_on_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    with monkeypatch.context() as patch:
        patch.setattr(storage, "MIGRATIONS", storage.MIGRATIONS[:5])
        old = Store(path)
        staff_reply(old, "a", processed=1)
        old.close()
    upgraded = Store(path)
    assert upgraded.schema_version == len(storage.MIGRATIONS)
    assert upgraded.rows("SELECT origin, ref FROM answer_queue") == [
        {"origin": "staff", "ref": "a"}
    ]
    upgraded.close()


def test_a_staff_reply_is_queued_once_processed(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    staff_reply(store, "b", processed=0)
    assert store.rows("SELECT * FROM answer_queue") == []  # not processed yet
    store.update("messages", "key", "b", {"processed": 1})
    assert [r["ref"] for r in store.rows("SELECT ref FROM answer_queue")] == ["b"]
    store.close()
