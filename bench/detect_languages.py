"""What quality to expect in each language a community may write in.

Usage: python bench/detect_languages.py [--detectors model,rules] [--errors]

Reads bench/data/languages_check.csv: 40 messages written by the project in each of French,
English, Spanish, German, Italian and Portuguese, the same 40 situations in each language (16
questions, 13 complaints, 2 of them both, 13 pieces of chatter: thanks, greetings, jokes,
invitations, announcements). For each detector and language it prints, side by side:
precision / recall / F1 per task at the threshold, false cases per 100 chatter messages (a
case opens when either score reaches the threshold), and the share of messages tagged with
the right language when the community is configured for that language and English (French
and English for English).

The set is small and written by the project: a figure moves by 0.03-0.06 for one message; it
tells "works", "works less well" or "does not work", not a ranking of close numbers.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bot.app import build_detector  # noqa: E402
from bot.config import DETECTED_LANGUAGES, LANGUAGES, parse_config  # noqa: E402
from bot.detect.evaluate import Scores, score_probabilities  # noqa: E402
from bot.models import Detection  # noqa: E402

DATA = REPO_ROOT / "bench" / "data" / "languages_check.csv"
THRESHOLD = 0.5


def load(path: Path) -> dict[str, list[tuple[str, int, int]]]:
    """Rows per language: (text, question, complaint)."""
    rows: dict[str, list[tuple[str, int, int]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(row["lang"], []).append(
                (row["text"], int(row["label_question"]), int(row["label_complaint"]))
            )
    return rows


def community_languages(language: str) -> list[str]:
    """The community each language is measured in: that language and English (or French)."""
    return [language, "fr" if language == "en" else "en"]


def detect(kind: str, language: str, texts: Sequence[str]) -> list[Detection]:
    """Detections of `texts` by detector `kind` in a community of `language`."""
    community: dict[str, object] = {
        "language": language,
        "languages": community_languages(language),
    }
    if kind == "rules" and language not in LANGUAGES:
        # The configuration refuses the rules for such a community; measured anyway, in a
        # French/English community, to show why.
        community = {"language": "en", "languages": ["fr", "en"]}
    detector = build_detector(
        parse_config({"community": community, "detection": {"detector": kind}})
    )
    try:
        return detector.detect_batch(list(texts))
    finally:
        close = getattr(detector, "close", None)
        if callable(close):
            close()


def cell(scores: Scores) -> str:
    """P/R/F1 in 14 characters."""
    return f"{scores.precision:.2f}/{scores.recall:.2f}/{scores.f1:.2f}"


def main() -> None:
    """Print the per-language table for each detector."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detectors", default="model,rules")
    parser.add_argument("--errors", action="store_true", help="list the misread messages")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = load(DATA)
    languages = [code for code in DETECTED_LANGUAGES if code in rows]
    print(f"# Detection per language ({DATA.name}, threshold {THRESHOLD})")
    print("P/R/F1 = precision/recall/F1; chatter = false cases per 100 chatter messages;")
    print("tagged = share of messages given the right language.\n")
    for kind in args.detectors.split(","):
        print(f"## {kind}\n")
        print("| language | n | question P/R/F1 | complaint P/R/F1 | chatter | tagged |")
        print("|---|---|---|---|---|---|")
        errors: list[str] = []
        for language in languages:
            items = rows[language]
            texts = [text for text, _, _ in items]
            detections = detect(kind, language, texts)
            per_task = {}
            for position, task in ((1, "question"), (2, "complaint")):
                gold = [int(item[position]) for item in items]
                probabilities = [getattr(d, task) for d in detections]
                per_task[task] = score_probabilities(gold, probabilities, THRESHOLD)
            chatter = [
                d for (_, q, c), d in zip(items, detections, strict=True) if not q and not c
            ]
            opened = sum(1 for d in chatter if max(d.question, d.complaint) >= THRESHOLD)
            tagged = sum(1 for d in detections if d.language == language) / len(detections)
            unread = kind == "rules" and language not in LANGUAGES
            rules_note = " (not read by the rules)" if unread else ""
            print(
                f"| {language}{rules_note} | {len(items)} | {cell(per_task['question'])} | "
                f"{cell(per_task['complaint'])} | {100 * opened / max(1, len(chatter)):.0f} | "
                f"{tagged:.0%} |"
            )
            for (text, q, c), d in zip(items, detections, strict=True):
                said = (int(d.question >= THRESHOLD), int(d.complaint >= THRESHOLD))
                if said != (q, c):
                    errors.append(
                        f"  {language} gold q{q}c{c} said q{said[0]}c{said[1]} "
                        f"({d.question:.2f}/{d.complaint:.2f}, {d.language}): {text}"
                    )
        print()
        if args.errors and errors:
            print("\n".join(errors) + "\n")


if __name__ == "__main__":
    main()
