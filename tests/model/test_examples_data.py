"""The shipped training examples and the benchmark's check set stay apart and well-formed."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from bot.detect.model import bundled_examples, bundled_praise
from bot.detect.train import read_csv

CHECK = Path(__file__).resolve().parents[2] / "bench" / "data" / "customer_check.csv"


def normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def test_the_check_set_shares_no_message_with_the_training_examples() -> None:
    trained = {normalised(example.text) for example in bundled_examples()}
    rows = read_csv(CHECK, None)
    assert len(rows) == 300
    leaked = [row.text for row in rows if normalised(row.text) in trained]
    assert leaked == []
    praise = {normalised(text) for text in bundled_praise()}
    assert [row.text for row in rows if normalised(row.text) in praise] == []


def test_every_check_row_is_labelled_for_both_tasks_in_a_known_language() -> None:
    # read_csv raises on a label that is not yes/no; a blank one comes back as None.
    bad = [
        row
        for row in read_csv(CHECK, None)
        if row.lang not in {"fr", "en"}
        or row.question is None
        or row.complaint is None
        or not row.text.strip()
    ]
    assert bad == []


LANGUAGES_CHECK = CHECK.with_name("languages_check.csv")


def test_the_languages_check_set_is_apart_and_covers_every_language_a_community_may_use() -> None:
    from bot.config import DETECTED_LANGUAGES

    trained = {normalised(example.text) for example in bundled_examples()}
    rows = read_csv(LANGUAGES_CHECK, None)
    assert [row.text for row in rows if normalised(row.text) in trained] == []
    per_language = {code: [row for row in rows if row.lang == code] for code in DETECTED_LANGUAGES}
    assert {code: len(items) for code, items in per_language.items()} == dict.fromkeys(
        DETECTED_LANGUAGES, 40
    )
    for items in per_language.values():
        # The same situations in each language: the labels line up.
        assert [(r.question, r.complaint) for r in items] == [
            (r.question, r.complaint) for r in per_language["en"]
        ]
