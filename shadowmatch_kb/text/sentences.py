"""Sentences of an item's text with their exact offsets, so every quote can be checked verbatim.

A rule-based splitter: a sentence ends at ``.``, ``!`` or ``?`` (with closing quotes or brackets)
followed by white space and a capital letter, digit or opening quote, unless the word before the
stop is a known abbreviation or an initial; a line break between paragraphs always ends one.

``is_junk_sentence`` tells the sentences of a story from what a page puts around them: captions,
bylines, list fragments, links and calls to action. Summaries and briefings quote neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Sentence", "is_junk_sentence", "split_sentences"]

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc inc ltd co corp no nos fig figs approx est dept gov univ jan feb mar apr "
    "jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n e.u a.m p.m ph.d".split()
)
_END = re.compile(r"""[.!?]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])""")
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*[-*•]\s)")

# A story's sentences have between these many words; shorter is a caption, longer a run-on list.
_MIN_WORDS = 5
_MAX_WORDS = 110
_BULLET = re.compile(r"^\s*(?:[-*•·▪►–—]|\d{1,2}[.)])\s")
_FINAL_STOP = re.compile(r"""[.!?…]["'”’)\]]*$""")
_BOILERPLATE = re.compile(
    r"^\W*(?:read (?:more|also|next|the full)|see also|related(?: articles?| stories)?\b|more on this|subscribe|"
    r"sign up|click here|share (?:this|on)|follow us|advertisement|sponsored|photo(?:graph)?s?\b|image\b|pictured\b|"
    r"credit\b|caption\b|source:|copyright|©|all rights reserved|posted (?:on|by|in)|published (?:on|by)|"
    r"(?:last )?updated\b|listen to|watch:|download\b|contact us|cookies?\b|terms of (?:use|service))",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^by\s+(?:[A-Z][\w.'’-]*\s*){1,4}(?:$|[,|·—–-]|and\b)")
_LINK = re.compile(r"https?://|www\.|\S+@\S+\.\w")


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


def is_junk_sentence(sentence: str) -> bool:
    """Captions, bylines, list fragments, links and calls to action: text that is not a sentence of the story."""
    words = sentence.split()
    if len(words) < _MIN_WORDS or len(words) > _MAX_WORDS:
        return True
    stripped = sentence.strip()
    finished = _FINAL_STOP.search(stripped) is not None
    if (_BULLET.match(stripped) or len(words) < 15) and not finished:
        return True
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) > 2 and sum(_FINAL_STOP.search(line.strip()) is None for line in lines) * 2 > len(lines):
        return True  # a list or a table that no full stop broke into sentences
    if stripped.endswith(":") or _BOILERPLATE.match(stripped) or _BYLINE.match(stripped) or _LINK.search(stripped):
        return True
    letters = sum(c.isalpha() for c in stripped)
    visible = sum(not c.isspace() for c in stripped)
    if letters < 0.6 * visible:
        return True
    upper = sum(c.isupper() for c in stripped)
    return upper > 0.6 * letters
