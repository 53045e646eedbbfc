"""Guess the language of a text from its most common function words, offline and in microseconds.

Pages often declare their language (``<html lang>``); this is the fallback for pages that do not,
and a check on pages that declare it wrongly is left to the declaration's owner. Each profile is
a short list of words that are frequent in that language and rare in the others.
"""

from __future__ import annotations

import re

__all__ = ["guess_language"]

_PROFILES: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to in is that for it with as was on are be by this have from or at which".split()),
    "de": frozenset("der die und das ist nicht mit den von auf für sich dem des eine ein auch werden wird".split()),
    "fr": frozenset("le la les et des est une pour dans que qui sur pas par au du avec sont ce cette".split()),
    "es": frozenset("el la los las y de que en es por con para una un del se al lo como más pero".split()),
    "it": frozenset("il di che la per non una sono della con del gli le si è anche nel alla questo".split()),
    "nl": frozenset("de het een van en is dat op te niet zijn met voor ook door wordt aan bij om".split()),
    "pt": frozenset("o a os as de que e do da em um uma para com não por mais dos das se ao".split()),
    "sv": frozenset("och att det som en på är av för med till den har inte om ett de var".split()),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Fewer function words than this and the text is too short or too odd to call.
_MIN_HITS = 8
_SAMPLE_WORDS = 3000


def guess_language(text: str) -> str | None:
    """The ISO 639-1 code of the likeliest language among those profiled, or None when unsure."""
    words = [w.lower() for w in _WORD.findall(text[: _SAMPLE_WORDS * 8])][:_SAMPLE_WORDS]
    if not words:
        return None
    scores = {code: sum(1 for w in words if w in profile) for code, profile in _PROFILES.items()}
    best, hits = max(scores.items(), key=lambda kv: kv[1])
    runner_up = max(v for k, v in scores.items() if k != best)
    # Close languages (es/pt, nl/de) share words: ask for a clear lead as well as enough evidence.
    if hits < _MIN_HITS or hits < 0.1 * len(words) or hits < 1.3 * runner_up:
        return None
    return best
