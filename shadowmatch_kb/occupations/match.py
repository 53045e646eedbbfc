"""From a person's words ("I answer phones in a call centre") to ISCO-08 unit groups, through ESCO's labels.

Two views of every label: its words (TF-IDF, so "call centre" finds "contact centre" only through the
model) and its meaning (the bundled embedding model, so "I look after patients on a ward" finds nurses).
Each unit group scores as its best label plus a share of its next two; the views are blended. The questions
a person asks ("How will AI change my job?") are left out: they say nothing of what the job is.

Three readings of the question add to that (see ``wording.py``):
- a title said outright ("I'm a plumber, I fix boilers and leaks") is matched alone and outweighs the rest, so
  the boilers do not turn a plumber into a boilermaker; among the groups whose labels carry it, the one that
  holds it as an occupation's own name or ISCO title, or where it heads a family of labels ("ward nurse",
  "district nurse", ...), leads (``title_standing``);
- a question that opens "I <verb> ..." is also read as the noun of the one who does it ("I design logos" ->
  "designer"), kept only where ESCO's labels use it;
- what the person says they do is compared, by meaning, with what each group's work is: ESCO's description of
  each of its occupations and the ILO's task statements for the group ("work texts"), so "I fix leaks and
  unblock drains" finds plumbers although no label says "leak".
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.occupations.store import Label, WorkText
from shadowmatch_kb.occupations.wording import about_the_work, doer_noun, job_title, question_words, unqualified_title

__all__ = [
    "Lexicon",
    "OccupationMatch",
    "OccupationMatcher",
    "doer_noun",
    "offered_alternatives",
    "question_words",
    "runs_things",
]

# Weights measured on eval_occupations.py's questions and dev descriptions (never its test half); neighbours alike.
_SEMANTIC_WEIGHT = 0.8  # meaning against words, for labels
_LABEL_WEIGHT = 0.25  # the labels (by the job words and by the whole account) ...
_WORK_WEIGHTS = {"description": 0.3, "task": 0.3}  # ... against what the work is; a kind not imported drops out
_WORK_READ = {"description": 3, "task": 2}  # a group's closeness is the mean of its closest few work texts
_TITLE_WEIGHT = 0.6  # a title said outright, against everything else the question says
# ... and a title no group holds (``title_standing`` 0, with or without "self-employed" and the like): "teacher" is
# one alternative label of a university teacher's, so "I'm a teacher at a primary school" is read mostly by the rest.
# Development descriptions: top-1 0.839 -> 0.857, with the typed title 0.946 -> 0.982 (0.15 to 0.45 alike; under
# 0.15 the short questions lose; at 0.2 and above a Year 4 "teacher" still read as a university teacher).
_UNHELD_TITLE_WEIGHT = 0.15
_FAMILY_SIZE = 3  # labels of one group that a title ends, at least, to call them its family
_TITLE_STANDING = 0.5  # how far the group a title belongs to (see ``title_standing``) leads among those naming it:
# 0.2 to 1.0 name the same groups on every development description and question but one; under 0.5 a Year 2
# teaching assistant was named a university teacher, through ESCO's one "teaching assistant" label (2310)
# Labels of those who run the work; a question that names no such role is more likely about doing it.
_SENIOR = re.compile(r"\b(?:manager|managers|supervisor|director|head|chief|executive|lead|leader|owner)\b", re.I)
_SENIOR_PENALTY = 0.9
# ... and the manager groups, whose work texts speak of their staff's work: a hotel receptionist was named a hotel
# manager by them (session 14). One more development description is named right (a buyer); 0.9 names the same.
_MANAGER_PENALTY = 0.95
# A question that says it runs something may be about those labels after all. "Own" counts only as the person's:
# "I own a salon", "my own business"; a care worker visiting people "in their own homes" runs nothing (session 13's
# review: named an aged care services manager).
_RUNS_THINGS = re.compile(
    r"\b(?:manag\w*|supervis\w*|director|head|chief|executive|lead\w*|run|runs|running|owner|boss)\b"
    r"|\b(?:i|we)\s+own\b|\b(?:my|our)\s+own\s+(?!homes?\b|time\b|cars?\b|way\b)",
    re.I,
)
# "I design ...", "I mainly teach ...": the verb (after an adverb in "-ly", if any) of a question that says what
# its asker does, and what follows it.
_OWN_VERB = re.compile(r"^\s*i\s+(?:([a-z]+ly)\s+)?([a-z]+)\b(.*)", re.I | re.S)
# How the lexicon reads label words (``wording.question_words``); a lexicon kept on disk in another format is
# refused, so its cache is rebuilt. Raise it when that reading changes.
_LEXICON_FORMAT = 2
_MANAGERS = "1"  # ISCO-08 major group 1
# Groups a close match names for many people who are not in them, offered as "Is this you?" only to someone who
# says so: managers (ISCO-08 major group 1) to someone who runs something, and university and vocational teachers
# (a label for each subject: "nursing lecturer") to someone who speaks of teaching after school. On the development
# descriptions and questions, 20 manager groups and 6 teacher groups were offered that way ("Restaurant managers" to a
# waiter, "University and higher education teachers" to a ward nurse), none of them the person's. Words of school
# teaching do not count: a Year 3 teaching assistant was offered university teachers (session 14's review).
_TEACHERS = ("2310", "2320")
_TEACHES = re.compile(
    r"\b(?:lectur\w*|tutor\w*|courses?|universit\w*|college\w*|professor\w*|academic\w*|research\w*|"
    r"undergraduates?|postgraduates?|degrees?|vocational|apprentices?|apprenticeships?|trainees?)\b",
    re.I,
)
# A group is offered as "Is this you?" only when what its work is (its descriptions or tasks) is among this many closest
# to the person's words: one that comes close by a word of its labels alone is not a job they might hold ("Veterinary
# technicians" to a ward nurse, 21st by its work; "Civil engineers" to a plumber, 26th). On the development descriptions
# and questions, of 420 groups offered, 67 were placed 10th or lower; none of them was the person's where the first
# named was not (the person's, offered behind a wrong first, were placed 0th to 6th).
_ALTERNATIVE_WORK_RANK = 10
_SUPPORT = 0.1  # the share of a group's second and third best labels added to its best
_ROWS_READ = 400  # the best labels read for that share
_ESCO_URIS = 8  # the ESCO occupations a match names, best first (what a group's figures are looked up through)


@dataclass(frozen=True)
class OccupationMatch:
    """An ISCO-08 unit group for a question: its label, the score and the labels that matched best."""

    isco: str
    label: str
    score: float
    matched_label: str
    esco_uris: tuple[str, ...]  # ESCO occupations of the group, those whose labels matched best first
    # Its place among all groups by what their work is (ESCO's descriptions, the ILO's tasks), 0 the closest to the
    # person's words, a group with none of them last; None when the matcher read no work texts.
    work_rank: int | None = None


@dataclass(frozen=True)
class _Reading:
    """What one question says, embedded once: its job words, its whole text, and the title it gives, if any."""

    words: np.ndarray  # the job words (with the doer's phrase, when there is one)
    whole: np.ndarray  # the account of the work as written: compared with labels, descriptions and tasks
    title: str | None
    title_vector: np.ndarray | None


@dataclass(frozen=True)
class Lexicon:
    """The labels' words: their weights (TF-IDF), the labels holding each, and the words titles end in.

    Built from 33,000 labels it takes about half a second, most of a cold `smkb brief`'s matching, so
    ``occupations.service`` keeps it on disk beside the label vectors (``to_json``/``from_json``).
    """

    idf: dict[str, float]
    postings: dict[str, list[tuple[int, float]]]
    heads: frozenset[str]  # "plumber", "manager": what titles end in

    @classmethod
    def build(cls, labels: Sequence[Label]) -> Lexicon:
        """The lexicon of ``labels``, in their order."""
        label_words = [question_words(label.label) for label in labels]
        counts = [Counter(words) for words in label_words]
        frequency = Counter(word for count in counts for word in count)
        idf = {word: math.log(len(labels) / n) + 1.0 for word, n in frequency.items()}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for row, count in enumerate(counts):
            norm = math.sqrt(sum((idf[w] * c) ** 2 for w, c in count.items())) or 1.0
            for word, c in count.items():
                postings[word].append((row, idf[word] * c / norm))
        return cls(idf, dict(postings), frozenset(words[-1] for words in label_words if words))

    def to_json(self) -> str:
        """The lexicon as one JSON text."""
        return json.dumps(
            {"format": _LEXICON_FORMAT, "idf": self.idf, "postings": self.postings, "heads": sorted(self.heads)}
        )

    @classmethod
    def from_json(cls, text: str) -> Lexicon:
        """A lexicon ``to_json`` wrote."""
        data = json.loads(text)
        if data.get("format") != _LEXICON_FORMAT:  # read words another way: the caller builds it again
            raise ValueError(f"lexicon format {data.get('format')!r}, not {_LEXICON_FORMAT}")
        # The pairs come back as two-item lists, which read alike ("for row, weight in ..."); turning a hundred
        # thousand of them into tuples would cost most of what the cache saves.
        postings = cast("dict[str, list[tuple[int, float]]]", data["postings"])
        return cls(data["idf"], postings, frozenset(data["heads"]))


class OccupationMatcher:
    """Scores the ISCO-08 unit groups of the imported labels (and, when given, their work texts) against a question."""

    def __init__(
        self,
        labels: Sequence[Label],
        vectors: np.ndarray,
        embedder: Embedder,
        work: Sequence[WorkText] = (),
        work_vectors: np.ndarray | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        if len(labels) != len(vectors):
            raise ValueError(f"{len(vectors)} label vectors for {len(labels)} labels")
        if work_vectors is None:
            work_vectors = np.zeros((0, np.shape(vectors)[-1]), dtype=np.float32)
        if len(work) != len(work_vectors):
            raise ValueError(f"{len(work_vectors)} work-text vectors for {len(work)} work texts")
        self.labels = list(labels)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.embedder = embedder
        self.group_label = {label.isco: label.label for label in self.labels if label.kind == "group"}
        self.groups = sorted({label.isco for label in self.labels})
        index = {isco: n for n, isco in enumerate(self.groups)}
        self._group_of_label = np.array([index[label.isco] for label in self.labels], dtype=np.int64)
        self._by_group = np.argsort(self._group_of_label, kind="stable")  # label rows, group by group
        self._group_starts = np.searchsorted(self._group_of_label[self._by_group], np.arange(len(self.groups)))
        self._group_ends = np.r_[self._group_starts[1:], len(self.labels)]
        self.work = [w for w in work if w.isco in index]
        kept = np.array([w.isco in index for w in work], dtype=bool).reshape(-1)
        self.work_vectors = np.asarray(work_vectors, dtype=np.float32)[kept]
        self._group_of_work = np.array([index[w.isco] for w in self.work], dtype=np.int64)
        kinds = np.array([w.kind for w in self.work])
        self._work_kinds = {  # each kind's vectors and groups, apart, so a match reads them without copying
            kind: (np.ascontiguousarray(self.work_vectors[kinds == kind]), self._group_of_work[kinds == kind])
            for kind in _WORK_WEIGHTS
            if (kinds == kind).any()
        }
        self._work_row = {(w.isco, w.text): row for row, w in enumerate(self.work)}
        self._managers = np.array([isco.startswith(_MANAGERS) for isco in self.groups], dtype=bool)
        self._junior = np.array(
            [_SENIOR_PENALTY if _SENIOR.search(label.label) else 1.0 for label in self.labels], dtype=np.float32
        )
        lexicon = lexicon if lexicon is not None else Lexicon.build(self.labels)
        self._idf, self._postings, self._heads = lexicon.idf, lexicon.postings, lexicon.heads
        self._pairs = _LabelPairs(self.labels, self._postings)
        self._last: tuple[str, _Reading] | None = None
        self._work_vectors: dict[str, np.ndarray | None] = {}

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

    def title(self, text: str) -> str | None:
        """The job title the question gives its asker ("I'm a plumber, I fix boilers" -> "plumber"), or None."""
        return job_title(text, self._heads, self._pairs)

    def title_standing(self, title: str) -> np.ndarray:
        """How much each group is the one a title names, 0..1: half for holding it as an occupation's preferred
        label or as its own ISCO title ("electrician", "lawyers"), half by how many of its labels are kinds of it
        ("ward nurse", "district nurse", ... for "nurse"), against the group with most.

        ESCO files some titles loosely: "healthcare nurse" is a name of health care assistants as well as of
        nurses, and "solicitor" an alternative name of a court jury coordinator; the group where the title heads a
        family of labels is the one people mean. A title "of" something ("head of sales") is read whole elsewhere.
        """
        standing = np.zeros(len(self.groups), dtype=np.float32)
        words = question_words(title)
        if not words or "of" in title.split():
            return standing
        named = np.zeros(len(self.groups), dtype=bool)
        family = np.zeros(len(self.groups), dtype=np.float32)
        for row, _ in self._postings.get(words[-1], ()):
            label = self.labels[row]
            label_words = question_words(label.label)
            if label_words[-len(words) :] == words:
                group = self._group_of_label[row]
                family[group] += 1.0
                named[group] |= label_words == words and label.kind in ("preferred", "group")
        first, second = np.sort(family)[::-1][:2] if len(family) > 1 else (family.max(initial=0.0), 0.0)
        # A family speaks only when it is one group's clearly: "personal assistant" ends two labels of medical
        # secretaries and one of each other secretary, which says nothing.
        kinds = family / first if first >= _FAMILY_SIZE and first >= 2 * second else np.zeros_like(family)
        return (0.5 * named + 0.5 * kinds).astype(np.float32)

    def work_vector(self, isco: str) -> np.ndarray | None:
        """What a group's work is, as one direction of the model's space: the normalised mean of its work texts'
        vectors (ESCO's descriptions of its occupations and the ILO's tasks); None for a group with none."""
        if isco not in self._work_vectors:
            group = self.groups.index(isco) if isco in self.groups else -1
            summed = self.work_vectors[self._group_of_work == group].sum(axis=0)  # zeros for a group with none
            norm = float(np.linalg.norm(summed))
            self._work_vectors[isco] = summed / norm if norm > 0 else None
        return self._work_vectors[isco]

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

    def closeness(self, text: str, isco: str, texts: Sequence[str]) -> list[float]:
        """Cosine, by meaning, of the question as written with each of a group's work texts (its tasks, say)."""
        if not texts:
            return []
        whole = self._read(text).whole
        rows = [self._work_row.get((isco, t)) for t in texts]
        missing = [t for t, row in zip(texts, rows, strict=True) if row is None]
        fresh = iter(self.embedder.embed_batch(missing) @ whole if missing else [])
        return [float(self.work_vectors[row] @ whole) if row is not None else float(next(fresh)) for row in rows]

    def match(
        self,
        text: str,
        k: int = 5,
        *,
        semantic_weight: float = _SEMANTIC_WEIGHT,
        read_doer: bool = True,
        first: str | None = None,
    ) -> list[OccupationMatch]:
        """The ``k`` best ISCO-08 unit groups for the text, best first, or with the group ``first`` first when the
        person has said which one they are (``read_doer=False`` and ``semantic_weight=0`` give plain TF-IDF over
        the labels, the evaluation's baseline)."""
        if not text.strip() or not self.labels or k <= 0:
            return []
        total, named, work_rank = self._scores(text, semantic_weight, read_doer=read_doer)
        return self._ranked(total, named, k, first=first, work_rank=work_rank)

    def _scores(
        self, text: str, semantic_weight: float, *, read_doer: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Every group's score, every label's score for naming the group's best label, and every group's place by
        what its work is (the best over the kinds of work text; None without them)."""
        runs = runs_things(text)
        junior = 1.0 if runs else self._junior  # a call-centre agent is not its manager
        if semantic_weight == 0.0:
            lexical = self.lexical(text, read_doer=read_doer) * junior
            return self._label_groups(lexical), lexical, None
        account = about_the_work(text)
        reading = self._read(text, read_doer=read_doer)
        # Each view of the labels picks its own best label of a group: the job words may fit one ("pipe fitter"),
        # the whole account another ("plumber"), and both are evidence.
        queries = [reading.words, reading.whole] + ([reading.title_vector] if reading.title_vector is not None else [])
        cosines = (self.vectors @ np.stack(queries, axis=1)).T  # one pass over the label vectors
        views = [
            (semantic_weight / 2, cosines[0] * junior),
            (semantic_weight / 2, cosines[1] * junior),
            (1.0 - semantic_weight, self.lexical(account, read_doer=read_doer) * junior),
        ]
        named = sum(weight * scores for weight, scores in views)
        labelled = sum(weight * self._label_groups(scores) for weight, scores in views)
        # A group is judged on the evidence it has: one without ILO tasks, say, on its labels and descriptions.
        summed = _LABEL_WEIGHT * np.asarray(labelled, dtype=np.float64)
        weights = np.full(len(self.groups), _LABEL_WEIGHT)
        ranks = []
        for kind in self._work_kinds:
            closeness, has = self._work_groups(reading.whole, kind)
            summed, weights = summed + _WORK_WEIGHTS[kind] * closeness, weights + _WORK_WEIGHTS[kind] * has
            rank = np.empty(len(self.groups), dtype=np.int64)
            rank[np.argsort(-np.where(has > 0, closeness, -np.inf), kind="stable")] = np.arange(len(self.groups))
            ranks.append(rank)
        work_rank = np.min(ranks, axis=0) if ranks else None
        total = summed / weights
        if reading.title is not None:
            lexical = self.lexical(reading.title, read_doer=False)
            named = (semantic_weight * cosines[2] + (1.0 - semantic_weight) * lexical) * junior
            standing = self.title_standing(reading.title)
            titled = self._label_groups(named) + _TITLE_STANDING * standing
            bare = unqualified_title(reading.title)  # "self-employed plumber" is held as "plumber"; read once otherwise
            held = standing.max(initial=0.0) > 0 or (bare != reading.title and self.title_standing(bare).max() > 0)
            weight = _TITLE_WEIGHT if held else _UNHELD_TITLE_WEIGHT
            total = weight * titled + (1.0 - weight) * total
        if not runs:
            total = np.where(self._managers, _MANAGER_PENALTY * total, total)
        return np.asarray(total, dtype=np.float32), named, work_rank

    def _read(self, text: str, *, read_doer: bool = True) -> _Reading:
        """Embed what the question says in one batch; the last question's reading is kept for its tasks."""
        key = f"{read_doer}:{text}"
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        account = about_the_work(text)
        words = question_words(account)
        texts = [" ".join(words) if words else account, account]
        doer = self.doer(account) if read_doer else None
        if doer:
            texts.append(doer[1])
        title = self.title(text) if read_doer else None
        if title:
            texts.append(title)
        vectors = self.embedder.embed_batch(texts)
        # With a doer, the job words' direction is the mean of the words' and the doer phrase's: the phrase alone
        # loses what the verb says beyond its noun ("I care for ..." is more than a "carer"), the words alone read
        # "design logo poster" as near "sign poster" as "graphic designer".
        summed = vectors[[0, 2]].sum(axis=0) if doer else vectors[0]
        reading = _Reading(
            words=summed / (np.linalg.norm(summed) or 1.0),
            whole=vectors[1],
            title=title,
            title_vector=vectors[-1] if title else None,
        )
        self._last = (key, reading)
        return reading

    def _label_groups(self, scores: np.ndarray) -> np.ndarray:
        """Each group's score from its labels': its best plus a share of its next two.

        A group whose several labels fit ("electrician", "building electrician", ...) is likelier than one with a
        single fitting label; the share is read from the best rows only, where it can change the order.
        """
        total = np.maximum.reduceat(scores[self._by_group], self._group_starts)
        top = np.argpartition(-scores, _ROWS_READ)[:_ROWS_READ] if len(scores) > _ROWS_READ else np.arange(len(scores))
        seen: Counter[int] = Counter()
        for row in top[np.argsort(-scores[top])]:
            group = int(self._group_of_label[row])
            seen[group] += 1
            if 1 < seen[group] <= 3:
                total[group] += _SUPPORT * scores[row]
        return total

    def _work_groups(self, whole: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Each group's closeness to the account by what its work is: the mean of its few closest work texts of
        one kind (0 for a group with none), and whether it has any."""
        vectors, groups = self._work_kinds[kind]
        closeness = vectors @ whole
        order = np.lexsort((-closeness, groups))
        starts = np.flatnonzero(np.r_[True, groups[order][1:] != groups[order][:-1]])
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        kept = order[rank < _WORK_READ[kind]]
        sums = np.bincount(groups[kept], weights=closeness[kept], minlength=len(self.groups))
        counts = np.bincount(groups[kept], minlength=len(self.groups))
        return (sums / np.maximum(counts, 1)).astype(np.float32), (counts > 0).astype(np.float32)

    def _ranked(
        self,
        total: np.ndarray,
        named_by: np.ndarray,
        k: int,
        first: str | None = None,
        work_rank: np.ndarray | None = None,
    ) -> list[OccupationMatch]:
        """The ``k`` best groups by ``total``, each with its labels that score best by ``named_by`` (and its place
        by what its work is, ``work_rank``)."""
        order = [int(g) for g in np.argsort(-total, kind="stable")[:k]]
        if first in self.groups:
            pinned = self.groups.index(first)
            order = [pinned, *(g for g in order if g != pinned)][:k]
        found = []
        for group in order:
            rows = self._by_group[self._group_starts[group] : self._group_ends[group]]
            ranked = [int(r) for r in rows[np.argsort(-named_by[rows], kind="stable")]]
            best = ranked[:3]
            # The group's occupations by their best label, those of the three best labels first: a US figure comes
            # through the first of them that the crosswalk knows (four of the twelve hosts of session 11's review, a
            # tester among them, had none through their three best labels alone).
            uris = dict.fromkeys(u for u in (self.labels[r].esco_uri for r in ranked) if u)
            isco = self.groups[group]
            found.append(
                OccupationMatch(
                    isco=isco,
                    label=self.group_label.get(isco, self.labels[best[0]].label),
                    score=round(min(1.0, float(total[group])), 4),  # a stated title's standing can pass 1
                    matched_label=self.labels[best[0]].label,
                    esco_uris=tuple(uris)[:_ESCO_URIS],
                    work_rank=None if work_rank is None else int(work_rank[group]),
                )
            )
        return found


class _LabelPairs:
    """Whether two words stand side by side in some label ("food processing"); looked up through the postings
    only when a title needs it, so building the matcher stays fast."""

    def __init__(self, labels: list[Label], postings: dict[str, list[tuple[int, float]]]) -> None:
        self._labels = labels
        self._postings = postings

    def __contains__(self, pair: object) -> bool:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            return False
        first, second = pair
        rows = {row for row, _ in self._postings.get(first, ())} & {row for row, _ in self._postings.get(second, ())}
        return any(
            re.search(rf"\b{re.escape(first)}\w*\s+{re.escape(second)}\b", self._labels[r].label.lower()) for r in rows
        )


def runs_things(text: str) -> bool:
    """Whether a person's words say they run something: manage, supervise, lead, own ("I manage a small team")."""
    return bool(_RUNS_THINGS.search(text))


def offered_alternatives(found: Sequence[OccupationMatch], text: str, count: int) -> list[OccupationMatch]:
    """Up to ``count`` of the groups after the first of ``found`` to offer a person as "Is this you?": those close to
    the person's words by what their work is (``_ALTERNATIVE_WORK_RANK``); not managers to someone who says nothing
    of running anything, nor university or vocational teachers to someone who says nothing of teaching, unless the
    first is of that kind itself."""
    if not found:
        return []
    first = found[0].isco

    def offered(match: OccupationMatch) -> bool:
        isco = match.isco
        if match.work_rank is not None and match.work_rank >= _ALTERNATIVE_WORK_RANK:
            return False
        if isco.startswith(_MANAGERS) and not (first.startswith(_MANAGERS) or runs_things(text)):
            return False
        return not (isco in _TEACHERS and first not in _TEACHERS and not _TEACHES.search(text))

    return [m for m in found[1:] if offered(m)][:count]
