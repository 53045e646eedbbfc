"""The shape of a briefing: cited sentences, signals, the occupation's figures, prompts and numbered sources."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from shadowmatch_kb.occupations.records import CATCH_ALL
from shadowmatch_kb.text.english import lower_first

__all__ = [
    "MAX_TITLE_CHARS",
    "BriefSignal",
    "Briefing",
    "Cited",
    "Source",
    "everyday_label",
    "people_of",
    "rated_low",
    "still_open",
]

# The longest job title a person may type when the occupation a briefing found is not theirs.
MAX_TITLE_CHARS = 80


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
    names_job: bool = False  # an item it cites names the job the person gave (the coverage sentence says so)
    occupation_unsure: bool = False  # the first occupation fits the words only loosely (and was not chosen)
    in_short: str | None = None  # where the studies shown put the occupation, in a sentence or two
    title: str | None = None  # the job title the person gave themselves ("receptionist"), when they gave one

    def number_of(self, item_id: str) -> int:
        """The citation number of a source."""
        return next(source.number for source in self.sources if source.id == item_id)

    @property
    def sector(self) -> str | None:
        """The main sector the question is about."""
        return self.sectors[0] if self.sectors else None

    @property
    def only_closest(self) -> bool:
        """Whether the items cited are only the closest the knowledge base holds rather than news of the person's
        work: they stand in, or too few are on the occupation or its sector (the notice says so) and none names the
        job the person gave. Session 20's reviewers read an air traffic controller asked whether warehouse robots
        "match what you see at work", and an item naming accountants called only "the nearest"."""
        return self.standing_in or (self.notice is not None and not self.names_job)

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
            "occupation_unsure": self.occupation_unsure,
            "job_title": self.title,  # the title the person gave, in the question or typed (--occupation)
            "in_short": self.in_short,
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
    standings = _standings(occupation, "most_exposed_tasks")
    if standings is not None:
        return all(p < MIDDLE_TASK for p in standings)
    return any(
        f.get("dataset") == "ilo_genai_2025"
        and f.get("measure") == "exposure gradient"
        and str(f.get("value", "")).strip().lower() in _LOW_GRADES
        for f in occupation.get("exposure", ())
    )


def still_open(occupation: dict[str, Any]) -> bool:
    """Whether even the job's least open tasks, as listed, are more open than most of the ILO's tasks."""
    standings = _standings(occupation, "least_exposed_tasks")
    return standings is not None and all(p >= MIDDLE_TASK for p in standings)


def _standings(occupation: dict[str, Any], key: str) -> list[float] | None:
    """The percentiles of one task list, or None when it is empty or a task lacks its standing."""
    standings = [task.get("percentile") for task in occupation.get(key) or ()]
    if not standings or any(p is None for p in standings):
        return None
    return [float(p) for p in standings]


# ISCO's catch-all groups end "not elsewhere classified", a classifier's phrase no mentor uses.
_CATCH_ALL = re.compile(rf"\s+{CATCH_ALL}\b", re.I)


def everyday_label(label: object) -> str:
    """An ISCO-08 group's title as a briefing shows it: one line, "(other)" for "not elsewhere classified"."""
    return _CATCH_ALL.sub(" (other)", " ".join(str(label).split()))


def people_of(label: object) -> str:
    """An ISCO-08 group's title as a sentence names its people: "plumbers and pipe fitters", "other process control
    technicians" (for "not elsewhere classified")."""
    name = everyday_label(label)
    other = name.endswith(" (other)")
    name = lower_first(name.removesuffix(" (other)"))
    return f"other {name}" if other else name
