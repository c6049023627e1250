"""How quiet a detector stays on everyday community chatter, and what it costs on customers.

Usage: python bench/detect_chatter.py [--detectors rules,model] [--errors]

For each detector, named as in `[detection] detector` of the configuration (so a new engine is
measured as soon as the configuration accepts its name), prints:
- on the chatter check set (real Discord and IRC messages, hand-labelled; texts re-read from
  ../shared/data/replay, see bench/data/README.md): false cases opened per 1,000 chatter
  messages (labelled neither question nor complaint) and recall on the labelled requests;
- F1 per task on the customer sets (bench/data/customer_check.csv and, when present, the dev
  sets of ../shared/data/dev), so that a loss on customer messages is seen beside the gain.

A case opens when either score reaches the threshold, as `bot/ingest.py` decides. Goal: fewer
than 30 false cases per 1,000 chatter messages, and no customer F1 lower by more than 0.02.
The chatter check set is split in two fixed halves by a hash of each row's locator: "A" is
the half whose errors may be read while improving the detector (`--errors` lists A only),
"B" is held out and only counted, so a gain that does not carry over to B shows up.
`--errors` lists half A's misreadings (look rarely: tuning on it spoils it).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
for extra in (REPO_ROOT, REPO_ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from chatter_data import LABELS, REPLAY, load_labelled  # noqa: E402

from bot.app import build_detector  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.detect.base import Detector  # noqa: E402
from bot.detect.evaluate import score_probabilities  # noqa: E402
from bot.detect.train import read_csv  # noqa: E402
from bot.models import Kind  # noqa: E402

THRESHOLD = 0.5
DEV = REPO_ROOT.parent / "shared" / "data" / "dev"
CHECK = REPO_ROOT / "bench" / "data" / "customer_check.csv"
DEV_TASKS = {
    "questions_en.csv": "question",
    "questions_fr.csv": "question",
    "complaints_en.csv": "complaint",
    "negative_fr.csv": "complaint",
}
GOAL_PER_1000 = 30.0
HALVES = ("A", "B")


def half_of(locator: str) -> str:
    """The fixed half of the chatter check a row is in: "A" (may be read) or "B" (held out)."""
    return HALVES[int(hashlib.sha256(locator.encode()).hexdigest(), 16) % 2]


def detector_named(name: str) -> Detector:
    """The detector the configuration would build for `[detection] detector = name`.

    Experiments on how the default head meets the rules (the shipped default gates them,
    see `bot.detect.model.COMBINE_GATED`): `NAME:head-only` uses the head alone, `NAME:max`
    takes the higher of head and rules (the combination before the gate).
    """
    base, _, variant = name.partition(":")
    config = parse_config({"detection": {"detector": base}})
    detector = build_detector(config)
    combines = {"head-only": None, "max": "max"}
    if variant in combines:
        from bot.detect.head import Head
        from bot.detect.model import ModelDetector

        if not isinstance(detector, ModelDetector):
            sys.exit(f"{name}: the {base!r} detector has no head")
        shipped = detector.heads.default()
        meta = {key: value for key, value in shipped.meta.items() if key != "combine"}
        if combines[variant] is not None:
            meta["combine"] = combines[variant]
        detector.heads._default = Head(shipped.encoder, shipped.dim, shipped.tasks, meta)
    elif variant:
        sys.exit(f"{name}: unknown variant {variant!r} (known: {', '.join(combines)})")
    return detector


def customer_sets() -> list[tuple[str, str, list[str], list[int]]]:
    """(set name, task, texts, gold) for every customer set present."""
    sets: list[tuple[str, str, list[str], list[int]]] = []
    rows = read_csv(CHECK, None)
    for task in ("question", "complaint"):
        gold = [int(getattr(row, task) or 0) for row in rows]
        sets.append(("customer_check", task, [row.text for row in rows], gold))
    for file, task in DEV_TASKS.items():
        path = DEV / file
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            dev = list(csv.DictReader(handle))
        sets.append(
            (
                file.removesuffix(".csv"),
                task,
                [r["text"] for r in dev],
                [int(r["label"]) for r in dev],
            )
        )
    return sets


def main() -> None:
    """Measure the named detectors and print one table per measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detectors", default="rules,model")
    parser.add_argument("--errors", action="store_true", help="list the chatter misreadings")
    parser.add_argument("--no-customers", action="store_true", help="skip the customer sets")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not REPLAY.exists():
        sys.exit(f"{REPLAY} not found: the chatter check needs ../shared/data/replay")
    labelled = load_labelled()
    texts = [item.record.text for item in labelled]
    chatter = [item for item in labelled if not item.request]
    requests = [item for item in labelled if item.request]
    print(
        f"chatter check: {len(labelled)} real messages ({LABELS.name}), {len(chatter)} chatter, "
        f"{len(requests)} requests ({sum(i.question for i in labelled)} questions, "
        f"{sum(i.complaint for i in labelled)} complaints); threshold {THRESHOLD}"
    )
    names = [name.strip() for name in args.detectors.split(",") if name.strip()]
    customers = [] if args.no_customers else customer_sets()
    chatter_rows: list[str] = []
    customer_rows: dict[tuple[str, str], list[str]] = {}
    for name in names:
        started = time.perf_counter()
        detector = detector_named(name)
        detections = detector.detect_batch(texts)
        opened = [d.kind(THRESHOLD) is not Kind.OTHER for d in detections]
        cells = []
        for part in (None, *HALVES):
            chosen = [
                (item, o)
                for item, o in zip(labelled, opened, strict=True)
                if part is None or half_of(item.record.locator) == part
            ]
            n_chatter = sum(1 for item, _ in chosen if not item.request)
            n_requests = len(chosen) - n_chatter
            false = sum(1 for item, o in chosen if o and not item.request)
            found = sum(1 for item, o in chosen if o and item.request)
            cells.append(
                f"{1000 * false / max(1, n_chatter):.0f} ({false}/{n_chatter}) | "
                f"{found / max(1, n_requests):.2f} ({found}/{n_requests})"
            )
        complaint_fp = sum(
            1
            for item, d in zip(labelled, detections, strict=True)
            if not item.request and d.kind(THRESHOLD) is Kind.COMPLAINT
        )
        chatter_rows.append(
            f"| {detector.name} ({name}) | " + " | ".join(cells) + f" | {complaint_fp} |"
        )
        if args.errors:
            for item, d, o in zip(labelled, detections, opened, strict=True):
                if o != item.request and half_of(item.record.locator) == "A":
                    tag = "FALSE CASE" if o else "MISSED"
                    print(
                        f"  [{name}] {tag} q={d.question:.2f} c={d.complaint:.2f} "
                        f"{item.record.text[:120]!r}"
                    )
        for set_name, task, set_texts, gold in customers:
            scores = [getattr(d, task) for d in detector.detect_batch(set_texts)]
            f1 = score_probabilities(gold, scores, THRESHOLD).f1
            customer_rows.setdefault((set_name, task), []).append(f"{f1:.3f}")
        print(f"[{name}: {time.perf_counter() - started:.0f} s]", file=sys.stderr)
    print(
        f"\n| detector | false cases / 1,000 chatter (goal < {GOAL_PER_1000:.0f}) | recall "
        "| half A: false / 1,000 | recall | half B (held out): false / 1,000 | recall "
        "| false complaints |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(chatter_rows))
    if customer_rows:
        print("\n| customer set | task | " + " | ".join(f"F1 {n}" for n in names) + " |")
        print("|---|---|" + "---|" * len(names))
        for (set_name, task), cells in customer_rows.items():
            print(f"| {set_name} | {task} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
