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

``row_text`` is the representation under which rows are compared (evaluation, merging): the signal
and its change, which together say what changes and how.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from shadowmatch_kb.enrich.forces import FORCES, force_scores
from shadowmatch_kb.enrich.sentences import Sentence, split_sentences
from shadowmatch_kb.model import Signal

if TYPE_CHECKING:
    from shadowmatch_kb.embed.base import Embedder

__all__ = ["MAX_SIGNAL_WORDS", "extract_signals", "row_text"]

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
_STATEMENT_WORDS = 20  # the most words of a clause restated in a horizon
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


def _pattern(*parts: str) -> re.Pattern[str]:
    return re.compile("".join(parts), re.IGNORECASE)


_CHANGE_CUES = (  # (weight, pattern): each kind of cue adds its weight once
    (0.30, _pattern(
        r"\b(?:automat\w*|replac\w*|displac\w*|augment\w*|shift\w*|transform\w*|transition\w*|adopt\w*|disrupt\w*",
        r"|reshap\w*|eliminat\w*|obsolete|layoffs?|laid off|lay off|outsourc\w*|offshor\w*|reskill\w*|upskill\w*",
        r"|retrain\w*|revolutioni[sz]\w*|streamlin\w*|integrat\w*|deploy\w*|turn(?:s|ed|ing)? to|embrac\w*",
        r"|rel(?:y|ies|ying) on|rise of|emergence of)\b")),
    (0.15, _pattern(
        r"\b(?:increas\w*|decreas\w*|reduc\w*|declin\w*|boost\w*|grow\w*|grew|growth|ris(?:e|es|ing)|rose",
        r"|fall(?:s|ing)?|fell|drop\w*|doubl\w*|expand\w*|shrink\w*|cut(?:s|ting)?|creat\w*|improv\w*|enhanc\w*",
        r"|accelerat\w*|threaten\w*|los(?:e|es|ing)|lost|hir(?:e|es|ed|ing)|chang\w*|evolv\w*)\b")),
    (0.20, _pattern(
        r"\b(?:will|could|would|may|might|expected to|likely to|set to|poised to|predict\w*|forecast\w*",
        r"|projected|anticipat\w*|potential)\b")),
    (0.25, _pattern(
        r"\b(?:by|until|before|within|in|over) (?:the )?(?:end of )?(?:20[2-9]\d|next \w+ years?|next decade",
        r"|coming (?:years|decade))\b|\b(?:within|in) (?:\w+|\d+) years\b")),
    (0.20, _pattern(r"\bfrom\b[^.;]{2,80}\bto\b")),
    (0.15, _pattern(r"\d[\d,.]*\s?(?:%|percent|per cent|million|billion|jobs|hours|workers|people)")),
    (0.25, _pattern(
        r"\b(?:new (?:roles?|jobs?|skills?|positions?|careers?|occupations?)|job losses|job cuts|jobs? at risk",
        r"|future of work)\b")),
    (0.10, _pattern(r"\b(?:more|less|fewer|higher|lower|faster|than|instead of|rather than)\b")),
)  # fmt: skip
# Words that put a sentence in the world of work, business, public services and technology.
_TOPIC = _pattern(
    r"\b(?:jobs?|work(?:ers?|force|place|ing)?|employ\w*|labou?r|roles?|tasks?|skills?|careers?|staff\w*|wages?",
    r"|occupations?|profession\w*|industr\w*|compan(?:y|ies)|business\w*|hiring|firms?|employers?|sectors?",
    r"|market\w*|economy|economic|customers?|consumers?|clients?|services?|strateg\w*|revenue|profits?|invest\w*",
    r"|students?|teach\w*|schools?|college|universit\w*|educat\w*|train\w*|health\s?care|hospitals?|doctors?",
    r"|nurses?|patients?|polic(?:e|y|ies)|laws?|legislat\w*|regulat\w*|government|AI|A\.I\.|artificial intelligence",
    r"|automation|robot\w*|algorithm\w*|ChatGPT|GPT\S*|generative|software|machine learning|digital|technolog\w*",
    r"|platforms?|chatbots?|tools?|models?|data|internet|online|apps?|computers?|devices?|research\w*)\b",
)
_TOPIC_WEIGHT = 0.25
_CUE_TOTAL = 1.5  # cue weight that counts as a full lexical score
_ENGLISH = frozenset("the of and to in is are a that for with on as by this it be will from has have its".split())

_prototype_cache: dict[int, tuple[object, np.ndarray]] = {}
_cache_lock = threading.Lock()


def row_text(signal: Signal) -> str:
    """The text under which a row is compared with others: its signal and its change."""
    return f"{signal.signal.strip()}: {signal.change.strip()}".strip(": ")


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
    usable = [i for i, s in enumerate(sentences) if _MIN_WORDS <= len(s.text.split()) <= _MAX_WORDS]
    cues = {i: _cue_score(sentences[i].text) for i in usable}
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


def _cue_score(sentence: str) -> tuple[float, bool]:
    """The weight of change cues in a sentence (0..1), and whether it anchors a signal (work and change named)."""
    change = sum(weight for weight, pattern in _CHANGE_CUES if pattern.search(sentence))
    topic = _TOPIC.search(sentence) is not None
    return min(1.0, (change + _TOPIC_WEIGHT * topic) / _CUE_TOTAL), topic and change >= 0.15


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
_TITLE_CUT = re.compile(r"\s*(?:[:|?!(]|\s[-–—]\s|,\s*but\b|\sas\s|\swhile\s|\swith\s)", re.IGNORECASE)


def _title_phrase(title: str) -> str:
    """A title's first clause in at most seven words; "" for none, or for a title cut off mid-sentence."""
    title = title.strip().strip("_*#").strip()
    if not title or title.endswith(("…", "...")):
        return ""
    words = _TITLE_FRAME.sub("", _TITLE_CUT.split(title, maxsplit=1)[0]).split()
    if sum(w[:1].isupper() for w in words) > len(words) / 2:  # Title Case hides which words are names
        words = [w.lower() if _lemma_of(w) or w.lower() in _COMMON else w for w in words]
    clauses = _clauses(" ".join(words))
    phrase = " ".join(_signal_words(clauses[0])) if clauses else ""
    return phrase[:1].upper() + phrase[1:] if len(phrase.split()) >= 2 else ""


def _title_sentence(title: str, sentences: list[str]) -> int | None:
    """The sentence that supports a title best (most of its words, by stem), if any supports it well enough."""
    stems = {word.lower()[:5] for word in title.split() if len(word) > 2}
    if not stems or not sentences:
        return None
    shares = [len(stems & {w.lower()[:5] for w in _tokens(s)}) / len(stems) for s in sentences]
    best = int(np.argmax(shares))
    return best if shares[best] >= _TITLE_SUPPORT else None


def _rows(sentence: str, force: str) -> list[tuple[float, Signal]]:
    """Rows for one sentence with their rank: 0 for the main clause, 1 and more for the clauses around it."""
    rows = []
    segments, whole = _segments(sentence)
    for rank, segment in enumerate(segments):
        clauses = _clauses(segment)
        verbless = len(clauses) == 1 and not clauses[0].verb and not clauses[0].subject
        if verbless and len(items := _list_items(segment)) > 1:
            # "the loss of jobs, the blurring of reality and the spread of value": one change each.
            stated_clauses = [(item, _clauses(item)[0]) for item in items]
        elif len(clauses) == 1:
            stated_clauses = [(whole if rank == 0 else segment, clauses[0])]
        else:  # a clause that shares its segment with others is restated alone
            stated_clauses = [(" ".join([*clause.subject, *clause.predicate]), clause) for clause in clauses]
        for stated, clause in stated_clauses:
            words = _signal_words(clause)
            if len(words) < 2:
                continue
            signal = " ".join(words)
            change, kind, target = _change(sentence, clause, stated)
            horizon = _horizon(sentence, kind, target)
            rows.append((float(rank), Signal(signal[0].upper() + signal[1:], change, horizon, force, sentence)))
    return rows


def _list_items(segment: str) -> list[str]:
    """The items of a list of noun phrases ("A, B, and C"), when each has two words or more; else the segment."""
    items = [item.strip(_QUOTES) for item in re.split(r",\s+(?:(?:and|or)\s+)?", segment) if item.strip(_QUOTES)]
    return items if len(items) > 1 and all(len(item.split()) >= 2 for item in items) else [segment]


# --- Clauses -------------------------------------------------------------------------------------------

_LEMMAS = """replace automate displace augment shift transform transition adopt disrupt reshape eliminate outsource
offshore reskill upskill retrain revolutionize revolutionise streamline integrate deploy embrace rely increase
decrease reduce decline boost grow rise fall drop double halve expand shrink cut create improve enhance accelerate
threaten lose hire fire change evolve use utilize utilise employ help allow enable lead cause make take give need
require face struggle seek offer provide support assist generate produce design develop build launch introduce
release plan consider explore aim begin start continue stop invest spend save pay raise lower limit restrict ban
regulate approve pass propose announce predict expect estimate affect impact benefit harm hurt prefer want demand
call push drive fuel spur prompt force encourage empower turn move open close join leave quit resign retire train
teach learn write answer handle manage perform outperform pose remain become keep hold bring receive win gain earn
compete fail succeed operate serve deliver attract retain adapt prepare equip exceed surpass dominate control
acquire merge partner collaborate prioritize prioritise redefine restructure lay shape disseminate mitigate address
tackle solve overcome plummet surge soar climb jump slump diminish contribute account represent see find show get
go set put meet sell tell think feel undergo shut experience rank rate compare bolster transfer strain worsen widen
narrow shorten speed slow ease spread""".split()
_IRREGULAR = dict(
    entry.split(":")
    for entry in """grow:grew grown,rise:rose risen,fall:fell fallen,lose:lost,cut:cut,make:made,take:took taken,
give:gave given,find:found,show:showed shown,become:became,lead:led,bring:brought,leave:left,keep:kept,hold:held,
spend:spent,build:built,drive:drove driven,win:won,begin:began begun,go:went gone,get:got gotten,see:saw seen,
say:said,think:thought,seek:sought,feel:felt,put:put,set:set,meet:met,pay:paid,sell:sold,tell:told,
write:wrote written,undergo:underwent undergone,lay:laid,shrink:shrank shrunk,shut:shut,spread:spread""".replace(
        "\n", ""
    ).split(",")
)
# Base forms that are rarely nouns, so that a base form alone can be taken for the main verb.
_BASE_VERBS = frozenset(
    """replace automate displace augment adopt disrupt reshape eliminate outsource reskill upskill
retrain revolutionize streamline integrate deploy embrace rely reduce boost expand shrink create improve enhance
accelerate threaten lose hire help allow enable need require struggle seek offer provide assist generate produce
develop build introduce explore invest prefer want encourage empower become remain gain earn prioritize redefine
restructure mitigate address tackle solve overcome worsen widen""".split()
)
_MODALS = frozenset("will would could can may might should must".split())
_AUX = frozenset("is are was were be been being has have had do does did am".split())
_BE = frozenset("is are was were be been being am".split())
_FUNCTION = frozenset(
    """the a an this these those that its their his her our your my some any each every all both of
to in on at for with by from into onto over under about as and or but nor than via per among between within without
across through toward towards upon it they he she we who whom whose which what there""".split()
)
_DANGLING = _FUNCTION | frozenset("rather not as such like than so because while if when whether".split())
_FILLER = frozenset(
    """the a an this these those its their his her our your my also very really just even still already
now currently increasingly significantly particularly especially largely highly greatly further that significant
major huge substantial considerable various numerous several certain particular overall entire whole own new recent
potentially often actually simply""".split()
)
_QUANTITIES = frozenset(
    """more than less fewer about nearly almost over up to half third quarter fifth majority
minority most many some number percent % millions thousands hundreds dozens share proportion lot lots""".split()
)
_COMMON = _FUNCTION | _FILLER | _AUX | _MODALS | frozenset("new better more less".split())
_KEEP_LY = frozenset("only early family supply apply reply assembly italy july monopoly daily weekly likely".split())
# Heads that say nothing of their own ("the number of X" is about X); heads that name a change ("the rise of
# X") stay, since the change is what the signal is about.
_ABSTRACT_HEADS = frozenset(
    """impact number share majority lot range variety series access influence role effect effects potential concept
idea notion prospect possibility importance""".split()
)
_CHANGE_HEADS = frozenset(
    """rise use growth adoption introduction development emergence increase decline spread integration need lack
overuse advent arrival""".split()
)
_SUBJECT_STOPS = frozenset(
    """due to of in for from with on at like such including among across by through within
without about who which that towards toward into over between against under beyond""".split()
)
_OBJECT_STOPS = frozenset(
    """due to by for because and as in at on from with within during over since while than into
across among through via until after before""".split()
)
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


def _forms(lemma: str) -> tuple[str, str, list[str]]:
    """Third person, -ing form and past forms of a verb."""
    consonant_y = lemma.endswith("y") and lemma[-2] not in "aeiou"
    third = lemma + "es" if lemma.endswith(("s", "sh", "ch", "x", "z")) else lemma + "s"
    third = lemma[:-1] + "ies" if consonant_y else third
    ing = lemma[:-1] + "ing" if lemma.endswith("e") and not lemma.endswith("ee") else lemma + "ing"
    past = lemma + "d" if lemma.endswith("e") else (lemma[:-1] + "ied" if consonant_y else lemma + "ed")
    if lemma in ("cut", "set", "put", "shut", "drop", "plan", "stop", "ban", "win", "begin", "get"):
        ing, past = lemma + lemma[-1] + "ing", lemma + lemma[-1] + "ed"
    return third, ing, _IRREGULAR[lemma].split() if lemma in _IRREGULAR else [past]


_FINITE: dict[str, str] = {}  # finite forms ("cuts", "replaced") to lemma
_ING: dict[str, str] = {}  # -ing forms to lemma
_ING_OF: dict[str, str] = {}  # lemma to its -ing form
for _lemma in _LEMMAS:
    _third, _ing, _past = _forms(_lemma)
    _ING_OF[_lemma] = _ing
    _ING.setdefault(_ing, _lemma)
    for _form in (_third, *_past):
        _FINITE.setdefault(_form, _lemma)


@dataclass
class _Clause:
    subject: list[str]
    verb: str  # lemma of the main verb, "" for a clause without one
    predicate: list[str]  # the verb and what follows it


_LEADING = _pattern(
    r"^(?:however|additionally|moreover|furthermore|overall|in addition|ultimately|meanwhile|instead|also",
    r"|as a result|in response|consequently|therefore|thus|still|yet|but|and|so|similarly|finally|nevertheless",
    r"|nonetheless|in fact|indeed|today|currently|recently|in particular|in short|in contrast|on the other hand",
    r"|for example|for instance|in conclusion|importantly|notably|specifically|(?:this|that|it) is (?:because|why)",
    r")\b,?\s*",
)
_SUBORDINATE = _pattern(
    r"^(?:while|although|though|despite|according to|as|with|after|since|if|when|because|given|amid|unlike",
    r"|through|under|due to|in|on|at|during|following|by|once|whereas|even though|thanks to|among|across|within",
    r"|without",
    r"|before|for|over|to)\b\s*([^,]{0,140}),\s+",
)
_REPORT = _pattern(  # "Experts argue that ...", "This raises the possibility that ..."
    r"^(?:[^\s,;]+\s+){0,8}?(?:says?|said|argues?|argued|believes?|believed|claims?|claimed|suggests?|suggested",
    r"|predicts?|predicted|warns?|warned|notes?|noted|finds?|found|shows?|showed|reveals?|revealed|indicates?",
    r"|indicated|emphasi[sz]e[sd]|highlights?|highlighted|concludes?|concluded|reports?|reported|states?|stated",
    r"|estimates?|estimated|explains?|explained|points? out|pointed out|acknowledges?|expects?|thinks?|insists?",
    r"|insisted|stresses|stressed|underscores|observes?|contends?|proposes?|recommends?",
    r"|(?:the\s+)?(?:possibility|idea|notion|fact|hope|fear|concern|evidence|belief|view)s?)\s+that,?\s+",
)
_FRAME = _pattern(  # "The article discusses ...", "They also highlight ..."
    r"^(?:(?:the|this|a|an|our|his|her|their)\s+)?(?:[\w-]+\s+){0,2}?(?:article|study|report|paper|research|author",
    r"|authors|writer|piece|text|survey|analysis|post|essay|video|podcast|interview|book|episode|blog|newsletter",
    r"|issue|course|specialization|chapter|section|guide|situation|idea|debate|data|results|speaker|talk|thread",
    r"|quotes|researchers|findings|it|they|he|she|we)\s+(?:by\s+(?:[\w.'’-]+\s+){1,3}?)?(?:also\s+|then\s+)?",
    r"(?:is\s+(?:about|promoting|discussing)|sheds?\s+light\s+on|promotes?|discuss(?:es)?|explores?|examines?|highlights?",
    r"|describes?|outlines?|covers?|reviews?|presents?|delves? into|looks? at|focus(?:es)? on|address(?:es)?",
    r"|investigates?|analy[sz]es|considers?|emphasi[sz]es|stress(?:es)?|underscores?|raises?|express(?:es)?",
    r"|criticizes?|critiques?|reflects? on|calls? for|touches? on|mentions?|introduces?|shares?|offers?",
    r"|provides?|compares?|acknowledges?|notes?|argues? for)\s+",
)
# "... are emphasized." at the end: what stands before it is the content, not a change being emphasised.
_PASSIVE_FRAME = _pattern(
    r"\s+(?:is|are|was|were|has been|have been)\s+(?:also\s+)?(?:\w+ly\s+)?(?:emphasi[sz]ed|discussed|highlighted",
    r"|explored|examined|addressed|mentioned|noted|stressed|underscored|described|outlined|considered|explained",
    r"|analy[sz]ed|reviewed|presented|covered)\s*$",
)
_SCENE_CUE = 0.1  # the least change-cue weight that makes a scene-setting phrase a signal of its own
_EXAMPLES = _pattern(r"\b(?:such as|including|like|particularly|especially)\b")
# ", highlighting the shift to X": the shift to X is the statement.
_FRAMING_ING = _pattern(
    r"^(?:highlighting|emphasi[sz]ing|underscoring|stressing|noting|showing|indicating|illustrating|demonstrating",
    r"|revealing|reflecting|focusing on|pointing to|signalling|signaling|suggesting)\s+(?:that\s+)?(?:the\s+)?",
)
_CONJUNCTION = _pattern(r"^(?:while|although|though|as|since|when|because|whereas|even though|once|if)\b")
# "(as) highlighted in the report": where a statement comes from, not a statement.
_REPORTED = _pattern(
    r"^(?:as\s+)?(?:highlighted|noted|reported|seen|shown|described|mentioned|discussed|outlined|explained|cited",
    r"|stated|evidenced|illustrated|demonstrated|according)\b",
)
_WH = _pattern(r"^(?:how|whether|why|what|the ways? (?:in which|that)?)\s+")
_TRAILING = _pattern(
    r"(?:;|\s[—–]\s|,\s+(?:which|while|whereas|although|but|particularly|especially|including|such as",
    r"|leading to|resulting in|as well as|as|with|despite|according to|who|where|thus|meaning|so that|even as",
    r"|though|yet",
    r"|rather than)\b|,\s+(?=\w+ing\b)|\s+(?:such as|as well as|including)\s",
    r"|,\s+(?:and|but)\s+(?=(?:the|a|an|some|many|most|other|others|it|they|this|these|those|(?-i:[A-Z])[\w'’-]*)\s+\w)",
    r"|\s+as\s+(?=(?:they|it|he|she|we|the|many|more|some|companies|workers|firms|employers)\b))",
)
_INNER_ADVERBIAL = _pattern(
    r",\s*(?:in turn|however|therefore|thus|for example|for instance|in fact|of course|too|also|moreover|though",
    r"|in particular|in addition|as a result|meanwhile|nonetheless|nevertheless|ultimately),\s*",
)
_APPOSITIVE = _pattern(
    r",\s*(?:specifically|particularly|especially|notably|mainly|namely|e\.g\.|i\.e\.|such as|including|like|which",
    r"|who)\s+[^,]{1,80}(?:,\s+(?:and\s+)?[^,]{1,40})*,(?=\s+(?:is|are|was|were|has|have|had|will|can|could|may|might",
    r"|should|would|must|do|does|did|\w+s|\w+ed)\b)",
)
# "leads to a 14 percent increase in productivity" means "increases productivity"; the noun hides the verb.
_RESULT_NOUN = _pattern(
    r"\b(?:leads?|led|leading|contributes?|contributed|results?|resulted) (?:to|in) (?:an? )?",
    r"(?:[\d.,]+ ?(?:%|percent|per cent) )?(?:significant |major |sharp |substantial )?",
    r"(increase|rise|boost|growth|improvement|gain|jump|decline|decrease|reduction|drop|fall|cut|loss)s? (?:in|of) ",
)
_RESULT_VERB = dict.fromkeys("increase rise boost growth improvement gain jump".split(), "raises ") | dict.fromkeys(
    "decline decrease reduction drop fall cut loss".split(), "reduces "
)
_POTENTIAL = _pattern(r"\b(?:has|have|had) (?:the )?(?:potential|ability|capacity|power) to\b")
_QUOTES = " ,.;:!?\"“”'‘’"


def _segments(sentence: str) -> tuple[list[str], str]:
    """The main clause of a sentence, then the clauses around it ("while ...", ", leading to ..."), bare; and
    the main clause with what follows it (", leading to ..."), which states the change in full."""
    core = _APPOSITIVE.sub(",", re.sub(r"\s*\([^)]*\)|\s*\[[^\]]*\]", "", sentence.strip()))
    core = _RESULT_NOUN.sub(lambda m: _RESULT_VERB[m.group(1).lower()], core)
    core = _POTENTIAL.sub("could", core)
    core = _INNER_ADVERBIAL.sub(" ", core)
    core = re.sub(r"^[\s\-*•\d.)]+(?=[A-Za-z\"“'‘])", "", core).strip(_QUOTES)
    core = re.sub(r"^(?:[\w'’-]+\s){0,3}[\w'’-]+:\s+(?=\S)", "", core)  # a label: "Task Transformation: ..."
    extras: list[str] = []
    for _ in range(3):
        before = core
        core = _LEADING.sub("", core)
        lead = _SUBORDINATE.match(core)
        if lead and len(core[lead.end() :].split()) >= 3:
            # "while X, ..." states something, and so does "With the rise of X, ..."; "In X, ..." only sets a scene.
            if _CONJUNCTION.match(lead.group(0)) or _cue_score(lead.group(1))[0] >= _SCENE_CUE:
                extras.append(lead.group(1))
            core = core[lead.end() :]
        for pattern in (_REPORT, _FRAME, _WH):
            stripped = pattern.sub("", core, count=1)
            core = stripped if len(stripped.split()) >= 3 else core
        if core == before:
            break
    stripped = _PASSIVE_FRAME.sub("", core.rstrip(_QUOTES))
    core = stripped if len(stripped.split()) >= 3 else core
    whole = core.strip(_QUOTES)
    cut = _TRAILING.search(core)
    if cut and len(core[: cut.start()].split()) >= 3:
        if not _EXAMPLES.search(cut.group(0)):  # "such as A, B and C" lists examples, not a change
            extras.append(core[cut.end() :])
        core = core[: cut.start()]
    kept = [_FRAMING_ING.sub("", extra.strip(_QUOTES)) for extra in extras if not _REPORTED.match(extra.strip(_QUOTES))]
    return [core.strip(_QUOTES)] + [extra for extra in kept if len(extra.split()) >= 3], whole


def _tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"\d[\d,.]*\d%?|[\w$€£][\w'’$%&/.\-]*|,", text) if t.strip(".")]


def _is_verb(tokens: list[str], k: int) -> bool:
    word, before = tokens[k].lower(), tokens[k - 1].lower()
    if word in _MODALS or word in _AUX:
        return True
    if word in _FINITE and before not in _FUNCTION and not tokens[k - 1].endswith("'s"):
        return True
    plural = before.endswith("s") and not before.endswith("ss") and k <= 4  # "banks expect", "hotels turn"
    return (word in _BASE_VERBS or (plural and word in _ING_OF)) and before not in _FUNCTION


_RELATIVE = frozenset("where which who whom whose".split())


def _clauses(core: str) -> list[_Clause]:
    """One clause per predicate: "AI improves X, reduces Y and enhances Z" has three, sharing the subject."""
    tokens = _tokens(core)
    verb_at = next((k for k in range(1, len(tokens)) if _is_verb(tokens, k)), None)
    # A verb inside "where/which/who ..." belongs to a clause within a noun phrase:
    # "The need for X, a shift from norms where paths were set" has no main verb.
    bound = next((k for k in range(1, len(tokens)) if tokens[k].lower() in _RELATIVE), None)
    if verb_at is not None and bound is not None and verb_at > bound:
        verb_at = None
    if verb_at is None:
        return [_Clause([], "", tokens[: tokens.index(",", 1) if "," in tokens[1:] else len(tokens)])]
    starts, end = [verb_at], len(tokens)
    for k in range(verb_at + 1, len(tokens)):
        if tokens[k] != ",":
            continue
        after = tokens[k + 2] if k + 2 < len(tokens) and tokens[k + 1] in ("and", "or") else None
        after = after or (tokens[k + 1] if k + 1 < len(tokens) else "")
        if after.lower() in _FINITE and k - starts[-1] >= 2:
            starts.append(tokens.index(after, k))
        else:
            end = k
            break
    starts += [k for k in range(starts[-1] + 3, end) if tokens[k - 1] == "and" and tokens[k].lower() in _FINITE][:1]
    subject = [t for t in tokens[:verb_at] if t != ","]
    clauses = []
    for a, b in zip(starts, [*starts[1:], end], strict=True):
        predicate = [t for t in tokens[a:b] if t != ","]
        while predicate and predicate[-1].lower() in ("and", "or"):
            predicate.pop()
        head = next((w.lower() for w in predicate if w.lower() not in _AUX and w.lower() not in _MODALS), "")
        lemma = _lemma_of(head) or (head if head in _ING_OF else "")
        clauses.append(
            _Clause(subject, lemma or next((_lemma_of(w) for w in predicate[:4] if _lemma_of(w)), ""), predicate)
        )
    return clauses


def _lemma_of(word: str) -> str:
    lower = word.lower()
    return _FINITE.get(lower) or _ING.get(lower) or (lower if lower in _BASE_VERBS else "")


def _content(words: list[str]) -> list[str]:
    """The words that carry meaning: no articles, fillers, -ly adverbs or auxiliaries."""
    kept: list[str] = []
    for k, word in enumerate(words):
        lower = word.lower()
        after = words[k + 1].lower() if k + 1 < len(words) else ""
        if k and word[:1].isupper() and lower not in ("the", "a", "an", "this", "these", "its", "their"):
            kept.append(word)  # a capitalised word inside a clause is a name ("New York")
        elif lower in _AUX:
            if lower.startswith("ha") and not (after in _FINITE or after in _AUX or after.endswith(("ed", "en"))):
                kept.append(word)  # "have" as the verb itself: "may have less than five years"
            elif kept and kept[-1].lower() in _MODALS and lower == "be":
                kept.pop()  # "will be crucial" reads "crucial" once "be" is gone
        elif lower not in _FILLER and not (lower.endswith("ly") and len(lower) > 4 and lower not in _KEEP_LY):
            kept.append(word)
    return kept


def _trim(words: list[str]) -> list[str]:
    while words and (words[-1].lower() in _DANGLING or words[-1].lower() in _MODALS or words[-1] == ","):
        words = words[:-1]
    while words and words[0].lower() in _FUNCTION - {"all", "each", "every", "some"}:
        words = words[1:]
    return words


def _short_subject(subject: list[str]) -> list[str]:
    words = _content(subject)
    if len(words) > 2 and words[0].lower() in _ABSTRACT_HEADS and words[1].lower() in ("of", "to", "in", "for"):
        words = words[2:]  # "the number of AI tools" is about "AI tools"
    elif len(words) > 2 and words[0].lower() in _CHANGE_HEADS and words[1].lower() in ("of", "in"):
        rest = words[2:]  # "the rise of AI-written content" is about that rise
        cut = next((k for k, w in enumerate(rest) if k and w.lower() in _SUBJECT_STOPS), len(rest))
        return _trim(words[:2] + rest[:cut][:3])
    of = words.index("of") if "of" in words[1:5] else 0
    if of and all(w.lower() in _QUANTITIES or w[:1].isdigit() for w in words[:of]):
        words = words[of + 1 :]  # "more than a third of WeWork's employees" is about the employees
    cut = next((k for k, w in enumerate(words) if k and w.lower() in _SUBJECT_STOPS), len(words))
    negation = [w for w in words[:2] if w.lower() in ("not", "no", "few")]
    return _trim(negation + [w for w in words[:cut] if w not in negation][-3:])


def _signal_words(clause: _Clause) -> list[str]:
    subject = _short_subject(clause.subject)
    budget = MAX_SIGNAL_WORDS - len(subject)
    relative = next(
        (k for k, w in enumerate(clause.predicate) if k > 1 and w.lower() in ("that", "which", "who")), None
    )
    predicate = _content(clause.predicate[:relative])
    if len(predicate) > budget and "and" in predicate[2:]:
        predicate = predicate[: predicate.index("and", 2)]  # the first of two coordinated parts, whole
    return _trim(_trim([*subject, *_trim(predicate[:budget])])[:MAX_SIGNAL_WORDS])


def _object_words(clause: _Clause, limit: int = 5) -> list[str]:
    words = _content(clause.predicate)
    start = next((k + 1 for k, w in enumerate(words) if _lemma_of(w)), 0)
    words = words[start:]
    if words and words[0].lower() in ("to", "on", "up", "off", "out", "down"):
        words = words[1:]
    stop = next((k for k, w in enumerate(words) if w.lower() in _OBJECT_STOPS), None)
    return _trim(words[:stop][:limit])


def _statement(clause: _Clause) -> str:
    """The clause as a noun phrase, its main verb turned to -ing: "hotels turning to automation"."""
    predicate: list[str] = []
    auxiliary, converted = "", False
    for k, word in enumerate(clause.predicate):
        lower = word.lower()
        if not converted and (lower in _AUX or lower in _MODALS):
            auxiliary = lower if lower in _AUX else auxiliary or "will"
            continue
        if not converted and (lower == "not" or lower.endswith("ly")):
            predicate.append(word)
            continue
        if not converted:
            converted = True
            following = clause.predicate[k + 1].lower() if k + 1 < len(clause.predicate) else ""
            passive = auxiliary in _BE or following == "by"
            base = lower in _BASE_VERBS or lower == clause.verb or (auxiliary in _MODALS and lower in _ING_OF)
            lemma = _FINITE.get(lower) or (lower if base else "")
            if lemma and not (passive and not lower.endswith("s")):
                word = _ING_OF[lemma]
            elif not lemma and lower not in _ING and auxiliary in _MODALS and lower.isalpha():
                word = _gerund(word)  # after "can" or "will" comes a verb: "can establish", "establishing"
            elif not lemma and lower not in _ING and auxiliary:
                predicate.append("being" if auxiliary in _BE else "having")  # "is essential": "being essential"
        predicate.append(word)
    subject = [w for w in clause.subject if w.lower() not in _FILLER]
    return " ".join(_trim([*subject, *predicate][:_STATEMENT_WORDS]))


def _gerund(verb: str) -> str:
    lower = verb.lower()
    if lower.endswith("ie"):
        return verb[:-2] + "ying"
    if lower.endswith("e") and not lower.endswith(("ee", "ye", "oe")):
        return verb[:-1] + "ing"
    return verb + "ing"


# --- Change and horizon --------------------------------------------------------------------------------

_FROM_TO = _pattern(
    r"\bfrom\s+((?:(?![,;.]).){3,80}?)\s+(?:to|towards|into)\s+((?:(?![,;]).){3,80}?)",
    r"(?=[,;:]|\.(?:\s|$)|\s+(?:and then|while|which|as|but|because|with)\b|$)",
)
_REPLACED_BY = _pattern(
    r"\b([\w\s'’-]{3,60}?)\s+(?:are|is|were|was|being|been)\s+(?:being\s+)?replaced\s+by\s+([\w\s'’-]{3,60}?)(?=[,;.]|$)"
)
_CALENDAR = _pattern(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|june|july",
    r"|august|september|october|november|december|(?:19|20)\d\d|\d{1,2}(?::\d\d)?\s?(?:am|pm|a\.m\.|p\.m\.))\b",
)
_NOT_A_CHANGE = _pattern(
    r"\b(?:recover\w*|away|benefit\w*|suffer\w*|emerg\w*|result\w*|deriv\w*|stem\w*|apart|far)\s*$"
)
_LEADING_WH = _pattern(  # "where employees ...", "Bing can generate ...": the words a change starts after
    r"^(?:(?:where|when|which|that|who|whom|how|while)\s+)+",
    r"|^(?:\w+\s+)*?(?:can|could|will|would|may|might|should|must)\s+",
)
_INSTEAD = _pattern(r"\b([\w'’-]+(?:\s+[\w'’-]+){0,5}?)\s+(?:instead of|rather than)\s+([\w\s'’-]{3,60}?)(?=[,;.]|$)")
_TIME = _pattern(
    r"\b(?:(?:by|before|until|in|from|through|after|around|within|over|since)\s+(?:the\s+)?(?:end\s+of\s+)?",
    r"(?:(?:early|late|mid)[\s-])?(?:19|20)\d\d(?:s\b)?|(?:within|in|over)\s+(?:the\s+)?(?:next|coming)\s+",
    r"(?:(?:few|\w+|\d+)\s+)?(?:years?|decades?|months?)|(?:within|in)\s+(?:\w+|\d+)\s+(?:years|decades|months)",
    r"|next\s+(?:year|decade)|by\s+the\s+end\s+of\s+the\s+(?:decade|century))\b",
)
_FUTURE_TIME = _pattern(r"^(?:by|before|until|within|over|in the next|in the coming|next)\b")


def _short(text: str, limit: int = 8) -> str:
    return " ".join(_trim(_content([t for t in _tokens(text) if t != ","])[:limit]))


def _change(sentence: str, clause: _Clause, stated: str) -> tuple[str, str, str]:
    """The change, the kind of change, and what the horizon speaks of.

    "from X to Y" when the sentence states both sides; otherwise the clause as the text states it (its
    framing removed), rather than a "before" the text never gave.
    """
    explicit = _FROM_TO.search(sentence)
    if explicit and _CALENDAR.search(explicit.group(0)):
        explicit = None  # "from Tuesday to Friday" is a period, not a change
    if explicit and _NOT_A_CHANGE.search(sentence[: explicit.start()]):
        explicit = None  # "recover from a downturn to ..." leaves a state, it does not change into one
    if explicit and explicit.group(2).split()[0].lower() in _BASE_VERBS:
        explicit = None  # "examples from industries show AI's ability to analyse": "to" begins a verb
    if explicit and _short(explicit.group(1)) and _short(explicit.group(2)):
        new = _short(explicit.group(2), 10)
        return f"from {_short(explicit.group(1), 10)} to {new}", "to", new
    replaced = _REPLACED_BY.search(sentence)
    if replaced and _short(replaced.group(1), 6) and _short(replaced.group(2), 6):
        new = _short(replaced.group(2), 6)
        return f"from {_short(replaced.group(1), 6)} to {new}", "to", new
    statement = _statement(clause)
    instead = _INSTEAD.search(sentence)
    chosen = _short(_LEADING_WH.sub("", instead.group(1)), 6) if instead else ""
    if instead and chosen and _short(instead.group(2), 6):  # "Y rather than X": from X to Y
        return f"from {_short(instead.group(2), 6)} to {chosen}", "to", statement
    obj = " ".join(_object_words(clause)) or " ".join(_short_subject(clause.subject))
    kind = _KIND.get(clause.verb, "") if obj else ""
    words = stated.split()
    change = " ".join(words[:_CHANGE_WORDS]) + (" …" if len(words) > _CHANGE_WORDS else "")
    subject = " ".join(_short_subject(clause.subject))
    if clause.verb in ("replace", "displace") and subject and subject.lower() != obj.lower():  # "AI replaces tellers"
        change = f"from {obj} to {subject}: {_lower_first(change)}"
    elif kind == "automate":
        change = f"from {obj} done by people to automated {obj}: {_lower_first(change)}"
    change = change[:1].upper() + change[1:]
    return change, kind or "to", obj if kind else statement


def _lower_first(text: str) -> str:
    """ "The change" -> "the change", but "AI" stays "AI"."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


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
    }.get(kind, f"{' '.join(_trim(target.split()[:_HORIZON_WORDS]))} may have become common")
    frames = [m.group(0) for m in _TIME.finditer(sentence)]
    future = [frame for frame in frames if _FUTURE_TIME.match(frame)]
    if future:
        return f"{future[-1][0].upper()}{future[-1][1:]}, {outlook}"
    years = [year for frame in frames for year in re.findall(r"(?:19|20)\d\d", frame)]
    return f"From {max(years)} on, {outlook}" if years else f"In ten years, {outlook}"
