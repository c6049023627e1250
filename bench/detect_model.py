"""Quality and speed of the transformer detector on the shared dev sets.

Quality, for each file in ../shared/data/dev and each detector:
  rules        the rule detector;
  default      the shipped default (encoder + head fitted on bot/detect/data/examples.csv only);
  in-domain    a head fitted on the other half of the same file (two folds, pooled), i.e. what
               `huitaine train --csv FILE --only` on one's own labelled data gives.
Then the same detectors (and a bare "?" rule) on bench/data/customer_check.csv: 300 customer
messages the project wrote for checking only (never trained on; see bench/data/README.md), per
language and task.
Speed: messages/s for batch 1 and batch 32, single-message p50/p95 latency, load time once the
converted model is cached, and peak resident memory, measured in a fresh process.

    python bench/detect_model.py                 # quality and speed
    python bench/detect_model.py --speed-only
    python bench/detect_model.py --no-quantize   # fp32 encoder, for comparison
    python bench/detect_model.py --layers 8      # another depth, for comparison
    python bench/detect_model.py --engine torch  # the previous default (needs torch)

Engines side by side (speed, memory, load, F1): bench/detect_engines.py.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.detect.encoders import Encoder, EncoderOptions, load_encoder
from bot.detect.evaluate import Scores, score_probabilities
from bot.detect.head import Head, features, fit_task, rule_features
from bot.detect.model import HeadStore, combine_scores
from bot.detect.rules import RuleDetector
from bot.detect.train import read_csv

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "dev"
CHECK = Path(__file__).resolve().parent / "data" / "customer_check.csv"
TASK = {
    "complaints_en.csv": "complaint",
    "questions_en.csv": "question",
    "questions_fr.csv": "question",
    "negative_fr.csv": "complaint",
}
GOAL = {
    "complaints_en.csv": 0.80,
    "questions_en.csv": 0.85,
    "questions_fr.csv": 0.80,
    "negative_fr.csv": 0.65,
}


def read(path: Path) -> tuple[list[str], list[int]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def fmt(name: str, s: Scores) -> str:
    return (
        f"  {name:<10} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  "
        f"macro-F1 {s.macro_f1:.3f}"
    )


def score_both(
    encoder: Encoder, rules: RuleDetector, default: Head, texts: list[str]
) -> tuple[np.ndarray, dict[str, list[float]], dict[str, np.ndarray]]:
    """Features, rule scores and shipped-detector scores per task for ``texts``."""
    dets = rules.detect_batch(texts)
    x = features(encoder.encode(texts), rule_features(texts, dets))
    by_rules = {task: [getattr(d, task) for d in dets] for task in ("question", "complaint")}
    head = default.predict(x)
    combine = default.meta.get("combine")  # as ModelDetector does
    pairs = [
        combine_scores(combine, float(q), float(c), d)
        for q, c, d in zip(head["question"], head["complaint"], dets, strict=True)
    ]
    shipped = {
        "question": np.asarray([q for q, _ in pairs]),
        "complaint": np.asarray([c for _, c in pairs]),
    }
    return x, by_rules, shipped


def customer_check(encoder: Encoder, rules: RuleDetector, default: Head) -> None:
    """Rules, the shipped default and a bare "?" on the project's written customer messages."""
    rows = read_csv(CHECK, None)  # the `huitaine train` reader: labels checked row by row
    print(f"\n{CHECK.name}: {len(rows)} written customer messages, never trained on")
    table: list[tuple[str, str, dict[str, Scores]]] = []
    for lang in ("fr", "en"):
        subset = [r for r in rows if r.lang == lang]
        texts = [r.text for r in subset]
        _, by_rules, shipped = score_both(encoder, rules, default, texts)
        mark = [1.0 if "?" in t else 0.0 for t in texts]
        for task in ("question", "complaint"):
            gold = [int(getattr(r, task)) for r in subset]
            scored = {
                "bare ?": score_probabilities(gold, mark),
                "rules": score_probabilities(gold, by_rules[task]),
                "default": score_probabilities(gold, shipped[task].tolist()),
            }
            print(f"{lang} {task} ({len(gold)} rows, {sum(gold)} +)")
            for label, s in scored.items():
                print(fmt(label, s))
            table.append((lang, task, scored))
    print('\n| language | task | bare "?" F1 | rules F1 | default P / R / F1 | default macro-F1 |')
    print("|---|---|---|---|---|---|")
    for lang, task, by_detector in table:
        d = by_detector["default"]
        print(
            f"| {lang} | {task} | {by_detector['bare ?'].f1:.2f} | "
            f"{by_detector['rules'].f1:.2f} | "
            f"{d.precision:.2f} / {d.recall:.2f} / **{d.f1:.2f}** | {d.macro_f1:.2f} |"
        )


def quality(options: EncoderOptions) -> None:
    encoder = load_encoder(options)
    rules = RuleDetector()
    default = HeadStore(encoder, rules).default()
    engine = getattr(encoder, "engine", "torch")
    print(f"encoder {encoder.name} ({engine}, quantize={options.quantize}), threshold 0.5\n")
    rows = []
    for name, task in TASK.items():
        path = DEV / name
        if not path.is_file():
            print(f"{name}: missing, skipped")
            continue
        texts, gold = read(path)
        started = time.perf_counter()
        x, by_rules, shipped = score_both(encoder, rules, default, texts)
        took = time.perf_counter() - started
        rule_scores = score_probabilities(gold, by_rules[task])
        default_scores = score_probabilities(gold, shipped[task].tolist())
        # Two folds: each half is scored by a head fitted on the other half.
        fold = np.arange(len(gold)) % 2
        np.random.default_rng(7).shuffle(fold)
        y = np.asarray(gold, dtype=np.float64)
        pooled = np.zeros(len(gold))
        for k in (0, 1):
            head = fit_task(x[fold != k], y[fold != k])
            pooled[fold == k] = head.predict(x[fold == k])
        domain_scores = score_probabilities(gold, pooled.tolist())
        print(f"{name} ({task}, {len(gold)} rows, {sum(gold)} +; encoded in {took:.0f} s)")
        for label, s in (("rules", rule_scores), ("default", default_scores)):
            print(fmt(label, s))
        print(fmt("in-domain", domain_scores))
        rows.append((name, task, rule_scores, default_scores, domain_scores))
    print(
        "\n| file | task | rules F1 | default P / R / F1 (goal) | default macro-F1 "
        "| in-domain F1 | in-domain macro-F1 |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, task, r, d, i in rows:
        print(
            f"| {name} | {task} | {r.f1:.2f} | {d.precision:.2f} / {d.recall:.2f} / "
            f"**{d.f1:.2f}** (≥ {GOAL[name]:.2f}) | {d.macro_f1:.2f} | {i.f1:.2f} | "
            f"{i.macro_f1:.2f} |"
        )
    customer_check(encoder, rules, default)


SPEED_CHILD = r"""
import json, os, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from bot.detect.encoders import EncoderOptions, load_encoder
from bot.detect.model import ModelDetector
options = EncoderOptions(**json.loads(sys.argv[2]))
texts = json.loads(sys.stdin.read())
started = time.perf_counter()
detector = ModelDetector(load_encoder(options), max_batch=options.batch_size)
load = time.perf_counter() - started
detector.detect_batch(texts[:64])  # warm-up
latencies = []
for text in texts[:300]:
    t0 = time.perf_counter()
    detector.detect_batch([text])
    latencies.append(time.perf_counter() - t0)
t0 = time.perf_counter()
for begin in range(0, 640, 32):
    detector.detect_batch(texts[begin:begin + 32])
batched = 640 / (time.perf_counter() - t0)
detector.close()
latencies.sort()
print(json.dumps({
    "load_s": load,
    "batch1_per_s": len(latencies) / sum(latencies),
    "batch32_per_s": batched,
    "p50_ms": 1000 * statistics.median(latencies),
    "p95_ms": 1000 * latencies[int(0.95 * len(latencies)) - 1],
    # VmHWM, not ru_maxrss: the latter counts the parent's image copied at fork, before exec.
    "peak_mb": next(int(line.split()[1]) for line in open("/proc/self/status")
                    if line.startswith("VmHWM")) / 1024,
}))
"""


def speed(options: EncoderOptions) -> None:
    # Real messages of every kind, in file order interleaved, so lengths are realistic.
    texts: list[str] = []
    for name in TASK:
        if (DEV / name).is_file():
            texts.extend(read(DEV / name)[0][:200])
    if not texts:
        texts = ["where is my order?", "je n'arrive pas à payer", "thanks!"] * 300
    texts = (texts * 4)[:800]
    # The converted model and the default head are cached before timing, as after a first run.
    HeadStore(load_encoder(options), RuleDetector()).default()
    payload = json.dumps(
        {
            "model": options.model,
            "quantize": options.quantize,
            "threads": options.threads,
            "batch_size": options.batch_size,
            "layers": options.layers,
            "engine": options.engine,
        }
    )
    child = subprocess.run(
        [sys.executable, "-c", SPEED_CHILD, str(Path(__file__).resolve().parent.parent), payload],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    r = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"\nspeed on {os.cpu_count()} cores (quantize={options.quantize}, threads="
        f"{options.threads or 'default'}), real dev messages, end to end through the detector"
    )
    print("| batch 1 msg/s | batch 32 msg/s | p50 ms | p95 ms | load s (cached) | peak MB |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {r['batch1_per_s']:.0f} | {r['batch32_per_s']:.0f} | {r['p50_ms']:.1f} | "
        f"{r['p95_ms']:.1f} | {r['load_s']:.2f} | {r['peak_mb']:.0f} |"
    )
    print("(goals: ≥ 200 msg/s batched, p95 ≤ 50 ms, load ≤ 2 s, ≤ 300 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--quality-only", action="store_true")
    parser.add_argument("--no-quantize", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--model", default="bundled-e5")
    parser.add_argument("--layers", type=int, help="first N layers (default: the detector's)")
    parser.add_argument("--engine", default="auto", help="auto, onnx, numpy or torch")
    args = parser.parse_args()
    options = EncoderOptions(
        model=args.model,
        quantize=not args.no_quantize,
        threads=args.threads,
        layers=args.layers,
        engine=args.engine,
    )
    if not args.speed_only:
        quality(options)
    if not args.quality_only:
        speed(options)


if __name__ == "__main__":
    main()
