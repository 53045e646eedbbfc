"""Compose a briefing: sector and occupation, evidence, signals, cited sentences, prompts.

``build_briefing`` receives the parts it reads — a ``Searcher`` over the record and the index, the store,
the embedder of sentences and Signals rows, the sector resolver and the occupation matcher — so it can be
tested on small in-memory parts.

Nothing here is invented: the overview sentences are the items' own sentences, verbatim (``overview``); the
signals are the items' Signals rows merged across items (``signal_clusters``). The conversation prompts are our
own templates filled with those signals and the occupation's tasks. The citation gate (``gate``) runs last.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence, Set
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from shadowmatch_kb.brief.balance import with_qualifications
from shadowmatch_kb.brief.gate import apply_citation_gate
from shadowmatch_kb.brief.headline import in_short, machines_first
from shadowmatch_kb.brief.mentions import job_words, knowledge_base_names, named_as, names_title
from shadowmatch_kb.brief.model import MAX_TITLE_CHARS, Briefing, BriefSignal, people_of
from shadowmatch_kb.brief.overview import lead_sentence, overview
from shadowmatch_kb.brief.prompts import prompts_for
from shadowmatch_kb.brief.readability import grade_level
from shadowmatch_kb.brief.retrieve import (
    MIN_EVIDENCE,
    Evidence,
    Reading,
    Retrieval,
    retrieve,
    score_candidates,
)
from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.model import Item, row_text
from shadowmatch_kb.occupations.records import is_unit_group
from shadowmatch_kb.occupations.wording import question_words
from shadowmatch_kb.occupations.work_sectors import work_sectors
from shadowmatch_kb.search.focus import focus_terms, focus_text
from shadowmatch_kb.signal_clusters import SignalCluster, cluster_rows, latest_first
from shadowmatch_kb.store.timeline import signal_rows
from shadowmatch_kb.text.english import joined, plural

if TYPE_CHECKING:
    from shadowmatch_kb.embed.base import Embedder
    from shadowmatch_kb.enrich.sectors import SectorResolver
    from shadowmatch_kb.search.searcher import Searcher
    from shadowmatch_kb.store.sqlite import SqliteStore

__all__ = [
    "OccupationMatcher",
    "build_briefing",
    "checked_occupation",
    "checked_question",
    "likely_items",
    "read_question",
]

# `smkb occupations match` for words and a count: {"occupations": [...], "missing_datasets": [...]}, scores 0..1.
OccupationMatcher = Callable[[str, int], dict[str, Any]]
OccupationWork = Callable[[str], "np.ndarray | None"]  # an ISCO-08 group's work, as a vector of the model's space

MAX_SIGNALS = 5  # with the overview, the occupation and the sources, what fits on two printed pages
EVIDENCE_ITEMS = 6  # items whose rows and sentences the briefing reads (dev part of the evaluation: 8 cited
# more loose matches, nDCG@10 about equal)
OVERVIEW_ITEMS = 6  # items whose summaries the overview is chosen from
OVERVIEW_SENTENCES = 3
# A question's sectors: the best one, and a second only when it is nearly as likely. On scripts/eval_brief.py a
# second sector at 0.85 of the first's confidence mostly added a near miss ("an online shop's support desk" is
# not retail): cited sources in the question's sector 0.867 at 0.85, 0.885 at 0.95.
SECOND_SECTOR_RATIO = 0.95
# An occupation is attached when the matcher is this sure of it (its scores run 0..1). On the development job
# descriptions right first matches scored 0.35-0.96, wrong ones 0.37-0.61: a higher floor would hide a third of the
# right ones, and the close others shown beside the first (or a typed title) let a person pick theirs.
OCCUPATION_FLOOR = 0.3
# A first match scoring under this is said to be unsure: on the development descriptions and questions, 47 of 61
# first matches under 0.6 were right, against 65 of 67 above it (session 12's reviewers asked to be told).
SURE_MATCH = 0.6
OCCUPATIONS_KEPT = 4  # the first and three close others: near-equals are common ("I teach a Year 4 class")
# "Is this you?" offers only groups scoring at least this share of the first: on the development half the right
# group, when second to fourth, scored 0.73 of the first or more; 74 of 359 wrong ones scored less.
ALTERNATIVE_SHARE = 0.7
# A signal is on the question when one of its rows is this close (cosine) to what the person does or their
# occupation; each further independent item stating it adds a little, so support orders near-equals.
SIGNAL_FLOOR = 0.3
# ... and the best signal of an item likely on the work that has none above it, at least this close (on the
# development questions this showed four more signals, each graded on the person's work).
KEPT_ITEM_SIGNAL_FLOOR = 0.2
SUPPORT_BONUS = 0.03
# An item gives at most this many signals: after its two closest rows, an item's table runs to its own concerns
# (session 12's reviews: "Leading law firms outside New York generating high revenue" for a legal secretary, four
# rows of one essay on media businesses for a copywriter, "Robots take on floor cleaning" for a receptionist). On
# the development questions this showed 59 signals, 0.831 of them graded on the work, against 66 and 0.818 with no
# limit (and 65, 0.815, at three).
SIGNALS_PER_ITEM = 2
# A signal is worded by one row; another item's row in its cluster is cited for that wording only when it says the
# same (cosine to the wording's row). Clusters at 0.65 gather rows on one theme: "AI writes the first draft note"
# (ambient scribes) joined "AI drafts replies to patient messages" at 0.83, and a briefing said two sources reported
# the replies. No two rows of different items in the real posts and the demo corpus reach 0.85 unless one copies the
# other; the closest that differ score 0.80-0.84 ("AI's role in education" twice, in other words).
SAME_CLAIM = 0.85
# How much the items' own estimated relevance (0..1) weighs beside a row's cosine: from the least to the most
# likely item, about the spread of cosines between a loose and a close row.
ITEM_RELEVANCE_WEIGHT = 0.3
# A change stated with both its ends ("from one cashier per lane to one attendant for many kiosks") tells a mentor
# what changes; "Adoption of AI in education" does not. Between two signals equally on the question, the first
# leads: it weighs as one more independent source would.
BOTH_ENDS_BONUS = SUPPORT_BONUS
_BOTH_ENDS = re.compile(r"\bfrom\b.+\bto\b|→|->", re.I | re.S)


def checked_question(question: str) -> str:
    """The question on one line; an empty one is a usage error."""
    question = " ".join(question.split())
    if not question:
        raise UsageError("the question is empty: ask, for example, 'how will AI change nursing?'")
    return question


def checked_occupation(occupation: str | None) -> str | None:
    """The occupation a person says is theirs: an ISCO-08 unit group's four digits ("7126", as "Is this you?" offers
    them) or a job title in their words ("plumber"); anything else is a usage error."""
    if occupation is None:
        return None
    occupation = " ".join(occupation.split())
    if is_unit_group(occupation):
        return occupation
    if not re.search(r"[^\W\d_]", occupation) or len(occupation) > MAX_TITLE_CHARS:
        raise UsageError(
            f"occupation {occupation[:40]!r} is neither a job title in words (at most {MAX_TITLE_CHARS} characters, "
            "e.g. plumber) nor an ISCO-08 unit group's four digits (e.g. 7126)"
        )
    return occupation


def read_question(
    question: str,
    *,
    embedder: Embedder,
    resolver: SectorResolver,
    occupations: OccupationMatcher | None = None,
    chosen_occupation: str | None = None,
    occupation_work: OccupationWork | None = None,
) -> tuple[Briefing, Reading]:
    """A briefing started with the question's sectors and occupation, and the question as the person means it
    (what retrieval reads); ``occupation_work`` gives an ISCO-08 group's work as a vector."""
    question = checked_question(question)
    question_vector = embedder.embed_batch([question])[0]
    matches = resolver.resolve_question(question, k=2, question_vector=question_vector)
    sectors = [m.name for m in matches[:1]]
    sectors += [m.name for m in matches[1:] if m.confidence >= SECOND_SECTOR_RATIO * matches[0].confidence]
    briefing = Briefing(question, None, sectors, 0)
    if occupations is not None:
        _attach_occupations(occupations, briefing, chosen_occupation)
    if briefing.occupations:
        # The job names its sector more reliably than the question's words do; the words decide only when the
        # occupation's work is spread over many sectors.
        letters = work_sectors(str(briefing.occupations[0]["isco"]))
        briefing.sectors = [resolver.vocabulary.section_name(x) for x in letters] or briefing.sectors
    isco = str(briefing.occupations[0]["isco"]) if briefing.occupations else None
    work = occupation_work(isco) if isco and occupation_work is not None else None
    names = _occupation_text(briefing.occupations)
    return briefing, Reading(focus_text(question), focus_terms(question), briefing.sectors, names, work)


def likely_items(
    question: str,
    *,
    searcher: Searcher,
    embedder: Embedder,
    resolver: SectorResolver,
    occupations: OccupationMatcher,
    occupation_work: OccupationWork | None = None,
) -> dict[str, float]:
    """Every item either ranking finds for a question read as a briefing reads it: id -> estimated relevance, most
    likely first. Cut at 0.1, search scored nDCG@10 0.805 on the development half (a plumber's one item on building,
    at 0.08, was missing from a list of warehouse robots and marketing); uncut, 0.829."""
    _, reading = read_question(
        question, embedder=embedder, resolver=resolver, occupations=occupations, occupation_work=occupation_work
    )
    found, _, _ = score_candidates(searcher, reading, resolver.vocabulary)
    return {e.item_id: round(e.relevance, 6) for e in found}


def build_briefing(
    question: str,
    *,
    searcher: Searcher,
    store: SqliteStore,
    embedder: Embedder,
    resolver: SectorResolver,
    occupations: OccupationMatcher | None = None,
    chosen_occupation: str | None = None,
    occupation_work: OccupationWork | None = None,
    since: str | None = None,
    today: date | None = None,
) -> Briefing:
    """The briefing for a mentor's question, every claim cited.

    ``embedder`` embeds the question, sentences and Signals rows; ``resolver`` finds the question's sectors;
    ``occupations`` (None: no occupation section) names the occupations the question is about;
    ``chosen_occupation`` is the ISCO-08 group the person picked (the lookup puts it first); ``occupation_work``
    gives a group's work as a vector (None: items are not compared with it).
    """
    briefing, reading = read_question(
        question,
        embedder=embedder,
        resolver=resolver,
        occupations=occupations,
        chosen_occupation=chosen_occupation,
        occupation_work=occupation_work,
    )
    briefing.since = since
    found = retrieve(searcher, reading, resolver.vocabulary, since=since, limit=EVIDENCE_ITEMS, today=today)
    stored = store.get_many([e.item_id for e in found.evidence])
    items = {e.item_id: stored[e.item_id] for e in found.evidence if e.item_id in stored}  # best first
    evidence = list(items.values())
    briefing.evidence_count = len(evidence)
    briefing.notices = list(found.notices)
    targets = np.asarray(embedder.embed_batch([reading.focus] + ([reading.occupation] if reading.occupation else [])))
    relevance = {e.item_id: e.relevance for e in found.evidence}
    # Items standing in for a question nothing is likely about are the closest the knowledge base holds, not news
    # of the person's work: each gives its one closest signal, shown as theirs (a local reporter was offered four
    # rows of an article on the US intelligence community as the changes in their work).
    limit = len(evidence) if found.standing_in else MAX_SIGNALS
    kept = set() if found.standing_in else set(items)
    briefing.signals = _signals(store, evidence, embedder, targets, relevance, limit=limit, must_show=kept)
    briefing.standing_in = found.standing_in
    # On thin evidence no signal is sure to be close to the work: the items' own sentences speak, named.
    lead = None if found.thin else lead_sentence(briefing.signals)
    stated = {i for signal in briefing.signals for i in signal.sources}
    picked = overview(
        evidence[:OVERVIEW_ITEMS],
        targets,
        embedder,
        OVERVIEW_SENTENCES - bool(lead),
        stated=stated,
        own_work=own_work(reading),
        must_cite=kept,
    )
    briefing.overview = ([lead] if lead else []) + picked
    about = {e.item_id: e.sure_sectors for e in found.evidence}
    apply_citation_gate(briefing, items, today, about=about)
    numbers = {source.id: source.number for source in briefing.sources}
    cited_words = [f"{items[i].title} {items[i].summary} {items[i].text}" for i in numbers]
    naming, lacked = _job_named(store, briefing, items)
    briefing.coverage = _coverage(found, briefing, naming, lacked)
    briefing.names_job = bool(naming and naming[1] & numbers.keys())  # a cited item names the job
    briefing.notice = _notice(found, briefing)
    briefing.in_short = machines_first(
        briefing.in_short,
        briefing.question,
        briefing.signals,
        numbers,
        about=about,
        sectors=briefing.sectors,
        sources_say=cited_words,
        closest=briefing.only_closest,
    )
    briefing.prompts = prompts_for(briefing)
    briefing.readability = {
        "overview": grade_level(" ".join(c.text for c in briefing.overview)),
        "prompts": grade_level(" ".join(briefing.prompts)),
    }
    return briefing


def own_work(reading: Reading) -> set[str]:
    """The person's work in words (as ``question_words`` reads them): their own, their occupation's names and its
    main sector ("logistics" for a lorry driver)."""
    return set(question_words(" ".join([*reading.terms, reading.occupation or "", *reading.sectors[:1]])))


def _signals(
    store: SqliteStore,
    evidence: list[Item],
    embedder: Embedder,
    targets: np.ndarray,
    item_relevance: dict[str, float],
    *,
    limit: int = MAX_SIGNALS,
    must_show: Set[str] = frozenset(),
) -> list[BriefSignal]:
    """The evidence's Signals rows merged into distinct signals, those on the question first, at most ``limit``.

    A signal's relevance is its closest row's cosine with what the person does or their occupation
    (``targets``); signals under ``SIGNAL_FLOOR`` are off the question and dropped however often they are
    stated. The estimated relevance of the items stating it (``item_relevance``) adds up to
    ``ITEM_RELEVANCE_WEIGHT``, so a row that shares words with the question cannot lead from an item that is
    not about the person's work. Support counts next (each further independent item adds ``SUPPORT_BONUS``),
    then recency.
    """
    position = {item.id: n for n, item in enumerate(evidence)}
    rows = [row for row in signal_rows(store, list(position)) if row.signal.signal.strip()]
    clusters = cluster_rows(rows, embedder)
    if not clusters:
        return []
    texts = list(dict.fromkeys(row_text(row.signal) for c in clusters for row in c.rows))
    vectors = dict(zip(texts, embedder.embed_batch(texts), strict=True))
    closeness = {text: float((vector @ targets.T).max()) for text, vector in vectors.items()}
    clusters = [part for c in clusters for part in _by_wording(c, vectors)]

    def relevance(cluster: SignalCluster) -> float:
        return max(closeness[row_text(row.signal)] for row in cluster.rows)

    def score(cluster: SignalCluster) -> float:
        stated_by = max(item_relevance.get(i, 0.0) for i in cluster.item_ids)
        both_ends = any(_BOTH_ENDS.search(row.signal.change) for row in cluster.rows)
        return (
            relevance(cluster)
            + ITEM_RELEVANCE_WEIGHT * stated_by
            + SUPPORT_BONUS * (cluster.support - 1)
            + BOTH_ENDS_BONUS * both_ends
        )

    scored = [(score(c), c) for c in clusters if relevance(c) >= SIGNAL_FLOOR]
    # An item retrieval judged likely on the work (``must_show``) gives its best signal under the floor too, if that
    # is at least loosely on the question: a claims handler's briefing found the survey of financial firms and
    # showed none of its rows; a chores app's row in an item on nursing stays out.
    heard = {i for _, c in scored for i in c.item_ids}
    for item_id in (i for i in position if i in must_show and i not in heard):  # in the evidence's order
        own = [c for c in clusters if item_id in c.item_ids and relevance(c) >= KEPT_ITEM_SIGNAL_FLOOR]
        if own:
            scored.append(max(((score(c), c) for c in own), key=lambda p: p[0]))
    scored.sort(key=lambda p: (-p[0], min(position[i] for i in p[1].item_ids), latest_first(p[1].last_seen)))
    # First the best signal of each item not yet cited, so one long table cannot fill the briefing alone and
    # every relevant item has its say; then the next best of any.
    ranked = [c for _, c in scored]
    chosen: list[SignalCluster] = []
    cited: set[str] = set()
    for cluster in ranked:
        if len(chosen) < limit and not set(cluster.item_ids) <= cited:
            chosen.append(cluster)
            cited.update(cluster.item_ids)
    said = Counter(i for c in chosen for i in c.item_ids)
    for cluster in ranked:
        if len(chosen) < limit and cluster not in chosen and all(said[i] < SIGNALS_PER_ITEM for i in cluster.item_ids):
            chosen.append(cluster)
            said.update(cluster.item_ids)
    chosen.sort(key=ranked.index)
    chosen = with_qualifications(chosen, clusters, relevance, limit=limit)
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


def _by_wording(cluster: SignalCluster, vectors: dict[str, np.ndarray]) -> list[SignalCluster]:
    """The cluster as a briefing cites it: the rows that say what its representative row says (``SAME_CLAIM``),
    whose items it cites and counts as support, and each other row as a signal of its own."""
    wording = vectors[row_text(cluster.representative.signal)]
    same = [float(vectors[row_text(r.signal)] @ wording) >= SAME_CLAIM for r in cluster.rows]
    if all(same):
        return [cluster]
    stating = SignalCluster(cluster.representative, [r for r, s in zip(cluster.rows, same, strict=True) if s])
    return [stating] + [SignalCluster(r, [r]) for r, s in zip(cluster.rows, same, strict=True) if not s]


def _attach_occupations(occupations: OccupationMatcher, briefing: Briefing, chosen: str | None) -> None:
    """The occupation the question names, with its figures, and the close others ("Is this you?"), when the
    datasets are imported; one the person ``chosen`` is theirs however unsure the matcher is of it."""
    found = occupations(briefing.question, 1)
    briefing.missing_datasets = found["missing_datasets"]
    briefing.title = found.get("title")
    top = found["occupations"][:1]
    if top and (top[0]["score"] >= OCCUPATION_FLOOR or top[0]["isco"] == chosen):
        briefing.occupations = top
        close = [o for o in found.get("alternatives", []) if o["score"] >= ALTERNATIVE_SHARE * top[0]["score"]]
        briefing.alternatives = close[: OCCUPATIONS_KEPT - 1]
        briefing.occupation_unsure = top[0]["score"] < SURE_MATCH and top[0]["isco"] != chosen
        briefing.in_short = in_short(top[0], briefing.question, unsure=briefing.occupation_unsure)


def _occupation_text(occupations: list[dict[str, Any]]) -> str | None:
    """The names of the occupation the question is about, as one text for the model; None when none is sure."""
    if not occupations:
        return None
    top = occupations[0]
    names = dict.fromkeys([top["label"], top.get("matched_label") or top["label"]])
    return ". ".join(names)


def _job_named(
    store: SqliteStore, briefing: Briefing, items: dict[str, Item]
) -> tuple[tuple[str, set[str]] | None, list[str]]:
    """For the job title the person gave (none: nothing to say): the job as items name it and the evidence items that
    do; and, when no item in the knowledge base names it, the title's word, to say so (see ``mentions``)."""
    if not briefing.title:
        return None, []
    label = briefing.occupations[0]["label"] if briefing.occupations else None
    job = named_as(briefing.title, label)
    naming = {item_id for item_id, item in items.items() if names_title(item, job)}
    words = job_words(briefing.title, label)
    # Checked by the title's last word, said as the person put it: no item naming "controller" names an "air traffic
    # controller", and "No item names controllers" read as another job (session 20's review). "Sales" is no job.
    lacked = [job] if " of " not in job and not naming and knowledge_base_names(store, words) is False else []
    return (job, naming), lacked


def _coverage(
    found: Retrieval, briefing: Briefing, naming: tuple[str, Set[str]] | None = None, lacked: Sequence[str] = ()
) -> str:
    """One plain sentence on what the briefing cites for this question: items that name the job the person gave
    themselves (``naming``: the job as items name it, and the cited items that do), items of its sector, the wider
    picture; and what the knowledge base lacks, first: no item naming the job anywhere (``lacked``: the words none
    names, see ``mentions.job_words``), none of the sector.

    Only cited items are counted (an item found but with nothing on the question to quote is not evidence a
    reader can check). Closeness in meaning is not said to be "on the work": see ``mentions``."""
    people = people_of(briefing.occupations[0]["label"]) if briefing.occupations else None
    sector = _sector_phrase(briefing.sectors)
    cited = _cited(found, briefing)
    job, naming_ids = naming or ("", set())
    named = [e for e in cited if e.item_id in naming_ids]
    rest = [e for e in cited if e.item_id not in naming_ids]
    held = []
    if named:
        held.append(f"{_items(len(named))} that name{'s' if len(named) == 1 else ''} {plural(job)}")
    of_sector = sum(e.in_sector for e in rest)  # an item is of the sector only where the question has one
    if of_sector and sector:  # named by the sectors these items are about, not every sector of the question
        theirs = [s for s in briefing.sectors if any(s in e.sure_sectors for e in rest if e.in_sector)]
        held.append(f"{_items(of_sector)} about {_sector_phrase(theirs) or sector}")
    if len(rest) > of_sector:  # standing in, such an item is not close to the work, only the nearest there is
        wider = "on other work" if found.standing_in else "closest to the work you describe"
        held.append(f"{_items(len(rest) - of_sector)} {wider}")
    if not held:
        return _nothing_cited(people, sector, found.of_sector)
    lacks = [f"names {' or '.join(plural(word) for word in lacked)}"] if lacked else []
    # Items of the sector found but none cited: said so, rather than that the sector is absent.
    none_of_sector = bool(sector) and not any(e.in_sector for e in cited)
    far = sector if none_of_sector and found.of_sector else None
    if none_of_sector and not far:
        lacks.append(f"is mainly about {sector}")
    far_text = _none_close(far) if far else ""
    # Standing in, items are the nearest found, not evidence on the work (nor the nearest held: session 21's review T).
    opening = "The closest items found, quoted below: " if found.standing_in else "This briefing rests on "
    text = opening + joined(held) + "."
    if lacks:
        text = "No item in the knowledge base " + " or ".join(lacks) + (f", and {far_text}. " if far else ". ") + text
    elif far:
        text = f"In the knowledge base, {far_text}. " + text
    return text


def _nothing_cited(people: str | None, sector: str | None, of_sector: int) -> str:
    """What a briefing citing nothing says: what the knowledge base holds nothing on, or that items of the sector
    exist but none is close to the work."""
    far = sector if sector and of_sector else None
    far_text = _none_close(far) if far else ""
    missing = [what for what in (people, sector) if what and what != far]
    if not missing and far:
        return f"In the knowledge base, {far_text}."
    if not missing:
        return "The knowledge base holds nothing yet on this question."
    return f"The knowledge base holds nothing yet on {' or '.join(missing)}" + (f", and {far_text}." if far else ".")


def _none_close(sector: str) -> str:
    return f"none of its items on {sector} is close to the work you describe"


def _cited(found: Retrieval, briefing: Briefing) -> list[Evidence]:
    """The evidence the briefing cites (an item found but with nothing on the question to quote is not cited)."""
    listed = {source.id for source in briefing.sources}
    return [e for e in found.evidence if e.item_id in listed]


def _sector_phrase(sectors: list[str]) -> str | None:
    """ "the construction sector", "the X sector and the Y sector" (names hold commas and "and" themselves); None
    without a sector."""
    return joined([f"the {sector} sector" for sector in sectors]) if sectors else None


def _items(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


def _notice(found: Retrieval, briefing: Briefing) -> str | None:
    """The plain words a thin briefing starts with, after its coverage sentence (written for the mentor:
    nothing here is addressed to the analysts who run the knowledge base). Thin means fewer than
    ``MIN_EVIDENCE`` cited items about the occupation or its sector: an item found but not cited is no evidence
    the reader can check."""
    if sum(e.tier != "wider" for e in _cited(found, briefing)) >= MIN_EVIDENCE:
        return None
    if briefing.occupations:
        return "Treat what follows as a starting point: the figures on your occupation come from public research."
    return "Treat what follows as a starting point."
