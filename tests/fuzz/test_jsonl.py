"""JSONL readers (`huitaine replay`, `huitaine detect --jsonl`): one bad line is reported with its
number and skipped; the lines around it are processed."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config
from bot.replay import BadLine, parse_event, replay

GOOD = {
    "platform": "discord",
    "community": "g",
    "channel": "c",
    "author": {"id": "u1", "name": "Ann"},
    "text": "Where is my refund? I was charged twice and nobody answers!",
    "ts": "2026-11-02T09:00:00Z",
}
DEEP = b"[" * 100_000 + b"]" * 100_000


def good(ident: str, **changes: object) -> bytes:
    return json.dumps({**GOOD, "id": ident, **changes}).encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (DEEP, "not JSON"),
        (b'{"id": ' + b"9" * 5000 + b"}", "not JSON"),
        (good("1").replace(b'"id": "1"', b'"id": "\\ud800"'), "'id' is not valid text"),
        (good("1").replace(b'"id": "u1"', b'"id": "u\\udfff"'), "'id' is not valid text"),
        (good("1", event={"a": 1}), "unknown event"),
        (good("1", mentions=["\ud800"]), "'mention' is not valid"),
    ],
)
def test_parse_event_turns_odd_lines_into_bad_lines(raw: bytes, reason: str) -> None:
    with pytest.raises(BadLine, match=reason):
        parse_event(raw)


def test_replay_skips_bad_lines_by_number_and_keeps_the_rest(
    config: Config, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    surrogate_id = good("2").replace(b'"id": "2"', b'"id": "\\ud800"')
    odd_name = good("3").replace(b'"name": "Ann"', b'"name": "A\\udc80nn"')
    lines = [
        good("1", channel="c1"),
        DEEP + b"\n",
        surrogate_id,
        odd_name,
        good("4", channel="c4"),
    ]
    clock = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))
    core = Huitaine(config, clock=clock, database=db_path)
    summary = replay(core, clock, lines)
    assert summary.skipped_total == 2
    assert "line 2 skipped" in caplog.text
    assert "line 3 skipped" in caplog.text
    # The name with a broken escape is kept, shown with "?" as message texts are.
    assert {c.author.name for c in core.cases.list()} == {"Ann", "A?nn"}
    assert len(core.cases.list()) == 3
    core.close()


def test_detect_jsonl_keeps_going_past_deep_lines_and_odd_ids(tmp_path: Path) -> None:
    config = tmp_path / "rules.toml"
    config.write_text('[detection]\ndetector = "rules"\n', encoding="utf-8")
    stdin = b"\n".join(
        [
            b'{"id": 1, "text": "where is my order?"}',
            DEEP,
            b'{"id": "\\ud800", "text": "how do I reset my password?"}',
            b'{"id": 4, "text": "merci"}',
        ]
    )
    done = subprocess.run(
        [sys.executable, "-m", "huitaine.cli", "--config", str(config), "detect", "--jsonl"],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,
        check=False,
        env={"PYTHONIOENCODING": "utf-8", "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, None, "\ud800", 4]
    assert "line 2" in rows[1]["error"]
    assert rows[2]["kind"] == "question"


def test_detect_jsonl_reads_bytes_that_are_not_utf8_as_one_odd_line(tmp_path: Path) -> None:
    config = tmp_path / "rules.toml"
    config.write_text('[detection]\ndetector = "rules"\n', encoding="utf-8")
    stdin = (
        b'{"id": 1, "text": "where is my order?"}\n'
        b'{"id": 2, "text": "caf\xe9?"}\n'
        b'{"id": 3, "text": "ok"}\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "huitaine.cli", "--config", str(config), "detect", "--jsonl"],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,
        check=False,
        # A UTF-8 locale where stdin is strict, not the C locale's surrogateescape.
        env={"PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C.UTF-8", "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3]


def test_detect_jsonl_counts_a_stray_carriage_return_as_part_of_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from huitaine.cli import main

    config = tmp_path / "rules.toml"
    config.write_text('[detection]\ndetector = "rules"\n', encoding="utf-8")
    raw = b'{"id": 1, "text": "mer\rci"}\r\n{"id": 2, "text": "where is my order?"}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    assert main(["--config", str(config), "detect", "--jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [None, 2]
    assert rows[0]["error"].startswith("line 1:")
