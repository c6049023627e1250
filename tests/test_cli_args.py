"""The command line's shape: options anywhere, --version, help on every option."""

import argparse
import io
import json
import logging
import sys
from pathlib import Path

import pytest

from bot import __version__
from huitaine.cli import build_parser, main


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"huitaine {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "{cfg}", "-v", "cases", "--db", "{db}"],
        ["cases", "--db", "{db}", "--config", "{cfg}", "-v"],
        ["-v", "cases", "--config", "{cfg}", "--db", "{db}"],
    ],
)
def test_config_and_verbose_work_before_or_after_the_command(
    argv: list[str], tmp_path: Path
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[community]\nname = "Ours"\n', encoding="utf-8")
    filled = [a.format(cfg=cfg, db=tmp_path / "h.db") for a in argv]
    args = build_parser().parse_args(filled)
    assert args.config == cfg
    assert args.verbose is True


def test_options_default_when_not_given() -> None:
    args = build_parser().parse_args(["demo"])
    assert args.config is None
    assert args.verbose is False


def test_a_bad_config_after_the_command_is_reported_not_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[deadlines]\nlimit = '10d'\n", encoding="utf-8")
    code = main(["demo", "--config", str(cfg)])
    err = capsys.readouterr().err
    assert code == 2
    assert "deadlines.limit" in err
    assert "Traceback" not in err


def test_every_option_of_every_command_has_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {action.option_strings or action.dest}"
        for name, subparser in sub.choices.items()
        for action in subparser._actions
        if not action.help and name not in {"train", "eval"}
    ]
    assert missing == []


def test_detect_reads_stdin_without_the_jsonl_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"id": 1, "text": "how do I reset it?"}\n'))
    code = main(["detect"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert rows[0]["id"] == 1
    assert rows[0]["kind"] == "question"


def test_log_lines_carry_a_timestamp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # basicConfig does nothing if the root logger already has handlers (pytest adds its own).
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    main(["replay", str(bad), "--db", str(tmp_path / "h.db"), "-v"])
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "line 1" in line)
    assert line[:4].isdigit()
    assert line[4] == "-"
