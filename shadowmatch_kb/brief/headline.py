"""The figures a briefing shows for the person's occupation, and the one sentence they add up to.

A section of three studies, each in its own units (a grade of four, a share of tasks, a risk category), left
mentors of sessions 11 to 13 to work out the answer themselves: "so is my job going to change or not?". The
sentence "In short" says it: where the studies of generative AI shown put the job among all jobs, whether they
agree, and where Nesta's older study of machine learning differs. It is read from the same figures the section
shows (their grades and their standings among the occupations each study scores), so it adds no claim of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from shadowmatch_kb.brief.model import BriefSignal, rated_low
from shadowmatch_kb.brief.overview import short_task
from shadowmatch_kb.occupations.wording import what_is_asked
from shadowmatch_kb.text.english import joined, lower_first

__all__ = ["EXPOSURE_FIGURES", "HEADLINE_DATASETS", "asks_of_machines", "figures_disagree", "headline_figures",
           "CITATION_MARK", "in_short", "lean", "machines_first"]  # fmt: skip

EXPOSURE_FIGURES = 1  # figures shown per dataset; the JSON keeps them all
HEADLINE_DATASETS = 3  # datasets whose figure is shown, the ILO's first
_HEADLINE_MEASURE = {
    "gpts_are_gpts": "human rated exposure beta (E1 + 0.5*E2)",
    "nesta_automation": "automation risk category",  # "Low risk" reads at once; 3.39 on a 1-5 scale does not
}
# A grade that says only "in the middle", shown as a dataset's headline, takes its place and says nothing: Nesta's
# "neither high nor low risk" is the grade of 321 of the 421 occupations it scores, and both reviewers of session 12
# read the line as telling the host nothing.
_MIDDLE_GRADES = {("nesta_automation", "automation risk category"): "Other"}
# A question about robots, machines or vehicles that drive themselves is not answered by figures on generative AI:
# three of twelve hosts in session 11's review asked so and read the figures as dodging the question. "Machine
# translation" and "machine learning" are what the studies rate (a translator's question, session 14); cameras and
# drones are machines the studies do not rate either (a security guard asked "will cameras and AI replace guards").
# The machines named below, in a question and in a signal alike.
# Machines that take over work count named anywhere in a question (see ``_TAKING_OVER``), "machine" and "camera" only
# where asked about: "I run a sewing machine" says what the host works with.
_TAKING_OVER_WORDS = r"robot\w*|kiosks?|self-checkouts?|self-driving|driverless|autonomous|drones?"
_MACHINES = rf"{_TAKING_OVER_WORDS}|machines?(?!\s+(?:translat\w*|learning))|cameras?"
# A vehicle with nobody driving it is a machine asked about too: "Are buses without anyone at the wheel coming?"
# (session 16's bus driver heard nothing of the driverless items the knowledge base holds).
_NOBODY_DRIVING = r"without (?:a |any )?drivers?|(?:without any|no)(?:one|body| one) (?:at the wheel|driving)"
_DRIVES_ITSELF = rf"drives? (?:itself|themselves)|{_NOBODY_DRIVING}"
_ASKS_OF_MACHINES = re.compile(rf"\b(?:{_MACHINES}|cctv|{_DRIVES_ITSELF})\b", re.I)
# Machines that take over work, named anywhere in a question: "I'm a cashier, though they keep adding self-checkouts.
# Is my job going to disappear?" asks about them without naming them in the asking sentence (session 16's review).
_TAKING_OVER = re.compile(rf"\b(?:{_TAKING_OVER_WORDS})\b", re.I)
# A signal that speaks of machines at work: what a host who asked about robots hears first.
_OF_MACHINES = re.compile(rf"\b(?:{_MACHINES}|automated|vehicles? that drive)\b", re.I)
# The kinds of machine a question may name, as a sentence names them, and the words that speak of each: a van driver
# asked about drones and self-driving vans and read of driverless trucks only, with no word on drones (session 17's
# review asked for the briefing to say so outright).
_KINDS_OF_MACHINE = {
    "robots": re.compile(r"\brobot\w*", re.I),
    "drones": re.compile(r"\bdrones?\b", re.I),
    "self-checkouts": re.compile(r"\bself[- ](?:service )?checkouts?\b|\bself-service tills?\b", re.I),
    "kiosks": re.compile(r"\bkiosks?\b", re.I),
    "vehicles that drive themselves": re.compile(
        rf"\b(?:self-driving|driverless|autonomous (?:vehicles?|trucks?|cars?|vans?|buses|lorries)|{_DRIVES_ITSELF})\b",
        re.I,
    ),
}
# "[2]": how "In short" cites a source, as the overview and the signals do.
CITATION_MARK = re.compile(r"\[(\d+)\]")
MACHINE_SIGNALS = 2  # signals quoted first for a question on machines: what fits in a sentence or two
_MACHINES_NOT_RATED = "None of these studies rates robots or machines, which you asked about."
# ... said after what the sources report of machines: "none rates robots" right after robots read as a contradiction
# (session 16's review).
_MACHINES_NOT_RATED_AFTER_SOURCES = "These studies rate generative AI, not the machines the sources report."
_WHEN_NOT_RATED = "These studies rate how open the tasks are, not when they will change."
# ... both in one sentence: two in a row opening "These studies rate" read as padding (session 16, a train driver).
_NEITHER_RATED_AFTER_SOURCES = (
    "These studies rate how open the tasks are to generative AI, not the machines the sources report, nor when the "
    "tasks will change."
)
# A question about when ("soon", "in ten years", "before I retire") is not answered by the studies shown: they rate
# how open a job's tasks are to generative AI, not when any of it happens. Session 14's reviewers read "In short" as
# not answering a host who asked "soon?".
_ASKS_WHEN = re.compile(
    r"\b(?:soon|sooner|when|how long|years?|decades?|next year|retire|retirement|lifetime|yet|already)\b", re.I
)
# A task is named as the part most open only when it is this close (cosine) to what the person said, and, for a job
# not rated low, more open than this share of all the ILO's tasks (percentile): the top third.
_TASK_CLOSE_ENOUGH = 0.3
_OPEN_TASK = 200 / 3
# The studies by the name a briefing's lines give them; Nesta's stands apart: it rated machine learning in 2020,
# before today's chatbots, and so answers another question than the others.
_STUDY_NAMES = {
    "ilo_genai_2025": "the ILO's index",
    "gpts_are_gpts": "an OpenAI study (GPTs are GPTs)",  # "the GPTs are GPTs study rate" read as a typo (session 14)
    "working_with_ai": "Microsoft's study of Copilot use",
}
_OLDER_STUDY = "nesta_automation"
# Where each grade stands among the occupations its study grades. Of the ILO's 427 unit groups, 231 are not exposed
# (the lower half), 84 minimally (the 54th to 74th percentile) and 112 exposed at some gradient (the top quarter):
# a gradient of 1 or 2 is more open than most jobs, though it is the ILO's lowest exposed grade. Session 14's review
# found "the ILO's index puts them in the middle" said of gradient 2, from counts printed on the same page.
_LOWEST_EXPOSED = "exposed: gradient 1"
_GRADE_LEANS = {
    "not exposed": "low",
    "minimal exposure": None,
    "exposed: gradient 1": "high",
    "exposed: gradient 2": "high",
    "exposed: gradient 3": "high",
    "exposed: gradient 4": "high",
    "low risk": "low",  # Nesta's grades: the ends of its scale, "Other" (three in four) between them
    "high risk": "high",
}


def headline_figures(occupation: dict[str, Any]) -> list[dict[str, Any]]:
    """A few figures per dataset, those of the ISCO group itself first (the rest come through crosswalks)."""
    shown: list[dict[str, Any]] = []
    per_dataset: dict[str, int] = {}
    exposure = occupation.get("exposure") or []
    own = [f for f in exposure if f.get("code") == occupation["isco"]]
    ordered = sorted([*own, *(f for f in exposure if f not in own)], key=_dataset_order)
    for figure in ordered:
        if figure["dataset"] not in per_dataset and len(per_dataset) == HEADLINE_DATASETS:
            continue
        if per_dataset.get(figure["dataset"], 0) < EXPOSURE_FIGURES:
            per_dataset[figure["dataset"]] = per_dataset.get(figure["dataset"], 0) + 1
            if str(figure.get("value", "")).strip() != _MIDDLE_GRADES.get((figure["dataset"], figure.get("measure"))):
                shown.append(figure)
    return shown


def _dataset_order(figure: dict[str, Any]) -> tuple[int, int]:
    # The ILO's index speaks of generative AI and of tasks, as a mentor's question does: it leads. Of a dataset's
    # measures, its headline one comes first (GPTs are GPTs leads with beta, rated by people; alpha, the narrowest,
    # read 0.04 for nurses where beta reads 0.31; Nesta leads with its risk category).
    headline = _HEADLINE_MEASURE.get(figure["dataset"])
    return (0 if figure["dataset"].startswith("ilo") else 1, 0 if figure.get("measure") == headline else 1)


def lean(figure: dict[str, Any]) -> str | None:
    """Whether a figure puts the job high or low among the occupations of its study; None when in the middle."""
    value = str(figure.get("value", "")).strip().lower()
    if value in _GRADE_LEANS:
        return _GRADE_LEANS[value]
    percentile = figure.get("percentile")
    if isinstance(percentile, int | float):
        return "high" if percentile >= 2 * 100 / 3 else "low" if percentile <= 100 / 3 else None
    return None


def figures_disagree(figures: list[dict[str, Any]]) -> bool:
    """Whether one study shown puts the job high and another low: only then is the note on what each measures
    needed (reviewers read it, shown every time, as boilerplate)."""
    leans = {lean(figure) for figure in figures} - {None}
    return leans == {"high", "low"}


def asks_of_machines(question: str) -> bool:
    """Whether the question asks about robots, machines or vehicles that drive themselves."""
    return bool(_ASKS_OF_MACHINES.search(what_is_asked(question)))


def in_short(occupation: dict[str, Any], question: str, *, unsure: bool = False) -> str | None:
    """One or two sentences on where the studies shown put the occupation, or None when no figure is shown.

    "Generative AI is likely to change this job more than most: the ILO's index and an OpenAI study (GPTs are GPTs)
    rate its tasks among the more open to it." The studies are named, so a reader finds each one's line below.
    """
    leans = [(figure, lean(figure)) for figure in headline_figures(occupation)]
    newer = [(f, side) for f, side in leans if f["dataset"] in _STUDY_NAMES]
    older = [side for f, side in leans if f["dataset"] == _OLDER_STUDY and side is not None]
    if not newer and not older:
        return None
    high, low, middle = (_names(f for f, side in newer if side == wanted) for wanted in ("high", "low", None))
    if high and low:
        said = (
            f"The studies differ on this job: {joined(high)} {_rate(high)} its tasks among the more open to generative "
            f"AI, {joined(low)} among the less open."
        )
    elif high and all(_lowest_exposed(f) for f, side in newer if side == "high"):
        # The ILO's lowest exposed grade alone: "more than most" is true of its standing (above three jobs in four)
        # but read as the opposite of the grade's own "most of the work still needs a person" (session 16's review:
        # a cashier, a van driver, a hotel manager).
        said = (
            "Generative AI may change part of this job: the ILO's index puts it in the lowest of its exposed groups, "
            "above most jobs, though most of the work still needs a person"
        )
        said += f"; {joined(middle)} {'put' if len(middle) > 1 else 'puts'} its tasks in the middle." if middle else "."
    elif high or low:
        which, more = high or low, "more" if high else "less"
        likely = "may" if middle else "is likely to"  # a study that puts the job in the middle tempers the others
        said = f"Generative AI {likely} change this job {more} than most: {joined(which)} {_rate(which)} its tasks"
        said += f" among the {more} open to it"
        said += f"; {joined(middle)} {'put' if len(middle) > 1 else 'puts'} them in the middle." if middle else "."
    elif middle:
        said = (
            f"Generative AI may change this job about as much as most: {joined(middle)} {_rate(middle)} its tasks in "
            "the middle of all jobs'."
        )
    else:
        said = ""
    said += _most_open_part(occupation)
    said += _older_study(older, "high" if high and not low else "low" if low and not high else None)
    if asks_of_machines(question):
        said += f" {_MACHINES_NOT_RATED}"
    if _ASKS_WHEN.search(what_is_asked(question)):
        said += f" {_WHEN_NOT_RATED}"
    said = said.strip()
    return f"If the occupation below is yours, {lower_first(said)}" if unsure else said


def machines_first(
    said: str | None,
    question: str,
    signals: list[BriefSignal],
    numbers: dict[str, int],
    *,
    about: Mapping[str, Sequence[str]] | None = None,
    sectors: Sequence[str] = (),
    sources_say: Sequence[str] = (),
    closest: bool = False,
) -> str | None:
    """``said`` led by what the briefing's signals report of machines at work, when the question asks about robots or
    machines (or names machines taking over work anywhere: "though they keep adding self-checkouts") and some signal
    speaks of them: "On robots and machines, the sources below report: “Robots bring inventory to workers” (from
    walking the aisles to stations fed by robots) [1]." Each signal cites the sources (``numbers``: item id -> source
    number) whose rows it is, in their order, and names the sector its sources are about (``about``: item id -> the
    sectors enrichment was sure of) when none is the person's (``sectors``): "in manufacturing, “Robot stock passes
    four million” [1]". The studies are then said to rate generative AI, not the machines the sources report. A kind of
    machine the question names that none of the sources speaks of (``sources_say``: their words) is said so: "None of
    the sources below speaks of drones." With ``closest`` (the briefing cites only the closest the knowledge base
    holds) they are "the closest items below": a postie who asked about drones read of clerks' work "automated".

    Session 15's reviewers read "In short" on the studies of generative AI, for a host who asked whether robots will
    pick orders, clean offices or drive trains, as not answering, and the studies' low grades as "relax": they asked
    for what the items say about machines to come first, the studies second. Session 16's reviewer read factory
    robots quoted to a bricklayer, unnamed as factory robots, as an answer about building sites.
    """
    if not (asks_of_machines(question) or _TAKING_OVER.search(question)):
        return said
    reported: list[tuple[int, str, str | None]] = []
    for signal in signals:
        cited = sorted(numbers[i] for i in signal.sources if i in numbers)
        if cited and _OF_MACHINES.search(f"{signal.signal} {signal.change}"):
            name, change = _unmarked(signal.signal), _unmarked(signal.change)
            quoted = f"“{name}”" + (f" ({lower_first(change)})" if change else "")
            where = _elsewhere([i for i in signal.sources if i in numbers], about or {}, sectors)
            reported.append((cited[0], quoted + " " + "".join(f"[{n}]" for n in cited), where))
    unspoken = [
        kind
        for kind, words in _KINDS_OF_MACHINE.items()
        if words.search(question) and sources_say and not any(words.search(text) for text in sources_say)
    ]
    kinds = joined(unspoken, "or") if unspoken else ""
    silent = f" None of the sources below speaks of {kinds}." if unspoken else ""
    if not reported:
        if silent and said and _MACHINES_NOT_RATED in said:  # one sentence for both (session 19's review: said twice)
            both = f"Neither the sources below nor these studies speak of {kinds}, which you asked about."
            return " ".join(said.replace(_MACHINES_NOT_RATED, both).split())
        return f"{silent} {said or ''}".strip() or None
    shown: list[str] = []
    previous: str | None = None
    for _, text, where in sorted(reported[:MACHINE_SIGNALS]):
        shown.append(f"in {where}, {text}" if where and where != previous else text)
        previous = where
    whose = "the closest items below" if closest else "the sources below"
    lead = f"On robots and machines, {whose} report: {'; '.join(shown)}.{silent}"
    return f"{lead} {_rated_after_sources(said)}" if said else lead


def _elsewhere(items: list[str], about: Mapping[str, Sequence[str]], sectors: Sequence[str]) -> str | None:
    """The sector the items are about when it is sure and none of them is of the person's, else None."""
    theirs = {sector.lower() for sector in sectors}
    known = [[s for s in about.get(i, ()) if s] for i in items]
    if not theirs or not known or not all(known) or any(theirs & {s.lower() for s in k} for k in known):
        return None
    return known[0][0]


def _rated_after_sources(said: str) -> str:
    """``said`` ending with what its studies do not rate, worded for a lead on the machines the sources report: the
    note that none rates machines, and the one on timing, said once together."""
    when = _WHEN_NOT_RATED in said
    for note in (_MACHINES_NOT_RATED, _WHEN_NOT_RATED):
        said = said.replace(note, "")
    said = " ".join(said.split())
    return f"{said} {_NEITHER_RATED_AFTER_SOURCES if when else _MACHINES_NOT_RATED_AFTER_SOURCES}".strip()


def _lowest_exposed(figure: dict[str, Any]) -> bool:
    return str(figure.get("value", "")).strip().lower() == _LOWEST_EXPOSED


def _unmarked(text: str) -> str:
    """A signal's words as "In short" quotes them: one line, no final stop, and no "[3]" of its own that would read
    as a citation mark."""
    return " ".join(CITATION_MARK.sub("", text).split()).rstrip(".")


def _most_open_part(occupation: dict[str, Any]) -> str:
    """The task the occupation section lists first as most open (of the job's tasks, the closest to what the person
    said), when it is one the person likely does and a reader can take as the part most likely to change: both of
    session 14's reviewers asked "In short" to name that part. Session 15's reviewers read three named tasks as not
    the host's: "supervising the work of physiotherapy assistants" (barely above the middle of all tasks), "sending
    letters" for a live-chat agent (far from what they said), and one cut off mid-list."""
    tasks = occupation.get("most_exposed_tasks") or []
    if not tasks or tasks[0].get("closeness", 1.0) < _TASK_CLOSE_ENOUGH:
        return ""
    task = lower_first(short_task(tasks[0]["task"]))
    if task.endswith("…"):
        return ""
    if rated_low(occupation):
        return f" Even the part of it the ILO rates most open is rated low: {task}."
    if tasks[0].get("percentile", 100.0) < _OPEN_TASK:
        return ""
    return f" The part of it the ILO rates most open: {task}."


def _older_study(older: list[str], consensus: str | None) -> str:
    """What Nesta's 2020 study adds (``older``: its lean, when it leans): that it agrees, or its grade and why it may
    differ; always with what its grade rates (a bare "high risk" read as a verdict on the job: session 18's review)."""
    if not older:
        return ""
    grade = older[0]
    rates = "rating how well the machine learning of 2020 suits its tasks"
    if grade == consensus:
        # Its grade said again: "agrees" after one study leaning and one in the middle read as ambiguous (session 14).
        return f" Nesta's older study of machine learning (2020) also grades it {grade} risk, {rates}."
    if consensus:  # said to differ outright: "less than most" and then "high risk" read as a contradiction (session 15)
        return (
            f" Nesta's older study of machine learning (2020) differs: it grades it {grade} risk, {rates} rather than "
            "what chatbots can do."
        )
    return f" Nesta's older study of machine learning (2020) grades it {grade} risk, {rates}."


def _names(figures: Any) -> list[str]:
    return list(dict.fromkeys(_STUDY_NAMES[f["dataset"]] for f in figures))


def _rate(names: list[str]) -> str:
    return "rate" if len(names) > 1 else "rates"
