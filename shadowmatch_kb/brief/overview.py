"""The briefing's overview: a plain lead sentence, then the cited items' own summary sentences.

Nothing here is invented. The lead names the signal closest to the person's work in its own words; the other
sentences are the items' sentences, verbatim, chosen for being on the question, plain to read and not repeating
each other. A sentence that carries a finding (a figure, a result) or names the person's own work is preferred
to one that sets a scene; one that its author addressed to another reader ("For a bank worker, this means ...")
is left out unless that reader is the person's kind of work. Every item the briefing found likely enough to cite
has its say: an item none of the chosen signals states gives its best sentence first, so a relevant item is never
found and then left out of the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from shadowmatch_kb.brief.model import BriefSignal, Cited
from shadowmatch_kb.brief.readability import sentence_grade
from shadowmatch_kb.occupations.wording import question_words
from shadowmatch_kb.text.english import lower_first
from shadowmatch_kb.text.sentences import is_junk_sentence, split_sentences

if TYPE_CHECKING:
    from shadowmatch_kb.embed.base import Embedder
    from shadowmatch_kb.model import Item

__all__ = ["OVERVIEW_FLOOR", "OVERVIEW_MOST", "lead_sentence", "overview", "plain", "quotable"]

# Sentences a mentor reads easily: the overview prefers those under this grade, losing this much per grade.
PLAIN_GRADE = 9.0
GRADE_PENALTY = 0.04
MMR_LAMBDA = 0.7
_MIN_WORDS = 6
# An overview sentence must be on the question at least this much (cosine) whatever its reading ease.
OVERVIEW_FLOOR = 0.3
# Long sentences are what makes a text hard to read (the grade grows with words per sentence).
OVERVIEW_MAX_WORDS = 30
# At most this many sentences, however many items need one: with five signals, what fits on two A4 pages.
OVERVIEW_MOST = 5
# Sentences that lean on the one before ("This means...", "For most other jobs...") read badly alone.
_LEANS_ON_CONTEXT = re.compile(
    r"^(?:(?:even|only|all|both) )?(?:this|that|these|those|it|its|they|their|he|she|such|however|but|also|and|or|"
    r"so|other|instead|"
    r"for (?:most )?other|in (?:this|that|addition)|as a result|meanwhile|similarly|still)\b",
    re.I,
)
# ... as do those that point back anywhere in them: session 12's reviewers read "An earlier Stanford study had found
# that general-purpose chatbots made up legal facts far more often" and "Clients are also moving work ..." as
# sentences that make sense only inside their article.
# An "also" answering a "while" or "not only" of its own sentence points nowhere outside it.
_REFERS_BACK = re.compile(
    r"\b(?:(?:an|the) earlier|the same)\b"
    r"|^(?!.*\b(?:while|whilst|although|though|whereas|not only)\b.*\balso\b).*\balso\b",
    re.I,
)
# Such a sentence is quoted with the one before it when the two together are at most this long: the Bank of
# England's finding ("They found that 75 percent of firms already use AI ...") follows the sentence naming who
# surveyed whom, and the overview quoted that set-up alone.
PASSAGE_MAX_WORDS = 50
_LIMITING = re.compile(r"^(?:but|however|yet|even so)\b", re.I)


# What a mentor needs from a study is its result, not its method: a sentence with a figure of change or a verb of
# finding gains this much (a tenth of the usual spread of closeness), as does one naming the person's own work.
FINDING_BONUS = 0.05
OWN_WORK_BONUS = 0.05
_FINDING = re.compile(
    r"\d[\d,.]*\s*(?:%|percent\b|per cent\b|percentage points?\b)|"
    r"\b(?:found|finds|showed|shows|fell|fall|rose|rise|cut|saved|slower|faster|doubled|halved|shrink|grow)\b",
    re.I,
)
# A summary sentence about the summarised text itself ("The text discusses ...", "The text concludes by mentioning
# examples of media companies ...") names a topic, not what changed: session 21's reviewer read one as the worst line
# of a copywriter's briefing. 136 of the 947 summary sentences of the evaluation's items open so; such a sentence
# loses to any other about as close to the question (twice what a finding gains).
ABOUT_THE_TEXT_PENALTY = 0.1
_ABOUT_THE_TEXT = re.compile(r"^(?:the|this) (?:text|article|post|piece|essay|newsletter|passage)\b", re.I)
# "For a bank worker, this means ...", "For a young person, the lesson is ...": the item's author speaking to a
# reader of their own; read by someone else, it misleads (an accountant told what a bank worker should expect).
_ADDRESSED = re.compile(r"^for\s+(?P<reader>[^,]{2,60}),\s*(?:this|that|it|the\s+\w+\s+(?:is|are))\b", re.I)
_NOT_A_READER = frozenset({"example", "instance", "now", "once", "years", "decades", "comparison", "context"})


@dataclass
class _Candidate:
    text: str
    item_id: str
    score: float


def lead_sentence(signals: list[BriefSignal]) -> Cited | None:
    """A plain first sentence: the change closest to the person's work, as its sources word it, cited.

    The items' own sentences are written for adults who read reports; this one is in plain words, and
    says only what the signal it names says (its wording, its change, its sources).
    """
    if not signals:
        return None
    top = signals[0]
    change = plain(top.change)
    said = f"{plain(top.signal)} ({lower_first(change)})" if change else plain(top.signal)
    who = f"{top.support} independent sources report it" if top.support >= 2 else "one source reports it"
    # "Among the changes found": the closest the knowledge base holds, which may be about neighbouring work (driverless
    # lorries for a van driver); "the change closest to this work" read as a claim about the job itself (session 9).
    return Cited(f"Closest to your work among the changes found: {said}; {who}.", top.sources, is_quote=False)


def overview(
    evidence: list[Item],
    targets: np.ndarray,
    embedder: Embedder,
    count: int,
    *,
    stated: Set[str] = frozenset(),
    own_work: Set[str] = frozenset(),
    must_cite: Set[str] = frozenset(),
) -> list[Cited]:
    """The items' own summary sentences, plain ones preferred, each close to what the person does or their
    occupation (``targets``): first the best of each item no chosen signal states (``stated``), most relevant
    item first, up to ``OVERVIEW_MOST``; then others up to ``count`` in all. ``own_work``: the words (as
    ``question_words`` reads them) that name the person's work, from their question and their occupation.

    An item of ``must_cite`` (one retrieval judged likely on the person's work or sector) gives its best sentence
    even when none reaches ``OVERVIEW_FLOOR``: a claims handler's briefing found the survey of UK financial firms
    and, with no sentence of it that close to handling claims, showed nothing and said the knowledge base held
    nothing close."""
    candidates = [
        _Candidate(sentence, item.id, 0.0)
        for item in evidence
        for sentence in _passages(item.summary or item.text)
        if not _addressed_elsewhere(sentence, own_work)
    ]
    if not candidates:
        return []
    vectors = embedder.embed_batch([c.text for c in candidates])
    closeness = (vectors @ targets.T).max(axis=1)
    for candidate, similarity in zip(candidates, closeness.tolist(), strict=True):
        penalty = GRADE_PENALTY * max(0.0, sentence_grade(candidate.text) - PLAIN_GRADE)
        penalty += ABOUT_THE_TEXT_PENALTY * bool(_ABOUT_THE_TEXT.match(candidate.text))
        bonus = FINDING_BONUS * bool(_FINDING.search(candidate.text))
        bonus += OWN_WORK_BONUS * bool(own_work & set(question_words(candidate.text)))
        candidate.score = similarity - penalty + bonus
    on_topic = [i for i, s in enumerate(closeness.tolist()) if s >= OVERVIEW_FLOOR]
    for item_id in must_cite - {candidates[i].item_id for i in on_topic}:
        own = [i for i, c in enumerate(candidates) if c.item_id == item_id]
        on_topic += [max(own, key=lambda i: candidates[i].score)] if own else []
    on_topic.sort()
    candidates, vectors = [candidates[i] for i in on_topic], vectors[on_topic]
    unstated = [item.id for item in evidence if item.id not in stated]
    chosen: list[int] = []
    for item_id in unstated:
        own = [i for i, c in enumerate(candidates) if c.item_id == item_id]
        if own and len(chosen) < OVERVIEW_MOST:
            chosen += _pick(candidates, vectors, 1, among=own, after=chosen)
    chosen += _pick(candidates, vectors, count - len(chosen), after=chosen)
    return [Cited(candidates[i].text, [candidates[i].item_id]) for i in chosen]


def _addressed_elsewhere(sentence: str, own_work: Set[str]) -> bool:
    """Whether the sentence speaks to a reader ("For a bank worker, this means ...") whose work is not the person's."""
    found = _ADDRESSED.match(sentence)
    if found is None:
        return False
    reader = set(question_words(found["reader"])) - _NOT_A_READER
    return bool(reader) and not reader & own_work


def plain(text: str) -> str:
    """A signal or task as it reads inside a sentence: one line, no end stop, first letter kept."""
    return " ".join(text.split()).rstrip(".;,: ")


def quotable(text: str) -> str:
    """``plain`` text to print inside double quotes: its own double quotes turned single ('"Career cushioning"
    trend' printed as ""Career cushioning" trend" in session 12's review)."""
    return plain(text).replace('"', "'").replace("\u201c", "'").replace("\u201d", "'")


# A task statement longer than this (give or take a few words) is cut at a comma before it: the ILO's run to 30
# words ("Collecting local, national and international news through interviews, ..., attending film and stage
# performances"), which reviewers found slow to read, on the page and in the prompts.
TASK_WORDS = 16
# Where no comma falls within those words, a clause may start a little later (up to this many words in): before
# "and <doing>" or an adjunct such as "to ensure". A task with no such place is quoted whole: session 11's reviews
# read "... and explaining terms of …", cut mid-phrase, as a question printed broken.
TASK_WORDS_MOST = 24
_ADJUNCTS = frozenset({("to", "ensure"), ("such", "as"), ("in", "order"), ("so", "that"), ("in", "accordance")})


def short_task(text: str) -> str:
    """An ILO task statement as a briefing quotes it: one line, without the stop of the list it came from; one much
    longer than ``TASK_WORDS`` words is cut where a part of it ends (its last comma within them, else the first place
    a clause starts within ``TASK_WORDS_MOST``) and marked "…"; with no such place it stays whole. The JSON keeps
    every task whole."""
    words = plain(text).replace(" ,", ",").split(" ")
    if len(words) <= TASK_WORDS + 4:
        return " ".join(words)
    ends = [n for n in range(TASK_WORDS // 3, min(TASK_WORDS_MOST, len(words) - 1)) if _part_ends(words, n)]
    within = [n for n in ends if n < TASK_WORDS] or ends[:1]
    if not within:
        return " ".join(words)
    return " ".join(words[: within[-1] + 1]).rstrip(",;:") + " …"


def _part_ends(words: list[str], n: int) -> bool:
    """Whether a part of a task ends at word ``n``: at a comma, or before "and <doing>" or an adjunct."""
    after = (words[n + 1], words[n + 2] if n + 2 < len(words) else "")
    return words[n].endswith((",", ";")) or (after[0] == "and" and after[1].endswith("ing")) or after in _ADJUNCTS


def _passages(text: str) -> list[str]:
    """The text's sentences that read alone, and each finding that leans on the sentence before ("They found that 75
    percent of firms ...") quoted with it when that one reads alone, sets the finding up or states the finding it
    limits ("But when the tools were taken away ... 17 percent lower"), and the two are short enough to read as one.
    A finding that the next sentence limits is never quoted alone."""
    found = [_main_clause(" ".join(s.text.split())) for s in split_sentences(text)[:8]]
    readable = [_MIN_WORDS <= len(s.split()) <= OVERVIEW_MAX_WORDS and not is_junk_sentence(s) for s in found]
    limited = [n + 1 < len(found) and _limits(found[n + 1], sentence) for n, sentence in enumerate(found)]
    passages = []
    for n, sentence in enumerate(found):
        if not readable[n]:
            continue
        if not _leans_on_context(sentence):
            passages += [] if limited[n] else [sentence]
            continue
        if n == 0 or not readable[n - 1] or _leans_on_context(found[n - 1]):
            continue
        pair = f"{found[n - 1]} {sentence}"
        if (_is_finding_of(sentence, found[n - 1]) or limited[n - 1]) and len(pair.split()) <= PASSAGE_MAX_WORDS:
            passages.append(pair)
    return passages


def _limits(sentence: str, before: str) -> bool:
    """Whether ``sentence`` limits the finding ``before`` states: a "but" with a finding of its own (session 12's
    reviewers read practice scores up 48 percent, quoted without the exam scores 17 percent lower, as the study's
    message reversed)."""
    return bool(_LIMITING.match(sentence) and _FINDING.search(sentence) and _FINDING.search(before))


def _is_finding_of(sentence: str, before: str) -> bool:
    """Whether ``sentence`` states a finding that ``before``, stating none, sets up ("They found that 75 percent ..."
    after who surveyed whom); a remark that only adds to a finding ("Clients are also moving work ...") is not
    worth the second sentence it costs."""
    return bool(_FINDING.search(sentence)) and not _FINDING.search(before)


def _leans_on_context(sentence: str) -> bool:
    return bool(_LEANS_ON_CONTEXT.match(sentence) or _REFERS_BACK.search(sentence))


# Where a long sentence's main clause ends and a clause that only adds to it begins: what comes before stays true
# on its own ("developers took 19 percent longer, although they had expected ..."). Not "but": "rose 10 percent,
# but only among graduates" would lose the limit that makes it true.
_ADDED_CLAUSE = re.compile(r"(?:,\s+(?:although|though|whereas|while|which)\b|;\s)", re.I)


def _main_clause(sentence: str) -> str:
    """A sentence too long for the overview cut to its main clause, when one stands before a clause that only adds
    to it; any other sentence as it is. The result often was the long sentence (session 9's review: a trial's
    finding left out for its set-up)."""
    if len(sentence.split()) <= OVERVIEW_MAX_WORDS:
        return sentence
    cut = _ADDED_CLAUSE.search(sentence)
    return sentence[: cut.start()].rstrip(" ,;") + "." if cut else sentence


def _pick(
    candidates: list[_Candidate],
    vectors: np.ndarray,
    count: int,
    *,
    among: list[int] | None = None,
    after: Sequence[int] = (),
) -> list[int]:
    """Up to ``count`` more candidates (of ``among``, else any), one per item, by maximal marginal relevance: on
    the question, not repeating each other or those chosen before (``after``)."""
    chosen = list(after)
    used_items = {candidates[i].item_id for i in chosen}
    remaining = sorted(among if among is not None else range(len(candidates)), key=lambda i: -candidates[i].score)
    picked: list[int] = []
    while remaining and len(picked) < count:
        best, best_value = -1, -np.inf
        for i in remaining:
            if candidates[i].item_id in used_items:
                continue
            redundancy = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            value = MMR_LAMBDA * candidates[i].score - (1 - MMR_LAMBDA) * redundancy
            if value > best_value:
                best, best_value = i, value
        if best < 0:
            break
        chosen.append(best)
        picked.append(best)
        used_items.add(candidates[best].item_id)
        remaining.remove(best)
    return picked
