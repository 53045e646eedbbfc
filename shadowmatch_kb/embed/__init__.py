"""Embedders: text to unit-length float32 vectors."""

from shadowmatch_kb.embed.base import DEFAULT_MODEL, Embedder, resolve_model_path

__all__ = ["DEFAULT_MODEL", "Embedder", "resolve_model_path"]
