"""Cue words of change in work: the lexical half of a sentence's change score.

A sentence speaks of change when it holds cues of a change (automate, replace, cut or create jobs,
"will", "by 2030", "from ... to ...", figures, new roles, comparisons) and anchors a signal when it
also names work, business, public services or technology. Each kind of cue adds its weight once.
"""

from __future__ import annotations

import re

__all__ = ["cue_score", "pattern"]


def pattern(*parts: str) -> re.Pattern[str]:
    """A case-insensitive pattern written in parts, so that long alternations read line by line."""
    return re.compile("".join(parts), re.IGNORECASE)


_CHANGE_CUES = (  # (weight, pattern): each kind of cue adds its weight once
    (0.30, pattern(
        r"\b(?:automat\w*|replac\w*|displac\w*|augment\w*|shift\w*|transform\w*|transition\w*|adopt\w*|disrupt\w*",
        r"|reshap\w*|eliminat\w*|obsolete|layoffs?|laid off|lay off|outsourc\w*|offshor\w*|reskill\w*|upskill\w*",
        r"|retrain\w*|revolutioni[sz]\w*|streamlin\w*|integrat\w*|deploy\w*|turn(?:s|ed|ing)? to|embrac\w*",
        r"|rel(?:y|ies|ying) on|rise of|emergence of)\b")),
    (0.15, pattern(
        r"\b(?:increas\w*|decreas\w*|reduc\w*|declin\w*|boost\w*|grow\w*|grew|growth|ris(?:e|es|ing)|rose",
        r"|fall(?:s|ing)?|fell|drop\w*|doubl\w*|expand\w*|shrink\w*|cut(?:s|ting)?|creat\w*|improv\w*|enhanc\w*",
        r"|accelerat\w*|threaten\w*|los(?:e|es|ing)|lost|hir(?:e|es|ed|ing)|chang\w*|evolv\w*)\b")),
    (0.20, pattern(
        r"\b(?:will|could|would|may|might|expected to|likely to|set to|poised to|predict\w*|forecast\w*",
        r"|projected|anticipat\w*|potential)\b")),
    (0.25, pattern(
        r"\b(?:by|until|before|within|in|over) (?:the )?(?:end of )?(?:20[2-9]\d|next \w+ years?|next decade",
        r"|coming (?:years|decade))\b|\b(?:within|in) (?:\w+|\d+) years\b")),
    (0.20, pattern(r"\bfrom\b[^.;]{2,80}\bto\b")),
    # A figure is read from the start of its run of digits, commas and dots, whole: "\d[\d,.]*" from every
    # digit of "1,1,1,..." would be quadratic, and only the run's end can meet the unit anyway.
    (0.15, pattern(r"(?<![\d,.])[,.]*+\d[\d,.]*+\s?(?:%|percent|per cent|million|billion|jobs|hours|workers|people)")),
    (0.25, pattern(
        r"\b(?:new (?:roles?|jobs?|skills?|positions?|careers?|occupations?)|job losses|job cuts|jobs? at risk",
        r"|future of work)\b")),
    (0.10, pattern(r"\b(?:more|less|fewer|higher|lower|faster|than|instead of|rather than)\b")),
)  # fmt: skip
# Words that put a sentence in the world of work, business, public services and technology. ("GPT\w*" finds
# what "GPT\S*" found, since a word boundary follows somewhere in any run, without reading "GPT-GPT-..." again
# from every "GPT".)
_TOPIC = pattern(
    r"\b(?:jobs?|work(?:ers?|force|place|ing)?|employ\w*|labou?r|roles?|tasks?|skills?|careers?|staff\w*|wages?",
    r"|occupations?|profession\w*|industr\w*|compan(?:y|ies)|business\w*|hiring|firms?|employers?|sectors?",
    r"|market\w*|economy|economic|customers?|consumers?|clients?|services?|strateg\w*|revenue|profits?|invest\w*",
    r"|students?|teach\w*|schools?|college|universit\w*|educat\w*|train\w*|health\s?care|hospitals?|doctors?",
    r"|nurses?|patients?|polic(?:e|y|ies)|laws?|legislat\w*|regulat\w*|government|AI|A\.I\.|artificial intelligence",
    r"|automation|robot\w*|algorithm\w*|ChatGPT|GPT\w*|generative|software|machine learning|digital|technolog\w*",
    r"|platforms?|chatbots?|tools?|models?|data|internet|online|apps?|computers?|devices?|research\w*)\b",
)
_TOPIC_WEIGHT = 0.25
_CUE_TOTAL = 1.5  # cue weight that counts as a full lexical score


def cue_score(sentence: str) -> tuple[float, bool]:
    """The weight of change cues in a sentence (0..1), and whether it anchors a signal (work and change named)."""
    change = sum(weight for weight, cue in _CHANGE_CUES if cue.search(sentence))
    topic = _TOPIC.search(sentence) is not None
    return min(1.0, (change + _TOPIC_WEIGHT * topic) / _CUE_TOTAL), topic and change >= 0.15
