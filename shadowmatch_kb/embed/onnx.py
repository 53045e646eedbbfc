"""OnnxEmbedder: the embedder that runs a model's ONNX export (``exports`` finds or builds it).

It needs only onnxruntime, tokenizers and numpy (a fifth of a second to import), never torch or
sentence-transformers, so a search or a briefing starts answering at once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.embed.export_folder import EXPORT_FORMAT
from shadowmatch_kb.errors import BackendError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["OnnxEmbedder"]

_REQUIRED_FILES = ("export.json", "model.onnx", "model.onnx.data", "tokenizer.json")
# More threads than this buy little for a model this small and crowd out the rest of the machine.
_MAX_THREADS = 8


class OnnxEmbedder:
    """Embeds with an ONNX export of a sentence-transformers model."""

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        *,
        model_name: str,
        dimension: int,
        max_seq_length: int,
        pad_id: int,
        batch_size: int = 64,
    ) -> None:
        self.model_name = model_name
        self.dimension = dimension
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self._session = session
        self._tokenizer = tokenizer
        self._pad_id = pad_id
        self._input_names = [node.name for node in session.get_inputs()]
        self._output_name = session.get_outputs()[0].name
        unknown = set(self._input_names) - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown:
            raise BackendError(f"the ONNX export of {model_name} needs inputs this embedder cannot make: {unknown}")

    @classmethod
    def load(cls, export_dir: Path, *, batch_size: int = 64, spinning: bool = False) -> OnnxEmbedder:
        """Open an export directory (``bert_onnx.build_export`` or ``SentenceTransformerEmbedder.export_onnx``).

        ``spinning`` keeps idle worker threads busy-waiting for the next run: about 10 % more throughput
        for work made of many small runs (enrichment), at the cost of CPU that a query does not need.
        """
        export_dir = Path(export_dir)
        missing = [name for name in _REQUIRED_FILES if not (export_dir / name).is_file()]
        if missing:
            raise BackendError(f"ONNX export in {export_dir} is incomplete (missing {', '.join(missing)})")
        meta = _read_meta(export_dir)
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise BackendError(f"onnxruntime or tokenizers is not installed: {exc}") from exc
        try:
            tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
            options = ort.SessionOptions()
            options.intra_op_num_threads = min(os.cpu_count() or 1, _MAX_THREADS)
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # A query is a handful of small runs; spinning threads only steal CPU from the rest of the machine.
            options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
            options.log_severity_level = 3  # errors only: the library never writes to the terminal
            session = ort.InferenceSession(
                str(export_dir / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BackendError(f"cannot open the ONNX export in {export_dir}: {exc}") from exc
        pad_id = _pad_id(tokenizer)
        # The bundled tokenizer.json pads and truncates to 128; sentence-transformers uses neither setting.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
        return cls(
            session,
            tokenizer,
            model_name=str(meta["model_name"]),
            dimension=int(meta["dimension"]),
            max_seq_length=int(meta["max_seq_length"]),
            pad_id=pad_id,
            batch_size=batch_size,
        )

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` into L2-normalised float32 rows."""
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        for rows in _batches([len(enc.ids) for enc in encodings], self.batch_size):
            out[rows] = self._run([encodings[i] for i in rows])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        # The graph already normalises when the model does; this keeps the contract for models that do not.
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def _run(self, encodings: list[Any]) -> np.ndarray:
        """Pad one batch to its longest member and run the graph."""
        import numpy as np

        width = max(len(enc.ids) for enc in encodings)
        arrays = {
            "input_ids": np.full((len(encodings), width), self._pad_id, dtype=np.int64),
            "attention_mask": np.zeros((len(encodings), width), dtype=np.int64),
            "token_type_ids": np.zeros((len(encodings), width), dtype=np.int64),
        }
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            arrays["input_ids"][row, :n] = enc.ids
            arrays["attention_mask"][row, :n] = enc.attention_mask
            arrays["token_type_ids"][row, :n] = enc.type_ids
        feed = {name: arrays[name] for name in self._input_names}
        try:
            (vectors,) = self._session.run([self._output_name], feed)
        except Exception as exc:
            raise BackendError(f"ONNX embedding with {self.model_name} failed: {exc}") from exc
        return vectors


def _batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Row numbers grouped by similar length, so padding a batch to its longest wastes little work."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    for i in order:
        # Padded positions cost as much as real ones: start a new batch when width would more than double.
        if batches and len(batches[-1]) < batch_size and lengths[i] <= 2 * max(lengths[batches[-1][0]], 16):
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def _read_meta(export_dir: Path) -> dict[str, Any]:
    """Read and check export.json."""
    path = export_dir / "export.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackendError(f"cannot read {path}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != EXPORT_FORMAT:
        raise BackendError(f"{path} is from another export format; run `smkb reindex` to rebuild it")
    missing = [key for key in ("model_name", "dimension", "max_seq_length") if key not in meta]
    if missing:
        raise BackendError(f"{path} lacks {', '.join(missing)}")
    return meta


def _pad_id(tokenizer: Any) -> int:
    """The tokenizer's own padding id, else that of its [PAD] token, else 0."""
    padding = tokenizer.padding
    if padding and "pad_id" in padding:
        return int(padding["pad_id"])
    for token in ("[PAD]", "<pad>"):
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return int(token_id)
    return 0
