"""Export readers: an odd record is skipped with its position, the others are all kept, and a
record nested 100,000 deep is skipped without being built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.exports.common import MAX_DEPTH, ImportStats, StaffRule
from adapters.exports.discord_export import read_discord_export
from adapters.exports.telegram_export import read_telegram_export

DEPTH = 100_000


def discord_record(n: int, **changes: Any) -> dict[str, Any]:
    record = {
        "id": str(900 + n),
        "type": "Default",
        "timestamp": f"2026-11-02T09:0{n}:00.000+00:00",
        "content": f"message {n}: where is my order?",
        "author": {"id": "700", "name": "zoe", "isBot": False, "roles": []},
        "mentions": [],
    }
    return {**record, **changes}


def discord_file(tmp_path: Path, records: list[bytes]) -> Path:
    head = b'{"guild": {"id": "1", "name": "G"}, "channel": {"id": "2", "type": "GuildTextChat"},'
    path = tmp_path / "discord.json"
    path.write_bytes(head + b'"messages": [' + b",".join(records) + b"]}")
    return path


def read_discord(path: Path) -> tuple[list[Any], ImportStats]:
    stats = ImportStats()
    return list(read_discord_export(path, StaffRule(), stats, progress=False)), stats


def test_discord_mentions_that_are_not_objects_are_ignored_not_fatal(tmp_path: Path) -> None:
    records = [json.dumps(discord_record(1, mentions=[123, "x", {"id": "55"}])).encode()]
    records += [json.dumps(discord_record(n)).encode() for n in (2, 3)]
    messages, stats = read_discord(discord_file(tmp_path, records))
    assert len(messages) == 3
    assert messages[0].mentions == ("55",)
    assert stats.kept == 3


@pytest.mark.parametrize(
    "changes",
    [
        {"reference": "x"},
        {"type": ["Default"]},
        {"author": {"id": "7", "roles": 5}},
        {"timestamp": "9999-12-31T23:00:00+00:00"},
    ],
)
def test_discord_odd_fields_skip_or_keep_one_record_only(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    records = [json.dumps(discord_record(n)).encode() for n in (1, 2)]
    records.append(json.dumps(discord_record(3, **changes)).encode())
    messages, stats = read_discord(discord_file(tmp_path, records))
    assert [m.id for m in messages[:2]] == ["901", "902"]
    assert stats.read == 3


def test_a_surrogate_escape_in_the_last_record_keeps_every_record(tmp_path: Path) -> None:
    records = [json.dumps(discord_record(n)).encode() for n in (1, 2, 3, 4)]
    last = json.dumps(discord_record(5, content="PLACE")).encode()
    records.append(last.replace(b"PLACE", b"bad \\udc80 escape"))
    messages, stats = read_discord(discord_file(tmp_path, records))
    assert len(messages) == 5
    assert messages[-1].text == "bad \ufffd escape"
    assert stats.truncated is None


def test_a_record_nested_100000_deep_is_skipped_with_its_position(tmp_path: Path) -> None:
    deep = b'{"id": "999", "content": ' + b'{"a":' * DEPTH + b"1" + b"}" * DEPTH + b"}"
    records = [
        json.dumps(discord_record(1)).encode(),
        deep,
        json.dumps(discord_record(2)).encode(),
    ]
    messages, stats = read_discord(discord_file(tmp_path, records))
    assert [m.id for m in messages] == ["901", "902"]
    assert stats.skipped == {f"nested deeper than {MAX_DEPTH} levels": 1}
    assert stats.examples == [f"discord.json message #2: nested deeper than {MAX_DEPTH} levels"]


def telegram_record(n: int, **changes: Any) -> dict[str, Any]:
    record = {
        "id": n,
        "type": "message",
        "date_unixtime": str(1762077600 + n),
        "from": "Jérôme",
        "from_id": "user222",
        "text": f"message {n}: toujours rien reçu ?",
        "text_entities": [],
    }
    return {**record, **changes}


def read_telegram(tmp_path: Path, records: list[bytes]) -> tuple[list[Any], ImportStats]:
    path = tmp_path / "result.json"
    path.write_bytes(b'{"name": "G", "id": 42, "messages": [' + b",".join(records) + b"]}")
    stats = ImportStats()
    return list(read_telegram_export(path, StaffRule(), stats, progress=False)), stats


@pytest.mark.parametrize(
    "changes",
    [
        {"text_entities": "mention"},
        {"text_entities": [1, "x", None]},
        {"text": [5, {"type": "mention_name"}], "text_entities": None},
    ],
)
def test_telegram_text_entities_that_are_not_objects_are_ignored(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    records = [json.dumps(telegram_record(n)).encode() for n in (1, 2)]
    records.append(json.dumps(telegram_record(3, **changes)).encode())
    messages, _ = read_telegram(tmp_path, records)
    assert [m.id for m in messages] == ["1", "2", "3"]
    assert messages[2].mentions == ()


@pytest.mark.parametrize(
    "changes",
    [
        {"date_unixtime": "253402300800"},  # year 10000
        {"date_unixtime": "-62135596801"},  # before year 1
        {"type": "service", "action": "topic_created", "id": "not a number"},
        {"id": [1]},
    ],
)
def test_telegram_bad_dates_and_ids_skip_one_record(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    records = [json.dumps(telegram_record(n)).encode() for n in (1, 2)]
    records.append(json.dumps(telegram_record(3, **changes)).encode())
    messages, stats = read_telegram(tmp_path, records)
    assert [m.id for m in messages] == ["1", "2"]
    assert stats.read == 3
    assert sum(stats.skipped.values()) == 1


def test_telegram_deep_record_and_scalar_record_are_skipped(tmp_path: Path) -> None:
    deep = b'{"id": 9, "text": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"
    records = [json.dumps(telegram_record(1)).encode(), deep, b"17"]
    records.append(json.dumps(telegram_record(2)).encode())
    messages, stats = read_telegram(tmp_path, records)
    assert [m.id for m in messages] == ["1", "2"]
    assert stats.skipped[f"nested deeper than {MAX_DEPTH} levels"] == 1
    assert stats.skipped["not an object"] == 1


def test_deep_nesting_outside_the_messages_stops_the_file_and_keeps_what_came_before(
    tmp_path: Path,
) -> None:
    records = [json.dumps(discord_record(n)).encode() for n in (1, 2)]
    path = discord_file(tmp_path, records)
    deep = b'"extra": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"
    path.write_bytes(path.read_bytes()[:-1] + b"," + deep)
    messages, stats = read_discord(path)
    assert [m.id for m in messages] == ["901", "902"]
    assert stats.truncated is not None
    assert f"nested deeper than {MAX_DEPTH} levels" in stats.truncated
