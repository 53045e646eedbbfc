"""Extractive summaries: the few sentences of an item that best stand for the whole of it.

Each sentence is scored by its cosine similarity to the centroid of all the item's sentences under the
bundled model (a cheap stand-in for LexRank's centrality: both reward what the text keeps coming back
to), plus a small prior for coming early, since news puts the point first. Sentences are then picked by
maximal marginal relevance so that two that say the same thing do not both get in, until the summary
has at least ``min_sentences`` and about a paragraph of words, or ``max_sentences``. The chosen
sentences are returned verbatim, in the order of the text. Captions, bylines, list fragments and
"Read more" lines are never chosen while real sentences are left; a sentence holding a run of characters
longer than any word (``text.sentences.MAX_TOKEN_CHARS``) never is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shadowmatch_kb.text.sentences import Sentence, has_long_token, is_junk_sentence, split_sentences

if TYPE_CHECKING:
    import numpy as np

    from shadowmatch_kb.embed.base import Embedder

__all__ = ["summarise"]

# A paragraph a mentor reads at a glance; past it, stop adding sentences once min_sentences are in.
_WORD_BUDGET = 90
# Long articles repeat themselves; their first sentences carry the centroid as well as all of them would.
_MAX_CANDIDATES = 80
_POSITION_WEIGHT = 0.12
_POSITION_SCALE = 3.0
_SHORT_PENALTY = 0.05
_MMR_LAMBDA = 0.7


def summarise(
    text: str,
    embedder: Embedder,
    *,
    sentences: list[Sentence] | None = None,
    sentence_vectors: np.ndarray | None = None,
    min_sentences: int = 3,
    max_sentences: int = 5,
) -> str:
    """3–5 central sentences of ``text``, verbatim and in their order, joined by single spaces."""
    if min_sentences < 1 or max_sentences < min_sentences:
        raise ValueError(f"need 1 <= min_sentences <= max_sentences, got {min_sentences} and {max_sentences}")
    if sentences is None:
        sentences = split_sentences(text)
    if sentence_vectors is not None and len(sentence_vectors) != len(sentences):
        raise ValueError(f"{len(sentence_vectors)} sentence vectors for {len(sentences)} sentences")
    candidates = _candidates(sentences)
    if len(candidates) <= min_sentences:
        return " ".join(sentences[i].text for i in candidates)
    import numpy as np

    if sentence_vectors is None:
        vectors = embedder.embed_batch([sentences[i].text for i in candidates])
    else:
        vectors = np.asarray(sentence_vectors, dtype=np.float32)[candidates]
    scores = _scores(vectors, [sentences[i].text for i in candidates])
    chosen = _select(
        vectors, scores, [len(sentences[i].text.split()) for i in candidates], min_sentences, max_sentences
    )
    return " ".join(sentences[candidates[i]].text for i in sorted(chosen))


def _candidates(sentences: list[Sentence]) -> list[int]:
    """Indices of the sentences worth choosing: real prose, each text once; all of them when none is."""
    seen: set[str] = set()
    unique: list[int] = []
    for index, sentence in enumerate(sentences):
        key = " ".join(sentence.text.split()).lower()
        # A run longer than any word (a data blob, a 100 kB token kept by the extractor) is never quoted.
        if key and key not in seen and not has_long_token(sentence.text):
            seen.add(key)
            unique.append(index)
    kept = [i for i in unique if not is_junk_sentence(sentences[i].text)]
    # A text of nothing but fragments still has a gist; its first lines are the best guess of it.
    return (kept or unique)[:_MAX_CANDIDATES]


def _scores(vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    """Centrality to the text's centroid, a prior for early sentences, a small cost for very short ones."""
    import numpy as np

    centroid = vectors.mean(axis=0)
    norm = float(np.linalg.norm(centroid))
    centrality = vectors @ (centroid / norm) if norm > 0 else np.zeros(len(texts), dtype=np.float32)
    position = _POSITION_WEIGHT / (1.0 + np.arange(len(texts)) / _POSITION_SCALE)
    short = np.array([_SHORT_PENALTY if len(t.split()) < 9 else 0.0 for t in texts])
    return np.asarray(centrality + position - short, dtype=np.float64)


def _select(vectors: np.ndarray, scores: np.ndarray, lengths: list[int], low: int, high: int) -> list[int]:
    """Maximal marginal relevance until ``low`` sentences and the word budget are reached, or ``high``."""
    similarity = vectors @ vectors.T
    chosen: list[int] = []
    remaining = list(range(len(scores)))
    words = 0
    while remaining and len(chosen) < high and (len(chosen) < low or words < _WORD_BUDGET):

        def gain(i: int) -> float:
            redundancy = max((float(similarity[i, j]) for j in chosen), default=0.0)
            return _MMR_LAMBDA * float(scores[i]) - (1.0 - _MMR_LAMBDA) * redundancy

        best = max(remaining, key=gain)
        remaining.remove(best)
        chosen.append(best)
        words += lengths[best]
    return chosen
