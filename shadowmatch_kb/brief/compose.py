"""Compose a briefing: sector and occupation, evidence, signals, cited sentences, prompts.

``build_briefing`` receives the parts it reads — a ``Searcher`` over the record and the index, the store,
the embedder of sentences and Signals rows, the sector resolver and the occupation matcher — so it can be
tested on small in-memory parts.

Nothing here is invented: the overview and the skills sentences are the items' own sentences, verbatim,
chosen for being on the question, plain to read and not repeating each other; the signals are the items'
Signals rows merged across items (``signal_clusters``). The conversation prompts are our own templates
filled with those signals and the occupation's tasks. The citation gate (``gate``) runs last.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from shadowmatch_kb.brief.gate import apply_citation_gate
from shadowmatch_kb.brief.model import Briefing, BriefSignal, Cited
from shadowmatch_kb.brief.readability import grade_level, sentence_grade
from shadowmatch_kb.brief.retrieve import MIN_EVIDENCE, Retrieval, retrieve
from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.model import Item
from shadowmatch_kb.signal_clusters import SignalCluster, cluster_rows, latest_first
from shadowmatch_kb.store.timeline import signal_rows
from shadowmatch_kb.text.sentences import is_junk_sentence, split_sentences

if TYPE_CHECKING:
    from shadowmatch_kb.embed.base import Embedder
    from shadowmatch_kb.enrich.sectors import SectorResolver
    from shadowmatch_kb.search.searcher import Searcher
    from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = ["OccupationMatcher", "build_briefing", "checked_question"]

# What `smkb occupations match` answers for a person's words and a count: {"occupations": [...],
# "missing_datasets": [...]}, each occupation with its "score" (0..1).
OccupationMatcher = Callable[[str, int], dict[str, Any]]

MAX_SIGNALS = 8
EVIDENCE_ITEMS = 12  # items whose rows and sentences the briefing reads
OVERVIEW_ITEMS = 6  # items whose summaries the overview is chosen from
OVERVIEW_SENTENCES = 3
SKILL_SENTENCES = 3  # at most, for each direction
# A question's sectors: the best one, and a second only when it is nearly as likely. On scripts/eval_brief.py a
# second sector at 0.85 of the first's confidence mostly added a near miss ("an online shop's support desk" is
# not retail): cited sources in the question's sector 0.867 at 0.85, 0.885 at 0.95.
SECOND_SECTOR_RATIO = 0.95
# An occupation is attached when the matcher is this sure of it (its scores run 0..1).
OCCUPATION_FLOOR = 0.55
OCCUPATIONS_KEPT = 3
# Sentences a mentor reads easily: the overview prefers those under this grade, losing this much per grade.
PLAIN_GRADE = 9.0
GRADE_PENALTY = 0.04
MMR_LAMBDA = 0.7
_MIN_WORDS, _MAX_WORDS = 6, 40
_TEXT_SENTENCES = 80  # sentences of an item's text searched for skills and tasks
# Sentences that lean on the one before ("This means...", "For most other jobs...") read badly alone.
_LEANS_ON_CONTEXT = re.compile(
    r"^(?:this|that|these|those|it|its|they|their|he|she|such|however|but|also|and|or|so|other|"
    r"for (?:most )?other|in (?:this|that|addition)|as a result|meanwhile|similarly|still)\b",
    re.I,
)
# An overview sentence must be on the question at least this much (cosine) whatever its reading ease.
OVERVIEW_FLOOR = 0.3
# Long sentences are what makes a text hard to read (the grade grows with words per sentence).
OVERVIEW_MAX_WORDS = 30
# A comparison's second half is what the text weighs against, not what it says happens:
# "more likely to augment work than to automate it" says nothing shrinks.
_COMPARED = re.compile(r"\b(?:rather )?than\b.*$", re.I)

_SKILL_TOPIC = re.compile(
    r"\b(?:skills?|tasks?|roles?|jobs?|occupations?|expertise|competenc\w*|talent|workforce|positions?)\b", re.I
)
_GROW = re.compile(
    r"\b(?:grow\w*|ris(?:e|es|ing)|increas\w*|in demand|demand for|need for|needed|new (?:roles|jobs|skills)|"
    r"creat(?:e|es|ed|ing)|emerg\w*|expand\w*|boost\w*|higher demand|more important|valu(?:e|ed) more)\b",
    re.I,
)
_SHRINK = re.compile(
    r"\b(?:declin\w*|fall\w*|fewer|shrink\w*|replac\w*|automat(?:e|es|ed|ing)|eliminat\w*|displac\w*|"
    r"reduc\w*|disappear\w*|obsolete|los(?:e|es|ing|t) (?:their )?(?:jobs|roles)|cut(?:s|ting)?)\b",
    re.I,
)


@dataclass
class _Candidate:
    text: str
    item_id: str
    score: float


def checked_question(question: str) -> str:
    """The question on one line; an empty one is a usage error."""
    question = " ".join(question.split())
    if not question:
        raise UsageError("the question is empty: ask, for example, 'how will AI change nursing?'")
    return question


def build_briefing(
    question: str,
    *,
    searcher: Searcher,
    store: SqliteStore,
    embedder: Embedder,
    resolver: SectorResolver,
    occupations: OccupationMatcher | None = None,
    since: str | None = None,
    today: date | None = None,
) -> Briefing:
    """The briefing for a mentor's question, every claim cited.

    ``embedder`` embeds the question, sentences and Signals rows; ``resolver`` finds the question's sectors;
    ``occupations`` (None: no occupation section) names the occupations the question is about.
    """
    question = checked_question(question)
    question_vector = embedder.embed_batch([question])[0]
    matches = resolver.resolve_question(question, k=2, question_vector=question_vector)
    sectors = [m.name for m in matches[:1]]
    sectors += [m.name for m in matches[1:] if m.confidence >= SECOND_SECTOR_RATIO * matches[0].confidence]
    found = retrieve(searcher, question, sectors, resolver.vocabulary, since=since, limit=EVIDENCE_ITEMS, today=today)
    items = store.get_many([e.item_id for e in found.evidence])
    evidence = [items[e.item_id] for e in found.evidence if e.item_id in items]

    briefing = Briefing(question, since, sectors, len(evidence), notices=list(found.ranked.notices))
    briefing.signals = _signals(store, evidence, embedder)
    lead = _lead_sentence(briefing.signals)
    picked = _overview(evidence[:OVERVIEW_ITEMS], question_vector, embedder, OVERVIEW_SENTENCES - bool(lead))
    briefing.overview = ([lead] if lead else []) + picked
    briefing.growing, briefing.shrinking = _skills(evidence, question_vector, embedder)
    if occupations is not None:
        _attach_occupations(occupations, briefing)
    briefing.notice = _notice(found, sectors)
    apply_citation_gate(briefing, items)
    briefing.prompts = _prompts(briefing)
    briefing.readability = {
        "overview": grade_level(" ".join(c.text for c in briefing.overview)),
        "prompts": grade_level(" ".join(briefing.prompts)),
    }
    return briefing


def _signals(store: SqliteStore, evidence: list[Item], embedder: Embedder) -> list[BriefSignal]:
    """The evidence's Signals rows merged into distinct signals: most independent support first, then the
    most relevant items' (the evidence order), then the most recent."""
    position = {item.id: n for n, item in enumerate(evidence)}
    rows = [row for row in signal_rows(store, list(position)) if row.signal.signal.strip()]
    # An item lists its main signals first: among equally supported signals, each item's first row comes
    # before any item's second, so one long table cannot fill the briefing alone.
    row_order: dict[int, int] = {}
    seen_per_item: dict[str, int] = {}
    for row in rows:
        row_order[id(row)] = seen_per_item.get(row.item_id, 0)
        seen_per_item[row.item_id] = row_order[id(row)] + 1
    clusters = cluster_rows(rows, embedder)

    def rank(cluster: SignalCluster) -> tuple[int, int, int, str]:
        first = min(row_order[id(row)] for row in cluster.rows)
        best = min(position[i] for i in cluster.item_ids)
        return (-cluster.support, first, best, latest_first(cluster.last_seen))

    chosen = sorted(clusters, key=rank)[:MAX_SIGNALS]
    return [
        BriefSignal(
            c.representative.signal.signal,
            c.representative.signal.change,
            c.representative.signal.horizon,
            c.representative.signal.driving_force,
            sorted(c.item_ids, key=lambda i: position[i]),
            c.support,
            c.last_seen,
        )
        for c in chosen
    ]


def _sentences(text: str, limit: int | None = None, *, max_words: int = _MAX_WORDS) -> list[str]:
    found = [" ".join(s.text.split()) for s in split_sentences(text)[:limit]]
    return [s for s in found if _MIN_WORDS <= len(s.split()) <= max_words and not is_junk_sentence(s)]


def _pick(
    candidates: list[_Candidate], vectors: np.ndarray, count: int, *, one_per_item: bool = True
) -> list[_Candidate]:
    """Up to ``count`` candidates by maximal marginal relevance: on the question, not repeating each other."""
    chosen: list[int] = []
    used_items: set[str] = set()
    remaining = sorted(range(len(candidates)), key=lambda i: -candidates[i].score)
    while remaining and len(chosen) < count:
        best, best_value = -1, -np.inf
        for i in remaining:
            if one_per_item and candidates[i].item_id in used_items:
                continue
            redundancy = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            value = MMR_LAMBDA * candidates[i].score - (1 - MMR_LAMBDA) * redundancy
            if value > best_value:
                best, best_value = i, value
        if best < 0:
            break
        chosen.append(best)
        used_items.add(candidates[best].item_id)
        remaining.remove(best)
    return [candidates[i] for i in chosen]


def _lead_sentence(signals: list[BriefSignal]) -> Cited | None:
    """A plain first sentence naming the most supported signals, cited to the items that state them.

    The items' own sentences are written for adults who read reports; this one is in plain words, and
    says only what the signals it names say (their wording, their sources).
    """
    if not signals:
        return None
    top = signals[0]
    if top.support >= 2:
        return Cited(f'{top.support} of these sources report the same change: "{_plain(top.signal)}".', top.sources)
    named = signals[:2]
    changes = " and ".join(f'"{_plain(s.signal)}"' for s in named)
    return Cited(f"These sources report changes such as {changes}.", [i for s in named for i in s.sources])


def _overview(evidence: list[Item], question_vector: np.ndarray, embedder: Embedder, count: int) -> list[Cited]:
    """Up to ``count`` of the most relevant items' own summary sentences, plain ones preferred."""
    candidates = [
        _Candidate(sentence, item.id, 0.0)
        for item in evidence
        for sentence in _sentences(item.summary or item.text, limit=8, max_words=OVERVIEW_MAX_WORDS)
        if not _LEANS_ON_CONTEXT.match(sentence)
    ]
    if not candidates:
        return []
    vectors = embedder.embed_batch([c.text for c in candidates])
    for candidate, vector in zip(candidates, vectors, strict=True):
        similarity = float(vector @ question_vector)
        penalty = GRADE_PENALTY * max(0.0, sentence_grade(candidate.text) - PLAIN_GRADE)
        candidate.score = similarity - penalty if similarity >= OVERVIEW_FLOOR else -1.0
    on_topic = [i for i, c in enumerate(candidates) if c.score > -1.0]
    candidates, vectors = [candidates[i] for i in on_topic], vectors[on_topic]
    chosen = _pick(candidates, vectors, count)
    return [Cited(c.text, [c.item_id]) for c in chosen]


def _skills(evidence: list[Item], question_vector: np.ndarray, embedder: Embedder) -> tuple[list[Cited], list[Cited]]:
    """Sentences of the items that say a skill, task or role grows or shrinks, on the question first."""
    growing: list[_Candidate] = []
    shrinking: list[_Candidate] = []
    seen: set[str] = set()
    for item in evidence:
        for sentence in _sentences(f"{item.summary}\n\n{item.text}", limit=_TEXT_SENTENCES):
            if sentence in seen or not _SKILL_TOPIC.search(sentence):
                continue
            seen.add(sentence)
            stated = _COMPARED.sub("", sentence)
            up, down = len(_GROW.findall(stated)), len(_SHRINK.findall(stated))
            if up > down:
                growing.append(_Candidate(sentence, item.id, 0.0))
            elif down > up:
                shrinking.append(_Candidate(sentence, item.id, 0.0))
    results: list[list[Cited]] = []
    for group in (growing, shrinking):
        if not group:
            results.append([])
            continue
        vectors = embedder.embed_batch([c.text for c in group])
        for candidate, vector in zip(group, vectors, strict=True):
            candidate.score = float(vector @ question_vector)
        results.append([Cited(c.text, [c.item_id]) for c in _pick(group, vectors, SKILL_SENTENCES)])
    return results[0], results[1]


def _attach_occupations(occupations: OccupationMatcher, briefing: Briefing) -> None:
    """The occupations the question names, with their figures, when the datasets are imported."""
    found = occupations(briefing.question, OCCUPATIONS_KEPT)
    briefing.missing_datasets = found["missing_datasets"]
    briefing.occupations = [o for o in found["occupations"] if o["score"] >= OCCUPATION_FLOOR]


def _notice(found: Retrieval, sectors: list[str]) -> str | None:
    """The plain words a thin briefing starts with."""
    if not found.thin:
        return None
    topic = f"the {' and '.join(sectors)} sector" if sectors else "this question"
    held = len(found.evidence)
    what = "nothing" if held == 0 else f"only {held} item{'s' if held > 1 else ''}"
    return (
        f"The knowledge base holds {what} on {topic} (a briefing needs at least {MIN_EVIDENCE}). "
        "What follows is all it has; add sources with `smkb ingest` or `smkb crawl` for a fuller picture."
    )


def _prompts(briefing: Briefing) -> list[str]:
    """Three to five questions to talk about during the shadow day, in plain words."""
    prompts: list[str] = []
    signals = briefing.signals
    if signals:
        prompts.append(
            f'Talk about "{_plain(signals[0].signal)}". Have you seen it at work yet? What would it change in your day?'
        )
    occupation = briefing.occupations[0] if briefing.occupations else None
    if occupation and occupation.get("most_exposed_tasks"):
        task = _plain(occupation["most_exposed_tasks"][0]["task"])
        prompts.append(f'Show your visitor this task: "{task}". Which parts could AI help with? Who checks the result?')
    if occupation and occupation.get("least_exposed_tasks"):
        task = _plain(occupation["least_exposed_tasks"][0]["task"])
        prompts.append(f'Now show a task that needs a person: "{task}". Why is it hard to hand to a machine?')
    if len(signals) > 1:
        prompts.append(
            f'Ask what your visitor thinks of "{_plain(signals[1].signal)}". Is it good news for new starters?'
        )
    if briefing.growing or briefing.shrinking or len(prompts) < 3:
        prompts.append("Which skills do you use most today? Which would you learn first if you started now?")
    if len(prompts) < 3:
        prompts.append(
            "Walk through a normal day together. Which tasks take the most time? Which could a computer help with?"
        )
    if len(prompts) < 3:
        prompts.append("Ask your visitor what they would like to learn from you that no machine could teach them.")
    return prompts[:5]


def _plain(text: str) -> str:
    """A signal or task as it reads inside a sentence: one line, no end stop, first letter kept."""
    return " ".join(text.split()).rstrip(".;,: ")
