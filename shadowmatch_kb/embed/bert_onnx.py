"""Build the ONNX export of a BERT sentence model straight from its weights, without torch.

The default install ships no torch, yet fast queries need ``model.onnx``. Tracing the model with torch
is one way to get it; this module is the other: it reads ``model.safetensors`` with numpy and writes the
BERT encoder, mean pooling and L2 normalisation as ONNX nodes itself, op for op as the reference
(transformers' ``BertModel`` under sentence-transformers) computes them. The folder it writes is the
one ``OnnxEmbedder.load`` opens, the same layout as ``SentenceTransformerEmbedder.export_onnx``.

Only what this module understands is built: a ``bert`` model with absolute positions and GELU, mean
pooling, and optionally a Normalize module. Anything else is refused with one line, never approximated.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.embed.export_folder import OPSET, save_graph, write_export
from shadowmatch_kb.errors import BackendError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["build_export"]

INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUT_NAME = "sentence_embedding"
_NEEDED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "sentence_bert_config.json")
# The sentence-transformers modules whose arithmetic this builder writes; any other (Dense, ...) is refused.
_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
# IR version 8 goes with opset 17; a newer onnx package would otherwise stamp one older runtimes reject.
_IR_VERSION = 8


@dataclass(frozen=True)
class _BertShape:
    """What the graph needs to know about the model, read from its configuration files."""

    hidden: int
    heads: int
    layers: int
    eps: float
    max_seq_length: int
    do_lower_case: bool
    normalize: bool

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


def build_export(model_dir: Path, dest_dir: Path, model_name: str) -> Path:
    """Write model.onnx, model.onnx.data, tokenizer.json and export.json for ``model_dir`` to ``dest_dir``."""
    model_dir = Path(model_dir)
    shape = _read_shape(model_dir)

    def write_files(folder: Path) -> dict[str, Any]:
        _write_model(_build_graph(_read_weights(model_dir, shape), shape), folder)
        # The model's own tokenizer.json already lower-cases; OnnxEmbedder resets its padding and truncation.
        shutil.copyfile(model_dir / "tokenizer.json", folder / "tokenizer.json")
        return {
            "model_name": model_name,
            "source": str(model_dir),
            "dimension": shape.hidden,
            "max_seq_length": shape.max_seq_length,
            "do_lower_case": shape.do_lower_case,
            "input_names": INPUT_NAMES,
            "output_name": OUTPUT_NAME,
            "built_by": "bert_onnx",
        }

    return write_export(dest_dir, model_name, write_files)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackendError(f"cannot read {path}: {exc}") from exc


def _read_shape(model_dir: Path) -> _BertShape:
    """Check that the model is one this builder can write exactly, and read its sizes."""
    if not model_dir.is_dir():
        raise BackendError(f"model folder {model_dir} does not exist")
    missing = [name for name in _NEEDED_FILES if not (model_dir / name).is_file()]
    if missing:
        raise BackendError(f"model folder {model_dir} lacks {', '.join(missing)}; it cannot be built without torch")
    config = _read_json(model_dir / "config.json")
    model_type = config.get("model_type")
    if model_type != "bert":
        raise BackendError(
            f"{model_dir} holds a {model_type!r} model; only 'bert' models can be exported without torch"
        )
    if config.get("position_embedding_type", "absolute") != "absolute" or config.get("hidden_act") != "gelu":
        raise BackendError(f"{model_dir} is a BERT variant (positions or activation) this builder does not write")
    listed = _read_json(model_dir / "modules.json")
    modules = [str(module.get("type", "")) for module in listed]
    if not modules or modules[0] != _TRANSFORMER or any(m not in (_POOLING, _NORMALIZE) for m in modules[1:]):
        raise BackendError(f"{model_dir} chains modules this builder does not write: {', '.join(modules)}")
    _check_mean_pooling(model_dir, listed)
    st_config = _read_json(model_dir / "sentence_bert_config.json")
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    if hidden % heads:
        raise BackendError(f"{model_dir}: hidden size {hidden} does not split into {heads} heads")
    return _BertShape(
        hidden=hidden,
        heads=heads,
        layers=int(config["num_hidden_layers"]),
        eps=float(config.get("layer_norm_eps", 1e-12)),
        max_seq_length=int(st_config.get("max_seq_length") or config["max_position_embeddings"]),
        do_lower_case=bool(st_config.get("do_lower_case", False)),
        normalize=_NORMALIZE in modules,
    )


def _check_mean_pooling(model_dir: Path, modules: list[dict[str, Any]]) -> None:
    """Refuse a model without a Pooling module, or whose pooling is anything but the plain token mean."""
    pooling = next((m for m in modules if m.get("type") == _POOLING), None)
    if pooling is None:
        raise BackendError(f"{model_dir} has no Pooling module; this builder writes mean pooling only")
    config_path = model_dir / str(pooling.get("path", "")) / "config.json"
    if not config_path.is_file():
        raise BackendError(f"model folder {model_dir} lacks {config_path.relative_to(model_dir)}")
    modes = {key for key, value in _read_json(config_path).items() if key.startswith("pooling_mode_") and value}
    if modes != {"pooling_mode_mean_tokens"}:
        found = ", ".join(sorted(modes)) or "none"
        raise BackendError(f"{model_dir} pools with {found}; this builder writes mean pooling only")


def _read_weights(model_dir: Path, shape: _BertShape) -> dict[str, np.ndarray]:
    """The weights by their BertModel names, without the ``bert.`` prefix that some checkpoints carry."""
    from safetensors.numpy import load_file

    raw = load_file(str(model_dir / "model.safetensors"))
    weights = {(name[len("bert.") :] if name.startswith("bert.") else name): array for name, array in raw.items()}
    needed = [f"embeddings.{n}.weight" for n in ("word_embeddings", "position_embeddings", "token_type_embeddings")]
    needed += [f"encoder.layer.{shape.layers - 1}.output.LayerNorm.bias"]
    absent = [name for name in needed if name not in weights]
    if absent:
        raise BackendError(f"{model_dir}/model.safetensors lacks {', '.join(absent)}")
    return weights


class _Graph:
    """Collects nodes and weights; every op has one output, whose name it returns."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._initializer_names: set[str] = set()
        self._count = 0

    def const(self, name: str, array: np.ndarray) -> str:
        """Add ``array`` as an initializer called ``name``; a constant asked for again is shared, not repeated."""
        import numpy as np
        from onnx import numpy_helper

        if name in self._initializer_names:
            return name
        self._initializer_names.add(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def param(self, name: str) -> str:
        """Add the checkpoint weight ``name`` as an initializer under the same name."""
        return self.const(name, self._weight(name))

    def op(self, op_type: str, inputs: list[str], label: str, output: str = "", **attrs: Any) -> str:
        """Append a node; ``label`` names it after the part of the model it computes, ``output`` fixes its output."""
        from onnx import helper

        self._count += 1
        output = output or f"{label}/{op_type}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output

    def linear(self, x: str, prefix: str) -> str:
        """x @ W.T + b as torch.nn.Linear computes it; W is stored transposed so MatMul reads it directly."""
        weight = self.const(f"{prefix}.weight_t", self._weight(f"{prefix}.weight").T)
        product = self.op("MatMul", [x, weight], prefix)
        return self.op("Add", [product, self.param(f"{prefix}.bias")], prefix)

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        scale, bias = self.param(f"{prefix}.weight"), self.param(f"{prefix}.bias")
        return self.op("LayerNormalization", [x, scale, bias], prefix, axis=-1, epsilon=eps)

    def _weight(self, name: str) -> np.ndarray:
        if name not in self.weights:
            raise BackendError(f"model.safetensors lacks the weight {name}")
        return self.weights[name]


def _scalar(graph: _Graph, name: str, value: float) -> str:
    import numpy as np

    return graph.const(name, np.array(value, dtype=np.float32))


def _ints(graph: _Graph, name: str, values: list[int]) -> str:
    import numpy as np

    return graph.const(name, np.array(values, dtype=np.int64))


def _build_graph(weights: dict[str, np.ndarray], shape: _BertShape) -> Any:
    """The whole model as an onnx ModelProto: embeddings, encoder layers, pooling, normalisation."""
    import numpy as np
    from onnx import TensorProto, helper

    graph = _Graph(weights)
    hidden = _embeddings(graph, shape)
    mask = graph.op("Cast", ["attention_mask"], "mask", to=TensorProto.FLOAT)
    # HF's extended attention mask: 0 where a token is seen, the lowest float32 where it is padding.
    mask_4d = graph.op("Unsqueeze", [mask, _ints(graph, "axes_1_2", [1, 2])], "mask")
    unseen = graph.op("Sub", [_scalar(graph, "one", 1.0), mask_4d], "mask")
    mask_bias = graph.op("Mul", [unseen, _scalar(graph, "float32_min", float(np.finfo(np.float32).min))], "mask")
    for index in range(shape.layers):
        hidden = _encoder_layer(graph, hidden, mask_bias, f"encoder.layer.{index}", shape)
    _mean_pool(graph, hidden, mask, shape)
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"]) for name in INPUT_NAMES]
    outputs = [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", shape.hidden])]
    body = helper.make_graph(graph.nodes, "sentence_embedding", inputs, outputs, graph.initializers)
    model = helper.make_model(
        body, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="shadowmatch_kb.bert_onnx"
    )
    model.ir_version = _IR_VERSION
    return model


def _embeddings(graph: _Graph, shape: _BertShape) -> str:
    """Word + position (0 .. sequence-1) + token-type embeddings, then LayerNorm."""
    prefix = "embeddings"
    words = graph.op("Gather", [graph.param(f"{prefix}.word_embeddings.weight"), "input_ids"], prefix)
    types = graph.op("Gather", [graph.param(f"{prefix}.token_type_embeddings.weight"), "token_type_ids"], prefix)
    length = graph.op("Shape", ["input_ids"], prefix, start=1, end=2)
    zero = _ints(graph, "zero_1d", [0])
    positions = graph.op("Slice", [graph.param(f"{prefix}.position_embeddings.weight"), zero, length, zero], prefix)
    summed = graph.op("Add", [graph.op("Add", [words, types], prefix), positions], prefix)
    return graph.layer_norm(summed, f"{prefix}.LayerNorm", shape.eps)


def _encoder_layer(graph: _Graph, x: str, mask_bias: str, prefix: str, shape: _BertShape) -> str:
    """One BertLayer: self-attention with residual and LayerNorm, then the feed-forward block likewise."""
    attention = f"{prefix}.attention"
    split = _ints(graph, "split_heads", [0, 0, shape.heads, shape.head_dim])

    def heads(name: str, perm: list[int]) -> str:
        projected = graph.linear(x, f"{attention}.self.{name}")
        return graph.op("Transpose", [graph.op("Reshape", [projected, split], attention)], attention, perm=perm)

    query = heads("query", [0, 2, 1, 3])
    key_t = heads("key", [0, 2, 3, 1])  # already transposed for query @ key.T
    value = heads("value", [0, 2, 1, 3])
    scores = graph.op("MatMul", [query, key_t], attention)
    scaled = graph.op("Mul", [scores, _scalar(graph, "attention_scale", 1.0 / math.sqrt(shape.head_dim))], attention)
    probs = graph.op("Softmax", [graph.op("Add", [scaled, mask_bias], attention)], attention, axis=-1)
    context = graph.op("Transpose", [graph.op("MatMul", [probs, value], attention)], attention, perm=[0, 2, 1, 3])
    merged = graph.op("Reshape", [context, _ints(graph, "merge_heads", [0, 0, shape.hidden])], attention)
    projected = graph.linear(merged, f"{attention}.output.dense")
    attended = graph.layer_norm(graph.op("Add", [projected, x], attention), f"{attention}.output.LayerNorm", shape.eps)

    inner = _gelu(graph, graph.linear(attended, f"{prefix}.intermediate.dense"), f"{prefix}.intermediate")
    out = graph.linear(inner, f"{prefix}.output.dense")
    return graph.layer_norm(graph.op("Add", [out, attended], prefix), f"{prefix}.output.LayerNorm", shape.eps)


def _gelu(graph: _Graph, x: str, label: str) -> str:
    """The exact GELU, x * 0.5 * (1 + erf(x / sqrt(2))), written in the form onnxruntime fuses."""
    scaled = graph.op("Div", [x, _scalar(graph, "sqrt_2", math.sqrt(2.0))], label)
    shifted = graph.op("Add", [graph.op("Erf", [scaled], label), _scalar(graph, "one", 1.0)], label)
    return graph.op("Mul", [graph.op("Mul", [x, shifted], label), _scalar(graph, "half", 0.5)], label)


def _mean_pool(graph: _Graph, hidden: str, mask: str, shape: _BertShape) -> str:
    """Average the token vectors the mask keeps, then divide by the L2 norm when the model normalises.

    Its last node writes the graph's output.
    """
    label = "pooling"
    mask_3d = graph.op("Unsqueeze", [mask, _ints(graph, "axis_2", [2])], label)
    axis_1 = _ints(graph, "axis_1", [1])
    summed = graph.op("ReduceSum", [graph.op("Mul", [hidden, mask_3d], label), axis_1], label, keepdims=0)
    counted = graph.op("ReduceSum", [mask_3d, axis_1], label, keepdims=0)
    # sentence-transformers clamps the count at 1e-9 and the norm at 1e-12; the same floors keep zero rows finite.
    count = graph.op("Max", [counted, _scalar(graph, "count_floor", 1e-9)], label)
    pooled = graph.op("Div", [summed, count], label)
    if not shape.normalize:
        return graph.op("Identity", [pooled], label, output=OUTPUT_NAME)
    norm = graph.op("ReduceL2", [pooled], "normalize", axes=[1], keepdims=1)
    floored = graph.op("Max", [norm, _scalar(graph, "norm_floor", 1e-12)], "normalize")
    return graph.op("Div", [pooled, floored], "normalize", output=OUTPUT_NAME)


def _write_model(model: Any, folder: Path) -> None:
    """Check the graph, then save it with every large weight in the single file model.onnx.data."""
    import onnx

    onnx.checker.check_model(model)
    save_graph(model, folder)
