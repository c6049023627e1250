"""The command line in a new user's first hour: clear errors, no stray files, no tracebacks."""

import sys
from pathlib import Path

import pytest

from huitaine.cli import example_path, main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_report_on_a_missing_database_says_so_and_creates_nothing(
    in_empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["report", "--db", "missing.db"], capsys)
    assert code == 2
    assert err.startswith("huitaine: no database at missing.db (--db). Fix:")
    assert "Cases" not in out
    assert list(in_empty_dir.iterdir()) == []


def test_cases_without_a_database_leaves_no_file_behind(
    in_empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["cases"], capsys)
    assert code == 2
    assert "no database at huitaine.db ([storage] database)" in err
    assert list(in_empty_dir.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [["replay", "missing.jsonl", "--db", "x.db"], ["audit", "missing.json", "--db", "x.db"]],
)
def test_a_missing_input_is_refused_before_a_database_is_created(
    argv: list[str], in_empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert err == f"huitaine: no such file: {argv[1]}\n"
    assert list(in_empty_dir.iterdir()) == []


def test_an_unwritable_database_is_one_line_with_the_fix(
    in_empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = in_empty_dir / "c.toml"
    config.write_text('[storage]\ndatabase = "no/such/folder/h.db"\n', encoding="utf-8")
    code, _, err = run_cli(["replay", str(example_path()), "--config", str(config)], capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "cannot use the database no/such/folder/h.db" in err
    assert "Fix:" in err
    assert "Traceback" not in err


def test_run_without_the_platform_extra_names_the_install_command(
    in_empty_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after `pip install -e .`: python-telegram-bot is not importable.
    for name in [
        m
        for m in sys.modules
        if m == "telegram" or m.startswith(("telegram.", "adapters.telegram"))
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "telegram", None)
    monkeypatch.setenv("TELEGRAM_TOKEN", "123:abc")
    code, _, err = run_cli(["run", "--platform", "telegram", "--db", "h.db"], capsys)
    assert code == 2
    assert "pip install 'huitaine[telegram]'" in err
    assert "Traceback" not in err
    assert list(in_empty_dir.iterdir()) == []


def test_the_demo_does_not_show_a_path_it_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["demo"], capsys)
    assert code == 0
    assert "/demo.db" not in out
    assert "temporary (deleted now); keep one with --db FILE" in out
    kept = tmp_path / "kept.db"
    code, out, _ = run_cli(["demo", "--db", str(kept)], capsys)
    assert f"cases in {kept}" in out
    assert kept.is_file()


def test_the_demo_speaks_french_for_a_french_community(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[community]\nlanguage = "fr"\n', encoding="utf-8")
    code, out, _ = run_cli(["demo", "--config", str(config)], capsys)
    assert code == 0
    assert out.startswith("Rejeu de la communauté d'exemple inventée")
    for french in (
        "lignes lues",
        "Attendent encore un humain",
        "objectif",
        "par ",
        "Rien n'a été",
    ):
        assert french in out
    for english in ("Still waiting", "lines read", "suggested reply", "Nothing was sent", ") by "):
        assert english not in out
