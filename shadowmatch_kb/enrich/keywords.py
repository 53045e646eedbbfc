"""Key phrases of an item: YAKE statistics find the candidates, the embedding model helps choose among them.

``extract_keywords`` keeps the candidates of ``yake.analyse`` that read as noun phrases (none starts
or ends with a stop word, a verb or an adverb, none spans a function word), ranks them by YAKE, the
title, repeats and brevity, asks the bundled model how close the best of them are to the text, and
picks about ten by maximal marginal relevance, so that near-duplicates do not crowd the list.
Phrases are compared by ``phrase_stems``: light stems, so that "automated" and "automation's" meet.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from shadowmatch_kb.enrich.yake import Candidate, Document, Term, analyse, is_valid
from shadowmatch_kb.text.english import ING_NOUNS, IRREGULAR_PAST, ISE_NOUNS, LY_NON_ADVERBS, verb_forms
from shadowmatch_kb.text.stopwords import stopwords

if TYPE_CHECKING:
    import numpy as np

    from shadowmatch_kb.embed.base import Embedder

__all__ = ["extract_keywords", "phrase_stems", "stems_overlap"]

# Candidates handed to the model. Each costs about 1.5 ms of a CPU core, the model's reranking gained the Signals
# posts' keywords little (F1@10 0.505 with none, 0.501 with 12, 0.515 with 20, 0.519 with 32), and the whole
# enrichment must keep up 20 items a second; 12 keeps summary and keywords within 25 ms an item.
_POOL = 12
# Candidates past the embedded ones, in prior order, to fill the list when containment rules out too many.
_RESERVE = 80
# The prior before the model looks: YAKE's rank (0..1) plus the share of a phrase's words in the title, a
# bonus for each repeat (up to two) and one for a single word, which stands for every phrase that holds it.
# Then the model's cosine to the text, and MMR's share of relevance. Tuned on the Signals posts.
_W_TITLE, _W_REPEAT, _W_SINGLE = 0.5, 0.3, 0.2
_W_TEXT, _MMR_LAMBDA = 1.0, 0.9
# More than the model reads (256 word pieces) of a text embedded whole; the rest would only be tokenised.
_DOC_CHARS = 3_000
# Longer than a summary: single words lose their bonus (see _prior).
_SHORT_TEXT_WORDS = 250
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)

# Verbs in all their forms (-s, -ed, -ing): a phrase holding one is a clause, not a key phrase. Summaries
# and news lean on a small set of them ("the article discusses", "findings suggest").
_VERBS_ALL_FORMS = (
    "accelerate achieve affect aim allow analyse analyze appear apply argue become begin believe bring compare "
    "conclude consider contribute create decide demonstrate describe determine discuss eliminate emphasise emphasize "
    "enable encourage enhance ensure examine expand expect explain explore express find follow foster give grow "
    "happen identify illustrate improve include indicate introduce investigate involve keep leverage make mention "
    "predict propose provide receive recognise recognize reduce reflect remain replace represent require reveal seek "
    "seem spark suggest take tend transform underscore warn"
)
# Verbs whose plain and -s forms are also nouns ("productivity gains", "new challenges"): only -ed and -ing count.
_VERBS_PARTICIPLES = (
    "address build call cause challenge claim detail face focus gain help highlight increase lead look note "
    "offer outline point present question raise reach report show stress turn"
)
# Irregular verbs not listed above whose past forms mark a clause ("what they knew"); their other forms
# are stop words. Not every irregular past: a tax "cut" and a skill "set" are nouns.
_IRREGULAR_PASTS = "be come do get go hold know leave mean say see tell think"
# Words that name the text itself or say too little to stand alone as a keyword.
_VAGUE = frozenset(
    "article author authors paper study studies text piece report post essay blog research researchers findings "
    "finding thing things lot lots kind type types number numbers time times year years day days today people "
    "case cases issue issues aspect aspects role roles impact impacts potential importance world level levels "
    "result results approach approaches fact idea ideas point points area areas term terms set range variety "
    "series overview summary insight insights benefit benefits effect effects concern concerns change changes "
    "question questions challenge challenges opportunity opportunities need".split()
)
# Modifiers that add nothing to the noun after them ("significant role", "recent study").
_VAGUE_MODIFIERS = frozenset(
    "significant key major main current recent future past new other further potential overall growing increasing "
    "numerous many notable crucial critical essential vital substantial considerable broader wider greater "
    "large small big high low long short whole entire".split()
)

_MATCH_WORD = re.compile(r"[^\W_]+")


def _verb_forms() -> frozenset[str]:
    forms = {"according"}  # "according to" opens a clause, as a verb would
    for lemma in _IRREGULAR_PASTS.split():
        forms.update(IRREGULAR_PAST[lemma])
    for verbs, every_form in ((_VERBS_ALL_FORMS, True), (_VERBS_PARTICIPLES, False)):
        for verb in verbs.split():
            third, ing, past = verb_forms(verb)
            forms.update({ing, *past})
            if every_form:
                forms.update({verb, third})
    return frozenset(forms - ING_NOUNS)


_VERBS = _verb_forms()


def extract_keywords(
    text: str,
    embedder: Embedder,
    *,
    n: int = 10,
    title: str = "",
    doc_vector: np.ndarray | None = None,
    language: str | None = "en",
) -> list[str]:
    """About ``n`` key phrases of 1–3 words: YAKE's candidates reranked for relevance and diversity by the model."""
    if n <= 0 or not text.strip():
        return []
    import numpy as np

    text = _URL.sub(" ", text)
    document = analyse(text, stopwords(language), keep_acronyms=True)
    candidates = _ranked_candidates(document)
    if not candidates:
        return []
    # A title that opens the text counts once there: its words need another mention to earn the title's bonus.
    title_repeats = 2 if title.strip() and title.strip().lower() in text[: len(title) + 200].lower() else 1
    long = len(text.split()) > _SHORT_TEXT_WORDS
    prior = _prior(candidates, title, long=long, title_repeats=title_repeats)
    order = np.argsort(-prior, kind="stable")
    ranked = [_display(candidates[i], document.terms) for i in order]
    phrases = ranked[:_POOL]
    vectors = embedder.embed_batch(phrases)
    if doc_vector is None:
        # Embedded apart from the phrases: in one batch every short phrase would be padded to the text's length.
        doc_vector = embedder.embed_batch([text[:_DOC_CHARS]])[0]
    relevance = prior[order[:_POOL]] + _W_TEXT * (vectors @ np.asarray(doc_vector, dtype=np.float32))
    chosen = [phrases[i] for i in _mmr(phrases, vectors, relevance, n)]
    if long:  # at most half single words: the rest of the list goes to the best phrases
        singles = [phrase for phrase in chosen if len(phrase.split()) == 1]
        extra = set(singles[n // 2 :])
        chosen = [phrase for phrase in chosen if phrase not in extra]
    # Containment may have ruled out too many of the embedded few; the prior alone fills the list.
    chosen_stems = [phrase_stems(phrase) for phrase in chosen]
    for phrase in ranked:
        if len(chosen) >= n:
            break
        stems = phrase_stems(phrase)
        if long and len(stems) == 1 or phrase in chosen:
            continue
        if not any(_redundant(stems, other) for other in chosen_stems):
            chosen.append(phrase)
            chosen_stems.append(stems)
    return chosen


def _prior(candidates: list[Candidate], title: str, *, long: bool = False, title_repeats: int = 1) -> np.ndarray:
    """How good each candidate looks before the model is asked: YAKE's rank, the title, repeats, brevity.

    In a short text a single word stands for every phrase that holds it; in a long one the frequent single
    words are the generic ones ("work", "technology"), and the phrases say what the text is about.
    """
    import numpy as np

    title_stems = set(phrase_stems(title))
    prior = np.empty(len(candidates), dtype=np.float64)
    for i, candidate in enumerate(candidates):
        stems = phrase_stems(" ".join(candidate.words))
        in_title = sum(stem in title_stems for stem in stems) / len(stems) if candidate.tf >= title_repeats else 0.0
        prior[i] = (
            1.0
            - i / len(candidates)
            + _W_TITLE * in_title
            + _W_REPEAT * min(candidate.tf - 1, 2) * (0.5 if long and len(stems) == 1 else 1.0)
            + (0.0 if long else _W_SINGLE) * (len(stems) == 1)
        )
    return prior


def _ranked_candidates(document: Document) -> list[Candidate]:
    """YAKE's best candidates that read as noun phrases, one of each set of spellings with the same stems."""
    ranked = sorted(
        (c for c in document.candidates.values() if _noun_phrase_like(c, document.terms)),
        key=lambda c: (c.score, c.words),
    )
    kept: list[Candidate] = []
    stems: set[tuple[str, ...]] = set()
    for candidate in ranked:
        key = tuple(phrase_stems(" ".join(candidate.words)))
        if key not in stems:
            stems.add(key)
            kept.append(candidate)
            if len(kept) == _RESERVE:
                break
    return kept


def _noun_phrase_like(candidate: Candidate, terms: dict[str, Term]) -> bool:
    if not is_valid(candidate, terms) or not math.isfinite(candidate.score):
        return False
    words = candidate.words
    if any(_is_verb(word) for word in words):
        return False
    if len(words) > 1 and _is_participle(words[0]):
        return False  # "changing landscape": the noun after it is the key phrase
    if any(_is_adverb(word) for word in (words[0], words[-1])):
        return False
    if words[0] in _VAGUE_MODIFIERS:
        return False
    # "monetization of generative", "Microsoft and OpenAI": spans across a function word are rarely one idea.
    if any(terms[key].stop for key in candidate.terms[1:-1]):
        return False
    if all(word in _VAGUE or terms[key].stop for word, key in zip(words, candidate.terms, strict=True)):
        return False
    # A trailing -ed word is a verb here ("jobs replaced"); in front it is an adjective ("skilled workers").
    last = words[-1]
    return not (len(words) > 1 and last.endswith("ed") and not last.endswith("eed") and len(last) > 4)


def _is_verb(word: str) -> bool:
    if word in _VERBS:
        return True
    # -ize verbs are nearly always verbs; the -ise spelling also ends many nouns (enterprise, expertise).
    return re.search(r"i[zs](?:e|es|ed|ing)$", word) is not None and len(word) > 6 and word not in ISE_NOUNS


def _is_participle(word: str) -> bool:
    return word.endswith("ing") and len(word) > 5 and word not in ING_NOUNS


def _is_adverb(word: str) -> bool:
    return word.endswith("ly") and len(word) > 4 and word not in LY_NON_ADVERBS


def _display(candidate: Candidate, terms: dict[str, Term]) -> str:
    """The phrase as most often written, lower-cased except for acronyms and names."""
    surface = candidate.surfaces.most_common(1)[0][0].split(" ")
    shown = []
    for word, key in zip(surface, candidate.terms, strict=True):
        term = terms[key]
        inner_caps = any(c.isupper() for c in word[1:])
        proper = term.tf_capital > 0 and term.tf_capital * 2 >= term.tf_inner
        # Mostly in capitals, not just in a shouted heading.
        acronym = term.tf_acronym * 2 >= term.tf
        shown.append(word if inner_caps or proper or acronym else word.lower())
    return " ".join(shown)


def _mmr(phrases: list[str], vectors: np.ndarray, relevance: np.ndarray, n: int) -> list[int]:
    """Maximal marginal relevance; a phrase that contains or is contained in a chosen one is skipped."""
    import numpy as np

    similarity = vectors @ vectors.T
    stems = [phrase_stems(phrase) for phrase in phrases]
    redundancy = np.zeros(len(phrases), dtype=np.float64)
    gain = _MMR_LAMBDA * np.asarray(relevance, dtype=np.float64)
    chosen: list[int] = []
    for _ in range(len(phrases)):
        if len(chosen) >= n:
            break
        best = int(np.argmax(gain - (1.0 - _MMR_LAMBDA) * redundancy))
        gain[best] = -np.inf
        if any(_redundant(stems[best], stems[j]) for j in chosen):
            continue
        chosen.append(best)
        redundancy = np.maximum(redundancy, similarity[best])
    return sorted(chosen, key=lambda i: -float(relevance[i]))


def phrase_stems(phrase: str) -> list[str]:
    """The light stems of a phrase's words, the form under which phrases are compared."""
    # Dots go first so that "A.I." and "AI" compare equal.
    return [_light_stem(word) for word in _MATCH_WORD.findall(phrase.lower().replace(".", ""))]


def _light_stem(word: str) -> str:
    """Strip plural, -ing and -ed endings and a final e, so that "automated" and "automation's" roots line up."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # planning -> plan
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def _contains(longer: list[str], shorter: list[str]) -> bool:
    size = len(shorter)
    return any(longer[i : i + size] == shorter for i in range(len(longer) - size + 1))


def stems_overlap(left: list[str], right: list[str]) -> bool:
    """Whether one list of stems holds the other, in order and in a row (equal lists included)."""
    if not left or not right:
        return False
    return _contains(left, right) if len(left) >= len(right) else _contains(right, left)


def _redundant(left: list[str], right: list[str]) -> bool:
    """One phrase holds the other, or both hold the same two words in a row ("Monster Energy NASCAR", "NASCAR Cup")."""
    if stems_overlap(left, right):
        return True
    pairs = set(zip(left, left[1:], strict=False))
    return any(pair in pairs for pair in zip(right, right[1:], strict=False))
