"""`huitaine check`: what a self-hoster reads before going live; no network in these tests."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.check import Status, ask_platforms, check_database, check_templates, run_checks
from bot.config import ConfigError, parse_config
from huitaine.cli import main

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    return tmp_path


def test_check_with_a_token_says_ready_and_never_prints_the_token(
    in_empty_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
    code = main(["check"])
    out = capsys.readouterr().out
    assert code == 0
    assert "✓ telegram: $TELEGRAM_TOKEN is set" in out
    assert "ready for `huitaine run`" in out
    assert TOKEN not in out
    assert TOKEN.split(":")[1][:6] not in out
    assert list(in_empty_dir.iterdir()) == []  # a check creates no database


def test_check_without_tokens_names_the_variables_and_fails(
    in_empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check"])
    out = capsys.readouterr().out
    assert code == 1
    assert "✗ tokens: at 'telegram.token_env / discord.token_env'" in out
    assert "Fix: export one" in out
    assert "1 problem(s)" in out


def test_a_bad_config_stops_the_check_with_the_key(
    in_empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = in_empty_dir / "c.toml"
    config.write_text("[deadlines]\nlimit = '10d'\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    assert "config error at 'deadlines.limit'" in capsys.readouterr().err


def test_a_telegram_token_that_is_not_one_is_caught(
    in_empty_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", "my-token")
    assert main(["check"]) == 1
    assert "does not look like a bot token" in capsys.readouterr().out


def test_a_token_without_its_package_names_the_extra() -> None:
    findings = run_checks(
        parse_config({}),
        config_path=None,
        database=":memory:",
        environ={"DISCORD_TOKEN": "x" * 60},
        has_module=lambda name: False,
    )
    discord = next(f for f in findings if f.subject == "discord")
    assert discord.status is Status.PROBLEM
    assert "pip install 'huitaine[discord]'" in discord.detail


def test_templates_folder_missing_empty_or_without_the_language(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a folder"):  # refused when the file loads
        parse_config({"responses": {"directory": str(tmp_path / "no")}})
    (tmp_path / "gone").mkdir()
    configured = parse_config({"responses": {"directory": str(tmp_path / "gone")}})
    (tmp_path / "gone").rmdir()  # removed after the configuration was read
    missing = check_templates(configured)
    assert missing.status is Status.PROBLEM
    assert "is not a folder" in missing.detail
    empty = check_templates(parse_config({"responses": {"directory": str(tmp_path)}}))
    assert "no *.toml template" in empty.detail
    (tmp_path / "en.toml").write_text(
        'language = "en"\n[[template]]\nid = "q"\nkind = "question"\ntext = "Hi {member}"\n',
        encoding="utf-8",
    )
    french = parse_config(
        {"community": {"language": "fr"}, "responses": {"directory": str(tmp_path)}}
    )
    wrong_language = check_templates(french)
    assert wrong_language.status is Status.PROBLEM
    assert "at 'community.language': no template in 'fr'" in wrong_language.detail


def test_database_checks(tmp_path: Path) -> None:
    assert check_database(str(tmp_path / "new.db")).status is Status.OK
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello", encoding="utf-8")
    assert "is not a SQLite file" in check_database(str(not_sqlite)).detail
    assert "does not exist" in check_database(str(tmp_path / "no" / "h.db")).detail
    assert not (tmp_path / "new.db").exists()


def fake_platform(status: int, body: Any) -> Any:
    calls: list[tuple[str, Mapping[str, str]]] = []

    def fetch(url: str, headers: Mapping[str, str]) -> tuple[int, Any]:
        calls.append((url, headers))
        return status, body

    fetch.calls = calls  # type: ignore[attr-defined]
    return fetch


def test_online_check_reports_the_bot_name_or_the_refusal() -> None:
    config = parse_config({})
    accepted = fake_platform(200, {"ok": True, "result": {"username": "shop_bot"}})
    [finding] = ask_platforms(config, {"TELEGRAM_TOKEN": TOKEN}, accepted)
    assert finding.line() == "✓ telegram online: the token is bot @shop_bot"
    assert accepted.calls[0][0].endswith("/getMe")
    refused = fake_platform(401, {"message": "401: Unauthorized"})
    [finding] = ask_platforms(config, {"DISCORD_TOKEN": "abc"}, refused)
    assert finding.status is Status.PROBLEM
    assert "discord refused $DISCORD_TOKEN (HTTP 401)" in finding.detail
    assert refused.calls[0][1]["Authorization"] == "Bot abc"
    assert "abc" not in finding.line()


def test_online_check_without_network_is_skipped_not_failed() -> None:
    def unreachable(url: str, headers: Mapping[str, str]) -> tuple[int, Any]:
        raise OSError("Name or service not known")

    [finding] = ask_platforms(parse_config({}), {"TELEGRAM_TOKEN": TOKEN}, unreachable)
    assert finding.status is Status.SKIPPED
    assert "not reachable" in finding.detail
