"""How hard a text is to read: the Flesch-Kincaid grade level (the US school grade that can read it).

Grade = 0.39 × words per sentence + 11.8 × syllables per word − 15.59 (Kincaid et al., 1975). Syllables
are counted by vowel groups with the usual English corrections (a silent final "e", "-le", "-ed"); the
count is approximate, as in every tool that uses the formula, but stable enough to compare texts.
"""

from __future__ import annotations

import re

__all__ = ["grade_level", "sentence_grade", "syllables"]

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
# A run of stops counts once, from its first stop and taken whole: tried again from every stop of a run that
# no space follows ("...!!!x"), the pattern would take time quadratic in the run.
_SENTENCE_END = re.compile(r"(?<![.!?])[.!?]++(?:\s|$)")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
# Endings that add a vowel group but no syllable ("make", "jumped"), and those that do ("table", "wanted").
_SILENT_E = re.compile(r"[^aeiouy]e$")
_SOUNDED_LE = re.compile(r"[^aeiouy]le$")
_SILENT_ED = re.compile(r"[^aeiouydt]ed$")
_CITATION = re.compile(r"\[\d+(?:\s*[,–-]\s*\d+)*\]")


def syllables(word: str) -> int:
    """Syllables in one English word (at least 1)."""
    word = word.lower().strip("'")
    if len(word) <= 3:
        return 1
    count = len(_VOWEL_GROUPS.findall(word))
    if _SILENT_E.search(word) and not _SOUNDED_LE.search(word):
        count -= 1
    elif _SILENT_ED.search(word):
        count -= 1
    return max(1, count)


def _counts(text: str) -> tuple[int, int, int]:
    text = _CITATION.sub("", text)
    words = _WORD.findall(text)
    sentences = max(1, len(_SENTENCE_END.findall(text.strip() + " ")))
    return sentences, len(words), sum(syllables(w) for w in words)


def grade_level(text: str) -> float:
    """The Flesch-Kincaid grade of ``text`` (citation marks like [2] are not read); 0.0 for no words."""
    sentences, words, syllable_count = _counts(text)
    if not words:
        return 0.0
    return round(0.39 * words / sentences + 11.8 * syllable_count / words - 15.59, 2)


def sentence_grade(sentence: str) -> float:
    """The grade of one sentence read alone (for choosing plain sentences)."""
    return grade_level(sentence.rstrip(".!? ") + ".")
