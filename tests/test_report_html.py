"""The HTML report: self-contained, with real chart images, and honest figures."""

import base64
import html
import re
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.links import message_link
from bot.app import Huitaine
from bot.clock import ManualClock
from bot.config import parse_config
from bot.insights import faq_candidates
from bot.models import Actor, Feedback
from huitaine.cli import example_path, main
from tests.conftest import COMMUNITY, MessageFactory

OTHER = "guild-2"


def _cards(document: str) -> dict[str, str]:
    """The report's figure cards: label → figure."""
    found = re.findall(r'<div class="card">([^<]+)<b>(\d+)</b>', document)
    return {html.unescape(label): figure for label, figure in found}


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


def test_html_report_shows_who_answers_and_the_members_say_per_community(
    tmp_path: Path, clock: ManualClock, msg: MessageFactory
) -> None:
    db = tmp_path / "h.db"
    raw = {
        "community": {"language": "fr"},
        "detection": {"detector": "rules"},
        "staff": {"user_ids": ["discord:op"], "helper_ids": ["discord:h-1"]},
        "communities": {f"discord:{OTHER}": {"community": {"language": "en"}}},
    }
    operator = Actor("discord", "op", "Op")
    core = Huitaine(parse_config(raw), clock=clock, database=db)
    try:
        # Here (French): a helper answers one question, staff another (the member: solved),
        # and a third waits for anybody.
        core.ingest(msg("Comment réinitialiser mon mot de passe ?", author="u-1", name="Ana"))
        core.ingest(msg("@Ana Réglages puis Réinitialiser", author="h-1", name="Hana"))
        asked = core.ingest(msg("Où est ma facture ?", author="u-2", name="Bea")).case_ids[0]
        core.review.mark_sent(core.review.approve(operator, asked).id, "r1")
        core.review.member_feedback(Actor("discord", "u-2", "Bea"), asked, Feedback.SOLVED)
        core.ingest(msg("Quand ouvre l'atelier dimanche ?", author="u-3", name="Cyr"))
        # There (English): staff answered; the member still needs help.
        there = core.ingest(
            replace(msg("How do I reset my password?", author="u-4", name="Dan"), community=OTHER)
        ).case_ids[0]
        core.review.mark_sent(core.review.approve(operator, there).id, "r2")
        core.review.member_feedback(
            Actor("discord", "u-4", "Dan"), there, Feedback.STILL_NEED_HELP
        )
    finally:
        core.close()
    config = tmp_path / "c.toml"
    config.write_text(
        '[community]\nlanguage = "fr"\n[communities."discord:guild-2".community]\n'
        'language = "en"\n',
        encoding="utf-8",
    )
    here, other = tmp_path / "here.html", tmp_path / "other.html"
    base = ["--config", str(config), "report", "--db", str(db)]
    assert main([*base, "--html", str(here), "--community", f"discord:{COMMUNITY}"]) == 0
    assert main([*base, "--html", str(other), "--community", f"discord:{OTHER}"]) == 0
    french = here.read_text(encoding="utf-8")
    assert "<h2>Qui répond</h2>" in french
    cards = _cards(french)
    assert cards["L'équipe"] == "1"
    assert cards["Membres aidants (la communauté)"] == "1"
    assert cards["Personne encore"] == "1"
    # The week of 2 November: 2 answered, 1 marked solved, none "still need help".
    assert "<tr><td>2026-11-02</td><td>2</td><td>1</td><td>0</td><td>50%</td><td>100%</td>" in (
        french
    )
    english = other.read_text(encoding="utf-8")
    assert "<h2>Who answers</h2>" in english
    cards = _cards(english)
    # "Still need help" reopened the case: it waits again, answered by nobody for now.
    assert (cards["Staff"], cards["Helpers (the community)"], cards["Nobody yet"]) == (
        "0",
        "0",
        "1",
    )
    assert "<tr><td>2026-11-02</td><td>1</td><td>0</td><td>1</td><td>0%</td><td>0%</td>" in (
        english
    )
    assert "Quand ouvre" not in english  # nothing crosses communities
