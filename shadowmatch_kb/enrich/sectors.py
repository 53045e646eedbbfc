"""Sectors: ISIC Rev.4 sections with friendly names, for items and for mentors' questions.

The vocabulary (``text.sectors.SectorVocabulary``) lists the 21 ISIC sections, each with a friendly name
and synonyms, and about a hundred finer everyday labels (nursing, call centres, trucking…), each inside
one section. Two kinds of evidence are combined:

* lexical: word-boundary matches of synonyms and label terms after light stemming, so "nurses",
  "nursing" and "nurse" meet; longer phrases win over the words inside them, and ignore-phrases
  ("world bank", "off the shelf") consume their words so they count for nothing;
* semantic: cosine similarity between the text and a short description of each section and label on the
  bundled embedding model, after removing from every vector its component along the topic all items here
  share (AI and work). Without that step a text about AI in general looks like the software sector;
  with it, such a text points nowhere in particular.

Without an embedder the resolver is lexical only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from shadowmatch_kb.text.sectors import SectorVocabulary, sector_tokens

if TYPE_CHECKING:
    from shadowmatch_kb.embed.base import Embedder

__all__ = ["SectorMatch", "SectorResolver"]

# Each further mention of a term adds less: ln(count) scaled by this.
_REPEAT_GAIN = 0.5
# A term found in the title counts this much more, once.
_TITLE_BONUS = 0.75
# Items: lexical evidence S maps to 1 - exp(-S / (_LEX_SCALE * length factor)); the length factor is the
# square root of the text's length over _LEX_BASE_TOKENS, at least _LEX_MIN_LENGTH, so a passing mention in a
# long article weighs less than the same mention in a summary, and a short text says more with fewer words.
_LEX_SCALE = 2.2
_LEX_BASE_TOKENS = 160
_LEX_MIN_LENGTH = 0.5
# Questions are short and say what they mean: one strong term is close to decisive.
_QUESTION_LEX_SCALE = 0.6
# Semantic evidence from a section's best similarity once the shared topic is removed: below _SEM_FLOOR
# it is none (texts about AI in general stay under it), at _SEM_FLOOR + _SEM_SPAN it is full.
_SEM_FLOOR = 0.22
_SEM_SPAN = 0.25
# A short question lies much closer to its best description than a paragraph does; a wider span keeps
# the sections it resembles apart instead of all reaching full evidence.
_QUESTION_SEM_SPAN = 0.4
# Neither kind alone is trusted fully: a section needs both to come near 1.
_SEM_ONLY_CAP = 0.6
_LEX_ONLY_CAP_WITH_MODEL = 0.75
# The least confidence resolve_question reports.
_QUESTION_FLOOR = 0.2
# A label found only by meaning is named only when its similarity is at least this.
_LABEL_SIMILARITY = 0.35
# The model reads about 256 word pieces; more characters only cost time.
_EMBED_CHARS = 2000

# What every item of this knowledge base is about, whatever its sector; its direction is projected out.
_SHARED_TOPIC = (
    "Artificial intelligence and automation are changing jobs, tasks and skills for workers and employers.",
    "Generative AI tools such as chatbots and large language models affect productivity and employment.",
    "A report on the future of work, technology adoption and the labour market.",
    "Workers use AI assistants and software to automate routine tasks at work.",
)


@dataclass(frozen=True)
class SectorMatch:
    """One sector for an item or a question: an ISIC section, its friendly name and the finer label."""

    section: str
    name: str
    label: str | None
    confidence: float


@dataclass
class _Evidence:
    """Lexical scores of one text: per section, and per label."""

    sections: dict[str, float]
    labels: dict[int, float]
    tokens: int


def _lexical(text: str, title: str, vocab: SectorVocabulary) -> _Evidence:
    body = sector_tokens(text)
    in_body = vocab.phrase_counts(body)
    in_title = vocab.phrase_counts(sector_tokens(title)) if title else {}
    sections: dict[str, float] = defaultdict(float)
    labels: dict[int, float] = defaultdict(float)
    for key in set(in_body) | set(in_title):
        term = vocab.terms[key]
        if term.section is None:
            continue
        count = in_body.get(key, 0)
        score = term.weight * (1.0 + _REPEAT_GAIN * math.log(count)) if count else 0.0
        if key in in_title:
            score += term.weight * _TITLE_BONUS
        sections[term.section] += score
        if term.label >= 0:
            labels[term.label] += score
    return _Evidence(dict(sections), dict(labels), len(body))


def _without(vectors: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Rows of ``vectors`` with their component along the unit ``direction`` removed, re-normalised."""
    rest = vectors - np.outer(vectors @ direction, direction)
    norms = np.linalg.norm(rest, axis=1, keepdims=True)
    return (rest / np.maximum(norms, 1e-12)).astype(np.float32)


def _saturate(score: float, scale: float) -> float:
    return 1.0 - math.exp(-score / scale) if score > 0 else 0.0


class SectorResolver:
    """Maps item texts and mentors' questions to ISIC sections with friendly names and finer labels."""

    def __init__(self, embedder: Embedder | None = None, *, vocabulary: SectorVocabulary | None = None) -> None:
        self._embedder = embedder
        self._vocab = vocabulary if vocabulary is not None else SectorVocabulary.load()
        self._codes = self._vocab.codes
        # Rows of the description matrix: the sections first, then the labels, in vocabulary order.
        self._row_section = [*self._codes, *(label.section for label in self._vocab.labels)]
        self._row_label = [-1] * len(self._codes) + list(range(len(self._vocab.labels)))
        self._label_rows: dict[str, list[int]] = defaultdict(list)
        for row, label in enumerate(self._row_label):
            if label >= 0:
                self._label_rows[self._vocab.labels[label].section].append(row)
        self._vectors: np.ndarray | None = None
        self._topic: np.ndarray | None = None

    @property
    def vocabulary(self) -> SectorVocabulary:
        """The sector vocabulary this resolver reads: names and normalising need nothing more."""
        return self._vocab

    def classify(
        self,
        text: str,
        *,
        title: str = "",
        k: int = 3,
        min_confidence: float = 0.35,
        text_vector: np.ndarray | None = None,
    ) -> list[SectorMatch]:
        """Up to ``k`` sectors an item concerns, best first, each at least ``min_confidence``."""
        evidence = _lexical(text, title, self._vocab)
        length = max(_LEX_MIN_LENGTH, math.sqrt(evidence.tokens / _LEX_BASE_TOKENS))
        vector = text_vector
        if vector is None and self._embedder is not None and (text.strip() or title.strip()):
            joined = f"{title}. {text}" if title else text
            vector = self._embedder.embed_batch([joined[:_EMBED_CHARS]])[0]
        matches = self._combine(evidence, _LEX_SCALE * length, vector, _SEM_SPAN)
        return [m for m in matches if m.confidence >= min_confidence][: max(k, 0)]

    def resolve_question(
        self, question: str, *, k: int = 3, question_vector: np.ndarray | None = None
    ) -> list[SectorMatch]:
        """Up to ``k`` sectors a free-text question is about ("I'm a nurse" → healthcare, nursing), best first."""
        evidence = _lexical(question, "", self._vocab)
        vector = question_vector
        if vector is None and self._embedder is not None and question.strip():
            vector = self._embedder.embed_batch([question[:_EMBED_CHARS]])[0]
        matches = self._combine(evidence, _QUESTION_LEX_SCALE, vector, _QUESTION_SEM_SPAN)
        return [m for m in matches if m.confidence >= _QUESTION_FLOOR][: max(k, 0)]

    def _description_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """The shared-topic direction and the descriptions' vectors without it, embedded once per resolver."""
        if self._vectors is None or self._topic is None:
            assert self._embedder is not None
            texts = [self._vocab.sections[code].description for code in self._codes]
            texts += [label.description for label in self._vocab.labels]
            vectors = np.asarray(self._embedder.embed_batch([*_SHARED_TOPIC, *texts]), dtype=np.float32)
            topic = vectors[: len(_SHARED_TOPIC)].mean(axis=0)
            self._topic = topic / max(float(np.linalg.norm(topic)), 1e-12)
            self._vectors = _without(vectors[len(_SHARED_TOPIC) :], self._topic)
        return self._topic, self._vectors

    def _semantic(self, vector: np.ndarray, span: float) -> tuple[dict[str, float], np.ndarray]:
        """Per section the evidence its best description gives; also every description's similarity."""
        topic, descriptions = self._description_vectors()
        flat = np.asarray(vector, dtype=np.float32).reshape(-1)
        if flat.shape[0] != topic.shape[0]:
            raise ValueError(f"a vector of {flat.shape[0]} values was given; the embedder makes {topic.shape[0]}")
        text = _without(flat.reshape(1, -1), topic)[0]
        sims = descriptions @ text
        best: dict[str, float] = {}
        for row, code in enumerate(self._row_section):
            best[code] = max(best.get(code, -1.0), float(sims[row]))
        evidence = {code: min(1.0, max(0.0, (s - _SEM_FLOOR) / span)) for code, s in best.items()}
        return evidence, sims

    def _combine(self, evidence: _Evidence, scale: float, vector: np.ndarray | None, span: float) -> list[SectorMatch]:
        # A section named in passing beside a much better-evidenced one ("unlike roofers, accountants…")
        # keeps only part of its lexical weight.
        strongest = max(evidence.sections.values(), default=0.0)
        lexical = {
            code: _saturate(score, scale) * math.sqrt(score / strongest) for code, score in evidence.sections.items()
        }
        semantic: dict[str, float] = {}
        sims: np.ndarray | None = None
        if vector is not None and self._embedder is not None:
            semantic, sims = self._semantic(vector, span)
        matches = []
        for code in self._codes:
            lex, sem = lexical.get(code, 0.0), semantic.get(code, 0.0)
            if sims is None:
                confidence = lex
            else:
                # Noisy-or of the two kinds, each capped so that one alone cannot reach certainty.
                confidence = 1.0 - (1.0 - _LEX_ONLY_CAP_WITH_MODEL * lex) * (1.0 - _SEM_ONLY_CAP * sem)
            if confidence <= 0.0:
                continue
            section = self._vocab.sections[code]
            matches.append(
                SectorMatch(code, section.name, self._best_label(code, evidence, sims), round(confidence, 4))
            )
        matches.sort(key=lambda m: (-m.confidence, m.section))
        return matches

    def _best_label(self, code: str, evidence: _Evidence, sims: np.ndarray | None) -> str | None:
        """The finer label of section ``code``: lexical evidence first, then meaning when it is clear."""
        labels = self._vocab.labels
        found = [(score, index) for index, score in evidence.labels.items() if labels[index].section == code]
        if found:
            best = max(found, key=lambda pair: (pair[0], -pair[1]))
            return labels[best[1]].name
        if sims is None:
            return None
        rows = self._label_rows.get(code)
        if not rows:
            return None
        row = max(rows, key=lambda r: float(sims[r]))
        return labels[self._row_label[row]].name if float(sims[row]) >= _LABEL_SIMILARITY else None
