"""Sentences of an item's text with their exact offsets, so every quote can be checked verbatim.

A rule-based splitter: a sentence ends at ``.``, ``!`` or ``?`` (with closing quotes or brackets)
followed by white space and a capital letter, digit or opening quote, unless the word before the
stop is a known abbreviation or an initial; a line break between paragraphs always ends one.

``is_junk_sentence`` tells the sentences of a story from what a page puts around them: captions,
bylines, list fragments, links and calls to action. Summaries and briefings quote neither.

Texts are hostile input: a crawled page or an imported file may hold a run of 100,000 characters with
no space. Every pattern here takes time linear in the text, and analysis skips runs of non-space
characters longer than ``MAX_TOKEN_CHARS`` (``has_long_token``, ``without_long_tokens``): no word is
that long, and patterns that are linear over words may still be quadratic over such a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MAX_TOKEN_CHARS",
    "Sentence",
    "has_long_token",
    "is_junk_sentence",
    "split_sentences",
    "without_long_tokens",
]

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc inc ltd co corp no nos fig figs approx est dept gov univ jan feb mar apr "
    "jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n e.u a.m p.m ph.d".split()
)
# Only the first stop of a run may start a match, and the run is taken whole: a match can only end where
# the run and its closing marks end, and trying every stop of a 200,000-dot run again would be quadratic.
_END = re.compile(r"""(?<![.!?])[.!?]++["'”’)\]]*+(?=\s+["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])""")
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*[-*•]\s)")

# A story's sentences have between these many words; shorter is a caption, longer a run-on list.
_MIN_WORDS = 5
_MAX_WORDS = 110
_BULLET = re.compile(r"^\s*(?:[-*•·▪►–—]|\d{1,2}[.)])\s")
_FINAL_STOP = re.compile(r"""[.!?…]["'”’)\]]*$""")
# The leading marks are read up to the first "©" or letter and never given back, which finds the same
# lines as "\W*" without trying every split of a long run of marks.
_BOILERPLATE = re.compile(
    r"^[^\w©]*+(?:read (?:more|also|next|the full)|see also|related(?: articles?| stories)?\b|more on this|subscribe|"
    r"sign up|click here|share (?:this|on)|follow us|advertisement|sponsored|photo(?:graph)?s?\b|image\b|pictured\b|"
    r"credit\b|caption\b|source:|copyright|©|all rights reserved|posted (?:on|by|in)|published (?:on|by)|"
    r"(?:last )?updated\b|listen to|watch:|download\b|contact us|cookies?\b|terms of (?:use|service))",
    re.IGNORECASE,
)
# "by" and up to four capitalised names, then the end, a separator or "and". The names before the last are taken
# whole: "(?:[A-Z][\w.'’-]*\s*){1,4}" says the same but tries every split of "AAAA..." into four, which takes
# seconds on one 200-character word; only the last name may stop inside its word ("by Anne-Marie ...").
_BYLINE = re.compile(r"^by\s+(?=[A-Z])(?:[A-Z][\w.'’-]*+\s*+){0,3}(?:[A-Z][\w.'’-]*\s*)?(?:$|[,|·—–-]|and\b)")
_WEB_LINK = ("http://", "https://", "www.")
_DOMAIN_DOT = re.compile(r"\.\w")
# No word is longer: a longer run of non-space characters is a URL, an address, a data blob or junk.
MAX_TOKEN_CHARS = 200
# Only the start of a run may start a match, so each run is read once.
_LONG_TOKEN = re.compile(rf"(?<!\S)\S{{{MAX_TOKEN_CHARS + 1},}}")


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text == source[start:end]`` for the text it was split from."""

    text: str
    start: int
    end: int


def has_long_token(text: str) -> bool:
    """Whether ``text`` holds a run of non-space characters longer than ``MAX_TOKEN_CHARS``."""
    return len(text) > MAX_TOKEN_CHARS and _LONG_TOKEN.search(text) is not None


def without_long_tokens(text: str) -> str:
    """``text`` with each run of non-space characters longer than ``MAX_TOKEN_CHARS`` replaced by a space."""
    return _LONG_TOKEN.sub(" ", text) if len(text) > MAX_TOKEN_CHARS else text


def _has_link(text: str) -> bool:
    """Whether the text holds a web or an e-mail address, read in time linear in its length."""
    if any(mark in text for mark in _WEB_LINK):
        return True
    # The pattern "\S+@\S+\.\w" says the same and takes cubic time on "a@a@a@...": some character, "@", at
    # least one more, then a dot before a word character, in one run; the first "@" leaves the most room.
    for token in text.split():
        at = token.find("@", 1)
        if at > 0 and _DOMAIN_DOT.search(token, at + 2):
            return True
    return False


def _is_abbreviation(before: str) -> bool:
    word = before.rsplit(None, 1)[-1].lower().rstrip(".") if before.strip() else ""
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _split_block(text: str, offset: int) -> list[Sentence]:
    sentences: list[Sentence] = []
    start = 0
    for match in _END.finditer(text):
        # The word before the stop is all that counts; reading the whole sentence so far each time is quadratic
        # in a run of initials ("A. A. A. ..."), and a word longer than MAX_TOKEN_CHARS is no abbreviation.
        before = text[max(start, match.start() - MAX_TOKEN_CHARS - 1) : match.start()]
        if match.group().startswith(".") and _is_abbreviation(before):
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
    if len(words) < _MIN_WORDS or len(words) > _MAX_WORDS or max(map(len, words)) > MAX_TOKEN_CHARS:
        return True
    stripped = sentence.strip()
    finished = _FINAL_STOP.search(stripped) is not None
    if (_BULLET.match(stripped) or len(words) < 15) and not finished:
        return True
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) > 2 and sum(_FINAL_STOP.search(line.strip()) is None for line in lines) * 2 > len(lines):
        return True  # a list or a table that no full stop broke into sentences
    if stripped.endswith(":") or _BOILERPLATE.match(stripped) or _BYLINE.match(stripped) or _has_link(stripped):
        return True
    letters = sum(c.isalpha() for c in stripped)
    visible = sum(not c.isspace() for c in stripped)
    if letters < 0.6 * visible:
        return True
    upper = sum(c.isupper() for c in stripped)
    return upper > 0.6 * letters
