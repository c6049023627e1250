"""The HTML report: self-contained, with real chart images, and honest figures."""

import base64
import re
from pathlib import Path

import pytest

from adapters.links import message_link
from bot.insights import faq_candidates
from huitaine.cli import example_path, main


def test_example_report_is_one_offline_file_with_four_charts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, out = tmp_path / "a.db", tmp_path / "report.html"
    assert main(["audit", str(example_path()), "--db", str(db), "--html", str(out)]) == 0
    document = out.read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', document)
    assert len(images) == 4
    for encoded in images:
        assert base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n")
    # Nothing is fetched when the file opens: no external scripts, styles or images.
    assert not re.search(r'(?:src|href)="https?://[^"]*\.(?:js|css|png)"', document)
    assert "<script" not in document
    assert "Never answered" in document  # the default community speaks English
    assert "Hannah" in document  # an unanswered member of the example is listed
    printed = capsys.readouterr().out
    assert "report written to" in printed


def test_faq_candidates_group_recurring_questions() -> None:
    texts = [
        "comment changer mon mot de passe ?",
        "je n'arrive pas à changer mon mot de passe",
        "how do I reset my password?",
        "password reset link does not work",
        "quand ouvre l'atelier dimanche ?",
    ]
    groups = faq_candidates(texts)
    assert groups[0].count == 2
    assert {g.count for g in groups} == {2}
    assert any("passe" in g.label for g in groups)
    assert any("password" in g.label for g in groups)


def test_message_links_back_to_platforms() -> None:
    assert message_link("discord", "81", "82", "90") == "https://discord.com/channels/81/82/90"
    assert message_link("telegram", "-1001234", "-1001234", "7") == "https://t.me/c/1234/7"
    assert message_link("irc", "ubuntu", "x", "1") is None
