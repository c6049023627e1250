"""The shipped training examples and the benchmark's check set stay apart and well-formed."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

from bot.detect.model import bundled_examples

CHECK = Path(__file__).resolve().parents[2] / "bench" / "data" / "customer_check.csv"


def normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def test_the_check_set_shares_no_message_with_the_training_examples() -> None:
    trained = {normalised(example.text) for example in bundled_examples()}
    with CHECK.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 300
    leaked = [row["text"] for row in rows if normalised(row["text"]) in trained]
    assert leaked == []


def test_every_check_row_is_labelled_for_both_tasks_in_a_known_language() -> None:
    with CHECK.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    bad = [
        row
        for row in rows
        if row["lang"] not in {"fr", "en"}
        or row["label_question"] not in {"0", "1"}
        or row["label_complaint"] not in {"0", "1"}
        or not row["text"].strip()
    ]
    assert bad == []
