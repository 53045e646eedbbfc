"""YAKE (Campos et al., 2020): key phrases from the statistics of one text, no corpus and no model.

Each word is scored by its casing, position, frequency, relatedness to its neighbours and spread over
the sentences; a 1–3 word n-gram by the words it holds, a stop word inside counting by how strongly
its neighbours bind to it. ``yake_keywords`` is plain YAKE, the baseline the evaluation measures
against; ``analyse`` gives the statistics that ``keywords.extract_keywords`` chooses among.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from shadowmatch_kb.text.sentences import split_sentences, without_long_tokens
from shadowmatch_kb.text.stopwords import stopwords

__all__ = ["Candidate", "Document", "Term", "analyse", "is_valid", "yake_keywords"]

_MAX_WORDS = 3
_WINDOW = 2
# YAKE's default: a candidate this similar (by characters) to a better one is a duplicate of it.
_DEDUP_SIMILARITY = 0.9
# Long texts cost time without changing which phrases matter; YAKE's position feature favours the start anyway.
_MAX_CHARS = 20_000

_ACRONYM_DOTS = r"(?:[A-Za-z]\.){2,}"
_TOKEN = re.compile(_ACRONYM_DOTS + r"|[^\W_]+(?:[-'’&][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)


@dataclass
class Term:
    """One distinct word of a text (lower case, a final -s dropped) and what YAKE counts about it."""

    stop: bool
    tf: int = 0
    tf_acronym: int = 0
    tf_capital: int = 0
    tf_inner: int = 0
    sentences: list[int] = field(default_factory=list)
    left: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    h: float = 0.0


@dataclass
class Candidate:
    """One n-gram of 1–3 words, keyed by its terms; ``surfaces`` counts how it was written."""

    terms: tuple[str, ...]
    words: tuple[str, ...]
    tf: int = 0
    surfaces: Counter[str] = field(default_factory=Counter)
    usable: bool = False
    score: float = 0.0


@dataclass
class Document:
    """Every word and n-gram of one text, scored; the number of sentences they came from."""

    terms: dict[str, Term]
    candidates: dict[tuple[str, ...], Candidate]
    sentence_count: int


def _tag(word: str, first_in_sentence: bool, *, names_with_digits: bool = False) -> str:
    """YAKE's word classes: d(igit), u(nusual), a(cronym), n (capitalised name) and p(lain)."""
    bare = word.replace(",", "")
    if bare.isdigit() or bare.replace(".", "", 1).isdigit():
        return "d"
    letters = sum(c.isalpha() for c in word)
    digits = sum(c.isdigit() for c in word)
    if names_with_digits and letters and digits and any(c.isupper() for c in word):
        return "a"  # GPT-4, COVID-19: names, which plain YAKE throws away as unusual tokens
    if (letters and digits) or not letters:
        return "u"
    if word.replace(".", "").isupper() and len(word.replace(".", "")) > 1:
        return "a"
    if word[0].isupper() and not first_in_sentence:
        return "n"
    return "p"


def _term_key(word: str) -> str:
    key = word.lower()
    return key[:-1] if key.endswith("s") and len(key) > 3 else key


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Runs of words that no punctuation separates, each with the index of its sentence."""
    blocks: list[tuple[int, list[str]]] = []
    # A run longer than any word is no key phrase; dropped before the cut, it leaves room for the words after it.
    for index, sentence in enumerate(split_sentences(without_long_tokens(text)[:_MAX_CHARS])):
        current: list[str] = []
        last_end = 0
        for match in _TOKEN.finditer(sentence.text):
            word = match.group()
            if current and sentence.text[last_end : match.start()].strip():
                blocks.append((index, current))
                current = []
            possessive = _POSSESSIVE.search(word)
            if possessive and len(word) > 2:
                word = word[: possessive.start()]
            current.append(word)
            last_end = match.end()
            if possessive:
                # "ChatGPT's responses" is not the phrase "ChatGPT responses": the possessive ends the run.
                blocks.append((index, current))
                current = []
        if current:
            blocks.append((index, current))
    return blocks


def analyse(text: str, stop_words: frozenset[str], *, keep_acronyms: bool) -> Document:
    """Count every word and n-gram of the text the way YAKE does, then score them (lower is better)."""
    terms: dict[str, Term] = {}
    candidates: dict[tuple[str, ...], Candidate] = {}
    blocks = _blocks(text)
    seen_sentences: set[int] = set()
    for sentence_index, words in blocks:
        first = sentence_index not in seen_sentences
        seen_sentences.add(sentence_index)
        run: list[tuple[str, str, str]] = []  # (word, key, tag) of this block so far
        for position, word in enumerate(words):
            tag = _tag(word, first and position == 0, names_with_digits=keep_acronyms)
            key = _term_key(word)
            term = terms.get(key)
            if term is None:
                bare = re.sub(r"\W", "", key)
                short = len(bare) < 3 and not (keep_acronyms and tag == "a")
                term = terms[key] = Term(stop=word.lower() in stop_words or key in stop_words or short)
            term.tf += 1
            term.tf_acronym += tag == "a"
            term.tf_capital += tag == "n"
            term.tf_inner += not (first and position == 0)
            term.sentences.append(sentence_index)
            if tag not in "ud":
                for _, prev_key, prev_tag in run[-_WINDOW:]:
                    if prev_tag not in "ud":
                        terms[prev_key].right[key] += 1
                        term.left[prev_key] += 1
            run.append((word, key, tag))
            for size in range(1, min(_MAX_WORDS, len(run)) + 1):
                gram = run[-size:]
                keys = tuple(k for _, k, _ in gram)
                candidate = candidates.get(keys)
                if candidate is None:
                    candidate = candidates[keys] = Candidate(keys, tuple(w.lower() for w, _, _ in gram))
                candidate.tf += 1
                candidate.surfaces[" ".join(w for w, _, _ in gram)] += 1
                candidate.usable = candidate.usable or not any(t in "ud" for _, _, t in gram)
    document = Document(terms, candidates, max(1, len(seen_sentences)))
    _score_terms(document)
    _score_candidates(document)
    return document


def _score_terms(document: Document) -> None:
    terms = document.terms
    if not terms:
        return
    content = [t.tf for t in terms.values() if not t.stop] or [0]
    mean_tf, std_tf = statistics.fmean(content), statistics.pstdev(content)
    max_tf = max(t.tf for t in terms.values())
    for term in terms.values():
        left_total, right_total = sum(term.left.values()), sum(term.right.values())
        left_share = len(term.left) / left_total if left_total else 0.0
        right_share = len(term.right) / right_total if right_total else 0.0
        relatedness = 1.0 + (left_share + right_share) * term.tf / max_tf
        frequency = term.tf / (mean_tf + std_tf) if mean_tf + std_tf else 0.0
        spread = len(set(term.sentences)) / document.sentence_count
        casing = max(term.tf_acronym, term.tf_capital) / (1.0 + math.log(term.tf))
        position = math.log(math.log(3.0 + statistics.median(sorted(set(term.sentences)))))
        term.h = position * relatedness / (casing + frequency / relatedness + spread / relatedness)


def _score_candidates(document: Document) -> None:
    """YAKE's phrase score (lower is better); a stop word inside counts by how often its neighbours bind to it."""
    terms = document.terms
    for candidate in document.candidates.values():
        if not is_valid(candidate, terms):
            candidate.score = math.inf
            continue
        product, total = 1.0, 0.0
        keys = candidate.terms
        for i, key in enumerate(keys):
            term = terms[key]
            if not term.stop:
                product *= term.h
                total += term.h
                continue
            before = terms[keys[i - 1]].right[key] / terms[keys[i - 1]].tf if i > 0 else 0.0
            after = term.right[keys[i + 1]] / terms[keys[i + 1]].tf if i + 1 < len(keys) else 0.0
            product *= 2.0 - before * after
            total -= 1.0 - before * after
        candidate.score = product / ((total + 1.0) * candidate.tf) if total > -1.0 else math.inf


def is_valid(candidate: Candidate, terms: dict[str, Term]) -> bool:
    """Whether a candidate may be a key phrase: once written without figures or odd tokens, no stop word at an end."""
    return candidate.usable and not terms[candidate.terms[0]].stop and not terms[candidate.terms[-1]].stop


def _deduplicated(ranked: list[tuple[str, Candidate]], n: int) -> list[tuple[str, Candidate]]:
    chosen: list[tuple[str, Candidate]] = []
    for key, candidate in ranked:
        if len(chosen) >= n:
            break
        if not any(_similar_spelling(key, other) for other, _ in chosen):
            chosen.append((key, candidate))
    return chosen


def _similar_spelling(a: str, b: str) -> bool:
    # The cheap upper bounds rule out almost every pair before the full comparison runs.
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() > _DEDUP_SIMILARITY
        and matcher.quick_ratio() > _DEDUP_SIMILARITY
        and matcher.ratio() > _DEDUP_SIMILARITY
    )


def yake_keywords(text: str, n: int = 10, language: str = "en") -> list[str]:
    """Plain YAKE: the ``n`` best 1–3 word phrases, as first written in the text (the evaluation's baseline)."""
    if n <= 0 or not text.strip():
        return []
    document = analyse(text, stopwords(language), keep_acronyms=False)
    ranked = sorted(
        ((" ".join(c.words), c) for c in document.candidates.values() if is_valid(c, document.terms)),
        key=lambda pair: (pair[1].score, pair[0]),
    )
    return [next(iter(c.surfaces)) for _, c in _deduplicated(ranked, n)]
