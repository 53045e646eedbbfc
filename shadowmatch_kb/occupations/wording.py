"""How people name their work in a question: its job words, the doer of the verb they open with, the title they give.

ESCO names jobs by who does them ("graphic designer", "vegetable grower"); people either say so ("I'm a plumber",
"I work as a bank teller") or say what they do ("I design logos", "I fix boilers and leaks"). A title said
outright is the strongest evidence a question holds; the rest of the question says what the work is like.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Container

__all__ = [
    "GENERIC",
    "about_the_work",
    "doer_noun",
    "job_title",
    "question_words",
    "stem",
    "unqualified_title",
    "what_is_asked",
    "with_title",
]

# Words of a mentor's question that say nothing about which job it is.
GENERIC = frozenset(
    """i i'm im am a an the my our we me and or of to in on at for with as is are be been will would could can
how what which who where when why do does did job jobs work working worker workers career role roles
change changes changing future ai artificial intelligence automation affect affected years next ten as
like this that it its about into from by so very really just also day daily help shadow
general sector sectors industry industries field going get gets think should worried worry know need mean means
people us they them their whole world over coming soon any all some much many more lot lots actually""".split()
)
_WORD = re.compile(r"[a-z][a-z'-]+")
_VOWELS = frozenset("aeiou")
_SENTENCE = re.compile(r"(?<=[.?!])\s+")
# A sentence that reports a question: "my apprentice asked if ...", "she wants to know whether ...".
_REPORTED_QUESTION = re.compile(r"\b(?:ask\w*|wonder\w*|wants? to know)\s+(?:me\s+)?(?:if|whether)\b", re.I)
# "-ches" is a plural of "-ch" after these ("watches", "benches", "coaches"); "niches", "crèches" keep their "e".
_CH_PLURAL = re.compile(r"(?:[tnroa]|^)ches$")

# "I'm a plumber", "I am the office manager", "I'm store manager at ...", "I work as head chef", "As head teacher of
# a school I ...", "I've been a nurse for 20 years", "my job is hairdresser": what follows is the title the person
# gives themselves.
_TITLE_OPENING = re.compile(
    r"\b(?:i'?m|i\s+am|i'?ve\s+been|i\s+have\s+been)\s+(?:(?:also|currently|now|still|just|actually)\s+)?"
    r"(?P<after_be>[^.,;:!?()\n]+)"
    r"|\b(?:work|working|worked|employed|job|career|trained|qualified)\s+as\s+(?P<after_as>[^.,;:!?()\n]+)"
    r"|(?:^|[.!?]\s+)as\s+(?P<opening_as>an?\s+[^.,;:!?()\n]+|[^.,;:!?()\n]+?\s+of\s+[^.,;:!?()\n]+)"
    r"|\bmy\s+(?:job|role|position|job\s+title|title)\s+is\s+(?P<after_is>[^.,;:!?()\n]+)",
    re.I,
)
_ARTICLES = frozenset("a an the".split())
# Words a title does not run across: they start what is said about the job ("a nurse on a ward", "a driver
# for a haulage firm", "a welder who ...").
_TITLE_ENDS = frozenset(
    """and or but who which that where when while in at for on with from to since by because so as than like about
into onto across around near over under after before during through within without i i'm my we our me you it
there here for mostly mainly most all every each now today currently still just then based
is are was were be been being have has had do does did can could will would should
up down out off not never always usually often sometimes""".split()
)
# After these a title goes on with "of" ("head of sales", "director of nursing").
_TAKES_OF = frozenset("head chief director manager professor lecturer teacher officer".split())
# "I'm a bit worried", "I'm a mum of two", "I'm a mentor": not a job title.
_NOT_TITLES = frozenset(
    """bit little lot lot's fan one mentor mum mom dad mother father parent person guy woman man bloke lady
big huge great good bad new old long first second third few couple part member sort kind type
responsible training going trying looking hoping thinking planning retired unemployed based involved interested
worried concerned curious""".split()
)
_MAX_TITLE_WORDS = 5
# How a typed job title may open ("I'm a plumber", "an electrician"): said again, it would read as no title.
_TYPED_OPENING = re.compile(r"^(?:(?:i'?m|i\s+am|i\s+work\s+as)\s+)?(?:(?:an?|the)\s+)?", re.I)


def about_the_work(text: str) -> str:
    """What a question says about the work, without the questions it asks ("... How will AI change my job?").

    The questions are about the future, not about what the job is; a text that is all questions stays whole.
    """
    sentences = _SENTENCE.split(text.strip())
    said = [sentence for sentence in sentences if not sentence.rstrip().endswith("?")]
    return " ".join(said) if said else text


# Words before a title that say how or where someone holds the job, not which job it is ("a self-employed plumber",
# "a senior staff nurse"): a title is held by its group when it is, without them.
_HOW_HELD = frozenset(
    """self-employed freelance senior junior trainee apprentice qualified registered chartered certified newly
part-time full-time agency locum relief temporary experienced retired nhs private local head""".split()
)


def unqualified_title(title: str) -> str:
    """A title without the words before it that say how it is held ("self-employed plumber" -> "plumber")."""
    words = title.split()
    while len(words) > 1 and words[0].lower() in _HOW_HELD:
        words = words[1:]
    return " ".join(words)


def with_title(question: str, title: str) -> str:
    """A question as its asker would have put it opening with the job title they typed ("plumber" -> "I'm a plumber.
    <question>"): a title said outright is what matching reads best, and the rest of the question still tells
    which of the jobs of that name it is."""
    said = _TYPED_OPENING.sub("", " ".join(title.split())).rstrip(".")
    return f"I'm a {said}. {question}"


def what_is_asked(text: str) -> str:
    """The sentences of a question that ask ("Could robots do this?") or tell what someone asked ("My nephew asked if
    trains will drive themselves soon. What do I tell him?"), not those about the work ("I run a sewing machine.");
    the last sentence when none does."""
    sentences = _SENTENCE.split(text.strip())
    asking = [s for s in sentences if s.rstrip().endswith("?") or _REPORTED_QUESTION.search(s)]
    return " ".join(asking) or sentences[-1]


def question_words(text: str) -> list[str]:
    """The words of a text that may name a job, lightly stemmed (plural "s" dropped)."""
    words = [w.strip("'-") for w in _WORD.findall(text.lower())]
    return [stem(w) for w in words if w and w not in GENERIC]


@functools.cache
def stem(word: str) -> str:
    """A word without its plural ending ("nurses" -> "nurse", "bakeries" -> "bakery", "businesses" -> "business",
    "taxes" -> "tax", "benches" -> "bench", but "niches" -> "niche")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and (word.endswith(("sses", "shes", "xes", "zzes")) or _CH_PLURAL.search(word)):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def job_title(text: str, heads: Container[str], pairs: Container[tuple[str, str]]) -> str | None:
    """The job title a question gives its asker ("I'm a plumber, I fix boilers" -> "plumber"), or None.

    The title runs from "I'm a", "I work as", ... to the first word that starts saying something about it,
    at most five words; a word in "-ing" ends it too unless the labels join it to the word before ("a civil
    engineer building bridges" -> "civil engineer", "a food processing worker" stays whole: ``pairs`` are the
    labels' adjacent word pairs). It counts only when it ends, before any "of", in a word that ends one of the
    labels (``heads``: "plumber", "manager", "nurse"), so "I'm worried about ..." names no job.
    """
    for found in _TITLE_OPENING.finditer(text):
        phrase = next(group for group in found.groups() if group)
        words = _title_words(phrase, pairs)
        named = words[: words.index("of")] if "of" in words else words
        if named and named[0] not in _NOT_TITLES and stem(named[-1]) in heads:
            return " ".join(words)
    return None


def _title_words(phrase: str, pairs: Container[tuple[str, str]]) -> list[str]:
    words: list[str] = []
    for raw in phrase.lower().split():
        word = raw.strip("'\"")
        if word in _ARTICLES or any(c.isdigit() for c in word):
            continue  # "the general manager of a 120-room hotel" -> "general manager of hotel"
        if not _WORD.fullmatch(word) or len(words) == _MAX_TITLE_WORDS:
            break
        if word in _TITLE_ENDS and not (word == "of" and words and words[-1] in _TAKES_OF):
            break
        if words and words[-1] != "of" and word.endswith("ing") and (stem(words[-1]), word) not in pairs:
            break
        words.append(word)
    while words and words[-1] == "of":
        words.pop()
    return words


def doer_noun(verb: str, vocabulary: Container[str]) -> str | None:
    """The noun for one who does ``verb`` ("design" -> "designer"), if ``vocabulary`` holds it, else None.

    English forms it with "-er", dropping a final "e" ("drive" -> "driver") and doubling a final consonant after
    a single vowel ("cut" -> "cutter", "program" -> "programmer"), or with "-or" ("translate" -> "translator",
    "inspect" -> "inspector"). Several forms are tried, the likeliest first; only a noun the labels use is
    returned, so a verb with no such noun in ESCO ("answer") adds nothing.
    """
    verb = verb.lower()
    if verb in GENERIC or len(verb) < 3:
        return None
    if verb.endswith("e"):
        forms = [verb[:-1] + "or", verb + "r"] if verb.endswith("ate") else [verb + "r"]
    else:
        forms = [verb + "er", verb + "or"]
        if verb[-1] not in _VOWELS | set("wxy") and verb[-2] in _VOWELS and verb[-3] not in _VOWELS:
            # One-syllable verbs double ("cutter", not "cuter"); longer ones only when stressed last, which
            # the spelling does not show, so there the plain form is tried first ("opener", "programmer").
            doubled = [verb + verb[-1] + "er", verb + verb[-1] + "or"]
            forms = doubled + forms if len(verb) <= 4 else forms[:1] + doubled + forms[1:]
    return next((form for form in forms if form in vocabulary), None)
