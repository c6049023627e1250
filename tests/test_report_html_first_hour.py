"""The HTML report on a long history: title, legend, "and N more", whole words, known bots."""

import importlib.util
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest

from bot.insights import faq_candidates
from bot.report_html import MAX_TICKS, _thin_ticks, shorten
from huitaine.cli import main

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2024, 1, 1, 9, tzinfo=UTC)
LONG = (
    "I ordered the walnut cutting board three weeks ago and the tracking page still says "
    "label created, nobody answers my emails, could someone please tell me where my parcel is"
)


def history(path: Path, *, community: str, weeks: int = 60) -> Path:
    """One unanswered question a week from a different member, and one answered in minutes."""
    lines: list[dict[str, Any]] = []
    for week in range(weeks):
        when = START + timedelta(weeks=week)
        text = LONG if week == 0 else f"how do I oil board number {week}?"
        lines.append(
            {"platform": "discord", "community": community, "channel": "help",
             "id": f"q{week}", "author": {"id": f"u{week}", "name": f"Member{week}"},
             "text": text, "ts": when.isoformat()}
        )  # fmt: skip
        lines.append(
            {"platform": "discord", "community": community, "channel": "help",
             "id": f"a{week}", "author": {"id": f"b{week}", "name": f"Asker{week}"},
             "text": "where can I find the size guide for the aprons?",
             "ts": (when + timedelta(hours=1)).isoformat()}
        )  # fmt: skip
        lines.append(
            {"platform": "discord", "community": community, "channel": "help",
             "id": f"s{week}", "reply_to": f"a{week}",
             "author": {"id": "sam", "name": "Sam", "staff": True},
             "text": "Here: Help > Sizes.",
             "ts": (when + timedelta(hours=1, minutes=5)).isoformat()}
        )  # fmt: skip
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def audit_html(tmp_path: Path, *, community: str, extra: list[str] | None = None) -> str:
    source = history(tmp_path / "h.jsonl", community=community)
    out = tmp_path / "r.html"
    argv = ["audit", str(source), "--db", str(tmp_path / "a.db"), "--html", str(out)]
    assert main(argv + (extra or [])) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> str:
    return audit_html(tmp_path_factory.mktemp("long"), community="Atelier du Bois")


def test_the_title_is_the_community_found_in_the_history(document: str) -> None:
    assert "<title>Atelier du Bois</title>" in document
    assert "<h1>Atelier du Bois — How are we doing?</h1>" in document


def test_a_configured_name_wins_and_an_id_is_never_a_title(tmp_path: Path) -> None:
    named = tmp_path / "named"
    named.mkdir()
    config = named / "c.toml"
    config.write_text('[community]\nname = "Our shop"\n', encoding="utf-8")
    html = audit_html(named, community="Atelier du Bois", extra=["--config", str(config)])
    assert "<title>Our shop</title>" in html
    numeric = tmp_path / "numeric"
    numeric.mkdir()
    assert "<title>Community</title>" in audit_html(numeric, community="81234567890")


def test_the_waiting_list_says_how_many_more_are_not_shown(document: str) -> None:
    shown = re.findall(r"<tr><td>#\d+</td>", document)
    assert len(shown) == 50
    assert "<b>60</b>" in document  # the "Still waiting" card
    assert '<tr class="more"><td colspan="5">… and 10 more</td></tr>' in document


def test_every_column_of_the_waiting_list_has_a_header(document: str) -> None:
    header = re.search(r"<table><tr>(.*?)</tr>", document, re.S)
    assert header is not None
    assert "<th></th>" not in header[1]
    assert "<th>kind</th>" in header[1]


def test_long_messages_end_on_a_whole_word_with_an_ellipsis(document: str) -> None:
    row = next(line for line in document.splitlines() if "walnut cutting board" in line)
    excerpt = re.search(r"<td>(I ordered[^<]*)</td>", row)
    assert excerpt is not None
    assert excerpt[1].endswith("…")
    assert LONG.startswith(excerpt[1][:-1])
    assert LONG[len(excerpt[1]) - 1] == " "  # the cut falls between two words


def test_the_trend_chart_has_a_legend_with_its_unit(document: str) -> None:
    legend = re.search(r'<figcaption class="legend">(.*?)</figcaption>', document)
    assert legend is not None
    # Answers come within five minutes: the median reads in minutes, not in 0.08 hours.
    assert "median first response (minutes)" in legend[1]
    assert "% share within 7 days" in legend[1]
    assert 'alt="Trend: median first response and the week kept"' in document


def test_the_two_shares_say_what_they_count(document: str) -> None:
    assert "cases judged" in document
    assert "the two shares can count different cases" in document


def test_week_labels_of_a_long_history_are_thinned_and_slanted() -> None:
    fig, ax = plt.subplots()
    labels = [f"{day:02d}/01/24" for day in range(1, 31)] * 5
    ax.bar(range(len(labels)), [1] * len(labels))
    _thin_ticks(ax, labels)
    ticks = ax.get_xticklabels()
    assert len(ticks) <= MAX_TICKS
    assert all(tick.get_rotation() > 0 for tick in ticks)
    plt.close(fig)


def test_shorten_keeps_short_text_and_cuts_long_words_only_when_it_must() -> None:
    assert shorten("short enough", 20) == "short enough"
    assert shorten("one two three four", 12) == "one two…"
    assert shorten("x" * 30, 10) == "x" * 9 + "…"


def test_faq_labels_skip_the_topic_and_peoples_names() -> None:
    texts = [f"how do I install racket on {os}, bob2?" for os in ("windows", "mac", "linux")]
    texts += [f"racket question {n}: where are the docs for contracts?" for n in range(3)]
    texts += [f"racket: anyone tried topic {n}" for n in range(30)]
    groups = faq_candidates(texts, names=frozenset({"bob2"}))
    labels = [g.label for g in groups]
    assert any("install" in label for label in labels)
    assert any("contracts" in label for label in labels)
    assert not any("racket" in label or "bob2" in label for label in labels)


def test_the_replay_converter_never_makes_a_known_bot_staff() -> None:
    spec = importlib.util.spec_from_file_location(
        "replay_to_jsonl", ROOT / "scripts/replay_to_jsonl.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._top_people(Counter({"ubottu": 90, "alice": 5, "bob": 3}), 2) == {"alice", "bob"}
    records = [
        {"author": {"id": "ubottu", "name": "ubottu", "staff": False}, "ts": "1"},
        {"author": {"id": "alice", "name": "alice", "staff": False}, "ts": "2"},
    ]
    marked = module._mark_helpers(records, {"ubottu", "alice"})
    assert marked[0]["author"] == {"id": "ubottu", "name": "ubottu", "staff": False, "bot": True}
    assert marked[1]["author"]["staff"] is True


def test_the_title_of_an_export_audit_is_the_server_and_group_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Chat exports keep only ids in their messages; the names come from the exports' headers.
    fixtures = Path(__file__).parent / "exports" / "fixtures"
    out = tmp_path / "r.html"
    exports = [str(fixtures / "discord_help.json"), str(fixtures / "telegram_result.json")]
    code = main(["audit", *exports, "--db", str(tmp_path / "a.db"), "--html", str(out)])
    capsys.readouterr()
    assert code == 0
    title = "Atelier (test fixture) · Boutique Ömer (test fixture)"
    assert f"<title>{title}</title>" in out.read_text(encoding="utf-8")
