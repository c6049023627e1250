"""`huitaine suggest`: drafts for JSONL requests, bad lines reported, FAQ drafts written."""

import io
import json
import sys
from pathlib import Path

import pytest

from bot.faq import FaqError, load_faq
from huitaine.cli import example_path, main


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    db = str(tmp_path / "h.db")
    assert main(["replay", str(example_path()), "--db", db]) == 0
    return db


def test_suggest_jsonl_writes_drafts_best_first_and_reports_bad_lines(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    lines = [
        json.dumps({"id": 1, "text": "toujours rien reçu, commande 4700, suivi bloqué"}),
        "not json",
        json.dumps({"id": "b", "text": "I was charged twice for my order"}),
        json.dumps({"text": 3}),
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["suggest", "--db", demo_db, "--jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r.get("id") for r in rows] == [1, None, "b", None]
    assert rows[1]["error"].startswith("line 2:")
    assert rows[3]["error"].startswith("line 4:")
    for row in (rows[0], rows[2]):
        suggestions = row["suggestions"]
        assert suggestions
        assert set(suggestions[0]) == {"text", "source", "score"}
        scores = [s["score"] for s in suggestions]
        assert scores == sorted(scores, reverse=True)
    assert rows[0]["suggestions"][0]["text"].startswith("Bonjour")
    assert rows[2]["suggestions"][0]["text"].startswith("Hi")


def test_suggest_names_the_communities_when_asked_for_an_unknown_one(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["suggest", "--db", demo_db, "--community", "elsewhere"]) == 2
    assert "atelier-demo" in capsys.readouterr().err


def test_faq_drafts_are_written_for_review(
    demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    out = tmp_path / "drafts"
    assert main(["suggest", "--db", demo_db, "--faq-drafts", str(out)]) == 0
    written = sorted(out.glob("faq-drafts-*.toml"))
    assert written
    assert "draft entries to review" in capsys.readouterr().out
    # A draft is data in the FAQ format; whatever has no answer yet refuses to load.
    for path in written:
        folder = tmp_path / path.stem
        folder.mkdir()
        (folder / f"faq-{path.stem[-2:]}.toml").write_text(path.read_text("utf-8"), "utf-8")
        if "# answer = " in path.read_text("utf-8"):
            with pytest.raises(FaqError, match="needs answer"):
                load_faq(folder)
        else:
            assert all(e.answer for e in load_faq(folder))
