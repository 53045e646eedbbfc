"""Cutting texts into pieces that fit the embedding model's window.

The bundled model reads at most 256 word pieces; about 180 English words fill that, so chunks are
measured in whitespace-separated words. Chunks break at paragraph ends where they can, else at
sentence ends, and a chunk cut inside a paragraph repeats the last sentences of the one before it,
so a statement that straddles the cut is still whole in one of them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["chunk_text", "item_embedding_text"]

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+")


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an overlong one) and the paragraph it came from."""

    paragraph: int
    words: tuple[str, ...]


def chunk_text(text: str, *, max_words: int = 180, overlap_words: int = 30) -> list[str]:
    """Split ``text`` into chunks of at most ``max_words`` words, with overlap inside paragraphs."""
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, not {max_words}")
    if not 0 <= overlap_words < max_words:
        raise ValueError(f"overlap_words must be in [0, max_words), not {overlap_words}")
    # Overlong sentences are cut so that any one piece plus the overlap still fits a chunk.
    units = _units(text, max_words - overlap_words)
    paragraph_words = Counter[int]()
    for unit in units:
        paragraph_words[unit.paragraph] += len(unit.words)

    chunks: list[str] = []
    current: list[_Unit] = []
    for unit in units:
        size = sum(len(u.words) for u in current)
        if current and size + len(unit.words) > max_words:
            chunks.append(_join(current))
            same_paragraph = unit.paragraph == current[-1].paragraph
            current = _tail(current, overlap_words) if same_paragraph else []
        elif (
            current
            and unit.paragraph != current[-1].paragraph
            and size >= max_words // 2
            and size + paragraph_words[unit.paragraph] > max_words
        ):
            # The next paragraph will not fit whole: end here rather than cut it in the middle.
            chunks.append(_join(current))
            current = []
        current.append(unit)
    if current:
        chunks.append(_join(current))
    return chunks


def item_embedding_text(title: str, summary: str, text: str, *, max_words: int = 180) -> str:
    """The text behind an item's own vector: its title and summary, or title and the start of its text."""
    title_words = title.split()[:max_words]
    body = summary if summary.strip() else text
    body_words = body.split()[: max_words - len(title_words)]
    parts = [" ".join(words) for words in (title_words, body_words) if words]
    return "\n\n".join(parts)


def _units(text: str, piece_words: int) -> list[_Unit]:
    """Sentences of every paragraph, lines counted as sentence ends (lists, headings, table rows)."""
    units: list[_Unit] = []
    for number, paragraph in enumerate(_PARAGRAPH_BREAK.split(text)):
        for line in paragraph.splitlines():
            for sentence in _SENTENCE_END.split(line):
                words = sentence.split()
                for start in range(0, len(words), piece_words):
                    units.append(_Unit(number, tuple(words[start : start + piece_words])))
    return units


def _tail(units: list[_Unit], budget: int) -> list[_Unit]:
    """The last whole sentences that fit in ``budget`` words, else the last ``budget`` words."""
    taken: list[_Unit] = []
    used = 0
    for unit in reversed(units):
        if used + len(unit.words) > budget:
            break
        taken.insert(0, unit)
        used += len(unit.words)
    if not taken and budget > 0:
        last = units[-1]
        taken = [_Unit(last.paragraph, last.words[-budget:])]
    return taken


def _join(units: list[_Unit]) -> str:
    """Sentences joined by spaces, paragraphs by a blank line."""
    paragraphs: list[list[str]] = []
    previous = None
    for unit in units:
        if unit.paragraph != previous:
            paragraphs.append([])
            previous = unit.paragraph
        paragraphs[-1].append(" ".join(unit.words))
    return "\n\n".join(" ".join(sentences) for sentences in paragraphs)
