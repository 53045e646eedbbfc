"""What a question is about, without its framing: "I'm a plumber ... will AI change my job?" -> the plumber part.

Mentors wrap what they do in the same few framings ("how will AI change my job", "what should I tell the
young person shadowing me", "will computers take over"). Those words are in every question and in nearly
every item of this knowledge base, so when they drive a ranking every question finds the same articles on
AI and jobs in general. The focus keeps what tells one question from another: the work, its tasks and tools.

* ``focus_text`` drops the sentences and clauses that are only framing and keeps the rest as written (the
  embedding model reads whole phrases better than word lists);
* ``focus_terms`` are the content words of that text, for a keyword ranking.
"""

from __future__ import annotations

import re

from shadowmatch_kb.text.stopwords import stopwords

__all__ = ["FRAMING_WORDS", "focus_terms", "focus_text", "speaks_of_self", "search_terms"]

# Words of the framing: AI and technology in general, change and the future, the job in general, worry,
# the shadow day and its visitor. None of them says which work a question is about.
FRAMING_WORDS = frozenset(
    """ai artificial intelligence genai generative chatgpt gpt llm llms computer computers machine machines
    technology technologies tech digital automation automated automate robot robots software tools tool
    change changes changed changing transform transformed transforming affect affects affected impact impacts
    future years decade decades ten next coming soon someday eventually one day anymore still always ever
    replace replaced replacing replacement take takes taking taken over out away
    job jobs work works working worker workers career careers role roles occupation profession trade line
    day days daily week weeks everyday day-to-day
    worry worried worrying scared afraid fear threat safe risk end way going gonna true really reckon reckons
    wonder keep keeps asking doing make makes getting ready something need needs now few push
    young person people kid kids teenager teenagers visitor shadow shadowing shadows apprentice trainee trainees
    student students generation next-generation someone somebody everyone anyone
    tell say show explain advice advise know think reckon wonder wondering curious learn learning
    should would could will can might may must does do did is are was were be been being am
    how what which why when where who whether if
    my me i i'm im i've i'd mine our we us you your it its it's this that these those there here them they
    the a an and or but of to in on at for with as by from about into than then so just also too very much
    more most less lot lots bit kind sort thing things stuff all any some no not yes get gets got leave left
    like instead side part bit whole world""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Words by which a person speaks of themselves and their own work ("I'm a nurse", "my shifts", "we pack").
_SELF = frozenset("i i'm im i've i'd my me mine we we're our us".split())
# Pieces of a question: sentences, and the clauses a comma, colon or dash joins.
_PIECE = re.compile(r"[^.?!;:]+[.?!;:]*")
# A piece keeps its place in the focus when it holds at least this many content words.
_MIN_CONTENT = 1


def _content(words: list[str]) -> list[str]:
    common = stopwords("en")
    found = []
    for word in words:
        word = word.lower().replace("’", "'")
        if len(word) > 1 and word not in FRAMING_WORDS and word not in common:
            found.append(word)
    return found


def focus_text(question: str) -> str:
    """The question without its framing sentences; the whole question when nothing else is left."""
    kept = []
    for piece in _PIECE.findall(question):
        if len(_content(_WORD.findall(piece))) >= _MIN_CONTENT:
            kept.append(piece.strip())
    return " ".join(kept) or question.strip()


def focus_terms(question: str) -> list[str]:
    """The distinct content words of the question, lower-cased, in order."""
    return list(dict.fromkeys(_content(_WORD.findall(question))))


def search_terms(query: str) -> list[str]:
    """The words a keyword ranking should look for: the focus terms of a question worded as people talk, or
    every content word of a short query ("robots in warehouses"), whose framing words are its subject."""
    terms = focus_terms(query)
    if len(terms) >= 2:
        return terms
    common = stopwords("en")
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query) if len(w) > 1 and w.lower() not in common))


def speaks_of_self(query: str) -> bool:
    """Whether a query is a person speaking of their own work ("I sort out billing complaints ...") rather than a
    subject to look up ("chatbots in customer service"): only such a question is read for an occupation."""
    return any(word.lower().replace("’", "'") in _SELF for word in _WORD.findall(query))
