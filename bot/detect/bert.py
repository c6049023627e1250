"""A BERT encoder in plain torch, reading a transformers `BertModel` checkpoint.

Importing transformers' model classes takes ~2 s, two thirds of the detector's start-up; BERT's
forward pass is a few lines of torch. Other architectures, and Hugging Face ids, still go
through transformers (see `encoders.py`). Parameter names match transformers' so the same
`model.safetensors` loads in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn import functional


def _linear(weights: Mapping[str, torch.Tensor], name: str) -> nn.Linear:
    # Built around the loaded tensors: allocating and initialising full-size layers first
    # (or using the meta device) costs a second of start-up for nothing.
    weight = weights[f"{name}.weight"]
    layer = nn.Linear(1, 1)
    layer.in_features, layer.out_features = weight.shape[1], weight.shape[0]
    layer.weight = nn.Parameter(weight, requires_grad=False)
    layer.bias = nn.Parameter(weights[f"{name}.bias"], requires_grad=False)
    return layer


def _fused_linear(weights: Mapping[str, torch.Tensor], names: list[str]) -> nn.Linear:
    fused = {
        "fused.weight": torch.cat([weights[f"{name}.weight"] for name in names]),
        "fused.bias": torch.cat([weights[f"{name}.bias"] for name in names]),
    }
    return _linear(fused, "fused")


def _norm(weights: Mapping[str, torch.Tensor], name: str, eps: float) -> nn.LayerNorm:
    weight = weights[f"{name}.weight"]
    norm = nn.LayerNorm(weight.shape[0], eps=eps)
    norm.weight = nn.Parameter(weight, requires_grad=False)
    norm.bias = nn.Parameter(weights[f"{name}.bias"], requires_grad=False)
    return norm


def _embedding(weights: Mapping[str, torch.Tensor], name: str) -> nn.Embedding:
    weight = weights[f"{name}.weight"]
    return nn.Embedding(weight.shape[0], weight.shape[1], _weight=weight, _freeze=True)


class _Layer(nn.Module):  # type: ignore[misc, unused-ignore]  # Any without torch
    """One transformer block: self-attention then feed-forward, each with residual + norm."""

    def __init__(
        self, weights: Mapping[str, torch.Tensor], prefix: str, heads: int, eps: float
    ) -> None:
        super().__init__()
        self.heads = heads
        # Query, key and value as one Linear: one matmul (and, quantized, one activation
        # quantization) instead of three.
        self.qkv = _fused_linear(weights, [prefix + "query", prefix + "key", prefix + "value"])
        self.attention_out = _linear(weights, prefix + "attention_out")
        self.attention_norm = _norm(weights, prefix + "attention_norm", eps)
        self.intermediate = _linear(weights, prefix + "intermediate")
        self.output = _linear(weights, prefix + "output")
        self.output_norm = _norm(weights, prefix + "output_norm", eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        size = hidden // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, size).transpose(1, 2)

        q, k, v = (split(t) for t in self.qkv(x).split(hidden, dim=-1))
        context = functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        x = self.attention_norm(x + self.attention_out(context))
        out: torch.Tensor = self.output_norm(
            x + self.output(functional.gelu(self.intermediate(x)))
        )
        return out


class MiniBert(nn.Module):  # type: ignore[misc, unused-ignore]  # Any without torch
    """BERT's embeddings and encoder layers; returns the last hidden states."""

    def __init__(
        self, config: Mapping[str, Any], weights: Mapping[str, torch.Tensor], layers: int = 0
    ) -> None:
        """Build from `weights` (our names, see `our_name`) with the first `layers` (0: all)."""
        super().__init__()
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"unsupported activation {config.get('hidden_act')!r}")
        self.hidden_size = int(config["hidden_size"])
        eps = float(config.get("layer_norm_eps", 1e-12))
        heads = int(config["num_attention_heads"])
        self.word = _embedding(weights, "word")
        self.position = _embedding(weights, "position")
        self.token_type = _embedding(weights, "token_type")
        self.norm = _norm(weights, "norm", eps)
        self.layers = nn.ModuleList(
            _Layer(weights, f"layers.{n}.", heads, eps) for n in range(self.count(config, layers))
        )

    @staticmethod
    def count(config: Mapping[str, Any], layers: int) -> int:
        """How many layers a model of `config` keeps when asked for `layers` (0: all)."""
        total = int(config["num_hidden_layers"])
        return min(layers, total) if layers else total

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Hidden states of shape (batch, length, hidden)."""
        length = input_ids.shape[1]
        positions = torch.arange(length, device=input_ids.device)
        x = self.word(input_ids) + self.position(positions) + self.token_type.weight[0]
        x = self.norm(x)
        # Padding is masked with a large negative bias rather than -inf, as transformers does,
        # so that a row of padding never produces NaNs.
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, bias)
        hidden: torch.Tensor = x
        return hidden


# transformers' parameter names -> ours, per layer and for the embeddings.
_LAYER_NAMES = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attention_out",
    "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "intermediate",
    "output.dense": "output",
    "output.LayerNorm": "output_norm",
}
_EMBEDDING_NAMES = {
    "embeddings.word_embeddings": "word",
    "embeddings.position_embeddings": "position",
    "embeddings.token_type_embeddings": "token_type",
    "embeddings.LayerNorm": "norm",
}


def our_name(name: str) -> str | None:
    """Map a transformers `BertModel` parameter name to MiniBert's (None: not used)."""
    for prefix in ("bert.", "model."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    for theirs, ours in _EMBEDDING_NAMES.items():
        if name.startswith(theirs + "."):
            return ours + name[len(theirs) :]
    if name.startswith("encoder.layer."):
        number, _, rest = name[len("encoder.layer.") :].partition(".")
        for theirs, ours in _LAYER_NAMES.items():
            if rest.startswith(theirs + "."):
                return f"layers.{number}.{ours}{rest[len(theirs) :]}"
    return None
