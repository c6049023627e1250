"""The command-line contract other tools rely on."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from huitaine.cli import example_path, main

EXPECTED_CASE_KEYS = {
    "id",
    "kind",
    "state",
    "language",
    "opened_at",
    "target_at",
    "due_at",
    "first_response_at",
    "message_ids",
    "suggestion",
}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_replay_then_cases_json_then_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "h.db")
    code, out, _ = run_cli(["replay", str(example_path()), "--db", db], capsys)
    assert code == 0
    assert "lines read" in out
    assert "cases in" in out

    code, out, _ = run_cli(["cases", "--db", db, "--json"], capsys)
    cases = json.loads(out)
    assert code == 0
    assert cases
    assert all(set(case) >= EXPECTED_CASE_KEYS for case in cases)
    assert {case["kind"] for case in cases} == {"question", "complaint"}
    assert any(case["first_response_at"] for case in cases)
    assert all(case["message_ids"] for case in cases)

    code, out, _ = run_cli(["report", "--db", db, "--json"], capsys)
    report = json.loads(out)
    assert 0 < report["share_within_week"] < 1
    assert report["median_first_response_s"] > 0
    assert report["oldest_waiting"]

    code, out, _ = run_cli(["report", "--db", db], capsys)
    assert "p90" in out
    # The text report says how often the week was kept, with the same share as the JSON.
    share = f"({report['share_within_week']:.0%})"
    assert any(
        line.startswith("Answered within 7 days:") and share in line for line in out.splitlines()
    )


def test_detect_jsonl_streams_scores(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        {"id": 1, "text": "où est ma commande ? toujours rien reçu"},
        {"id": "b", "text": "how do I reset my password"},
        {"id": 3, "text": "merci beaucoup"},
    ]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code, out, _ = run_cli(["detect", "--jsonl"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["id"] for r in rows[:3]] == [1, "b", 3]
    assert rows[0]["kind"] == "complaint"
    assert rows[0]["lang"] == "fr"
    assert rows[1]["kind"] == "question"
    assert rows[1]["lang"] == "en"
    assert rows[2]["kind"] == "other"
    assert all(0 <= r["question"] <= 1 and 0 <= r["complaint"] <= 1 for r in rows[:3])
    assert "error" in rows[3]


def test_bad_config_stops_with_the_promised_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[deadlines]\nlimit = "10d"\n', encoding="utf-8")
    code, _, err = run_cli(
        ["--config", str(config), "cases", "--db", str(tmp_path / "x.db")], capsys
    )
    assert code == 2
    assert "deadlines.limit" in err
    assert "Fix:" in err


def test_demo_runs_offline_and_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["demo"], capsys)
    assert code == 0
    assert "suggested reply" in out
    assert "Nothing was sent" in out


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "huitaine.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("demo", "replay", "cases", "detect", "report", "console"):
        assert command in result.stdout
