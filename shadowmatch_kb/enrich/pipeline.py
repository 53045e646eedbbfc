"""One item in, its computed fields out: summary, keywords, themes, sectors and a grounded Signals table.

Fields an item already has (an imported Signals post's own keywords, say) are kept; only empty ones
are computed. The text is split and embedded once, and every stage reuses those vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.errors import BackendError
from shadowmatch_kb.model import Item
from shadowmatch_kb.text.sentences import split_sentences, without_long_tokens
from shadowmatch_kb.text.stopwords import LANGUAGES as KEYWORD_LANGUAGES

if TYPE_CHECKING:
    from shadowmatch_kb.enrich.llm import LlmSettings

__all__ = ["ENRICHMENT_VERSION", "Enricher", "LabelledItem", "text_language"]

# Bumped when the offline methods change what they compute, so `smkb enrich --all` is worth running.
ENRICHMENT_VERSION = 1
# Sentences embedded per item at most: a long article's later sentences add little to any field.
_MAX_SENTENCES = 120


def text_language(item: Item, text: str) -> str | None:
    """The item's language code ("en", "de"), as its page declared it or as guessed; None when unsure."""
    from shadowmatch_kb.extract.language import guess_language

    declared = (item.language or "").split("-")[0].split("_")[0].lower()
    return declared or guess_language(text)


def _latin_share(text: str) -> float:
    letters = [c for c in text[:5000] if c.isalpha()]
    return sum(c < "\u0250" for c in letters) / len(letters) if letters else 1.0


@dataclass(frozen=True)
class LabelledItem:
    """An item whose themes a person gave (an imported post, an analyst's correction)."""

    text: str
    themes: tuple[str, ...]
    corrected: bool = False


class Enricher:
    """Computes missing fields of items with the embedding model (and a language model when configured)."""

    def __init__(
        self, embedder: Embedder, *, labelled: Sequence[LabelledItem] = (), llm: LlmSettings | None = None
    ) -> None:
        from shadowmatch_kb.embed.cache import CachingEmbedder
        from shadowmatch_kb.enrich.sectors import SectorResolver
        from shadowmatch_kb.enrich.themes import ThemeExample, ThemeVocabulary

        # Key phrases and labels recur from item to item; their vectors are computed once.
        self.embedder = embedder if isinstance(embedder, CachingEmbedder) else CachingEmbedder(embedder)
        embedder = self.embedder
        self.llm = llm
        self.notices: list[str] = []
        self.sectors = SectorResolver(embedder)
        vectors = embedder.embed_batch([entry.text for entry in labelled]) if labelled else np.zeros((0, 1))
        examples = [
            ThemeExample(vector=vectors[i], themes=entry.themes, weight=2.0 if entry.corrected else 1.0)
            for i, entry in enumerate(labelled)
        ]
        extra = sorted({theme for entry in labelled for theme in entry.themes})
        self.themes = ThemeVocabulary(embedder, extra_themes=extra, examples=examples)

    def _record(self, language: str | None, *, by_llm: bool, confidence: dict[str, float]) -> dict[str, object]:
        """What computed an item's fields, kept with them: method, model, language, sector confidences."""
        return {
            "version": ENRICHMENT_VERSION,
            "backend": f"llm:{self.llm.model}" if by_llm and self.llm else "offline",
            "model": self.embedder.model_name,
            "language": language or "unknown",
            "sector_confidence": confidence,
        }

    def enrich(self, item: Item) -> Item:
        """A copy of the item with its empty computed fields filled."""
        return self.enrich_with_record(item)[0]

    def enrich_with_record(self, item: Item) -> tuple[Item, dict[str, object]]:
        """The enriched copy, and the record kept with it (see ``_record``)."""
        text = (item.text or item.summary).strip()
        language = text_language(item, text)
        complete = item.summary and item.keywords and item.themes and item.sectors and item.signals
        if not text or complete:
            return replace(item), self._record(language, by_llm=False, confidence={})
        answered = self._with_llm(item, text) if self.llm is not None else None
        if answered is not None:
            found, unplaced = answered
            record = self._record(language, by_llm=True, confidence={})
            if unplaced:  # the model's words for sectors the vocabulary has none for: shown, never stored
                record["unplaced_sectors"] = unplaced
            return found, record
        found, confidence = self._offline(item, text, language)
        return found, self._record(language, by_llm=False, confidence=confidence)

    def _offline(self, item: Item, text: str, language: str | None) -> tuple[Item, dict[str, float]]:
        from shadowmatch_kb.enrich.keywords import extract_keywords
        from shadowmatch_kb.enrich.signals import extract_signals
        from shadowmatch_kb.enrich.summary import summarise

        sentences = split_sentences(text)[:_MAX_SENTENCES]
        # One batch of short texts: a long "whole document" text in the same batch would pad every
        # sentence to its length (about 4x slower). The document vector is the mean of its parts.
        # A run longer than any word (a data blob, a 100 kB token) says nothing the model could read.
        texts = [without_long_tokens(t) for t in [item.title or "", *(s.text for s in sentences)]]
        vectors = self.embedder.embed_batch(texts)
        sentence_vectors = vectors[1:]
        doc_vector = vectors.mean(axis=0) if item.title else sentence_vectors.mean(axis=0)
        doc_vector = doc_vector / (np.linalg.norm(doc_vector) or 1.0)
        # The bundled model reads English and, less well, other languages in the Latin script; for a text in
        # another script its themes and sectors would be guesses, so they are left for an analyst.
        latin = _latin_share(text) >= 0.5
        summary = item.summary or summarise(text, self.embedder, sentences=sentences, sentence_vectors=sentence_vectors)
        keywords = item.keywords or (
            extract_keywords(text, self.embedder, title=item.title, doc_vector=doc_vector, language=language)
            if latin or language in KEYWORD_LANGUAGES
            else []
        )
        themes = item.themes or (self.themes.assign(text, text_vector=doc_vector) if latin else [])
        matches = self.sectors.classify(text, title=item.title, text_vector=doc_vector) if latin else []
        confidence: dict[str, float] = {}
        for match in matches:  # the best label of each section speaks for it
            confidence.setdefault(match.name, round(match.confidence, 3))
        # A post's own sectors stand when one of them names a section; labels none takes are kept by the
        # store as the item's tags, and computed sectors join them.
        own = self.sectors.vocabulary.place(item.sectors).names
        sectors = item.sectors if own else [*item.sectors, *confidence]
        signals = item.signals or extract_signals(
            text, self.embedder, title=item.title, sentences=sentences, sentence_vectors=sentence_vectors
        )
        enriched = replace(item, summary=summary, keywords=keywords, themes=themes, sectors=sectors, signals=signals)
        return enriched, ({} if own else confidence)

    def _with_llm(self, item: Item, text: str) -> tuple[Item, list[str]] | None:
        """The item with the language model's fields, and the sectors it named that no section takes."""
        from shadowmatch_kb.enrich.llm import enrich_with_llm

        assert self.llm is not None
        try:
            found = enrich_with_llm(item.title, text, self.llm)
        except BackendError as exc:
            self.notices.append(f"language model unavailable ({exc}); used the offline enrichment")
            return None
        placed = self.sectors.vocabulary.place(found.sectors)
        enriched = replace(
            item,
            summary=item.summary or found.summary,
            keywords=item.keywords or found.keywords,
            themes=item.themes or found.themes,
            sectors=item.sectors or placed.names,
            signals=item.signals or found.signals,
        )
        return enriched, ([] if item.sectors else placed.unplaced)
