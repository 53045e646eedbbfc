"""SentenceTransformerEmbedder: the reference embedder, and the exporter of its ONNX twin.

sentence-transformers and torch take seconds to import, so both are imported only inside the
methods that need them; importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shadowmatch_kb.embed.base import DEFAULT_MODEL, resolve_model_path
from shadowmatch_kb.embed.export_folder import OPSET, save_graph, write_export
from shadowmatch_kb.errors import BackendError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SentenceTransformerEmbedder"]


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model loaded from a local folder or the local cache."""

    def __init__(self, model_name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        self._source = resolve_model_path(model_name)
        self._model = _load_model(model_name, self._source)
        self.dimension = _dimension_of(self._model, model_name)

    @property
    def max_seq_length(self) -> int:
        """The most word pieces the model reads; longer texts are truncated."""
        return int(self._model.max_seq_length)

    @property
    def tokenizer_path(self) -> Path | None:
        """The model's tokenizer.json when the model lives in a folder that has one."""
        candidate = Path(self._source) / "tokenizer.json"
        return candidate if candidate.is_file() else None

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` into L2-normalised float32 rows."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        try:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        except Exception as exc:  # torch raises many kinds; the caller needs one
            raise BackendError(f"embedding with {self.model_name} failed: {exc}") from exc
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def export_onnx(self, dest_dir: Path) -> Path:
        """Write model.onnx, model.onnx.data, tokenizer.json and export.json to ``dest_dir`` atomically."""

        def write_files(folder: Path) -> dict[str, Any]:
            input_names = self._write_onnx(folder)
            self._write_tokenizer(folder / "tokenizer.json")
            return {
                "model_name": self.model_name,
                "source": self._source,
                "dimension": self.dimension,
                "max_seq_length": self.max_seq_length,
                "do_lower_case": bool(getattr(self._model[0], "do_lower_case", False)),
                "input_names": input_names,
                "output_name": "sentence_embedding",
            }

        return write_export(dest_dir, self.model_name, write_files)

    def _write_onnx(self, folder: Path) -> list[str]:
        """Trace the whole model into folder/model.onnx with weights in model.onnx.data."""
        import onnx
        import torch

        # sentence-transformers 6 renamed tokenize() to preprocess(); either gives the model's input tensors.
        preprocess = getattr(self._model, "preprocess", None) or self._model.tokenize
        features = preprocess(["an example sentence", "a longer example sentence to pad"])
        input_names = [
            name
            for name in ("input_ids", "attention_mask", "token_type_ids")
            if isinstance(features.get(name), torch.Tensor)
        ]
        args = tuple(features[name] for name in input_names)
        wrapper = _sentence_embedding_module_class()(self._model, input_names)
        axes = {name: {0: "batch", 1: "sequence"} for name in input_names}
        axes["sentence_embedding"] = {0: "batch"}
        traced = folder / "traced.onnx"
        was_training = self._model.training
        device = next(self._model.parameters()).device
        # Trace on the CPU, where the export will run, even when encoding uses a GPU.
        self._model.to("cpu")
        self._model.eval()
        try:
            with torch.no_grad(), _quiet_libraries():
                torch.onnx.export(
                    wrapper,
                    args,
                    str(traced),
                    input_names=input_names,
                    output_names=["sentence_embedding"],
                    dynamic_axes=axes,
                    opset_version=OPSET,
                    do_constant_folding=True,
                    dynamo=False,
                )
        finally:
            self._model.to(device)
            self._model.train(was_training)
        # The tracer may already have split the weights out; load them back in before re-saving as one file.
        proto = onnx.load(str(traced), load_external_data=True)
        for leftover in folder.iterdir():
            leftover.unlink()
        save_graph(proto, folder)
        return input_names

    def _write_tokenizer(self, dest: Path) -> None:
        """Save the tokenizer as sentence-transformers configured it (a lower-casing step included)."""
        backend = getattr(self._model.tokenizer, "backend_tokenizer", None)
        if backend is not None:
            backend.save(str(dest))
        elif self.tokenizer_path is not None:
            shutil.copyfile(self.tokenizer_path, dest)
        else:
            raise BackendError(f"{self.model_name} has no fast tokenizer (tokenizer.json); it cannot be exported")


def _sentence_embedding_module_class() -> type:
    """Build the torch wrapper class on first use, so importing this module never imports torch."""
    import torch

    class SentenceEmbeddingModule(torch.nn.Module):
        """Runs every module of a SentenceTransformer and returns its sentence embedding."""

        def __init__(self, model: Any, input_names: list[str]) -> None:
            super().__init__()
            self.model = model
            self.input_names = input_names

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            """Map positional tensors back to the feature dict sentence-transformers expects."""
            features = dict(zip(self.input_names, tensors, strict=True))
            return self.model(features)["sentence_embedding"]

    return SentenceEmbeddingModule


def _load_model(model_name: str, source: str) -> Any:
    """Load a SentenceTransformer without touching the network; BackendError says what to do."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise BackendError(
            f"sentence-transformers is not installed ({exc}); reinstall shadowmatch_kb with its dependencies"
        ) from exc
    try:
        with _quiet_libraries():
            # local_files_only: the default install is offline, so a missing model must fail at once.
            return SentenceTransformer(source, local_files_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendError(
            f"cannot load embedding model {model_name!r}: {reason[:200]}. "
            f"Use a local model folder, a model in the sentence-transformers cache, or {DEFAULT_MODEL!r}."
        ) from exc


def _dimension_of(model: Any, model_name: str) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dimension = getter()
    if not dimension:
        raise BackendError(f"embedding model {model_name!r} does not declare its embedding dimension")
    return int(dimension)


@contextlib.contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Silence progress bars, warnings and info logs of transformers and torch for the duration."""
    restore: list[Any] = []
    try:
        from transformers.utils import logging as hf_logging

        verbosity = hf_logging.get_verbosity()
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        def _restore_hf() -> None:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()

        restore.append(_restore_hf)
    except ImportError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for undo in restore:
            undo()
