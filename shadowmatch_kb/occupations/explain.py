"""Every exposure figure in plain words: what the measure is, and where this occupation stands among all the
occupations its dataset scores.

A mentor reads "mean task score 0.58" as nothing; "the ILO scored each of this job's tasks from 0 to 1 ...;
higher than 91% of the occupations in its index" tells them what it means. The sentences are ours, written
from each dataset's documentation (the ILO working paper 140, Nesta's and Microsoft's READMEs, the GPTs are
GPTs README); where a standing is given it is computed from the figures stored for the same dataset, measure
and kind of code.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

from shadowmatch_kb.occupations.records import ISCO08
from shadowmatch_kb.occupations.store import Exposure, numbers_of, task_scores, values_of

__all__ = ["FigureStanding", "explained"]

# What each graded figure means, by dataset, measure and grade.
_GRADES: dict[tuple[str, str], dict[str, str]] = {
    # The plain reading leads and the ILO's own name of the grade follows: "Gradient 3" read first is jargon (session
    # 9's review).
    ("ilo_genai_2025", "exposure gradient"): {
        "Not Exposed": "The ILO rates this job not exposed: generative AI could do few if any of its tasks.",
        "Minimal Exposure": "The ILO rates this job minimally exposed: generative AI could do only a small part of "
        "its tasks, too little to count it among the exposed jobs.",
        "Exposed: Gradient 1": "The ILO places this job in the lowest of its four exposed groups (gradient 1): "
        "generative AI could do some of its tasks, but most of the work still needs a person.",
        "Exposed: Gradient 2": "The ILO places this job in the second-lowest of its four exposed groups (gradient 2): "
        "generative AI could do a fair share of its tasks, while others still need a person.",
        "Exposed: Gradient 3": "The ILO places this job in its second-highest exposure group (gradient 3 of 4): "
        "generative AI could do many of its tasks, so the work is likely to change.",
        "Exposed: Gradient 4": "The ILO places this job in its highest exposure group (gradient 4 of 4): generative "
        "AI could do most of its tasks, so the job may change the most.",
    },
    ("nesta_automation", "automation risk category"): {
        # The study leads, with its year and kind of technology: a bare "High risk" read first (sessions 12 and 13's
        # reviews) was taken for a verdict on the job, and beside an ILO "not exposed" for a contradiction.
        "High risk": "Nesta's 2020 study of machine learning, made before today's chatbots, grades this job high risk: "
        "machine learning suits its tasks best, and few of them are hard for machines.",
        "Low risk": "Nesta's 2020 study of machine learning, made before today's chatbots, grades this job low risk: "
        "machine learning suits its tasks least, and many of them are hard for machines.",
        "Other": "Neither high nor low risk: Nesta places this job between its high-risk and low-risk groups.",
    },
}
_GRADED_IN = {"ilo_genai_2025": "the ILO index", "nesta_automation": "Nesta's study"}
# Each graded measure's grades from lowest to highest: a grade's line says how many occupations stand below and above
# it. "Minimal exposure" is the ILO's second grade of six, above the 231 "not exposed"; read alone, "In short" calling
# it the middle of all jobs seemed to contradict it (session 20's review).
_GRADE_ORDER = {
    ("ilo_genai_2025", "exposure gradient"): list(_GRADES[("ilo_genai_2025", "exposure gradient")]),
    ("nesta_automation", "automation risk category"): ["Low risk", "Other", "High risk"],
}

# What each share of tasks counts, in a sentence its percentage completes: "about 6% of this job's tasks" reads at
# once where "0.06" needs the scale explained (the reviews of session 8 found the figures long).
_GPT = {
    "alpha (E1)": "A chatbot as capable as GPT-4 could do {share} of this job's tasks twice as fast at equal quality",
    # The study's headline measure counts a task the model halves alone fully and one that needs software built on
    # the model half. "half-counting those that need extra software" (session 10's reviews) and "a task that needs
    # more software built on it counting as half" (session 12's) both read as jargon, and "a model could do ... in
    # half the time" as the model doing the work: the study asks whether a person with the model would take half the
    # time. The sentence says what it means for the work; the study's name points to the definition. The study counts
    # a task that takes at least half the time off: "in half the time" alone understated it (session 18's review).
    # "A GPT-4-class model" was jargon to two reviewers (sessions 19 and 20): the study's model is named as what a
    # person would use.
    "beta (E1 + 0.5*E2)": "With a chatbot as capable as GPT-4, a person could do {share} of this job's tasks in half "
    "the time or less, some of them only with extra software built for it",
    "gamma (E1 + E2)": "A chatbot as capable as GPT-4 could speed up {share} of this job's tasks, alone or with extra "
    "software",
}
# A share of none said with "some of them" contradicts itself (session 13's review, a bricklayer's briefing).
_GPT_NONE = {
    "beta (E1 + 0.5*E2)": "With a chatbot as capable as GPT-4, a person could do none of this job's tasks in half the "
    "time or less, even with extra software built for it",
}
_RATERS = {"GPT-4 rated": "rated by GPT-4", "human rated": "rated by people"}


def _gpts_measures(sentences: dict[str, str]) -> dict[tuple[str, str], str]:
    """Each GPTs are GPTs measure, by either kind of rater, and the sentence its grade's share completes."""
    return {
        ("gpts_are_gpts", f"{raters} exposure {grade}"): f"{share} ({rated}, GPTs are GPTs study)"
        for grade, share in sentences.items()
        for raters, rated in _RATERS.items()
    }


_SHARES = _gpts_measures(_GPT)
_SHARES_OF_NONE = _gpts_measures(_GPT_NONE)
# What each other numeric figure measures, in a phrase that the standing completes.
_MEASURES: dict[tuple[str, str], str] = {
    ("ilo_genai_2025", "mean task score"): "The average of the ILO's scores for this job's tasks, from 0 "
    "(generative AI could not do the task) to 1 (it could do all of it)",
    ("ilo_genai_2025", "task score standard deviation"): "How much the ILO's scores for this job's tasks differ "
    "(a large spread means some tasks are far more exposed than others)",
    ("nesta_automation", "overall automation risk"): "Nesta's estimate of how well machine learning suits this "
    "job's tasks, from 1 (minimal risk) to 5 (maximal risk)",
    ("nesta_automation", "prevalence of bottleneck tasks"): "The share of this job's tasks that machines find hard, "
    "from 0 to 1 (Nesta calls them bottlenecks, and the more a job has, the safer it is from automation)",
    ("nesta_automation", "automation risk of non-physical tasks"): "Nesta's automation risk (1 to 5) counting only "
    "the tasks that need no dexterity or physical work",
    ("nesta_automation", "prevalence of bottleneck tasks, non-physical"): "The share of tasks that machines still "
    "find hard once dexterity and physical work no longer hold them back (Nesta, 0 to 1)",
    ("working_with_ai", "AI applicability score"): "How much of this job's work people already bring to Microsoft's "
    "Bing Copilot and get done (Microsoft's study of real conversations; the highest score is about 0.5)",
}
_SCORED_BY = {
    "ilo_genai_2025": "the occupations in the ILO index",
    "nesta_automation": "the occupations Nesta scored",
    "gpts_are_gpts": "the occupations in that study",
    "working_with_ai": "the occupations in Microsoft's study",
}


@dataclass
class FigureStanding:
    """Where a figure stands among its dataset's figures of the same measure; reads each dataset's numbers once.

    Keep one for as long as the imported datasets do not change (``stamp`` says which import it read).
    """

    db: sqlite3.Connection
    stamp: tuple[object, ...] = ()
    _numbers: dict[tuple[str, str, str, int], list[float]] = field(default_factory=dict)
    _grades: dict[tuple[str, str, str, int], Counter[str]] = field(default_factory=dict)
    _task_scores: list[float] | None = None

    def percentile(self, figure: Exposure) -> float | None:
        """The share of the dataset's occupations (0-100) with a lower figure of the same measure; None for a grade."""
        if not isinstance(figure.value, float):
            return None
        key = (figure.dataset, figure.measure, figure.scheme, _code_length(figure))
        if key not in self._numbers:
            self._numbers[key] = numbers_of(self.db, *key)
        return _share_below(self._numbers[key], figure.value)

    def middle(self, figure: Exposure) -> tuple[float, float] | None:
        """The 10th and 90th percentile of the measure over the dataset's occupations (None for a grade): where four
        in five of them lie, so a reader sees how wide the scale really runs."""
        if self.percentile(figure) is None:
            return None
        numbers = self._numbers[(figure.dataset, figure.measure, figure.scheme, _code_length(figure))]
        return numbers[int(0.1 * (len(numbers) - 1))], numbers[int(0.9 * (len(numbers) - 1))]

    def grade_counts(self, figure: Exposure) -> Counter[str]:
        """How many of the dataset's occupations have each grade of this figure's measure."""
        key = (figure.dataset, figure.measure, figure.scheme, _code_length(figure))
        if key not in self._grades:
            self._grades[key] = values_of(self.db, *key)
        return self._grades[key]

    def grade_count(self, figure: Exposure) -> tuple[int, int]:
        """How many of the dataset's occupations share this figure's grade, and how many it grades."""
        counts = self.grade_counts(figure)
        return counts.get(str(figure.value), 0), sum(counts.values())

    def task_percentile(self, score: float) -> float | None:
        """The share (0-100) of all the tasks the ILO scores, in every occupation, that score lower than ``score``: a
        job's "least open" task may still be more open than most (a contact-centre agent's score 0.6, above nine in
        ten of all tasks). None when no task is imported."""
        if self._task_scores is None:
            self._task_scores = task_scores(self.db)
        return _share_below(self._task_scores, score)


def _share_below(numbers: list[float], value: float) -> float | None:
    """The share (0-100, one decimal) of sorted ``numbers`` lower than ``value``; None when there are none."""
    return round(100.0 * bisect_left(numbers, value) / len(numbers), 1) if numbers else None


def _code_length(figure: Exposure) -> int:
    # ISCO-08 groups of 1 to 4 digits share a scheme; a unit group compares with unit groups only.
    return len(figure.code) if figure.scheme == ISCO08 else 0


def explained(figure: Exposure, standing: FigureStanding) -> dict[str, object]:
    """The figure's JSON with two keys more: ``percentile`` (numbers only) and ``plain``, one sentence a mentor
    understands."""
    out = figure.to_dict()
    percentile = standing.percentile(figure)
    out["percentile"] = percentile
    out["plain"] = _plain(figure, percentile, standing)
    return out


def _plain(figure: Exposure, percentile: float | None, standing: FigureStanding) -> str:
    key = (figure.dataset, figure.measure)
    if percentile is None:
        sentence = _GRADES.get(key, {}).get(str(figure.value))
        if sentence is None:
            return f"{figure.measure.capitalize()}: {figure.value}."
        same, total = standing.grade_count(figure)
        where = _GRADED_IN.get(figure.dataset, "this dataset")
        if not total:
            return sentence
        return f"{sentence} ({same} of the {total} occupations in {where} are graded so{_around(figure, standing)}.)"
    assert isinstance(figure.value, float)
    among = _SCORED_BY.get(figure.dataset, "the occupations in this dataset")
    # Said from the nearer end: "lower than 84%" reads right where "higher than 16%" of a 3.4 out of 5 misleads.
    if percentile < 0.5:
        standing_words = f"as low as any of {among}"
    elif percentile < 50:  # at most 99%: "lower than 100%" would say what only "as low as any" may
        standing_words = f"lower than {min(100 - percentile, 99):.0f}% of {among}"
    else:
        standing_words = f"higher than {min(percentile, 99):.0f}% of {among}"
    if key in _SHARES:  # a share of tasks says itself as a percentage; the standing follows
        sentence = _SHARES_OF_NONE.get(key, _SHARES[key]) if figure.value <= 0.0 else _SHARES[key]
        return f"{sentence.format(share=_percent(figure.value))}: {standing_words}."
    what = _MEASURES.get(key, f"{figure.measure.capitalize()} ({figure.dataset})")
    # The standing leads and the number follows with its middle: on a scale of 1 to 5 on which nearly every job
    # scores 3.3 to 3.7, "3.39" read first looks middling and is low (a mentor's reading, session 8's review).
    middle = standing.middle(figure)
    spread = f"; four in five of them score between {middle[0]:.2f} and {middle[1]:.2f}" if middle else ""
    return f"{what}: {standing_words} ({figure.value:.2f}{spread})."


def _around(figure: Exposure, standing: FigureStanding) -> str:
    """How many occupations a grade's study grades lower and higher: ", 231 lower and 112 higher", " and none lower";
    empty for a measure whose grades have no order."""
    order = _GRADE_ORDER.get((figure.dataset, figure.measure), [])
    if str(figure.value) not in order:
        return ""
    counts, rank = standing.grade_counts(figure), order.index(str(figure.value))
    lower, higher = (sum(counts.get(grade, 0) for grade in part) for part in (order[:rank], order[rank + 1 :]))
    if lower and higher:
        return f", {lower} lower and {higher} higher"
    return " and none higher" if lower else " and none lower" if higher else ""


def _percent(share: float) -> str:
    """A share of tasks in words: "about 6%", "none", "all"; "under 1%" rather than a rounded "0%" that says none."""
    if share <= 0.0:
        return "none"
    if share >= 1.0:
        return "all"
    if share < 0.005:
        return "under 1%"
    return f"about {share:.0%}"
