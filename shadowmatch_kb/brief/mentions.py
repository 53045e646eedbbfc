"""Whether items name the job a person gave themselves ("I'm a receptionist at a GP surgery ..."): what a briefing's
first sentence says of the occupation, as a fact its reader can check.

That sentence used to say "1 item close to the work of receptionists" when an item's meaning was close to the
occupation's names or to what the person does. On the development half of the evaluation, 40 % of the items it said
that of were graded about the occupation, whatever the thresholds (0.3 to 0.5 on either closeness); the share of all
cited items so graded is 33 %. Session 16's reviewer read it over an item on doctors' notes for a GP receptionist,
and "No item ... is close to the work of journalists" beside items on AI-written news. Whether an item's words name
the job is not a guess: "1 item that names cashiers", "No item in the knowledge base names bricklayers".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Protocol

from shadowmatch_kb.model import Item
from shadowmatch_kb.occupations.wording import stem
from shadowmatch_kb.store.fulltext import query_terms
from shadowmatch_kb.text.english import gerund, plural

__all__ = ["MentionStore", "job_words", "knowledge_base_names", "named_as", "names_title"]

SCAN_LIMIT = 500  # items holding the word that are read; past it the knowledge base is not said to lack the job
_CHUNK = 50  # items read at a time: the first that names the job ends the search


class MentionStore(Protocol):
    """What the search reads of a store: its full-text hits and its items."""

    def any_term_search(self, terms: list[str], *, limit: int) -> list[tuple[str, float]]: ...

    def get_many(self, item_ids: list[str]) -> dict[str, Item]: ...


# A job named after a machine is the machine: "an AI chatbot as a teaching assistant" on a university course was read
# as naming a primary school's teaching assistants (session 17's review). The job is a machine when a machine's word
# comes just before it, with nothing but such words between ("AI-powered", "as a"); "AI helps teaching assistants"
# names them.
_MACHINE_JUST_BEFORE = re.compile(
    r"\b(?:ai|chatbots?|bots?|robots?|robotic|virtual|digital|software|automated)"
    r"(?:[-\s]+(?:powered|based|driven|chatbots?|bots?|software|tools?|as|an?|the))*[-\s]+$",
    re.I,
)
_BEFORE = 40  # characters read before the job: "an AI chatbot as a " before "teaching assistant"


def _forms(word: str) -> list[str]:
    """A job's word and the words of its work, for a search that must not miss the job: "bricklayer" ->
    "bricklaying" (session 17's review read "No item names bricklayers" as false beside "roofing and bricklaying"),
    "nurse" -> "nursing", "journalist" -> "journalism"."""
    forms = [word, plural(word)]
    if word.endswith("er"):
        forms.append(gerund(word[:-2]))
    elif word.endswith("e"):
        forms.append(gerund(word))
    elif word.endswith("ist"):
        forms.append(word[:-3] + "ism")
    return forms


@functools.lru_cache(maxsize=256)  # one pattern per job, read against every item a search finds
def _pattern(title: str, *, work: bool = False) -> re.Pattern[str]:
    """``title`` as a whole word or words, singular or plural; with ``work``, also the words of the work."""
    words = title.lower().split()
    forms = _forms(words[-1]) if work else [words[-1], plural(words[-1])]
    head = "(?:" + "|".join(re.escape(form) for form in forms) + ")"
    return re.compile(r"\b" + r"\s+".join([*(re.escape(w) for w in words[:-1]), head]) + r"\b", re.I)


def _texts(item: Item, *, keywords: bool) -> Iterable[str]:
    """An item's words as full-text search reads them: title, summary, text, and with ``keywords`` its keywords and
    themes (a keyword has no words around it to tell a machine from the job: CS50's "teaching assistant")."""
    return (item.title, item.summary, item.text, *([" ; ".join([*item.keywords, *item.themes])] if keywords else []))


def names_title(item: Item, title: str, *, work: bool = False) -> bool:
    """Whether the item names the job, singular or plural ("teaching assistants"), other than as a machine ("AI
    teaching assistants"); with ``work``, or its work ("bricklaying"), machines included."""
    pattern = _pattern(title, work=work)
    for text in _texts(item, keywords=work):
        for found in pattern.finditer(text):
            if work or not _MACHINE_JUST_BEFORE.search(text[max(0, found.start() - _BEFORE) : found.start()]):
                return True
    return False


def named_as(title: str, label: str | None) -> str:
    """What an item says when it names the person's job: the title they gave ("teaching assistant"), or its last word
    where that is the occupation's own one-word name ("cashier" of "supermarket cashier", for "Cashiers and ticket
    clerks"; "pharmacist" of "hospital pharmacist"). "Police officer" stays whole: "officers" names other jobs."""
    head = title.split()[-1].lower()
    return head if _label_word(label) == head else title


def _label_word(label: str | None) -> str | None:
    """An occupation's own one-word name, singular: "plumber" of "Plumbers and pipe fitters", "lawyer" of "Lawyers";
    None for a label that names work by more words ("Police officers") or by a field ("Building and related
    electricians")."""
    first = re.split(r",| and ", re.sub(r"\([^)]*\)", "", label or ""))[0].lower().split()
    return stem(first[0]) if len(first) == 1 and first[0].endswith("s") else None


def job_words(title: str, label: str | None) -> list[str]:
    """The words by which an item would name the person's job: the last word of the title they gave ("pharmacist" of
    "hospital pharmacist") and the occupation's own one-word name ("lawyer" of "Lawyers"). A solicitor is not told
    no item names their job beside items on lawyers."""
    words = [title.split()[-1].lower(), _label_word(label)]
    return list(dict.fromkeys(word for word in words if word))


def knowledge_base_names(store: MentionStore, words: list[str]) -> bool | None:
    """Whether any item names any of ``words`` (see ``job_words``) or their work ("bricklaying"); None when one is a
    word full-text search drops or too many items hold them to read them all. Full-text search finds every item
    holding a word (its stemming only widens what it finds); each found is then read for the word itself."""
    if not all(query_terms(word) for word in words):  # "a", "the": finding nothing would say nothing
        return None
    terms = [form for word in words for form in _forms(word)]
    hits = [item_id for item_id, _ in store.any_term_search(terms, limit=SCAN_LIMIT)]
    for start in range(0, len(hits), _CHUNK):
        items = store.get_many(hits[start : start + _CHUNK])
        if any(names_title(item, word, work=True) for item in items.values() for word in words):
            return True
    return False if len(hits) < SCAN_LIMIT else None
