"""Sentences of an item's text with their exact offsets, so every quote can be checked verbatim.

A rule-based splitter: a sentence ends at ``.``, ``!`` or ``?`` (with closing quotes or brackets)
followed by white space and a capital letter, digit or opening quote, unless the word before the
stop is a known abbreviation or an initial; a line break between paragraphs always ends one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Sentence", "split_sentences"]

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc inc ltd co corp no nos fig figs approx est dept gov univ jan feb mar apr "
    "jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n e.u a.m p.m ph.d".split()
)
_END = re.compile(r"""[.!?]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])""")
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*[-*•]\s)")


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text == source[start:end]`` for the text it was split from."""

    text: str
    start: int
    end: int


def _is_abbreviation(before: str) -> bool:
    word = before.rsplit(None, 1)[-1].lower().rstrip(".") if before.strip() else ""
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _split_block(text: str, offset: int) -> list[Sentence]:
    sentences: list[Sentence] = []
    start = 0
    for match in _END.finditer(text):
        if match.group().startswith(".") and _is_abbreviation(text[start : match.start()]):
            continue
        end = match.end()
        sentences.append(Sentence(text[start:end], offset + start, offset + end))
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
    if text[start:].strip():
        sentences.append(Sentence(text[start:].rstrip(), offset + start, offset + len(text[start:].rstrip()) + start))
    return sentences


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of a text in order, each a verbatim slice of it (surrounding spaces trimmed)."""
    sentences: list[Sentence] = []
    position = 0
    for block in [*_PARAGRAPH.split(text)]:
        found = text.find(block, position)
        position = found + len(block)
        stripped = block.strip()
        if not stripped:
            continue
        lead = found + block.index(stripped)
        sentences.extend(s for s in _split_block(stripped, lead) if s.text.strip())
    return sentences
