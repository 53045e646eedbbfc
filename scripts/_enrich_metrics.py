"""How close predicted key phrases come to a reference list: the figures eval_enrich reports and tests pin.

Matching is lenient, as two people's keywords for one text differ in form more than in meaning: two
phrases match when their light stems are equal or one holds the other as whole words.
"""

from __future__ import annotations

from shadowmatch_kb.enrich.keywords import phrase_stems, stems_overlap

__all__ = ["keyword_f1", "keyword_match"]


def keyword_match(a: str, b: str) -> bool:
    """Lenient keyword equality: same light stems, or one phrase inside the other as whole words."""
    return stems_overlap(phrase_stems(a), phrase_stems(b))


def keyword_f1(predicted: list[str], reference: list[str], k: int = 10) -> float:
    """F1 of the first ``k`` predicted keywords against a reference list under ``keyword_match``."""
    top = predicted[:k]
    if not top or not reference:
        return 0.0
    precision = sum(any(keyword_match(p, r) for r in reference) for p in top) / len(top)
    recall = sum(any(keyword_match(p, r) for p in top) for r in reference) / len(reference)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
