"""The shape of a briefing: cited sentences, signals, the occupation's figures, prompts and numbered sources."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BriefSignal", "Briefing", "Cited", "Source", "rated_low", "short_task", "still_open"]


@dataclass
class Cited:
    """A sentence and the items it cites (ids): an item's own sentence, or ours built only from its signals."""

    text: str
    sources: list[str]
    is_quote: bool = True  # the first source's own words (shown with its title), not our plain summary


@dataclass
class BriefSignal:
    """A distinct signal: one cluster of Signals rows, worded by its representative row."""

    signal: str
    change: str
    horizon: str
    driving_force: str
    sources: list[str]
    support: int  # independent items that state it (copies of one article count once)
    last_seen: str | None = None


@dataclass
class Source:
    """One cited item, numbered in the order the briefing first cites it."""

    number: int
    id: str
    title: str
    url: str | None
    published: str | None
    # The item's own sectors (at most ``gate.ABOUT_SECTORS``): a mentor sees that a study of bank call centres is
    # about banking before taking it for their energy company's.
    about: list[str] = field(default_factory=list)


@dataclass
class Briefing:
    """Everything a briefing says; renderers only lay it out."""

    question: str
    since: str | None
    sectors: list[str]
    evidence_count: int  # relevant items found (cited or not)
    overview: list[Cited] = field(default_factory=list)
    signals: list[BriefSignal] = field(default_factory=list)
    occupations: list[dict[str, Any]] = field(default_factory=list)  # as `smkb occupations match` gives them
    alternatives: list[dict[str, Any]] = field(default_factory=list)  # close others: isco, label, score
    missing_datasets: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    notice: str | None = None  # said plainly when the knowledge base holds little on the question
    coverage: str = ""  # what it holds: on the occupation, its sector, the wider picture
    readability: dict[str, float] = field(default_factory=dict)  # Flesch-Kincaid grade of overview, prompts
    notices: list[str] = field(default_factory=list)  # for the person running it (no index yet, ...)
    standing_in: bool = False  # no item is likely about the work: the closest few stand in, one signal each

    def number_of(self, item_id: str) -> int:
        """The citation number of a source."""
        return next(source.number for source in self.sources if source.id == item_id)

    @property
    def sector(self) -> str | None:
        """The main sector the question is about."""
        return self.sectors[0] if self.sectors else None

    def to_dict(self, markdown: str) -> dict[str, Any]:
        """The JSON of SPEC.md (question, sector, occupations, signals, sources, markdown) and the rest."""
        return {
            "question": self.question,
            "sector": self.sector,
            "sectors": self.sectors,
            "since": self.since,
            "occupations": self.occupations,
            "alternatives": self.alternatives,
            "missing_datasets": self.missing_datasets,
            "overview": [{"text": c.text, "sources": c.sources} for c in self.overview],
            "signals": [
                {
                    "signal": s.signal,
                    "change": s.change,
                    "horizon": s.horizon,
                    "driving_force": s.driving_force,
                    "sources": s.sources,
                    "support": s.support,
                    "last_seen": s.last_seen,
                }
                for s in self.signals
            ],
            "prompts": self.prompts,
            "sources": [asdict(s) for s in self.sources],
            "evidence_count": self.evidence_count,
            "notice": self.notice,
            "coverage": self.coverage,
            "standing_in": self.standing_in,
            "readability": self.readability,
            "markdown": markdown,
        }


# The ILO's two lowest grades: generative AI could do few or none of the job's tasks.
_LOW_GRADES = frozenset({"not exposed", "minimal exposure"})
# Where a task stands among all the tasks the ILO scores (percentile, 0-100): under the middle it is rated low, over
# it more open than most. A job's grade does not tell: in every job graded "minimal exposure" the most open task
# scores above the middle (a lawyer's 0.56, above nine in ten), and in a job graded 4 of 4 the least open may too.
MIDDLE_TASK = 50.0


def rated_low(occupation: dict[str, Any]) -> bool:
    """Whether even the job's most open tasks, as listed, are rated low among all the ILO's tasks; for tasks listed
    without their standing, whether the ILO grades the job not or minimally exposed."""
    standings = [task.get("percentile") for task in occupation.get("most_exposed_tasks") or ()]
    if standings and all(p is not None for p in standings):
        return all(p < MIDDLE_TASK for p in standings)
    return any(
        f.get("dataset") == "ilo_genai_2025"
        and f.get("measure") == "exposure gradient"
        and str(f.get("value", "")).strip().lower() in _LOW_GRADES
        for f in occupation.get("exposure", ())
    )


def still_open(occupation: dict[str, Any]) -> bool:
    """Whether even the job's least open tasks, as listed, are more open than most of the ILO's tasks."""
    standings = [task.get("percentile") for task in occupation.get("least_exposed_tasks") or ()]
    return bool(standings) and all(p is not None and p >= MIDDLE_TASK for p in standings)


# A task statement longer than this (give or take a few words) is cut at a comma before it: the ILO's run to 30
# words ("Collecting local, national and international news through interviews, ..., attending film and stage
# performances"), which reviewers found slow to read, on the page and in the prompts.
TASK_WORDS = 16


def short_task(text: str) -> str:
    """An ILO task statement as a briefing quotes it: one line, without the stop of the list it came from; one much
    longer than ``TASK_WORDS`` words is cut at its last comma within them and marked "…" (the JSON keeps it whole)."""
    words = " ".join(text.split()).replace(" ,", ",").rstrip(";.,: ").split(" ")
    if len(words) <= TASK_WORDS + 4:
        return " ".join(words)
    head = words[:TASK_WORDS]
    commas = [n for n, word in enumerate(head) if word.endswith(",") and n >= TASK_WORDS // 3]
    kept = head[: commas[-1] + 1] if commas else head
    return " ".join(kept).rstrip(",;:") + " …"


# ISCO's catch-all groups end "not elsewhere classified", a classifier's phrase no mentor uses.
_CATCH_ALL = re.compile(r"\s+not elsewhere classified\b", re.I)


def everyday_label(label: object) -> str:
    """An ISCO-08 group's title as a briefing shows it: one line, "(other)" for "not elsewhere classified"."""
    return _CATCH_ALL.sub(" (other)", " ".join(str(label).split()))
