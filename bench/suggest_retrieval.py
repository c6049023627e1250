"""Drafts against the answers staff really gave: templates, word overlap, retrieval by meaning.

    python bench/suggest_retrieval.py [--limit 300]

Two public histories with real staff answers (read from ../shared/data, never copied):
  twcs    customer tweets to brands and the brands' replies (Customer Support on Twitter,
          CC BY-NC-SA 4.0); each brand is one community, its replies are staff answers;
  ubuntu  #ubuntu IRC logs with hand-annotated reply links (Kummerfeld et al. 2019); the 8
          people who answer most stand in for staff (scripts/replay_to_jsonl.py).
For each, the earlier 70 % of the history (by the time of each answered question) is
imported through Huitaine (rule detector, so every method sees the same cases), then every
later member question that got a staff answer is drafted for, and the drafts are compared with
that real answer:
  similarity   cosine of the full 12-layer multilingual-e5-small ("passage: " both sides), a
               judge independent of the 7-layer encoder that drafts;
  threshold    a draft "hits" when it is closer to the real answer than 90 % of random pairs
               of real answers of the same community (stated per corpus);
  hit@1, hit@3 the first draft / one of the first three hits; mean sim of the first draft;
  token F1     unigram F1 of the first draft against the real answer (no model at all);
  from history share of first drafts that are an earlier answer (or FAQ) rather than a template.
Methods: templates only (keywords, today's choice); today's word overlap (bot.memory, which
only knows replies sent through Huitaine: on imported history it finds none); the same 30 %
word overlap over the staff answers retrieval sees; retrieval by meaning with the detector's
7-layer encoder (what ships) and with all 12 layers. Runs on a busy shared host: the ms per
query are indicative.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bot.app import Huitaine  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.detect.bundled import BundledEncoder  # noqa: E402
from bot.insights import content_words  # noqa: E402
from bot.memory import MIN_SIMILARITY, ReplyMemory  # noqa: E402
from bot.models import Kind, Suggestion  # noqa: E402
from bot.replay import replay  # noqa: E402
from bot.retrieval_drafts import Drafter  # noqa: E402
from bot.storage import Store  # noqa: E402
from bot.suggest import MAX_SUGGESTIONS, Suggester, load_templates  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "replay"
_MENTIONS = re.compile(r"^(@\w+\s*)+")
_WORDS = re.compile(r"\w+")
SPLIT = 0.7


def twcs_records() -> list[dict[str, Any]]:
    """Customer tweets and brand replies as Huitaine JSONL records, one community per brand."""
    rows: dict[str, dict[str, str]] = {}
    for name in ("twcs_head_monalisapatra26.csv", "twcs_kaggle_sample.csv"):
        with (DATA / "twcs_samples" / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("tweet_id") and row.get("text"):
                    rows[row["tweet_id"]] = row
    records = []
    for tweet_id, row in rows.items():
        inbound = row["inbound"] == "True"
        parent = (row.get("in_response_to_tweet_id") or "").split(".")[0] or None
        if inbound:
            handle = re.match(r"@(\w+)", row["text"])
            community = handle[1].lower() if handle else "unknown"
        else:
            community = row["author_id"].lower()
        when = datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
        records.append(
            {
                "platform": "twitter",
                "community": community,
                "channel": "mentions",
                "id": tweet_id,
                "reply_to": parent,
                "thread": None,
                "author": {"id": row["author_id"], "name": row["author_id"], "staff": not inbound},
                "text": _MENTIONS.sub("", row["text"]).strip(),
                "ts": when.isoformat().replace("+00:00", "Z"),
            }
        )
    return records


def ubuntu_records() -> list[dict[str, Any]]:
    """The IRC logs with their reply links; the 8 busiest answerers are staff."""
    from replay_to_jsonl import ubuntu

    records = ubuntu(DATA / "ubuntu_irc_disentanglement", 8)
    for record in records:
        record["text"] = re.sub(r"^[\w\[\]|^`{}-]+[:,] ", "", record["text"])
    return records


def pairs(records: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
    """Member messages with the staff replies they got, in time order."""
    by_key = {(r["community"], r["channel"], r["id"]): r for r in records}
    answers: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for r in records:
        if r["author"]["staff"] and r["reply_to"]:
            parent = by_key.get((r["community"], r["channel"], r["reply_to"]))
            if parent and not parent["author"]["staff"] and len(r["text"]) >= 12:
                answers[(r["community"], r["channel"], r["reply_to"])].append(r["text"])
    found = [(by_key[k], v) for k, v in answers.items() if len(by_key[k]["text"]) >= 12]
    return sorted(found, key=lambda p: p[0]["ts"])


def token_f1(draft: str, truth: str) -> float:
    """Unigram F1 of two texts (casefolded words)."""
    a, b = _WORDS.findall(draft.casefold()), _WORDS.findall(truth.casefold())
    if not a or not b:
        return 0.0
    common = sum(min(a.count(w), b.count(w)) for w in set(a))
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def import_history(records: list[dict[str, Any]], until: str, path: Path) -> None:
    """Replay the records before `until` into a new database at `path` (rule detector)."""
    config = parse_config(
        {"community": {"name": "Bench", "language": "en"}, "detection": {"detector": "rules"}}
    )
    earlier = sorted((r for r in records if r["ts"] < until), key=lambda r: r["ts"])
    core = Huitaine(config, clock=ManualClock(datetime.fromtimestamp(0, UTC)), database=str(path))
    try:
        clock = core.clock
        assert isinstance(clock, ManualClock)
        replay(core, clock, (json.dumps(r).encode() + b"\n" for r in earlier))
    finally:
        core.close()


def word_overlap_over_answers(store: Store) -> Callable[[dict[str, Any], str], list[Suggestion]]:
    """Today's 30 % word-overlap rule, applied to the staff answers retrieval sees."""
    rows = store.rows(
        "SELECT r.community, r.text AS request, s.text AS answer FROM messages s"
        " JOIN messages r ON r.key = s.platform || ':' || s.community || ':' || s.channel"
        " || ':' || s.reply_to WHERE s.author_staff = 1 AND r.author_staff = 0"
    )
    by_community: dict[str, list[tuple[set[str], str]]] = defaultdict(list)
    for row in rows:
        by_community[row["community"]].append((content_words(row["request"]), row["answer"]))

    def suggest(record: dict[str, Any], language: str) -> list[Suggestion]:
        words = content_words(record["text"])
        scored = []
        for other, answer in by_community.get(record["community"], []):
            union = words | other
            similarity = len(words & other) / len(union) if union else 0.0
            if similarity >= MIN_SIMILARITY:
                scored.append(Suggestion(answer, language, "overlap", similarity))
        scored.sort(key=lambda s: -s.score)
        return scored[:MAX_SUGGESTIONS]

    return suggest


def run_corpus(
    name: str,
    records: list[dict[str, Any]],
    judge: BundledEncoder,
    encoders: dict[str, BundledEncoder],
    limit: int,
) -> list[tuple[str, dict[str, float]]]:
    """Import the earlier part, draft for the later questions, and score every method."""
    answered = pairs(records)
    cut = answered[int(len(answered) * SPLIT)][0]["ts"]
    later = [p for p in answered if p[0]["ts"] >= cut][:limit]
    rng = random.Random(7)
    print(
        f"\n## {name}: {len(records)} messages, {len(answered)} answered member messages; "
        f"import before {cut}, evaluate {len(later)} later questions",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="huitaine-bench-"))
    base = folder / "history.db"
    started = time.perf_counter()
    import_history(records, cut, base)
    print(f"imported in {time.perf_counter() - started:.1f} s", flush=True)

    # The threshold: 90th percentile of the judge's similarity between random real answers
    # of the same community.
    earlier_answers: dict[str, list[str]] = defaultdict(list)
    for request, texts in answered:
        if request["ts"] < cut:
            earlier_answers[request["community"]].extend(texts)
    sample = []
    for texts in earlier_answers.values():
        for _ in range(min(200, len(texts))):
            a, b = rng.sample(texts, 2) if len(texts) > 1 else (texts[0], texts[0])
            if a != b:
                sample.append((a, b))
    left = judge.encode([a for a, _ in sample], prefix="passage: ")
    right = judge.encode([b for _, b in sample], prefix="passage: ")
    threshold = float(np.quantile(np.sum(left * right, axis=1), 0.9))
    print(f"hit threshold (p90 of random same-community answer pairs): {threshold:.3f}")

    truth_vectors = [judge.encode(texts, prefix="passage: ") for _, texts in later]
    templates = Suggester(load_templates(), fallback_language="en")
    rules_store = Store(base)
    from bot.detect.rules import RuleDetector

    rules = RuleDetector()
    detections = rules.detect_batch([r["text"] for r, _ in later])
    memory = ReplyMemory(rules_store)
    overlap = word_overlap_over_answers(rules_store)

    def kind_of(i: int) -> Kind:
        kind = detections[i].kind()
        return Kind.QUESTION if kind is Kind.OTHER else kind

    methods: dict[str, Callable[[int], list[Suggestion]]] = {
        "templates only (keywords)": lambda i: templates.suggest(
            text=later[i][0]["text"],
            kind=kind_of(i),
            language=detections[i].language,
            member="",
            community="",
        ),
        "today's word overlap (bot.memory)": lambda i: sorted(
            memory.suggest(
                text=later[i][0]["text"],
                kind=kind_of(i),
                language=detections[i].language,
                member="",
                platform=later[i][0]["platform"],
                community=later[i][0]["community"],
            )
            + methods["templates only (keywords)"](i),
            key=lambda s: -s.score,
        )[:MAX_SUGGESTIONS],
        "word overlap over staff answers": lambda i: (
            overlap(later[i][0], detections[i].language) + methods["templates only (keywords)"](i)
        )[:MAX_SUGGESTIONS],
    }
    costs: dict[str, tuple[float, int]] = {}
    for label, encoder in encoders.items():
        path = folder / f"{label}.db"
        shutil.copy(base, path)
        store = Store(path)
        started = time.perf_counter()
        drafter = Drafter(store, templates, encoder=encoder)
        assert drafter.index is not None
        added = drafter.index.sync()
        costs[label] = (time.perf_counter() - started, added)

        def by_meaning(i: int, drafter: Drafter = drafter) -> list[Suggestion]:
            record = later[i][0]
            return drafter.draft(
                text=record["text"],
                kind=kind_of(i),
                language=detections[i].language,
                member="",
                community_name="",
                platform=record["platform"],
                community=record["community"],
            )

        methods[f"retrieval by meaning ({label})"] = by_meaning

    results = []
    for label, method in methods.items():
        hit1 = hit3 = 0
        sims: list[float] = []
        f1s: list[float] = []
        remembered = 0
        started = time.perf_counter()
        drafts = [method(i) for i in range(len(later))]
        elapsed = time.perf_counter() - started
        for i, found in enumerate(drafts):
            if not found:
                sims.append(0.0)
                f1s.append(0.0)
                continue
            vectors = judge.encode([s.text for s in found], prefix="passage: ")
            best = (vectors @ truth_vectors[i].T).max(axis=1)
            sims.append(float(best[0]))
            f1s.append(max(token_f1(found[0].text, t) for t in later[i][1]))
            hit1 += best[0] >= threshold
            hit3 += best[:3].max() >= threshold
            remembered += not found[0].source.startswith("template:")
        n = len(later)
        results.append(
            (
                label,
                {
                    "hit@1": hit1 / n,
                    "hit@3": hit3 / n,
                    "mean sim": float(np.mean(sims)),
                    "token F1": float(np.mean(f1s)),
                    "from history": remembered / n,
                    "ms/query": 1000 * elapsed / n,
                },
            )
        )
    for label, (seconds, added) in costs.items():
        print(f"index ({label}): {added} staff answers embedded in {seconds:.1f} s")
    shutil.rmtree(folder, ignore_errors=True)
    return results


def table(name: str, results: Sequence[tuple[str, dict[str, float]]]) -> str:
    """A Markdown table of `results`."""
    lines = [
        f"| {name} | hit@1 | hit@3 | mean sim | token F1 | from history | ms/query |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in results:
        lines.append(
            f"| {label} | {r['hit@1']:.1%} | {r['hit@3']:.1%} | {r['mean sim']:.3f} "
            f"| {r['token F1']:.3f} | {r['from history']:.0%} | {r['ms/query']:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Run both corpora and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=300, help="later questions per corpus")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no data at {DATA}: this benchmark needs ../shared/data", file=sys.stderr)
        return 2
    judge = BundledEncoder(layers=12)
    encoders = {"detector's 7 layers": BundledEncoder(), "12 layers": judge}
    for name, reader in (("twcs", twcs_records), ("ubuntu", ubuntu_records)):
        results = run_corpus(name, reader(), judge, encoders, args.limit)
        print("\n" + table(name, results), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
