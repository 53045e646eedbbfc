"""The clauses of a sentence, in words: what a Signals row is cut from.

``split_segments`` strips a sentence down to its main clause (no framing such as "The article
discusses", no leading adverbials, no asides) and the clauses set around it ("while ...", ", leading
to ..."). ``split_clauses`` finds the main verb of a segment and gives one clause per predicate, each
with the subject they share. The rest words what a clause says: ``signal_words`` in a few words,
``object_words`` for what the verb acts on, ``clause_statement`` as a noun phrase ("hotels turning
to automation").

Rule-based and English only: a closed list of verbs that speak of change (``_LEMMAS``) in all their
forms, and lists of function words, fillers and quantities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shadowmatch_kb.enrich.cues import cue_score, pattern
from shadowmatch_kb.text.english import LY_NON_ADVERBS, gerund, verb_forms

__all__ = [
    "BASE_VERBS",
    "COMMON_WORDS",
    "Clause",
    "clause_statement",
    "content_words",
    "lemma_of",
    "list_items",
    "object_words",
    "short_subject",
    "signal_words",
    "split_clauses",
    "split_segments",
    "tokenise",
    "trim",
]

_STATEMENT_WORDS = 20  # the most words of a clause restated in a horizon


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
# Base forms that are rarely nouns, so that a base form alone can be taken for the main verb.
BASE_VERBS = frozenset(
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
COMMON_WORDS = _FUNCTION | _FILLER | _AUX | _MODALS | frozenset("new better more less".split())
# Words in -ly to keep in a signal: nouns and names, and the few adverbs that say how often or how sure.
_KEEP_LY = LY_NON_ADVERBS | frozenset("only early daily weekly likely".split())
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
# Every form of the listed verbs, looked up while reading a sentence word by word.
_FINITE: dict[str, str] = {}  # finite forms ("cuts", "replaced") to lemma
_ING: dict[str, str] = {}  # -ing forms to lemma
_ING_OF: dict[str, str] = {}  # lemma to its -ing form
for _lemma in _LEMMAS:
    _third, _ing, _past = verb_forms(_lemma)
    _ING_OF[_lemma] = _ing
    _ING.setdefault(_ing, _lemma)
    for _form in (_third, *_past):
        _FINITE.setdefault(_form, _lemma)


@dataclass
class Clause:
    """One predicate of a segment and the subject it shares with the others."""

    subject: list[str]
    verb: str  # lemma of the main verb, "" for a clause without one
    predicate: list[str]  # the verb and what follows it


_LEADING = pattern(
    r"^(?:however|additionally|moreover|furthermore|overall|in addition|ultimately|meanwhile|instead|also",
    r"|as a result|in response|consequently|therefore|thus|still|yet|but|and|so|similarly|finally|nevertheless",
    r"|nonetheless|in fact|indeed|today|currently|recently|in particular|in short|in contrast|on the other hand",
    r"|for example|for instance|in conclusion|importantly|notably|specifically|(?:this|that|it) is (?:because|why)",
    r")\b,?\s*",
)
_SUBORDINATE = pattern(
    r"^(?:while|although|though|despite|according to|as|with|after|since|if|when|because|given|amid|unlike",
    r"|through|under|due to|in|on|at|during|following|by|once|whereas|even though|thanks to|among|across|within",
    r"|without",
    r"|before|for|over|to)\b\s*([^,]{0,140}),\s+",
)
_REPORT = pattern(  # "Experts argue that ...", "This raises the possibility that ..."
    r"^(?:[^\s,;]+\s+){0,8}?(?:says?|said|argues?|argued|believes?|believed|claims?|claimed|suggests?|suggested",
    r"|predicts?|predicted|warns?|warned|notes?|noted|finds?|found|shows?|showed|reveals?|revealed|indicates?",
    r"|indicated|emphasi[sz]e[sd]|highlights?|highlighted|concludes?|concluded|reports?|reported|states?|stated",
    r"|estimates?|estimated|explains?|explained|points? out|pointed out|acknowledges?|expects?|thinks?|insists?",
    r"|insisted|stresses|stressed|underscores|observes?|contends?|proposes?|recommends?",
    r"|(?:the\s+)?(?:possibility|idea|notion|fact|hope|fear|concern|evidence|belief|view)s?)\s+that,?\s+",
)
_FRAME = pattern(  # "The article discusses ...", "They also highlight ..."
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
# Only the first of a run of spaces may start a match (here and in _TRAILING): a later one finds nothing the
# first does not, and trying each of them over a long run is quadratic.
_PASSIVE_FRAME = pattern(
    r"(?<!\s)\s+(?:is|are|was|were|has been|have been)\s+(?:also\s+)?(?:\w+ly\s+)?",
    r"(?:emphasi[sz]ed|discussed|highlighted|explored|examined|addressed|mentioned|noted|stressed|underscored",
    r"|described|outlined|considered|explained|analy[sz]ed|reviewed|presented|covered)\s*$",
)
_SCENE_CUE = 0.1  # the least change-cue weight that makes a scene-setting phrase a signal of its own
_EXAMPLES = pattern(r"\b(?:such as|including|like|particularly|especially)\b")
# ", highlighting the shift to X": the shift to X is the statement.
_FRAMING_ING = pattern(
    r"^(?:highlighting|emphasi[sz]ing|underscoring|stressing|noting|showing|indicating|illustrating|demonstrating",
    r"|revealing|reflecting|focusing on|pointing to|signalling|signaling|suggesting)\s+(?:that\s+)?(?:the\s+)?",
)
_CONJUNCTION = pattern(r"^(?:while|although|though|as|since|when|because|whereas|even though|once|if)\b")
# "(as) highlighted in the report": where a statement comes from, not a statement.
_REPORTED = pattern(
    r"^(?:as\s+)?(?:highlighted|noted|reported|seen|shown|described|mentioned|discussed|outlined|explained|cited",
    r"|stated|evidenced|illustrated|demonstrated|according)\b",
)
_WH = pattern(r"^(?:how|whether|why|what|the ways? (?:in which|that)?)\s+")
_TRAILING = pattern(
    r"(?:;|\s[—–]\s|,\s+(?:which|while|whereas|although|but|particularly|especially|including|such as",
    r"|leading to|resulting in|as well as|as|with|despite|according to|who|where|thus|meaning|so that|even as",
    r"|though|yet",
    r"|rather than)\b|,\s+(?=\w+ing\b)|(?<!\s)\s+(?:such as|as well as|including)\s",
    r"|,\s+(?:and|but)\s+(?=(?:the|a|an|some|many|most|other|others|it|they|this|these|those|(?-i:[A-Z])[\w'’-]*)\s+\w)",
    r"|(?<!\s)\s+as\s+(?=(?:they|it|he|she|we|the|many|more|some|companies|workers|firms|employers)\b))",
)
_INNER_ADVERBIAL = pattern(
    r",\s*(?:in turn|however|therefore|thus|for example|for instance|in fact|of course|too|also|moreover|though",
    r"|in particular|in addition|as a result|meanwhile|nonetheless|nevertheless|ultimately),\s*",
)
# Each item of the aside is taken atomically: it must end at the next comma, and the first way the engine
# finds to reach one is as good as any, while trying every split of ", and x, and x, ..." is exponential.
_APPOSITIVE = pattern(
    r",\s*(?:specifically|particularly|especially|notably|mainly|namely|e\.g\.|i\.e\.|such as|including|like|which",
    r"|who)(?>\s+[^,]{1,80})(?>,\s+(?:and\s+)?[^,]{1,40})*,(?=\s+(?:is|are|was|were|has|have|had|will|can|could",
    r"|may|might|should|would|must|do|does|did|\w+s|\w+ed)\b)",
)
# A bracketed aside, with one level of brackets inside it. Each alternative starts on a different character,
# so a bracket that is never closed is read once, not once for every bracket before it; only the first of a
# run of spaces may start a match, since a later one would find the same aside.
_ASIDE = re.compile(r"(?<!\s)\s*(?:\((?:[^()]++|\([^()]*+\))*+\)|\[(?:[^\[\]]++|\[[^\[\]]*+\])*+\])")
# "leads to a 14 percent increase in productivity" means "increases productivity"; the noun hides the verb.
_RESULT_NOUN = pattern(
    r"\b(?:leads?|led|leading|contributes?|contributed|results?|resulted) (?:to|in) (?:an? )?",
    r"(?:[\d.,]+ ?(?:%|percent|per cent) )?(?:significant |major |sharp |substantial )?",
    r"(increase|rise|boost|growth|improvement|gain|jump|decline|decrease|reduction|drop|fall|cut|loss)s? (?:in|of) ",
)
_RESULT_VERB = dict.fromkeys("increase rise boost growth improvement gain jump".split(), "raises ") | dict.fromkeys(
    "decline decrease reduction drop fall cut loss".split(), "reduces "
)
_POTENTIAL = pattern(r"\b(?:has|have|had) (?:the )?(?:potential|ability|capacity|power) to\b")
_QUOTES = " ,.;:!?\"“”'‘’"


def split_segments(sentence: str) -> tuple[list[str], str]:
    """The main clause of a sentence, then the clauses around it ("while ...", ", leading to ..."), bare; and
    the main clause with what follows it (", leading to ..."), which states the change in full."""
    core = _APPOSITIVE.sub(",", _ASIDE.sub("", sentence.strip()))
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
            if _CONJUNCTION.match(lead.group(0)) or cue_score(lead.group(1))[0] >= _SCENE_CUE:
                extras.append(lead.group(1))
            core = core[lead.end() :]
        for frame in (_REPORT, _FRAME, _WH):
            stripped = frame.sub("", core, count=1)
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


def tokenise(text: str) -> list[str]:
    """Words, figures ("3.5%") and commas, in order; stray dots dropped."""
    return [t for t in re.findall(r"\d[\d,.]*\d%?|[\w$€£][\w'’$%&/.\-]*|,", text) if t.strip(".")]


def _is_verb(tokens: list[str], k: int) -> bool:
    word, before = tokens[k].lower(), tokens[k - 1].lower()
    if word in _MODALS or word in _AUX:
        return True
    if word in _FINITE and before not in _FUNCTION and not tokens[k - 1].endswith("'s"):
        return True
    plural = before.endswith("s") and not before.endswith("ss") and k <= 4  # "banks expect", "hotels turn"
    return (word in BASE_VERBS or (plural and word in _ING_OF)) and before not in _FUNCTION


_RELATIVE = frozenset("where which who whom whose".split())


def split_clauses(core: str) -> list[Clause]:
    """One clause per predicate: "AI improves X, reduces Y and enhances Z" has three, sharing the subject."""
    tokens = tokenise(core)
    verb_at = next((k for k in range(1, len(tokens)) if _is_verb(tokens, k)), None)
    # A verb inside "where/which/who ..." belongs to a clause within a noun phrase:
    # "The need for X, a shift from norms where paths were set" has no main verb.
    bound = next((k for k in range(1, len(tokens)) if tokens[k].lower() in _RELATIVE), None)
    if verb_at is not None and bound is not None and verb_at > bound:
        verb_at = None
    if verb_at is None:
        return [Clause([], "", tokens[: tokens.index(",", 1) if "," in tokens[1:] else len(tokens)])]
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
        lemma = lemma_of(head) or (head if head in _ING_OF else "")
        clauses.append(
            Clause(subject, lemma or next((lemma_of(w) for w in predicate[:4] if lemma_of(w)), ""), predicate)
        )
    return clauses


def lemma_of(word: str) -> str:
    """The lemma of a listed verb in any of its forms ("cuts", "cutting" -> "cut"); "" for other words."""
    lower = word.lower()
    return _FINITE.get(lower) or _ING.get(lower) or (lower if lower in BASE_VERBS else "")


def content_words(words: list[str]) -> list[str]:
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


def trim(words: list[str]) -> list[str]:
    """Words without the function words, modals and commas that would leave them dangling at either end."""
    while words and (words[-1].lower() in _DANGLING or words[-1].lower() in _MODALS or words[-1] == ","):
        words = words[:-1]
    while words and words[0].lower() in _FUNCTION - {"all", "each", "every", "some"}:
        words = words[1:]
    return words


def short_subject(subject: list[str]) -> list[str]:
    """What a subject is about in a few words: "the number of AI tools" is about "AI tools"."""
    words = content_words(subject)
    if len(words) > 2 and words[0].lower() in _ABSTRACT_HEADS and words[1].lower() in ("of", "to", "in", "for"):
        words = words[2:]  # "the number of AI tools" is about "AI tools"
    elif len(words) > 2 and words[0].lower() in _CHANGE_HEADS and words[1].lower() in ("of", "in"):
        rest = words[2:]  # "the rise of AI-written content" is about that rise
        cut = next((k for k, w in enumerate(rest) if k and w.lower() in _SUBJECT_STOPS), len(rest))
        return trim(words[:2] + rest[:cut][:3])
    of = words.index("of") if "of" in words[1:5] else 0
    if of and all(w.lower() in _QUANTITIES or w[:1].isdigit() for w in words[:of]):
        words = words[of + 1 :]  # "more than a third of WeWork's employees" is about the employees
    cut = next((k for k, w in enumerate(words) if k and w.lower() in _SUBJECT_STOPS), len(words))
    negation = [w for w in words[:2] if w.lower() in ("not", "no", "few")]
    return trim(negation + [w for w in words[:cut] if w not in negation][-3:])


def signal_words(clause: Clause, limit: int) -> list[str]:
    """The clause in at most ``limit`` words: its subject, shortened, and what the predicate says."""
    subject = short_subject(clause.subject)
    budget = limit - len(subject)
    relative = next(
        (k for k, w in enumerate(clause.predicate) if k > 1 and w.lower() in ("that", "which", "who")), None
    )
    predicate = content_words(clause.predicate[:relative])
    if len(predicate) > budget and "and" in predicate[2:]:
        predicate = predicate[: predicate.index("and", 2)]  # the first of two coordinated parts, whole
    return trim(trim([*subject, *trim(predicate[:budget])])[:limit])


def object_words(clause: Clause, limit: int = 5) -> list[str]:
    """What the main verb acts on, in at most ``limit`` content words."""
    words = content_words(clause.predicate)
    start = next((k + 1 for k, w in enumerate(words) if lemma_of(w)), 0)
    words = words[start:]
    if words and words[0].lower() in ("to", "on", "up", "off", "out", "down"):
        words = words[1:]
    stop = next((k for k, w in enumerate(words) if w.lower() in _OBJECT_STOPS), None)
    return trim(words[:stop][:limit])


def clause_statement(clause: Clause) -> str:
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
            base = lower in BASE_VERBS or lower == clause.verb or (auxiliary in _MODALS and lower in _ING_OF)
            lemma = _FINITE.get(lower) or (lower if base else "")
            if lemma and not (passive and not lower.endswith("s")):
                word = _ING_OF[lemma]
            elif not lemma and lower not in _ING and auxiliary in _MODALS and lower.isalpha():
                word = gerund(word)  # after "can" or "will" comes a verb: "can establish", "establishing"
            elif not lemma and lower not in _ING and auxiliary:
                predicate.append("being" if auxiliary in _BE else "having")  # "is essential": "being essential"
        predicate.append(word)
    subject = [w for w in clause.subject if w.lower() not in _FILLER]
    return " ".join(trim([*subject, *predicate][:_STATEMENT_WORDS]))


def list_items(segment: str) -> list[str]:
    """The items of a list of noun phrases ("A, B, and C"), when each has two words or more; else the segment."""
    items = [item.strip(_QUOTES) for item in re.split(r",\s+(?:(?:and|or)\s+)?", segment) if item.strip(_QUOTES)]
    return items if len(items) > 1 and all(len(item.split()) >= 2 for item in items) else [segment]
