"""Themes for an item, chosen from a vocabulary that grows.

The vocabulary starts from the seed list shipped with the package (``seed_themes.toml``) and takes
in the themes of imported posts and analysts' corrections. An item's themes are scored two ways
and blended: how close the item's text is to each theme (its name and description), and how the
nearest labelled items were themed, each neighbour's vote weighted by its similarity and its
weight (an analyst's correction counts more than an imported post).

Themes are known by their canonical names (``text.themes``): "AI" in one post and "artificial intelligence"
in another are one theme, and an item's themes are canonical names.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.errors import BackendError
from shadowmatch_kb.text import themes as theme_names

__all__ = ["ThemeExample", "ThemeVocabulary", "load_seed_themes"]

# Two themes whose names are at least this close say the same thing ("AI" and "artificial intelligence": 0.79).
_NEAR_IDENTICAL = 0.75
# Labelled neighbours that vote on an item's themes.
_NEIGHBOURS = 10
# How much the neighbours' votes (a weighted mean of their similarities) count against the text-to-theme similarity.
_VOTE_WEIGHT = 2.0
# Unrelated texts still reach cosine similarities of about 0.2 on the bundled model; below that a neighbour has no say.
_VOTE_FLOOR = 0.2


@dataclass(frozen=True, eq=False)
class ThemeExample:
    """A labelled item: its vector and its themes (an imported post, or an analyst's correction)."""

    vector: np.ndarray
    themes: tuple[str, ...]
    weight: float = 1.0


def load_seed_themes() -> list[tuple[str, str]]:
    """The seed vocabulary shipped with the package, as (theme, description) pairs."""
    raw = resources.files("shadowmatch_kb.enrich").joinpath("seed_themes.toml").read_text(encoding="utf-8")
    return [(entry["name"], entry["description"]) for entry in tomllib.loads(raw)["theme"]]


def _key(theme: str) -> str:
    return theme_names.theme_key(theme)


class ThemeVocabulary:
    """The seed themes plus imported and corrected ones; assigns themes to texts."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        extra_themes: Iterable[str] = (),
        examples: Sequence[ThemeExample] = (),
        neighbours: int = _NEIGHBOURS,
        vote_weight: float = _VOTE_WEIGHT,
        names: theme_names.ThemeVocabulary | None = None,
    ) -> None:
        """``names`` merges spellings of one theme (default: the merges shipped with the package)."""
        names = names or theme_names.ThemeVocabulary.load()
        extra_themes = names.canonical_list(extra_themes)
        examples = [_canonical_example(e, names) for e in examples]
        self._embedder = embedder
        self._neighbours = neighbours
        self._vote_weight = vote_weight
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        descriptions: list[str | None] = []
        example_themes = [theme for example in examples for theme in example.themes]
        for name, description in [*load_seed_themes(), *((t, None) for t in [*extra_themes, *example_themes])]:
            cleaned = names.canonical(name)
            if cleaned and _key(cleaned) not in self._index:
                self._index[_key(cleaned)] = len(self._names)
                self._names.append(cleaned)
                descriptions.append(description)
        self._name_vectors, self._match_vectors = self._embed_themes(descriptions)
        # An example without a theme or without weight has nothing to vote with.
        kept = [e for e in examples if e.weight > 0 and any(t.strip() for t in e.themes)]
        self._example_vectors = self._stack_examples(kept)
        self._example_labels = [sorted({self._index[_key(t)] for t in e.themes if t.strip()}) for e in kept]
        self._example_weights = np.array([e.weight for e in kept], dtype=np.float32)

    def _embed_themes(self, descriptions: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        # A described theme is matched against "name: description"; its bare name still decides duplicates.
        described = [f"{name}: {d}" for name, d in zip(self._names, descriptions, strict=True) if d]
        vectors = self._embedder.embed_batch([*self._names, *described])
        names = vectors[: len(self._names)]
        match = names.copy()
        rows = iter(vectors[len(self._names) :])
        for position, description in enumerate(descriptions):
            if description:
                match[position] = next(rows)
        return names, match

    def _stack_examples(self, examples: Sequence[ThemeExample]) -> np.ndarray:
        dimension = self._name_vectors.shape[1]
        if not examples:
            return np.zeros((0, dimension), dtype=np.float32)
        stacked = np.stack([np.asarray(e.vector, dtype=np.float32).ravel() for e in examples])
        if stacked.shape[1] != dimension:
            raise BackendError(f"theme examples have {stacked.shape[1]} dimensions, the embedder {dimension}")
        return _normalise_rows(stacked)

    def themes(self) -> list[str]:
        """Every theme of the vocabulary: the seeds first, then the imported and corrected ones."""
        return list(self._names)

    def assign(self, text: str, *, k: int = 3, text_vector: np.ndarray | None = None) -> list[str]:
        """The ``k`` best themes for a text, no two near-identical; empty for a blank text."""
        if k <= 0 or (text_vector is None and not text.strip()):
            return []
        if text_vector is None:
            text_vector = self._embedder.embed_batch([text])[0]
        vector = _normalise_rows(np.asarray(text_vector, dtype=np.float32).reshape(1, -1))[0]
        dimension = self._name_vectors.shape[1]
        if vector.shape[0] != dimension:
            raise BackendError(f"text vector has {vector.shape[0]} dimensions, the embedder {dimension}")
        scores = self._match_vectors @ vector + self._vote_weight * self._votes(vector)
        order = sorted(range(len(self._names)), key=lambda i: (-float(scores[i]), self._names[i]))
        chosen: list[int] = []
        for candidate in order:
            if all(float(self._name_vectors[candidate] @ self._name_vectors[c]) < _NEAR_IDENTICAL for c in chosen):
                chosen.append(candidate)
                if len(chosen) == k:
                    break
        return [self._names[i] for i in chosen]

    def _votes(self, vector: np.ndarray) -> np.ndarray:
        """Each theme's vote from the nearest labelled items: their similarity above the floor, weight-averaged."""
        votes = np.zeros(len(self._names), dtype=np.float32)
        similarities = self._example_vectors @ vector
        nearest = _top_indices(similarities, self._neighbours)
        if not nearest:
            return votes
        for j in nearest:
            strength = max(float(similarities[j]) - _VOTE_FLOOR, 0.0) * float(self._example_weights[j])
            votes[self._example_labels[j]] += strength
        # Divided by the weights, not the similarities: a lone distant neighbour casts a faint vote, not a full one.
        return votes / float(self._example_weights[nearest].sum())


def _canonical_example(example: ThemeExample, names: theme_names.ThemeVocabulary) -> ThemeExample:
    """The example with its themes' canonical names."""
    return ThemeExample(example.vector, tuple(names.canonical_list(example.themes)), example.weight)


def _top_indices(values: np.ndarray, count: int) -> list[int]:
    """Indices of the ``count`` largest values, largest first, ties to the lower index (deterministic)."""
    if count <= 0:
        return []
    if count < len(values):
        candidates = np.argpartition(-values, count - 1)[:count]
        # argpartition may split a tie at the boundary arbitrarily; widen to every tied value first.
        candidates = np.flatnonzero(values >= values[candidates].min())
    else:
        candidates = np.arange(len(values))
    return sorted(candidates.tolist(), key=lambda i: (-float(values[i]), i))[:count]


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)
