"""From a person's words ("I answer phones in a call centre") to ISCO-08 unit groups, through ESCO's labels.

Two views of every label: its words (TF-IDF, so "call centre" finds "contact centre" only through the
model) and its meaning (the bundled embedding model, so "I look after patients on a ward" finds nurses).
Each unit group scores as its best label; the two views are blended.

ESCO names jobs by who does them ("graphic designer", "vegetable grower"); people often say what they do
("I design logos", "I grow vegetables"). So a question that opens "I <verb> ..." is also read as the noun of
the one who does it, built from the verb by English word formation and kept only where ESCO's labels use it:
that noun joins the words, and "<what follows> <noun>" ("logo poster designer") joins the meaning.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Container, Sequence
from dataclasses import dataclass

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.occupations.store import Label

__all__ = ["OccupationMatch", "OccupationMatcher", "doer_noun", "question_words"]

# How much the meaning counts against the words; measured on the questions of scripts/eval_occupations.py.
_SEMANTIC_WEIGHT = 0.7
# Words of a mentor's question that say nothing about which job it is.
_GENERIC = frozenset(
    """i i'm im am a an the my our we me and or of to in on at for with as is are be been will would could can
how what which who where when why do does did job jobs work working worker workers career role roles
change changes changing future ai artificial intelligence automation affect affected years next ten as
like this that it its about into from by so very really just also day daily help shadow
general sector sectors industry industries field going get gets think should worried worry know need mean means
people us they them their whole world over coming soon any all some much many more lot lots actually""".split()
)
_WORD = re.compile(r"[a-z][a-z'-]+")
# Labels of those who run the work; a question that names no such role is more likely about doing it.
_SENIOR = re.compile(r"\b(?:manager|managers|supervisor|director|head|chief|executive|lead|leader|owner)\b", re.I)
_SENIOR_PENALTY = 0.9
# A question that says it runs something may be about those labels after all.
_RUNS_THINGS = re.compile(
    r"\b(?:manag\w*|supervis\w*|director|head|chief|executive|lead\w*|run|runs|running|owner|own|boss)\b", re.I
)
# "I design ...", "I mainly teach ...": the verb (after an adverb in "-ly", if any) of a question that says what
# its asker does, and what follows it.
_OWN_VERB = re.compile(r"^\s*i\s+(?:([a-z]+ly)\s+)?([a-z]+)\b(.*)", re.I | re.S)
_VOWELS = frozenset("aeiou")
_SUPPORT = 0.1  # the share of a group's second and third best labels added to its best
_ROWS_READ = 400  # the best labels read to rank the groups


@dataclass(frozen=True)
class OccupationMatch:
    """An ISCO-08 unit group for a question: its label, the score and the labels that matched best."""

    isco: str
    label: str
    score: float
    matched_label: str
    esco_uris: tuple[str, ...]  # ESCO occupations of the group whose labels matched, best first


def question_words(text: str) -> list[str]:
    """The words of a text that may name a job, lightly stemmed (plural "s" dropped)."""
    words = [w.strip("'-") for w in _WORD.findall(text.lower())]
    return [_stem(w) for w in words if w and w not in _GENERIC]


def doer_noun(verb: str, vocabulary: Container[str]) -> str | None:
    """The noun for one who does ``verb`` ("design" -> "designer"), if ``vocabulary`` holds it, else None.

    English forms it with "-er", dropping a final "e" ("drive" -> "driver") and doubling a final consonant after
    a single vowel ("cut" -> "cutter", "program" -> "programmer"), or with "-or" ("translate" -> "translator",
    "inspect" -> "inspector"). Several forms are tried, the likeliest first; only a noun the labels use is
    returned, so a verb with no such noun in ESCO ("answer") adds nothing.
    """
    verb = verb.lower()
    if verb in _GENERIC or len(verb) < 3:
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


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


class OccupationMatcher:
    """Scores the ISCO-08 unit groups of the imported labels against a question."""

    def __init__(self, labels: Sequence[Label], vectors: np.ndarray, embedder: Embedder) -> None:
        if len(labels) != len(vectors):
            raise ValueError(f"{len(vectors)} label vectors for {len(labels)} labels")
        self.labels = list(labels)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.embedder = embedder
        self.group_label = {label.isco: label.label for label in self.labels if label.kind == "group"}
        self._junior = np.array(
            [_SENIOR_PENALTY if _SENIOR.search(label.label) else 1.0 for label in self.labels], dtype=np.float32
        )
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        counts = [Counter(question_words(label.label)) for label in self.labels]
        frequency = Counter(word for count in counts for word in count)
        self._idf = {word: math.log(len(self.labels) / n) + 1.0 for word, n in frequency.items()}
        for row, count in enumerate(counts):
            norm = math.sqrt(sum((self._idf[w] * c) ** 2 for w, c in count.items())) or 1.0
            for word, c in count.items():
                self._postings[word].append((row, self._idf[word] * c / norm))

    def doer(self, text: str) -> tuple[str, str] | None:
        """For "I design logos and posters": ("designer", "logo poster designer"); None when the question does
        not open with a verb whose doer ESCO's labels name."""
        found = _OWN_VERB.match(text)
        if found is None:
            return None
        adverb, verb, rest = found.groups()
        noun = doer_noun(verb, self._idf)
        if noun is None and adverb:  # "I fly planes": the "-ly" word was the verb
            noun, rest = doer_noun(adverb, self._idf), f"{verb}{rest}"
        if noun is None:
            return None
        return noun, " ".join([*question_words(rest), noun])

    def lexical(self, text: str, *, read_doer: bool = True) -> np.ndarray:
        """TF-IDF cosine of the text's job words, and the noun of its doer, with every label."""
        scores = np.zeros(len(self.labels), dtype=np.float32)
        doer = self.doer(text) if read_doer else None
        count = Counter(question_words(text) + ([doer[0]] if doer else []))
        norm = math.sqrt(sum((self._idf.get(w, 0.0) * c) ** 2 for w, c in count.items())) or 1.0
        for word, c in count.items():
            weight = self._idf.get(word, 0.0) * c / norm
            for row, value in self._postings.get(word, ()):
                scores[row] += weight * value
        return scores

    def semantic(self, text: str, *, read_doer: bool = True) -> np.ndarray:
        """Cosine of the text with every label, by the embedding model.

        With a doer, the direction is the mean of the job words' and the doer phrase's: the phrase alone
        loses what the verb says beyond its noun ("I care for ..." is more than a "carer"), the words alone
        read "design logo poster" as near "sign poster" as "graphic designer".
        """
        words = question_words(text)
        texts = [" ".join(words) if words else text]
        doer = self.doer(text) if read_doer else None
        if doer:
            texts.append(doer[1])
        vector = self.embedder.embed_batch(texts).sum(axis=0)
        return self.vectors @ (vector / (np.linalg.norm(vector) or 1.0))

    def match(
        self, text: str, k: int = 5, *, semantic_weight: float = _SEMANTIC_WEIGHT, read_doer: bool = True
    ) -> list[OccupationMatch]:
        """The ``k`` best ISCO-08 unit groups for the text, best first (``read_doer=False`` and
        ``semantic_weight=0`` give plain TF-IDF over the labels, the evaluation's baseline)."""
        if not text.strip() or not self.labels or k <= 0:
            return []
        lexical = self.lexical(text, read_doer=read_doer)
        if semantic_weight == 0.0:
            blended = lexical
        else:
            semantic = self.semantic(text, read_doer=read_doer)
            blended = semantic_weight * semantic + (1.0 - semantic_weight) * lexical
        if not _RUNS_THINGS.search(text):
            blended = blended * self._junior  # "I answer phones in a call centre" is not its manager
        return self._groups(blended, k)

    def _groups(self, scores: np.ndarray, k: int) -> list[OccupationMatch]:
        # A group whose several labels fit ("electrician", "building electrician", ...) is likelier than one
        # with a single fitting label: its score is its best label plus a share of its next two.
        best: dict[str, list[int]] = {}
        for row in np.argsort(-scores)[:_ROWS_READ]:
            rows = best.setdefault(self.labels[row].isco, [])
            if len(rows) < 3:
                rows.append(int(row))
        totals = {
            isco: float(scores[rows[0]]) + _SUPPORT * sum(float(scores[r]) for r in rows[1:])
            for isco, rows in best.items()
        }
        ranked = sorted(best.items(), key=lambda entry: -totals[entry[0]])[:k]
        return [
            OccupationMatch(
                isco=isco,
                label=self.group_label.get(isco, self.labels[rows[0]].label),
                score=round(float(scores[rows[0]]), 4),
                matched_label=self.labels[rows[0]].label,
                esco_uris=tuple(dict.fromkeys(u for u in (self.labels[r].esco_uri for r in rows) if u)),
            )
            for isco, rows in ranked
        ]
