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

`--context` also measures the IRC rows in their conversation, as the runtime sees them: the
Ubuntu IRC logs (with their hand-annotated reply links, no one marked as staff) are replayed
through `huitaine audit` with the same detector, so the rules around the model
(`bot/conversation.py`: a regular helper's question to someone else opens no case) act as they
would live. A chatter row counts as a false case when it opened a case; a request counts as
found when it opened or joined one. The DISCO logs here carry no reply or thread information
(plain `.xml`, no `conversation_id`), so their rows can only be judged alone.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
for extra in (REPO_ROOT, REPO_ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from chatter_data import LABELS, REPLAY, Labelled, load_labelled  # noqa: E402

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


def in_context(base: str, labelled: list[Labelled]) -> dict[str, tuple[bool, bool]]:
    """(opened a case, is in a case) of each IRC row, replayed with its whole log.

    Runs `huitaine audit` with `[detection] detector = base` on the IRC logs converted by
    `scripts/replay_to_jsonl.py` with no staff (`--helpers 0`): helpers are inferred as the
    runtime does for imports, from who often answers others before the message.
    """
    irc = REPLAY / "ubuntu_irc_disentanglement"
    huitaine = [sys.executable, "-c", "from huitaine.cli import main; raise SystemExit(main())"]
    convert = [sys.executable, str(REPO_ROOT / "scripts" / "replay_to_jsonl.py"), "ubuntu"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        history = folder / "irc.jsonl"
        with history.open("w", encoding="utf-8") as out:
            subprocess.run(
                [*convert, str(irc), "--helpers", "0"],
                stdout=out,
                check=True,
            )
        config = folder / "config.toml"
        config.write_text(f'[detection]\ndetector = "{base}"\n', encoding="utf-8")
        database = folder / "audit.db"
        subprocess.run(
            [*huitaine, "--config", str(config), "audit", str(history), "--db", str(database)],
            stdout=subprocess.DEVNULL,
            check=True,
        )
        keys = {}
        for line in history.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            locator = f"{irc.name}/{record['channel']}.raw.txt#{record['id']}"
            keys[f"irc:ubuntu:{record['channel']}:{record['id']}"] = locator
        conn = sqlite3.connect(database)
        try:
            first = {
                key
                for (key,) in conn.execute(
                    "SELECT key FROM messages m WHERE case_id IS NOT NULL AND rowid = "
                    "(SELECT MIN(rowid) FROM messages f WHERE f.case_id = m.case_id)"
                )
            }
            rows = conn.execute("SELECT key, case_id FROM messages").fetchall()
        finally:
            conn.close()
    wanted = {item.record.locator for item in labelled}
    return {
        keys[key]: (key in first, case_id is not None)
        for key, case_id in rows
        if keys.get(key) in wanted
    }


def context_row(name: str, labelled: list[Labelled], opened_alone: list[bool]) -> str:
    """One table row: the IRC rows judged alone, then in their conversation."""
    base = name.partition(":")[0]
    started = time.perf_counter()
    seen = in_context(base, labelled)
    print(f"[{name} in context: {time.perf_counter() - started:.0f} s]", file=sys.stderr)
    cells = []
    for judge in ("alone", "context"):
        false = found = n_chatter = n_requests = 0
        for item, alone in zip(labelled, opened_alone, strict=True):
            if item.record.locator not in seen:
                continue
            opened, in_case = seen[item.record.locator]
            if item.request:
                n_requests += 1
                found += alone if judge == "alone" else in_case
            else:
                n_chatter += 1
                false += alone if judge == "alone" else opened
        cells.append(
            f"{1000 * false / max(1, n_chatter):.0f} ({false}/{n_chatter}) | "
            f"{found / max(1, n_requests):.2f} ({found}/{n_requests})"
        )
    return f"| {base} | " + " | ".join(cells) + " |"


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
    parser.add_argument(
        "--context", action="store_true", help="also replay the IRC rows in their conversation"
    )
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
    context_rows: list[str] = []
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
        if args.context and ":" not in name:
            context_rows.append(context_row(name, labelled, opened))
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
    if context_rows:
        print(
            "\n| IRC rows (Ubuntu) | alone: false / 1,000 | recall "
            "| in context (replayed): false / 1,000 | recall |"
        )
        print("|---|---|---|---|---|")
        print("\n".join(context_rows))
    if customer_rows:
        print("\n| customer set | task | " + " | ".join(f"F1 {n}" for n in names) + " |")
        print("|---|---|" + "---|" * len(names))
        for (set_name, task), cells in customer_rows.items():
            print(f"| {set_name} | {task} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
