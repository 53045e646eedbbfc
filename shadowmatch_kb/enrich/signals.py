"""The Signals table of an item, offline: every row is built from, and quotes, one sentence of the text.

1. Each sentence gets a change score: half its weight of cue words of change (automate, replace, shift,
   adopt, cut or create jobs, "will", "by 2030", "from ... to ...", figures, new roles, comparisons,
   words of work and technology), half its best cosine similarity to prototype statements of change.
2. A text gets rows only when a sentence anchors a signal: it names work or technology and a change,
   and scores above a threshold (a long article needs two such sentences, and a higher score for every
   row). Sport, celebrity, recipe and purely descriptive texts get an empty table, never invented rows;
   so does non-English text, since the rows are written in English.
3. The best sentences, near-duplicates skipped, become rows: one per predicate of the main clause
   ("AI improves X, reduces Y"), then clauses set around it ("while ...", ", leading to ...") if room
   is left. The signal is the clause in at most seven words; the change is "from X to Y", taken from
   explicit wording ("from ... to ...", "replaced by", "instead of") or built from the verb and its
   object; the horizon uses the time frame the sentence states, else a cautious ten-year phrasing;
   the driving force comes from ``forces``. The evidence is the sentence, a verbatim slice of the text.
4. A title that names a change lends its words to the signal of the sentence that supports it best.

The cue words are in ``cues``, the reading of a sentence into clauses in ``clauses``; this module
scores and picks the sentences and words each row's change and horizon.

Rows are compared under ``model.row_text``: the signal and its change, which together say what changes
and how.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

import numpy as np

from shadowmatch_kb.enrich.clauses import (
    BASE_VERBS,
    COMMON_WORDS,
    Clause,
    clause_statement,
    content_words,
    lemma_of,
    list_items,
    object_words,
    short_subject,
    signal_words,
    split_clauses,
    split_segments,
    tokenise,
    trim,
)
from shadowmatch_kb.enrich.cues import cue_score, pattern
from shadowmatch_kb.enrich.forces import FORCES, force_scores
from shadowmatch_kb.model import Signal
from shadowmatch_kb.text.english import lower_first
from shadowmatch_kb.text.sentences import Sentence, has_long_token, split_sentences, without_long_tokens

if TYPE_CHECKING:
    from shadowmatch_kb.embed.base import Embedder

__all__ = ["MAX_SIGNAL_WORDS", "extract_signals"]

MAX_SIGNAL_WORDS = 7
# Tuned on the Signals posts (rows wanted) and on sport and entertainment news (no rows wanted).
_ANCHOR_THRESHOLD = 0.27
_ROW_THRESHOLD = 0.05
_LONG_TEXT = 12  # sentences; a longer text needs two anchors and its rows this higher score
_LONG_ANCHOR_THRESHOLD = 0.33
_TITLE_SUPPORT = 0.4  # the least share of a title's words that the sentence quoted for it must hold
_REDUNDANT = 0.86  # two sentences this similar would give the same row
_MAX_EMBEDDED = 48  # long texts: only the sentences richest in cue words are embedded
_MIN_WORDS, _MAX_WORDS = 5, 80
_CHANGE_WORDS = 40  # the most words of a clause quoted as a change
_HORIZON_WORDS = 12  # the most words of a clause restated in a horizon without a kind of change
_CONTEXT_WEIGHT = 0.5  # how much the forces of the whole text count in each row's force

_PROTOTYPES = (
    "AI will replace many clerical and administrative jobs.",
    "Companies are automating routine tasks that workers used to do by hand.",
    "Employers are adopting generative AI tools to boost productivity.",
    "The new technology cuts thousands of jobs at the firm.",
    "Automation creates new roles that require different skills.",
    "Workers will need to reskill as their jobs change.",
    "By 2030 a third of working hours could be automated.",
    "The industry is shifting from manual processes to digital platforms.",
    "Demand for these workers is expected to fall over the next decade.",
    "AI assistants help employees work faster and serve more customers.",
    "Businesses are turning to robots because they cannot hire enough staff.",
    "Layoffs are rising as companies restructure around AI.",
    "The role of managers is changing as teams work with AI.",
    "New rules will require employers to disclose how they use algorithms.",
    "Hospitals use AI to reduce paperwork for nurses and doctors.",
    "Schools and universities are changing how students learn and are assessed.",
    "The company changes its strategy and business model to grow revenue.",
    "Consumers increasingly expect fast and personalised digital services.",
    "Older workers are retiring and fewer young people enter the workforce.",
    "Remote and flexible work is becoming the norm for many employees.",
    "Wages and working conditions are improving for gig workers.",
    "The technology could transform how the profession works.",
)


_ENGLISH = frozenset("the of and to in is are a that for with on as by this it be will from has have its".split())

_prototype_cache: dict[int, tuple[object, np.ndarray]] = {}
_cache_lock = threading.Lock()


def extract_signals(
    text: str,
    embedder: Embedder,
    *,
    title: str = "",
    sentences: list[Sentence] | None = None,
    sentence_vectors: np.ndarray | None = None,
    max_rows: int = 10,
) -> list[Signal]:
    """Signals rows for a text, each quoting its sentence verbatim; [] when the text states no change in work.

    ``sentences`` are ``split_sentences(text)`` and ``sentence_vectors`` their embeddings, row for row,
    when the caller has them already.
    """
    if max_rows <= 0 or not _looks_english(text):
        return []
    sentences = split_sentences(text) if sentences is None else sentences
    if sentence_vectors is not None and len(sentence_vectors) != len(sentences):
        raise ValueError(f"{len(sentence_vectors)} sentence vectors for {len(sentences)} sentences")
    scored = _score(sentences, embedder, sentence_vectors)
    if scored is None:
        return []
    scores, vectors, floor = scored
    chosen = _select(sorted(scores, key=lambda i: -scores[i]), scores, vectors, max_rows, floor)
    forces = {i: force_scores(sentences[i].text, vectors[i], embedder) for i in chosen}
    # What drives one change in a text usually drives the others: the text's forces weigh in on each row.
    context = _CONTEXT_WEIGHT * np.mean(list(forces.values()), axis=0) if forces else 0.0
    title = _title_phrase(title)
    lead = _title_sentence(title, [sentences[i].text for i in chosen]) if title else None
    candidates: list[tuple[float, int, int, Signal]] = []
    seen: set[str] = set()
    for n, i in enumerate(chosen):
        evidence = _verbatim(sentences[i], text)
        if evidence is None:
            continue
        for k, (rank, row) in enumerate(_rows(evidence, FORCES[int(np.argmax(forces[i] + context))])):
            if n == lead and k == 0:
                row.signal = title
            if row.signal.lower() not in seen:
                seen.add(row.signal.lower())
                candidates.append((scores[i] - rank, i, k, row))
    best = sorted(candidates, key=lambda c: -c[0])[:max_rows]
    return [row for _, _, _, row in sorted(best, key=lambda c: (c[1], c[2]))]


def _score(
    sentences: list[Sentence], embedder: Embedder, sentence_vectors: np.ndarray | None
) -> tuple[dict[int, float], dict[int, np.ndarray], float] | None:
    """Change scores and vectors of the sentences fit for a row, and the least score a row needs;
    None when no sentence anchors a signal."""
    # A sentence holding a run longer than any word (a URL, a data blob) states no change in words.
    usable = [
        i
        for i, s in enumerate(sentences)
        if _MIN_WORDS <= len(s.text.split()) <= _MAX_WORDS and not has_long_token(s.text)
    ]
    cues = {i: cue_score(sentences[i].text) for i in usable}
    if not any(anchor for _, anchor in cues.values()):
        return None
    if sentence_vectors is None:
        usable = sorted(sorted(usable, key=lambda i: -cues[i][0])[:_MAX_EMBEDDED])
        vectors = dict(zip(usable, embedder.embed_batch([sentences[i].text for i in usable]), strict=True))
    else:
        vectors = {i: np.asarray(sentence_vectors[i], dtype=np.float32) for i in usable}
    prototypes = _prototype_vectors(embedder)
    scores = {i: 0.5 * float(np.max(prototypes @ vectors[i])) + 0.5 * cues[i][0] for i in usable}
    # A long article mentions work in passing more often than a summary does: it must say more, and more clearly.
    long = len(usable) > _LONG_TEXT
    threshold, needed = (_LONG_ANCHOR_THRESHOLD, 2) if long else (_ANCHOR_THRESHOLD, 1)
    if sum(1 for i in usable if cues[i][1] and scores[i] >= threshold) < needed:
        return None
    return scores, vectors, (_LONG_ANCHOR_THRESHOLD if long else _ROW_THRESHOLD)


def _looks_english(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text.lower())[:400]
    return bool(words) and sum(w in _ENGLISH for w in words) / len(words) >= 0.08


def _prototype_vectors(embedder: Embedder) -> np.ndarray:
    with _cache_lock:
        cached = _prototype_cache.get(id(embedder))
        # The entry keeps the embedder itself, so its id cannot be taken over by another object.
        if cached is not None and cached[0] is embedder:
            return cached[1]
    vectors = np.asarray(embedder.embed_batch(list(_PROTOTYPES)), dtype=np.float32)
    with _cache_lock:
        _prototype_cache[id(embedder)] = (embedder, vectors)
    return vectors


def _select(
    ranked: list[int], scores: dict[int, float], vectors: dict[int, np.ndarray], limit: int, floor: float
) -> list[int]:
    chosen: list[int] = []
    for i in ranked:
        if scores[i] < floor or len(chosen) >= limit:
            break
        if all(float(vectors[i] @ vectors[j]) < _REDUNDANT for j in chosen):
            chosen.append(i)
    return chosen


def _verbatim(sentence: Sentence, text: str) -> str | None:
    """The sentence as it stands in the text; None when the offsets and the text disagree."""
    if text[sentence.start : sentence.end] == sentence.text:
        return sentence.text
    return sentence.text if sentence.text and sentence.text in text else None


# "Exploring the rise of X" is about the rise of X.
_TITLE_FRAME = re.compile(
    r"^(?:exploring|navigating|understanding|examining|unpacking|inside|introducing|discussing|analy[sz]ing)\s+(?:the\s+)?",
    re.IGNORECASE,
)
_TITLE_CUT = re.compile(r"(?<!\s)\s*(?:[:|?!(]|\s[-–—]\s|,\s*but\b|\sas\s|\swhile\s|\swith\s)", re.IGNORECASE)


def _title_phrase(title: str) -> str:
    """A title's first clause in at most seven words; "" for none, or for a title cut off mid-sentence."""
    # Single spaces and no run longer than a word: the clause patterns read words, not junk.
    title = " ".join(without_long_tokens(title).split()).strip("_*#").strip()
    if not title or title.endswith(("…", "...")):
        return ""
    words = _TITLE_FRAME.sub("", _TITLE_CUT.split(title, maxsplit=1)[0]).split()
    if sum(w[:1].isupper() for w in words) > len(words) / 2:  # Title Case hides which words are names
        words = [w.lower() if lemma_of(w) or w.lower() in COMMON_WORDS else w for w in words]
    clauses = split_clauses(" ".join(words))
    phrase = " ".join(signal_words(clauses[0], MAX_SIGNAL_WORDS)) if clauses else ""
    return phrase[:1].upper() + phrase[1:] if len(phrase.split()) >= 2 else ""


def _title_sentence(title: str, sentences: list[str]) -> int | None:
    """The sentence that supports a title best (most of its words, by stem), if any supports it well enough."""
    stems = {word.lower()[:5] for word in title.split() if len(word) > 2}
    if not stems or not sentences:
        return None
    shares = [len(stems & {w.lower()[:5] for w in tokenise(s)}) / len(stems) for s in sentences]
    best = int(np.argmax(shares))
    return best if shares[best] >= _TITLE_SUPPORT else None


def _rows(evidence: str, force: str) -> list[tuple[float, Signal]]:
    """Rows for one sentence with their rank: 0 for the main clause, 1 and more for the clauses around it."""
    rows = []
    # The clause patterns read single spaces: over a long run of spaces some would try every split of it.
    sentence = " ".join(evidence.split())
    segments, whole = split_segments(sentence)
    for rank, segment in enumerate(segments):
        clauses = split_clauses(segment)
        verbless = len(clauses) == 1 and not clauses[0].verb and not clauses[0].subject
        if verbless and len(items := list_items(segment)) > 1:
            # "the loss of jobs, the blurring of reality and the spread of value": one change each.
            stated_clauses = [(item, split_clauses(item)[0]) for item in items]
        elif len(clauses) == 1:
            stated_clauses = [(whole if rank == 0 else segment, clauses[0])]
        else:  # a clause that shares its segment with others is restated alone
            stated_clauses = [(" ".join([*clause.subject, *clause.predicate]), clause) for clause in clauses]
        for stated, clause in stated_clauses:
            words = signal_words(clause, MAX_SIGNAL_WORDS)
            if len(words) < 2:
                continue
            signal = " ".join(words)
            change, kind, target = _change(sentence, clause, stated)
            horizon = _horizon(sentence, kind, target)
            rows.append((float(rank), Signal(signal[0].upper() + signal[1:], change, horizon, force, evidence)))
    return rows


# --- Change and horizon --------------------------------------------------------------------------------

_KIND = {  # how a verb changes its object, for the wording of the change and the horizon
    lemma: kind
    for kind, lemmas in (
        ("up", "increase boost raise grow rise double expand accelerate surge soar climb jump bolster"),
        ("better", "improve enhance strengthen ease"),
        ("down", "reduce decrease decline cut lower drop fall shrink halve limit plummet slump diminish lose fire lay"),
        ("replace", "replace displace eliminate outsource offshore"),
        ("automate", "automate"),
        ("adopt", "adopt use utilize utilise deploy integrate embrace turn rely employ introduce"),
        ("create", "create generate produce open offer build develop launch"),
    )
    for lemma in lemmas.split()
}

_FROM_TO = pattern(
    r"\bfrom\s+((?:(?![,;.]).){3,80}?)\s+(?:to|towards|into)\s+((?:(?![,;]).){3,80}?)",
    r"(?=[,;:]|\.(?:\s|$)|\s+(?:and then|while|which|as|but|because|with)\b|$)",
)
_REPLACED_BY = pattern(
    r"\b([\w\s'’-]{3,60}?)\s+(?:are|is|were|was|being|been)\s+(?:being\s+)?replaced\s+by\s+([\w\s'’-]{3,60}?)(?=[,;.]|$)"
)
_CALENDAR = pattern(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|june|july",
    r"|august|september|october|november|december|(?:19|20)\d\d|\d{1,2}(?::\d\d)?\s?(?:am|pm|a\.m\.|p\.m\.))\b",
)
_NOT_A_CHANGE = pattern(r"\b(?:recover\w*|away|benefit\w*|suffer\w*|emerg\w*|result\w*|deriv\w*|stem\w*|apart|far)\s*$")
_LEADING_WH = pattern(  # "where employees ...", "Bing can generate ...": the words a change starts after
    r"^(?:(?:where|when|which|that|who|whom|how|while)\s+)+",
    r"|^(?:\w+\s+)*?(?:can|could|will|would|may|might|should|must)\s+",
)
# A match can only start at the first letter of a run of word characters, quotes and hyphens and take the
# run whole (a space must follow it); trying every later letter of the run again would be quadratic in it.
_INSTEAD = pattern(
    r"(?<![\w'’-])['’-]*+\b([\w'’-]++(?:\s+[\w'’-]++){0,5}?)",
    r"\s+(?:instead of|rather than)\s+([\w\s'’-]{3,60}?)(?=[,;.]|$)",
)
_TIME = pattern(
    r"\b(?:(?:by|before|until|in|from|through|after|around|within|over|since)\s+(?:the\s+)?(?:end\s+of\s+)?",
    r"(?:(?:early|late|mid)[\s-])?(?:19|20)\d\d(?:s\b)?|(?:within|in|over)\s+(?:the\s+)?(?:next|coming)\s+",
    r"(?:(?:few|\w+|\d+)\s+)?(?:years?|decades?|months?)|(?:within|in)\s+(?:\w+|\d+)\s+(?:years|decades|months)",
    r"|next\s+(?:year|decade)|by\s+the\s+end\s+of\s+the\s+(?:decade|century))\b",
)
_FUTURE_TIME = pattern(r"^(?:by|before|until|within|over|in the next|in the coming|next)\b")


def _short(text: str, limit: int = 8) -> str:
    return " ".join(trim(content_words([t for t in tokenise(text) if t != ","])[:limit]))


def _change(sentence: str, clause: Clause, stated: str) -> tuple[str, str, str]:
    """The change, the kind of change, and what the horizon speaks of.

    "from X to Y" when the sentence states both sides; otherwise the clause as the text states it (its
    framing removed), rather than a "before" the text never gave.
    """
    explicit = _FROM_TO.search(sentence)
    if explicit and _CALENDAR.search(explicit.group(0)):
        explicit = None  # "from Tuesday to Friday" is a period, not a change
    if explicit and _NOT_A_CHANGE.search(sentence[: explicit.start()]):
        explicit = None  # "recover from a downturn to ..." leaves a state, it does not change into one
    if explicit and explicit.group(2).split()[0].lower() in BASE_VERBS:
        explicit = None  # "examples from industries show AI's ability to analyse": "to" begins a verb
    if explicit and _short(explicit.group(1)) and _short(explicit.group(2)):
        new = _short(explicit.group(2), 10)
        return f"from {_short(explicit.group(1), 10)} to {new}", "to", new
    replaced = _REPLACED_BY.search(sentence)
    if replaced and _short(replaced.group(1), 6) and _short(replaced.group(2), 6):
        new = _short(replaced.group(2), 6)
        return f"from {_short(replaced.group(1), 6)} to {new}", "to", new
    statement = clause_statement(clause)
    instead = _INSTEAD.search(sentence)
    chosen = _short(_LEADING_WH.sub("", instead.group(1)), 6) if instead else ""
    if instead and chosen and _short(instead.group(2), 6):  # "Y rather than X": from X to Y
        return f"from {_short(instead.group(2), 6)} to {chosen}", "to", statement
    obj = " ".join(object_words(clause)) or " ".join(short_subject(clause.subject))
    kind = _KIND.get(clause.verb, "") if obj else ""
    words = stated.split()
    change = " ".join(words[:_CHANGE_WORDS]) + (" …" if len(words) > _CHANGE_WORDS else "")
    subject = " ".join(short_subject(clause.subject))
    if clause.verb in ("replace", "displace") and subject and subject.lower() != obj.lower():  # "AI replaces tellers"
        change = f"from {obj} to {subject}: {lower_first(change)}"
    elif kind == "automate":
        change = f"from {obj} done by people to automated {obj}: {lower_first(change)}"
    change = change[:1].upper() + change[1:]
    return change, kind or "to", obj if kind else statement


def _horizon(sentence: str, kind: str, target: str) -> str:
    """What may differ in ten years, in the time frame the sentence states when it states one."""
    outlook = {
        "up": f"{target} may be markedly higher than today",
        "better": f"improved {target} may be the norm",
        "down": f"{target} may be markedly lower than today",
        "automate": f"much of {target} may be automated",
        "replace": f"{target} may largely have been replaced",
        "adopt": f"use of {target} may be routine",
        "create": f"{target} may be well established",
    }.get(kind, f"{' '.join(trim(target.split()[:_HORIZON_WORDS]))} may have become common")
    frames = [m.group(0) for m in _TIME.finditer(sentence)]
    future = [frame for frame in frames if _FUTURE_TIME.match(frame)]
    if future:
        return f"{future[-1][0].upper()}{future[-1][1:]}, {outlook}"
    years = [year for frame in frames for year in re.findall(r"(?:19|20)\d\d", frame)]
    return f"From {max(years)} on, {outlook}" if years else f"In ten years, {outlook}"
