"""Key phrases of an item: YAKE statistics find the candidates, the embedding model helps choose among them.

``yake_keywords`` is plain YAKE (Campos et al., 2020: casing, position, frequency, context relatedness
and sentence spread of each word, combined over 1–3 word n-grams), kept as the baseline the evaluation
measures against. ``extract_keywords`` keeps YAKE's candidates that read as noun phrases (none starts
or ends with a stop word, a verb or an adverb, none spans a function word), ranks them by YAKE, the
title, repeats and brevity, asks the bundled model how close the best of them are to the text, and
picks about ten by maximal marginal relevance, so that near-duplicates do not crowd the list.
``keyword_match`` is the lenient comparison the evaluation scores with."""

from __future__ import annotations

import functools
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from shadowmatch_kb.enrich.sentences import split_sentences

if TYPE_CHECKING:
    import numpy as np

    from shadowmatch_kb.embed.base import Embedder

__all__ = ["LANGUAGES", "extract_keywords", "keyword_f1", "keyword_match", "yake_keywords"]

_MAX_WORDS = 3
_WINDOW = 2
# YAKE's default: a candidate this similar (by characters) to a better one is a duplicate of it.
_DEDUP_SIMILARITY = 0.9
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
# Long texts cost time without changing which phrases matter; YAKE's position feature favours the start anyway.
_MAX_CHARS = 20_000
# More than the model reads (256 word pieces) of a text embedded whole; the rest would only be tokenised.
_DOC_CHARS = 3_000
# Longer than a summary: single words lose their bonus (see _prior).
_SHORT_TEXT_WORDS = 250
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)

_EN_STOPWORDS = frozenset(
    """a about above across after afterwards again against all almost alone along already also although always am
    among amongst an and another any anybody anyhow anyone anything anyway anywhere are aren't around as at be became
    because become becomes becoming been before beforehand behind being below beside besides between beyond both but
    by can cannot can't could couldn't did didn't do does doesn't doing done don't down due during each either else
    elsewhere enough especially etc even ever every everybody everyone everything everywhere except few for former
    formerly from further furthermore had hadn't has hasn't have haven't having he hence her here hereby herein hers
    herself him himself his how however i if in indeed instead into is isn't it its it's itself just last latter
    latterly least less let many may maybe me meanwhile might mine more moreover most mostly much must my myself
    namely neither never nevertheless next no nobody none noone nor not nothing now nowhere of off often on once one
    only onto or other others otherwise our ours ourselves out over own per perhaps quite rather really same several
    she should shouldn't since so some somebody somehow someone something sometime sometimes somewhat somewhere still
    such than that that's the their theirs them themselves then thence there thereafter thereby therefore therein
    these they this those though through throughout thus to together too toward towards under unless until up upon
    us very via was wasn't we well were weren't what whatever when whence whenever where whereas whereby wherever
    whether which while whither who whoever whole whom whose why will with within without won't would wouldn't yet
    you your yours yourself yourselves i'm i've you're we're they're we've they've i'd you'd he's she's let's
    new like amid whilst versus vs
    one two three four five six seven eight nine ten zero first second third secondly fifth
    actually certainly clearly currently definitely entirely exactly hardly hopefully lately likely unlikely mainly
    merely mostly nearly normally obviously particularly presumably probably relatively respectively seriously truly
    unfortunately usually thoroughly accordingly consequently soon later far near little
    able available certain possible sure various different particular necessary useful best better right old
    ask asks asked asking come comes came coming get gets got getting gotten go goes going gone went give gives given
    know knows known keep keeps kept look looks looking say says said saying see sees seeing seen saw seem seems
    seemed seeming take takes taken took tell tells think thinks try tries tried trying use uses used using want
    wants need needs mean means way course example value self non ok okay yes please thanks""".split()
)

_OTHER_STOPWORDS = {
    "de": "aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei bin bis bist da "
    "damit dann das dass dein dem den der des dich die dies diese dieser dieses dir doch dort du durch ein eine einem "
    "einen einer eines er es etwas euch euer für gegen hat hatte hier hin hinter ich ihm ihn ihr ihre im in ist ja "
    "jede jedem jeden jeder jedes jetzt kann kein keine können machen man mehr mein mich mit muss nach nicht nichts "
    "noch nun nur ob oder ohne sehr sein seine sich sie sind so sollen sondern über um und uns unser unter viel vom "
    "von vor wann warum was weil welche wenn werden wie wieder wir wird wo wurde wurden zu zum zur zwischen soll "
    "sollen sollte kann könnte muss müssen darf wäre hätte haben habe gibt gab schon immer sowie bereits",
    "fr": "à au aux avec ce ces cette comme dans de des du elle elles en est et être eux il ils je la le les leur "
    "leurs lui ma mais me même mes moi mon ne nos notre nous on ont ou où par pas pour qu que qui sa sans se ses son "
    "sont sur ta te tes toi ton tous tout toute toutes très tu un une vos votre vous été était sera aussi plus entre "
    "fait faire peut cela ceci dont lors avoir",
    "es": "a al algo algunos ante antes como con contra cual cuando de del desde donde durante e el ella ellas "
    "ellos en entre era es esa esas ese eso esos esta estas este esto estos fue fueron ha han hasta hay la las le "
    "les lo los más me mi muy nada ni no nos o otra otro para pero poco por porque que quien se sea ser si sin sobre "
    "son su sus también te tiene tienen todo todos tu un una uno unos y ya puede pueden están está",
    "it": "a ad al alla alle anche che chi ci come con da dal dalla dei del della delle di dove e è ed era gli ha "
    "hanno i il in io la le lei lo loro lui ma mi ne nei nel nella noi non o per più può quale quando questa questo "
    "se si sono su sua sue suo sul sulla tra tu un una uno anche essere sono stato molto",
    "pt": "a ao aos as até com como da das de dela dele deles do dos e é ela elas ele eles em entre era essa esse "
    "esta este eu foi for foram há isso isto já la mais mas me mesmo muito na nas não nem no nos o os ou para pela "
    "pelo por qual quando que se sem ser seu seus sua suas também te tem um uma você são está estão pode podem",
    "nl": "aan al alle als bij dan dat de deze die dit doen door een en er geen had heb hebben heeft hem het hier "
    "hij hoe hun ik in is ja je kan kon maar me meer men met mij mijn na naar niet niets nog nu of om omdat ons ook "
    "op over te tegen toen tot u uit van veel voor want was wat we wel werd wie wij wil worden zal ze zich zij zijn "
    "zo zonder zou",
    "ru": "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было "
    "вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять "
    "уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без "
    "будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти "
    "мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше "
    "тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше "
    "чуть том нельзя такой им более всегда конечно всю между это также которые который которая",
}

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
_IRREGULAR_VERBS = frozenset(
    "began become been brought built came did done found gave given got gone grew grown held kept knew known led "
    "left made meant said saw seen sought shown taken thought told took went according".split()
)
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
_ISE_NOUNS = frozenset(
    "enterprise enterprises expertise exercise exercises franchise franchises merchandise premise premises promise "
    "promises compromise compromises otherwise surprise surprises demise treatise precise concise".split()
)
# Words in -ing that name a field, a trade or a thing rather than an action in progress.
_ING_NOUNS = frozenset(
    "learning training computing marketing engineering manufacturing programming banking nursing building housing "
    "funding hiring pricing recruiting reskilling upskilling outsourcing offshoring crowdsourcing advertising "
    "publishing accounting consulting writing reading thinking teaching coding testing planning processing screening "
    "monitoring modeling modelling forecasting reasoning prompting tutoring mentoring policing farming mining "
    "shipping trucking retailing gaming streaming trading lending spending hearing meeting setting understanding "
    "wellbeing being morning evening clothing catering cleaning cooking healthcare caring surveillance tracking "
    "scheduling onboarding offboarding networking sharing fact-checking fine-tuning ridesharing ride-hailing "
    "printing packaging recycling warehousing logistics staffing freelancing gig".split()
)
# Words in -ly that are not adverbs.
_LY_NOUNS = frozenset("supply family assembly monopoly anomaly ally italy july apply reply rely fly".split())

_ACRONYM_DOTS = r"(?:[A-Za-z]\.){2,}"
_TOKEN = re.compile(_ACRONYM_DOTS + r"|[^\W_]+(?:[-'’&][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_MATCH_WORD = re.compile(r"[^\W_]+")


def _verb_forms() -> frozenset[str]:
    forms = set(_IRREGULAR_VERBS)
    for verbs, every_form in ((_VERBS_ALL_FORMS, True), (_VERBS_PARTICIPLES, False)):
        for verb in verbs.split():
            consonant_y = verb.endswith("y") and verb[-2] not in "aeiou"
            root = verb[:-1] if verb.endswith("e") else verb
            forms.update({verb[:-1] + "ied" if consonant_y else root + "ed", root + "ing"})
            if every_form:
                plural = verb[:-1] + "ies" if consonant_y else verb + "s"
                forms.update({verb, verb + "es" if verb.endswith(("s", "sh", "ch", "x", "z")) else plural})
    return frozenset(forms - _ING_NOUNS)


_VERBS = _verb_forms()


@dataclass
class _Term:
    """One distinct word of a text (lower case, a final -s dropped) and what YAKE counts about it."""

    stop: bool
    tf: int = 0
    tf_acronym: int = 0
    tf_capital: int = 0
    tf_inner: int = 0
    sentences: list[int] = field(default_factory=list)
    left: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    h: float = 0.0


@dataclass
class _Candidate:
    """One n-gram of 1–3 words, keyed by its terms; ``surfaces`` counts how it was written."""

    terms: tuple[str, ...]
    words: tuple[str, ...]
    tf: int = 0
    surfaces: Counter[str] = field(default_factory=Counter)
    usable: bool = False
    score: float = 0.0


@dataclass
class _Document:
    terms: dict[str, _Term]
    candidates: dict[tuple[str, ...], _Candidate]
    sentence_count: int


# Languages whose stop words the extractor knows.
LANGUAGES = frozenset({"en", *_OTHER_STOPWORDS})


@functools.lru_cache(maxsize=32)
def _stopwords(language: str | None) -> frozenset[str]:
    if language is None:
        return _EN_STOPWORDS.union(*(frozenset(words.split()) for words in _OTHER_STOPWORDS.values()))
    code = language.lower().split("-")[0].split("_")[0]
    if code in _OTHER_STOPWORDS:
        return frozenset(_OTHER_STOPWORDS[code].split())
    return _EN_STOPWORDS


def _tag(word: str, first_in_sentence: bool, *, names_with_digits: bool = False) -> str:
    """YAKE's word classes: d(igit), u(nusual), a(cronym), n (capitalised name) and p(lain)."""
    bare = word.replace(",", "")
    if bare.isdigit() or bare.replace(".", "", 1).isdigit():
        return "d"
    letters = sum(c.isalpha() for c in word)
    digits = sum(c.isdigit() for c in word)
    if names_with_digits and letters and digits and any(c.isupper() for c in word):
        return "a"  # GPT-4, COVID-19: names, which plain YAKE throws away as unusual tokens
    if (letters and digits) or not letters:
        return "u"
    if word.replace(".", "").isupper() and len(word.replace(".", "")) > 1:
        return "a"
    if word[0].isupper() and not first_in_sentence:
        return "n"
    return "p"


def _term_key(word: str) -> str:
    key = word.lower()
    return key[:-1] if key.endswith("s") and len(key) > 3 else key


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Runs of words that no punctuation separates, each with the index of its sentence."""
    blocks: list[tuple[int, list[str]]] = []
    for index, sentence in enumerate(split_sentences(text[:_MAX_CHARS])):
        current: list[str] = []
        last_end = 0
        for match in _TOKEN.finditer(sentence.text):
            word = match.group()
            if current and sentence.text[last_end : match.start()].strip():
                blocks.append((index, current))
                current = []
            possessive = _POSSESSIVE.search(word)
            if possessive and len(word) > 2:
                word = word[: possessive.start()]
            current.append(word)
            last_end = match.end()
            if possessive:
                # "ChatGPT's responses" is not the phrase "ChatGPT responses": the possessive ends the run.
                blocks.append((index, current))
                current = []
        if current:
            blocks.append((index, current))
    return blocks


def _analyse(text: str, stopwords: frozenset[str], *, keep_acronyms: bool) -> _Document:
    """Count every word and n-gram of the text the way YAKE does, then score them."""
    terms: dict[str, _Term] = {}
    candidates: dict[tuple[str, ...], _Candidate] = {}
    blocks = _blocks(text)
    seen_sentences: set[int] = set()
    for sentence_index, words in blocks:
        first = sentence_index not in seen_sentences
        seen_sentences.add(sentence_index)
        run: list[tuple[str, str, str]] = []  # (word, key, tag) of this block so far
        for position, word in enumerate(words):
            tag = _tag(word, first and position == 0, names_with_digits=keep_acronyms)
            key = _term_key(word)
            term = terms.get(key)
            if term is None:
                bare = re.sub(r"\W", "", key)
                short = len(bare) < 3 and not (keep_acronyms and tag == "a")
                term = terms[key] = _Term(stop=word.lower() in stopwords or key in stopwords or short)
            term.tf += 1
            term.tf_acronym += tag == "a"
            term.tf_capital += tag == "n"
            term.tf_inner += not (first and position == 0)
            term.sentences.append(sentence_index)
            if tag not in "ud":
                for _, prev_key, prev_tag in run[-_WINDOW:]:
                    if prev_tag not in "ud":
                        terms[prev_key].right[key] += 1
                        term.left[prev_key] += 1
            run.append((word, key, tag))
            for size in range(1, min(_MAX_WORDS, len(run)) + 1):
                gram = run[-size:]
                keys = tuple(k for _, k, _ in gram)
                candidate = candidates.get(keys)
                if candidate is None:
                    candidate = candidates[keys] = _Candidate(keys, tuple(w.lower() for w, _, _ in gram))
                candidate.tf += 1
                candidate.surfaces[" ".join(w for w, _, _ in gram)] += 1
                candidate.usable = candidate.usable or not any(t in "ud" for _, _, t in gram)
    document = _Document(terms, candidates, max(1, len(seen_sentences)))
    _score_terms(document)
    _score_candidates(document)
    return document


def _score_terms(document: _Document) -> None:
    terms = document.terms
    if not terms:
        return
    content = [t.tf for t in terms.values() if not t.stop] or [0]
    mean_tf, std_tf = statistics.fmean(content), statistics.pstdev(content)
    max_tf = max(t.tf for t in terms.values())
    for term in terms.values():
        left_total, right_total = sum(term.left.values()), sum(term.right.values())
        left_share = len(term.left) / left_total if left_total else 0.0
        right_share = len(term.right) / right_total if right_total else 0.0
        relatedness = 1.0 + (left_share + right_share) * term.tf / max_tf
        frequency = term.tf / (mean_tf + std_tf) if mean_tf + std_tf else 0.0
        spread = len(set(term.sentences)) / document.sentence_count
        casing = max(term.tf_acronym, term.tf_capital) / (1.0 + math.log(term.tf))
        position = math.log(math.log(3.0 + statistics.median(sorted(set(term.sentences)))))
        term.h = position * relatedness / (casing + frequency / relatedness + spread / relatedness)


def _score_candidates(document: _Document) -> None:
    """YAKE's phrase score (lower is better); a stop word inside counts by how often its neighbours bind to it."""
    terms = document.terms
    for candidate in document.candidates.values():
        if not _valid(candidate, terms):
            candidate.score = math.inf
            continue
        product, total = 1.0, 0.0
        keys = candidate.terms
        for i, key in enumerate(keys):
            term = terms[key]
            if not term.stop:
                product *= term.h
                total += term.h
                continue
            before = terms[keys[i - 1]].right[key] / terms[keys[i - 1]].tf if i > 0 else 0.0
            after = term.right[keys[i + 1]] / terms[keys[i + 1]].tf if i + 1 < len(keys) else 0.0
            product *= 2.0 - before * after
            total -= 1.0 - before * after
        candidate.score = product / ((total + 1.0) * candidate.tf) if total > -1.0 else math.inf


def _valid(candidate: _Candidate, terms: dict[str, _Term]) -> bool:
    return candidate.usable and not terms[candidate.terms[0]].stop and not terms[candidate.terms[-1]].stop


def _deduplicated(ranked: list[tuple[str, _Candidate]], n: int) -> list[tuple[str, _Candidate]]:
    chosen: list[tuple[str, _Candidate]] = []
    for key, candidate in ranked:
        if len(chosen) >= n:
            break
        if not any(_similar_spelling(key, other) for other, _ in chosen):
            chosen.append((key, candidate))
    return chosen


def _similar_spelling(a: str, b: str) -> bool:
    # The cheap upper bounds rule out almost every pair before the full comparison runs.
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() > _DEDUP_SIMILARITY
        and matcher.quick_ratio() > _DEDUP_SIMILARITY
        and matcher.ratio() > _DEDUP_SIMILARITY
    )


def yake_keywords(text: str, n: int = 10, language: str = "en") -> list[str]:
    """Plain YAKE: the ``n`` best 1–3 word phrases, as first written in the text (the evaluation's baseline)."""
    if n <= 0 or not text.strip():
        return []
    document = _analyse(text, _stopwords(language), keep_acronyms=False)
    ranked = sorted(
        ((" ".join(c.words), c) for c in document.candidates.values() if _valid(c, document.terms)),
        key=lambda pair: (pair[1].score, pair[0]),
    )
    return [next(iter(c.surfaces)) for _, c in _deduplicated(ranked, n)]


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
    document = _analyse(text, _stopwords(language), keep_acronyms=True)
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
    chosen_stems = [_match_tokens(phrase) for phrase in chosen]
    for phrase in ranked:
        if len(chosen) >= n:
            break
        stems = _match_tokens(phrase)
        if long and len(stems) == 1 or phrase in chosen:
            continue
        if not any(_redundant(stems, other) for other in chosen_stems):
            chosen.append(phrase)
            chosen_stems.append(stems)
    return chosen


def _prior(candidates: list[_Candidate], title: str, *, long: bool = False, title_repeats: int = 1) -> np.ndarray:
    """How good each candidate looks before the model is asked: YAKE's rank, the title, repeats, brevity.

    In a short text a single word stands for every phrase that holds it; in a long one the frequent single
    words are the generic ones ("work", "technology"), and the phrases say what the text is about.
    """
    import numpy as np

    title_stems = set(_match_tokens(title))
    prior = np.empty(len(candidates), dtype=np.float64)
    for i, candidate in enumerate(candidates):
        stems = _match_tokens(" ".join(candidate.words))
        in_title = sum(stem in title_stems for stem in stems) / len(stems) if candidate.tf >= title_repeats else 0.0
        prior[i] = (
            1.0
            - i / len(candidates)
            + _W_TITLE * in_title
            + _W_REPEAT * min(candidate.tf - 1, 2) * (0.5 if long and len(stems) == 1 else 1.0)
            + (0.0 if long else _W_SINGLE) * (len(stems) == 1)
        )
    return prior


def _ranked_candidates(document: _Document) -> list[_Candidate]:
    """YAKE's best candidates that read as noun phrases, one of each set of spellings with the same stems."""
    ranked = sorted(
        (c for c in document.candidates.values() if _noun_phrase_like(c, document.terms)),
        key=lambda c: (c.score, c.words),
    )
    kept: list[_Candidate] = []
    stems: set[tuple[str, ...]] = set()
    for candidate in ranked:
        key = tuple(_match_tokens(" ".join(candidate.words)))
        if key not in stems:
            stems.add(key)
            kept.append(candidate)
            if len(kept) == _RESERVE:
                break
    return kept


def _noun_phrase_like(candidate: _Candidate, terms: dict[str, _Term]) -> bool:
    if not _valid(candidate, terms) or not math.isfinite(candidate.score):
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
    return re.search(r"i[zs](?:e|es|ed|ing)$", word) is not None and len(word) > 6 and word not in _ISE_NOUNS


def _is_participle(word: str) -> bool:
    return word.endswith("ing") and len(word) > 5 and word not in _ING_NOUNS


def _is_adverb(word: str) -> bool:
    return word.endswith("ly") and len(word) > 4 and word not in _LY_NOUNS


def _display(candidate: _Candidate, terms: dict[str, _Term]) -> str:
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
    stems = [_match_tokens(phrase) for phrase in phrases]
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


def _match_tokens(phrase: str) -> list[str]:
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


def _overlap(left: list[str], right: list[str]) -> bool:
    if not left or not right:
        return False
    return _contains(left, right) if len(left) >= len(right) else _contains(right, left)


def _redundant(left: list[str], right: list[str]) -> bool:
    """One phrase holds the other, or both hold the same two words in a row ("Monster Energy NASCAR", "NASCAR Cup")."""
    if _overlap(left, right):
        return True
    pairs = set(zip(left, left[1:], strict=False))
    return any(pair in pairs for pair in zip(right, right[1:], strict=False))


def keyword_match(a: str, b: str) -> bool:
    """Lenient keyword equality: same light stems, or one phrase inside the other as whole words."""
    return _overlap(_match_tokens(a), _match_tokens(b))


def keyword_f1(predicted: list[str], reference: list[str], k: int = 10) -> float:
    """F1 of the first ``k`` predicted keywords against a reference list under ``keyword_match``."""
    top = predicted[:k]
    if not top or not reference:
        return 0.0
    precision = sum(any(keyword_match(p, r) for r in reference) for p in top) / len(top)
    recall = sum(any(keyword_match(p, r) for p in top) for r in reference) / len(reference)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
