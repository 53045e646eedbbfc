"""Whether a text speaks of technology at work: AI, automation, software, machines that do the work.

A briefing answers "how will AI change my job?". An item that says nothing of any technology (a survey of family
carers, a study of older workers) is no evidence on that, however close its subject is to the person's work: blind
mentor reviews (sessions 12 and 13) singled such items out as the worst lines of briefings for a care worker, a
train guard and a radio producer. The words below are what the knowledge base's own items say when they speak of
it; matched as whole words, so "maintain" is not "AI" and "digitally" is "digital".
"""

from __future__ import annotations

import re

__all__ = ["speaks_of_technology"]

# Acronyms only as written ("AI", not "ai"); the rest in any case.
_ACRONYMS = re.compile(r"\b(?:AI|A\.I\.|GPT-?\d*\w*|LLMs?|ICT|AGI)\b")
_WORDS = re.compile(
    r"\b(?:artificial intelligence|automat\w*|robot\w*|machine learning|deep learning|neural|algorithm\w*|"
    r"chatbots?|chat ?gpt|copilot|language models?|generative|software|computer\w*|digit(?:al|i[sz])\w*|"
    r"technolog\w*|tech|self-checkouts?|kiosks?|driverless|autonomous|self-driving|drones?|sensors?|"
    r"machines?|apps?|online platforms?|platform work\w*)\b",
    re.I,
)


def speaks_of_technology(*texts: str) -> bool:
    """Whether any of ``texts`` names a technology that could change work."""
    return any(_ACRONYMS.search(text) or _WORDS.search(text) for text in texts)
