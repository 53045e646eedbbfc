"""Sectors: ISIC Rev.4 sections with friendly names, for items and for mentors' questions.

The vocabulary (``sector_labels.toml``, shipped with the package) lists the 21 ISIC sections, each with a
friendly name and synonyms, and about a hundred finer everyday labels (nursing, call centres, trucking…),
each inside one section. Two kinds of evidence are combined:

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
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from shadowmatch_kb.embed.base import Embedder

__all__ = ["SectorMatch", "SectorResolver", "load_sector_vocabulary"]

_VOCABULARY_FILE = "sector_labels.toml"

_STRONG = 1.0
_WEAK = 0.4
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

_SPELLING = {
    "center": "centre",
    "centers": "centres",
    "labor": "labour",
    "organization": "organisation",
    "organizations": "organisations",
    "theater": "theatre",
    "theaters": "theatres",
    "fulfillment": "fulfilment",
    "defense": "defence",
    "catalog": "catalogue",
    "advisor": "adviser",
    "advisors": "advisers",
    "counselor": "counsellor",
    "counselors": "counsellors",
    "counseling": "counselling",
    "paediatrician": "pediatrician",
    "tires": "tyres",
    "harbor": "harbour",
    "programme": "program",
    "programmes": "programs",
    "localization": "localisation",
    "cafés": "cafe",
    "café": "cafe",
}
# Words whose final "s" is not a plural; stripping it would make "news" meet "new".
_KEEP_S = frozenset(
    "news goods series species means lens gas bus plus thus always sales physics ethics analytics logistics "
    "robotics economics politics athletics mathematics olympics electronics mechanics diabetes arts gps".split()
)
# What every item of this knowledge base is about, whatever its sector; its direction is projected out.
_SHARED_TOPIC = (
    "Artificial intelligence and automation are changing jobs, tasks and skills for workers and employers.",
    "Generative AI tools such as chatbots and large language models affect productivity and employment.",
    "A report on the future of work, technology adoption and the labour market.",
    "Workers use AI assistants and software to automate routine tasks at work.",
)
# -ing words whose stem is a different everyday word ("marketing" is not "market", "cleaning" not "clean").
_KEEP_ING = frozenset(
    "marketing accounting consulting programming cleaning machining writing marking interpreting landscaping "
    "betting meeting training learning funding timing setting vetting letting".split()
)
_TOKEN = re.compile(r"[^\W_]+")
# "IT" in capitals is information technology, "it" is a pronoun; the marker keeps them apart.
_IT_ACRONYM = re.compile(r"\bIT\b")
_IT_MARKER = " infotech "


@dataclass(frozen=True)
class SectorMatch:
    """One sector for an item or a question: an ISIC section, its friendly name and the finer label."""

    section: str
    name: str
    label: str | None
    confidence: float


@dataclass(frozen=True)
class _Section:
    code: str
    isic: str
    name: str
    description: str


@dataclass(frozen=True)
class _Label:
    name: str
    section: str
    description: str


@dataclass(frozen=True)
class _Term:
    section: str | None  # None for an ignore-phrase
    label: int  # index into the labels, or -1 for a section-wide synonym
    weight: float


@dataclass(frozen=True)
class _Vocabulary:
    sections: dict[str, _Section]
    labels: list[_Label]
    terms: dict[tuple[str, ...], _Term]
    first_words: frozenset[str]
    longest: int
    aliases: dict[str, str]  # normalised surface form -> section code


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """Fold plurals and -ing/-ed endings; deliberately crude but applied alike to terms and texts."""
    word = _SPELLING.get(word, word)
    if len(word) <= 3 or word in _KEEP_S or word in _KEEP_ING:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith(("shes", "ches", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        word = word[:-1]
    if word in _KEEP_ING:
        return word
    for ending in ("ing", "ed"):
        base = word[: -len(ending)]
        if word.endswith(ending) and len(base) >= 4 and any(c in "aeiouy" for c in base):
            if base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            word = base
            break
    if len(word) >= 5 and word.endswith("e") and word[-2] not in "aeiou":
        word = word[:-1]
    return word


def _tokens(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens of ``text``."""
    if not text.isupper():
        text = _IT_ACRONYM.sub(_IT_MARKER, text)
    return [_stem(t) for t in _TOKEN.findall(text.lower())]


def _alias_keys(label: str) -> set[str]:
    """Lookup keys of a label as written and lower-cased ("IT" and "it" tokenise apart)."""
    return {" ".join(_tokens(label)), " ".join(_tokens(label.lower()))}


def load_sector_vocabulary() -> dict[str, Any]:
    """The raw vocabulary shipped with the package (sections, labels, ignore-phrases) as parsed TOML."""
    from importlib.resources import files

    text = files("shadowmatch_kb.enrich").joinpath(_VOCABULARY_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


class _VocabularyBuilder:
    """Collects sections, labels and their phrases from the TOML, checking that no phrase is claimed twice."""

    def __init__(self) -> None:
        self.sections: dict[str, _Section] = {}
        self.labels: list[_Label] = []
        self.terms: dict[tuple[str, ...], _Term] = {}
        self.aliases: dict[str, str] = {}
        self.weak_aliases: list[tuple[str, str]] = []

    def add_term(self, phrase: str, term: _Term) -> None:
        key = tuple(_tokens(phrase))
        if not key:
            return
        old = self.terms.get(key)
        if old is None:
            self.terms[key] = term
        elif old.section != term.section:
            raise ValueError(f"sector vocabulary: {phrase!r} points at sections {old.section} and {term.section}")
        # The same words listed twice in one section: keep the finer label and the stronger weight.
        elif term.label >= 0 or term.weight > old.weight:
            label = term.label if term.label >= 0 else old.label
            self.terms[key] = _Term(term.section, label, max(term.weight, old.weight))

    def add_section(self, raw: dict[str, Any]) -> None:
        code = raw["code"]
        self.sections[code] = _Section(code, raw["isic"], raw["name"], raw["description"])
        for phrase in raw.get("synonyms", []):
            self.add_term(phrase, _Term(code, -1, _STRONG))
        for phrase in raw.get("weak", []):
            self.add_term(phrase, _Term(code, -1, _WEAK))
            self.weak_aliases += [(key, code) for key in _alias_keys(phrase)]
        for surface in (raw["isic"], raw["name"], f"section {code}", *raw.get("synonyms", [])):
            self.aliases.update(dict.fromkeys(_alias_keys(surface), code))

    def add_label(self, raw: dict[str, Any]) -> None:
        code = raw["section"]
        if code not in self.sections:
            raise ValueError(f"sector vocabulary: label {raw['name']!r} names unknown section {code!r}")
        index = len(self.labels)
        self.labels.append(_Label(raw["name"], code, raw["description"]))
        for phrase in [raw["name"], *raw.get("terms", [])]:
            self.add_term(phrase, _Term(code, index, _STRONG))
            for key in _alias_keys(phrase):
                self.aliases.setdefault(key, code)
        for phrase in raw.get("weak", []):
            self.add_term(phrase, _Term(code, index, _WEAK))
            self.weak_aliases += [(key, code) for key in _alias_keys(phrase)]

    def add_ignored(self, phrase: str) -> None:
        words = tuple(_tokens(phrase))
        # An ignore-phrase only matters where it is longer than the term it hides.
        if words and words not in self.terms:
            self.terms[words] = _Term(None, -1, 0.0)

    def build(self) -> _Vocabulary:
        # Weak words name a section only when nothing stronger claims them.
        for key, code in self.weak_aliases:
            self.aliases.setdefault(key, code)
        # A single letter names a section only when asked to normalise, never inside a text.
        for code in self.sections:
            self.aliases[code.lower()] = code
        return _Vocabulary(
            sections=self.sections,
            labels=self.labels,
            terms=self.terms,
            first_words=frozenset(key[0] for key in self.terms),
            longest=max(len(key) for key in self.terms),
            aliases=self.aliases,
        )


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    data = load_sector_vocabulary()
    builder = _VocabularyBuilder()
    for section in data["section"]:
        builder.add_section(section)
    for label in data["label"]:
        builder.add_label(label)
    for phrase in data.get("ignore", {}).get("phrases", []):
        builder.add_ignored(phrase)
    return builder.build()


@dataclass
class _Evidence:
    """Lexical scores of one text: per section, and per label."""

    sections: dict[str, float]
    labels: dict[int, float]
    tokens: int


def _match_counts(tokens: list[str], vocab: _Vocabulary) -> dict[tuple[str, ...], int]:
    """Count each vocabulary phrase in ``tokens``, longest match first, ignore-phrases included."""
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    i, n = 0, len(tokens)
    while i < n:
        step = 1
        if tokens[i] in vocab.first_words:
            for length in range(min(vocab.longest, n - i), 0, -1):
                key = tuple(tokens[i : i + length])
                if key in vocab.terms:
                    counts[key] += 1
                    step = length
                    break
        i += step
    return counts


def _lexical(text: str, title: str, vocab: _Vocabulary) -> _Evidence:
    body = _tokens(text)
    in_body = _match_counts(body, vocab)
    in_title = _match_counts(_tokens(title), vocab) if title else {}
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

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder
        self._vocab = _vocabulary()
        self._codes = sorted(self._vocab.sections)
        # Rows of the description matrix: the sections first, then the labels, in vocabulary order.
        self._row_section = [*self._codes, *(label.section for label in self._vocab.labels)]
        self._row_label = [-1] * len(self._codes) + list(range(len(self._vocab.labels)))
        self._label_rows: dict[str, list[int]] = defaultdict(list)
        for row, label in enumerate(self._row_label):
            if label >= 0:
                self._label_rows[self._vocab.labels[label].section].append(row)
        self._vectors: np.ndarray | None = None
        self._topic: np.ndarray | None = None
        # Stored items repeat a few dozen labels thousands of times: each is looked up once.
        self._normalised: dict[str, str | None] = {}

    def names(self) -> list[str]:
        """The friendly section names, in ISIC order: the sector vocabulary."""
        return [self._vocab.sections[code].name for code in self._codes]

    def normalise(self, label: str) -> str | None:
        """The friendly section name for a letter, ISIC title, friendly name, synonym or label; None if unknown."""
        if label not in self._normalised:
            self._normalised[label] = self._lookup(label)
        return self._normalised[label]

    def _lookup(self, label: str) -> str | None:
        text = label.strip()
        if not text:
            return None
        if len(text) == 1:
            code = self._vocab.aliases.get(text.lower())
        else:
            code = next((self._vocab.aliases[k] for k in _alias_keys(text) if k in self._vocab.aliases), None)
        return self._vocab.sections[code].name if code else None

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
