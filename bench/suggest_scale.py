"""Cost of retrieval as the remembered answers grow: search time and memory at 100,000.

    python bench/suggest_scale.py [--sizes 1000,10000,100000]

The index's search is measured on synthetic unit vectors (the encoder's output has the same
shape: 384 floats, L2-normalised), stored as the index stores them (int8 blobs in SQLite),
loaded back and searched, so the figures are those of the real code path minus the one
embedding of the request; that embedding is timed apart with the bundled 12-layer encoder.
Adding answers is incremental: `sync` embeds only the queued ones (timed per answer). Runs on
a busy shared host (2 cores for 8 sessions): read the figures as upper bounds.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.retrieval import AnswerIndex, quantize  # noqa: E402
from bot.storage import Store  # noqa: E402

DIM = 384


def fill(store: Store, n: int, rng: np.random.Generator) -> None:
    """Write `n` remembered answers with random unit vectors, as `sync` writes them."""
    done = 0
    while done < n:
        size = min(10_000, n - done)
        vectors = rng.standard_normal((2 * size, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        codes, scales = quantize(vectors.reshape(size, 2 * DIM))
        rows = [
            (
                "staff",
                f"k{done + i}",
                "discord",
                "guild",
                "fr",
                f"r{done + i}",
                codes[i, :DIM].tobytes(),
                float(scales[i]),
                codes[i, DIM:].tobytes(),
                float(scales[i]),
            )
            for i in range(size)
        ]
        with store.transaction():
            store.db.conn.executemany(
                "INSERT INTO answers (origin, ref, platform, community, language, request_key,"
                " request_vec, request_scale, answer_vec, answer_scale)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        done += size


def main() -> int:
    """Print a table: answers, load time, memory of the vectors, search time per request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    queries = rng.standard_normal((50, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    print("| remembered answers | load from SQLite | vectors in memory | search / request |")
    print("|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "scale.db")
            fill(store, n, rng)
            started = time.perf_counter()
            index = AnswerIndex(store, encoder=None, dim=DIM)  # type: ignore[arg-type]
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            for query in queries:
                index.search(query, platform="discord", community="guild", language="fr")
            per_query = (time.perf_counter() - started) / len(queries)
            print(
                f"| {n:,} | {loaded:.2f} s | {index.nbytes / 2**20:.1f} MB "
                f"| {1000 * per_query:.1f} ms |",
                flush=True,
            )
            store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {peak:.0f} MB")

    from bot.detect.bundled import BundledEncoder

    encoder = BundledEncoder(layers=12)
    texts = ["comment je change l'adresse de livraison de ma commande ?"] * 20
    encoder.encode(texts[:1])
    started = time.perf_counter()
    for text in texts:
        encoder.encode([text], prefix="query: ")
    one = 1000 * (time.perf_counter() - started) / 20
    print(f"embedding one request (12 layers): {one:.0f} ms")
    started = time.perf_counter()
    encoder.encode(texts, prefix="passage: ")
    each = 1000 * (time.perf_counter() - started) / 20
    print(f"embedding answers in a batch of 20: {each:.0f} ms each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
