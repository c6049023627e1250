"""The console as a new user meets it: unknown cases, French, message numbers, time words."""

import io
import logging
import re
from pathlib import Path

import pytest

from adapters.console import ConsoleSession, run_console
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import Config, parse_config

README = Path(__file__).resolve().parents[1] / "README.md"


def session(config: Config, clock: ManualClock, db_path: Path) -> tuple[ConsoleSession, list[str]]:
    out: list[str] = []
    core = Huitaine(config, clock=clock, database=db_path)
    return ConsoleSession(core, clock, out.append), out


@pytest.fixture
def english() -> Config:
    return parse_config({"detection": {"detector": "rules"}})


@pytest.mark.parametrize("line", ["/case 9", "/reply 9 sam: hi", "/approve 9", "/dismiss 9"])
def test_unknown_case_is_a_message_not_a_crash(
    line: str, english: Config, clock: ManualClock, db_path: Path
) -> None:
    chat, out = session(english, clock, db_path)
    assert chat.handle(line) is True
    assert out[-1] == "  ✗ case 9 does not exist"
    chat.core.close()


def test_french_community_gets_a_french_console(
    config: Config, clock: ManualClock, db_path: Path
) -> None:
    chat, out = session(config, clock, db_path)  # the shared fixture speaks French
    chat.handle("alice: ma commande n'est jamais arrivée, toujours rien reçu")
    chat.handle("/cases")
    chat.handle("/case 1")
    chat.handle("/snooze 1 4h")
    chat.handle("/as bob")
    chat.handle("/case 9")
    text = "\n".join(out)
    assert "cas n°1 ouvert : réclamation" in text
    assert "objectif" in text
    assert "par alice dans #general" in text
    assert "en pause jusqu'au" in text
    assert "vous agissez en tant que bob (membre)" in text
    assert "le cas n°9 n'existe pas" in text
    for english_word in ("opened", "target", "acting as", "snoozed", "by alice"):
        assert english_word not in text
    chat.core.close()


def test_typed_messages_are_numbered_in_order_and_replies_take_no_number(
    english: Config, clock: ManualClock, db_path: Path
) -> None:
    chat, out = session(english, clock, db_path)
    chat.handle("alice: my order never arrived, still nothing")
    chat.handle("/approve 1")
    chat.handle("bob: thanks all")
    chat.handle("carl: hello there")
    ids = re.findall(r"^  \[(c\d+)\]", "\n".join(out), re.M)
    assert ids == ["c1", "c2", "c3"]
    chat.handle("/open c3 question")
    assert out[-1].startswith("  → case #2 opened by hand")
    chat.core.close()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/dismiss 1 rude", "unknown reason 'rude': use one of not_a_request, spam"),
        ("/advance soon", "cannot read the duration 'soon': write 30m, 2h"),
        ("/approve 1 first", "the suggestion is a number"),
    ],
)
def test_wrong_words_get_a_plain_explanation(
    line: str, expected: str, english: Config, clock: ManualClock, db_path: Path
) -> None:
    chat, out = session(english, clock, db_path)
    chat.handle("alice: my order never arrived, still nothing")
    chat.handle(line)
    assert out[-1].startswith("  ✗ ")
    assert expected in out[-1]
    assert "DismissReason" not in out[-1]
    assert "config error" not in out[-1]
    chat.core.close()


def test_advance_understands_weeks_and_days_in_words(
    english: Config, clock: ManualClock, db_path: Path
) -> None:
    chat, out = session(english, clock, db_path)
    start = clock.now()
    chat.handle("/advance 3 weeks")
    chat.handle("/advance 2 jours")
    assert (clock.now() - start).days == 23
    assert not any("✗" in line for line in out)
    chat.core.close()


def test_a_refusal_is_shown_once_not_as_a_raw_log_line(
    english: Config, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    out = io.StringIO()
    stdin = io.StringIO("alice: my order never arrived, still nothing\n/as bob\n/approve 1\n")
    code = run_console(english, database=str(tmp_path / "c.db"), stdin=stdin, out=out)
    assert code == 0
    assert "only moderators can act on cases" in out.getvalue()
    assert not [r for r in caplog.records if "refused" in r.getMessage()]


def test_the_console_banner_speaks_the_community_language(config: Config, tmp_path: Path) -> None:
    out = io.StringIO()
    run_console(config, database=str(tmp_path / "c.db"), stdin=io.StringIO(""), out=out)
    assert out.getvalue().startswith("Console Huitaine — Atelier. /help pour les commandes.")


def test_the_readme_walkthrough_fires_a_reminder(
    english: Config, clock: ManualClock, db_path: Path
) -> None:
    block = README.read_text(encoding="utf-8").split("huitaine console\n```\n\n```\n")[1]
    typed = [
        re.split(r"\s{3,}", line[2:])[0]
        for line in block.split("```")[0].splitlines()
        if line.startswith("> ")
    ]
    assert len(typed) > 8
    chat, out = session(english, clock, db_path)
    for line in typed:
        chat.handle(line)
    text = "\n".join(out)
    assert "⏰" in text
    assert "only moderators can act on cases" in text
    assert text.count("  ✉ ") == 2
    assert "✗ case" not in text
    chat.core.close()


class TerminalInput(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_at_a_terminal_lines_are_read_with_editing_and_history(
    english: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    stdin = TerminalInput("alice: my order never arrived, still nothing\n/cases\n")
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", stdout)
    code = run_console(english, database=str(tmp_path / "c.db"), stdin=stdin, out=stdout)
    assert code == 0
    assert "readline" in sys.modules  # input() then offers line editing and history
    text = stdout.getvalue()
    assert text.count("> ") >= 3  # a prompt before each line, and at the end of input
    assert "case #1 opened" in text
