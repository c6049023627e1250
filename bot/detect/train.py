"""`huitaine train` and `huitaine eval`: fit a community's head, measure any detector.

Training data comes from a labelled CSV or from the moderators' own decisions in the database:
a case dismissed as "not a request" or spam is a "no" for both tasks, a case a moderator approved
or a staff member answered is a "yes" for its kind. The bundled examples are always part of the
fit (so one community's handful of decisions cannot erase what the head knows), with the
community's own examples weighted more. The head is saved per community and the running
detector picks it up from the next message on.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bot.config import Config, community_key
from bot.detect.base import Detector
from bot.detect.encoders import BUNDLED, EncoderOptions, load_encoder
from bot.detect.evaluate import score_probabilities, sweep_table
from bot.detect.language import LanguageIdentifier
from bot.detect.learning_log import log_path, record_fit
from bot.detect.model import Example, HeadStore, bundled_examples, fit_head
from bot.detect.model import community_key as community_key_of
from bot.detect.rules import RuleDetector

_LOGGER = logging.getLogger(__name__)

# Dismissals that say "this was not a request at all"; a duplicate or a case handled elsewhere
# was a real request, so it teaches nothing about detection.
_NOT_A_REQUEST = {"not_a_request", "spam", "other", None}
_DECIDED_YES = {"answered", "resolved"}


def encoder_options(config: Config) -> EncoderOptions:
    """The encoder settings of `[detection]` (defaults for keys an older config lacks)."""
    section, defaults = config.detection, EncoderOptions()
    return EncoderOptions(
        model=str(getattr(section, "model", "") or BUNDLED),
        prefix=getattr(section, "prefix", None) or None,
        max_tokens=int(getattr(section, "max_tokens", defaults.max_tokens)),
        batch_size=int(getattr(section, "batch_size", defaults.batch_size)),
        threads=int(getattr(section, "threads", defaults.threads)),
        quantize=bool(getattr(section, "quantize", defaults.quantize)),
        layers=getattr(section, "layers", defaults.layers) or defaults.layers,
    )


def community_name(config: Config) -> str:
    """The key a deployment's trained head is saved under: the configured community name."""
    return config.community.name


def read_csv(path: Path, task: str | None) -> list[Example]:
    """Read `text,label` (for `task`) or `text,label_question,label_complaint` rows."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        if "text" not in columns:
            raise ValueError(f"{path}: needs a 'text' column")
        examples = []
        for number, row in enumerate(reader, start=2):
            try:
                if "label" in columns:
                    if task is None:
                        raise ValueError("a 'label' column needs --task question|complaint")
                    label = _label(row["label"])
                    question = label if task == "question" else None
                    complaint = label if task == "complaint" else None
                else:
                    question = _label(row.get("label_question"))
                    complaint = _label(row.get("label_complaint"))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
            examples.append(Example(row["text"], question, complaint, row.get("lang", "")))
    return examples


def _label(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    text = value.strip().lower()
    if text in {"1", "yes", "true", "y"}:
        return 1
    if text in {"0", "no", "false", "n"}:
        return 0
    raise ValueError(f"label {value!r} is not 0 or 1")


@dataclass(frozen=True, slots=True)
class Decided:
    """A case the moderators settled, as a training example.

    `decision_id` is the id of the last moderator decision that labelled it (approve, edit,
    open, dismiss), 0 when none did (a staff member answered it). `community` is the case's
    community as `[communities."platform:id"]` names it: each community learns from its own.
    """

    case_id: int
    decision_id: int
    example: Example
    community: str = ""


def decided_cases(database: str, community: str | None = None) -> list[Decided]:
    """The labelled cases of `database` (read-only), oldest first."""
    uri = f"file:{Path(database).resolve()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            """
            SELECT c.id, c.kind, c.state, c.excerpt, c.platform, c.community,
                (SELECT m.text FROM messages m WHERE m.case_id = c.id
                 ORDER BY m.created_at LIMIT 1) AS text,
                (SELECT d.reason FROM decisions d WHERE d.case_id = c.id
                 AND d.action = 'dismiss' ORDER BY d.id DESC LIMIT 1) AS reason,
                EXISTS (SELECT 1 FROM decisions d WHERE d.case_id = c.id
                 AND d.action IN ('approve', 'edit', 'open')) AS approved,
                (SELECT MAX(d.id) FROM decisions d WHERE d.case_id = c.id
                 AND d.action IN ('approve', 'edit', 'open', 'dismiss')) AS decision_id
            FROM cases c
            WHERE (? IS NULL OR c.community = ?)
            ORDER BY c.id
            """,
            (community, community),
        ).fetchall()
    finally:
        conn.close()
    decided = []
    for row in rows:
        text = row["text"] or row["excerpt"]
        if not text:
            continue
        example: Example | None = None
        if row["state"] == "dismissed":
            if row["reason"] in _NOT_A_REQUEST:
                example = Example(text, 0, 0)
        elif row["approved"] or row["state"] in _DECIDED_YES:
            # A "yes" for the kind that opened the case (a case a moderator opened by hand is
            # a "yes" the detector missed); the other task stays unknown.
            example = Example(
                text,
                1 if row["kind"] == "question" else None,
                1 if row["kind"] == "complaint" else None,
            )
        if example is not None:
            decided.append(
                Decided(
                    int(row["id"]),
                    int(row["decision_id"] or 0),
                    example,
                    community_key(str(row["platform"]), str(row["community"])),
                )
            )
    return decided


def decisions_examples(database: str, community: str | None = None) -> list[Example]:
    """Examples from the moderators' decisions recorded in `database` (read-only)."""
    return [item.example for item in decided_cases(database, community)]


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `huitaine train`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "train",
        help="fit the detector's head on a labelled CSV or on the moderators' decisions",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", type=Path, help="CSV with text,label (and --task)")
    source.add_argument(
        "--from-db", action="store_true", help="learn from dismissed/approved cases"
    )
    parser.add_argument("--task", choices=("question", "complaint"))
    parser.add_argument("--db", help="SQLite file (default: storage.database)")
    parser.add_argument(
        "--community", help="only cases of this platform community id (with --from-db)"
    )
    parser.add_argument(
        "--weight", type=float, default=3.0, help="weight of your examples vs bundled ones"
    )
    parser.add_argument(
        "--only", action="store_true", help="fit on your examples only, not the bundled ones"
    )
    parser.set_defaults(func=cmd_train)
    return parser


def cmd_train(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Fit and save the head of the configured community."""
    trained_on: list[int] = []  # the stored cases the head learns from (erasures reach it)
    database = args.db or config.storage.database
    if args.csv is not None:
        own = read_csv(args.csv, args.task)
        origin = str(args.csv)
    else:
        if not Path(database).is_file():
            print(f"huitaine: no database at {database}", file=out)
            return 2
        decided = decided_cases(database, args.community)
        own = [item.example for item in decided]
        trained_on = [item.case_id for item in decided]
        origin = f"decisions in {database}"
    if not own:
        print(f"huitaine: no labelled examples found in {origin}", file=out)
        return 2
    encoder = load_encoder(encoder_options(config))
    rules = _rules(config)
    base = [] if args.only else bundled_examples()
    examples = [*base, *own]
    weights = [1.0] * len(base) + [float(args.weight)] * len(own)
    head = fit_head(
        encoder, rules, examples, weights=weights, meta={"source": origin, "own": str(len(own))}
    )
    store = HeadStore(encoder, rules)
    path = store.path_for(community_name(config))
    head.save(path)
    # A member forgotten later takes this head with them (`bot.privacy` -> `forget_cases`).
    record_fit(
        log_path(store.root, community_key_of(community_name(config))), trained_on, database
    )
    counts = ", ".join(
        f"{task} {sum(1 for e in own if getattr(e, task) == 1)}+/"
        f"{sum(1 for e in own if getattr(e, task) == 0)}-"
        for task in ("question", "complaint")
    )
    print(f"trained on {len(own)} examples from {origin} ({counts})", file=out)
    print(f"head for community {community_name(config)!r} saved to {path}", file=out)
    print("the running detector uses it from the next message on", file=out)
    return 0


def add_eval_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `huitaine eval`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "eval", help="precision, recall, F1 and a confusion table on a labelled CSV"
    )
    parser.add_argument("file", type=Path, help="CSV with text,label")
    parser.add_argument("--task", choices=("question", "complaint"), required=True)
    parser.add_argument(
        "--detector", choices=("configured", "rules", "model"), default="configured"
    )
    parser.add_argument("--threshold", type=float, help="default: detection.threshold")
    parser.set_defaults(func=cmd_eval)
    return parser


def cmd_eval(args: argparse.Namespace, config: Config, out: IO[str]) -> int:
    """Score a labelled CSV with a detector and print the metrics."""
    examples = [e for e in read_csv(args.file, args.task) if getattr(e, args.task) is not None]
    if not examples:
        print(f"huitaine: no labelled rows in {args.file}", file=out)
        return 2
    detector = _eval_detector(args.detector, config)
    threshold = args.threshold if args.threshold is not None else config.detection.threshold
    texts = [e.text for e in examples]
    detections = []
    for begin in range(0, len(texts), 256):
        detections.extend(detector.detect_batch(texts[begin : begin + 256]))
    close = getattr(detector, "close", None)
    if callable(close):
        close()
    gold = [int(getattr(e, args.task)) for e in examples]
    probabilities = [getattr(d, args.task) for d in detections]
    scores = score_probabilities(gold, probabilities, threshold)
    print(
        f"{args.file}: {len(gold)} rows, {sum(gold)} {args.task}s; detector "
        f"{detector.name}, threshold {threshold}",
        file=out,
    )
    print(
        f"precision {scores.precision:.3f}  recall {scores.recall:.3f}  F1 {scores.f1:.3f}  "
        f"macro-F1 {scores.macro_f1:.3f}\n",
        file=out,
    )
    print(scores.table(args.task), file=out)
    # The same scores at other cut-offs: what `[detection] threshold` would trade.
    print("\n" + sweep_table(gold, probabilities, threshold), file=out)
    return 0


def _rules(config: Config) -> RuleDetector:
    language = LanguageIdentifier(config.community.languages, default=config.community.language)
    return RuleDetector(language)


def detector_from_config(config: Config, kind: str | None = None) -> Detector:
    """The detector `[detection]` names (or `kind`): "model" falls back to rules if needed."""
    from bot.detect.model import build_model_detector

    chosen = kind or str(config.detection.detector)
    if chosen == "rules":
        return _rules(config)
    language = LanguageIdentifier(config.community.languages, default=config.community.language)
    return build_model_detector(
        encoder_options(config), language=language, community=community_name(config)
    )


def _eval_detector(choice: str, config: Config) -> Detector:
    return detector_from_config(config, None if choice == "configured" else choice)


def texts_of(examples: Sequence[Example]) -> list[str]:
    """The texts of `examples`, in order."""
    return [example.text for example in examples]
