"""Measure the rule detector on the labelled dev sets and print a markdown table.

Usage: python bench/detect_quality.py [--data DIR]

DIR defaults to ../shared/data/dev next to the repository. Each CSV has the header
`text,label,lang,source`; the file name tells the task (questions_* -> question, the others ->
complaint). The bare '?' rule is printed next to each result as a baseline.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bot.detect.rules import RuleDetector  # noqa: E402
from bot.models import Detection  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "dev"
THRESHOLD = 0.5
# Files and the task their labels stand for; unknown CSVs are skipped.
TASKS = {
    "questions_en.csv": "question",
    "questions_fr.csv": "question",
    "complaints_en.csv": "complaint",
    "negative_fr.csv": "complaint",
}


# --- Metrics ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Confusion:
    """Counts of a binary prediction against gold labels."""

    tp: int
    fp: int
    fn: int
    tn: int


def confusion(gold: Sequence[bool], predicted: Sequence[bool]) -> Confusion:
    """Confusion counts of `predicted` against `gold` (same length)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g and p)
    fp = sum(1 for g, p in zip(gold, predicted, strict=True) if not g and p)
    fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g and not p)
    return Confusion(tp, fp, fn, len(gold) - tp - fp - fn)


def precision(c: Confusion) -> float:
    """Share of predicted positives that are positive (0 when nothing is predicted)."""
    return c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0


def recall(c: Confusion) -> float:
    """Share of positives that are predicted (0 when there are none)."""
    return c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0


def f1(c: Confusion) -> float:
    """Harmonic mean of precision and recall for the positive class."""
    p, r = precision(c), recall(c)
    return 2 * p * r / (p + r) if p + r else 0.0


def macro_f1(c: Confusion) -> float:
    """Mean of the F1 of the positive class and the F1 of the negative class."""
    negative = Confusion(tp=c.tn, fp=c.fn, fn=c.fp, tn=c.tp)
    return (f1(c) + f1(negative)) / 2


def confusion_table(c: Confusion) -> str:
    """A small markdown confusion table."""
    return (
        "| | predicted yes | predicted no |\n|---|---:|---:|\n"
        f"| gold yes | {c.tp} | {c.fn} |\n| gold no | {c.fp} | {c.tn} |"
    )


# --- Data and runs ------------------------------------------------------------------------------


def load(path: Path) -> tuple[list[str], list[bool]]:
    """Texts and gold labels of one dev CSV."""
    texts: list[str] = []
    labels: list[bool] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            texts.append(row["text"])
            labels.append(row["label"].strip() == "1")
    return texts, labels


def score_of(detection: Detection, task: str) -> float:
    """The score a detection gives for `task`."""
    return detection.question if task == "question" else detection.complaint


def throughput(run: Callable[[], object], count: int, min_seconds: float = 1.0) -> float:
    """Messages per second of `run`, which processes `count` messages, repeated for a while."""
    rounds = 0
    start = time.perf_counter()
    while True:
        run()
        rounds += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return rounds * count / elapsed


def _cells(c: Confusion) -> str:
    return " | ".join(f"{value:.3f}" for value in (precision(c), recall(c), f1(c), macro_f1(c)))


def main(argv: Sequence[str] | None = None) -> int:
    """Print the quality table and the throughput; exit 0 even when data is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of dev CSVs")
    args = parser.parse_args(argv)
    data: Path = args.data
    files = [data / name for name in TASKS if (data / name).is_file()]
    if not files:
        print(f"No dev data in {data}; nothing to measure.")
        return 0

    detector = RuleDetector()
    print(
        "| file | task | n | positives | detector P | detector R | detector F1 | detector macro-F1"
        " | '?' P | '?' R | '?' F1 | '?' macro-F1 |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    all_texts: list[str] = []
    confusions: dict[str, Confusion] = {}
    for path in files:
        task = TASKS[path.name]
        texts, gold = load(path)
        all_texts.extend(texts)
        lang = "fr" if path.stem.endswith("_fr") else "en"
        predicted = [score_of(detector.detect(t, language=lang), task) >= THRESHOLD for t in texts]
        mine = confusion(gold, predicted)
        base = confusion(gold, ["?" in text for text in texts])
        confusions[path.name] = mine
        print(
            f"| {path.name} | {task} | {len(texts)} | {sum(gold)} "
            f"| {_cells(mine)} | {_cells(base)} |"
        )

    print()
    for name, c in confusions.items():
        print(f"Confusion, {name}:\n\n{confusion_table(c)}\n")

    short = [text for text in all_texts if len(text) <= 200][:5000]
    without_lid = throughput(
        lambda: [detector.detect(t, language="en") for t in short], len(short)
    )
    with_lid = throughput(lambda: detector.detect_batch(short), len(short))
    print("| throughput (messages/s, one core) | value |\n|---|---:|")
    print(f"| rules only (language given), {len(short)} short messages | {without_lid:,.0f} |")
    print(f"| rules + language identification | {with_lid:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
