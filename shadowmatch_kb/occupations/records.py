"""What the occupation datasets are read into, before they are stored: plain records, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "CATCH_ALL",
    "CrosswalkLink",
    "DatasetInfo",
    "DatasetRecords",
    "EscoOccupation",
    "Figure",
    "IscoGroup",
    "TaskScore",
    "is_catch_all",
    "is_unit_group",
]

# Occupation coding schemes a figure or a crosswalk link may use.
ISCO08 = "isco08"  # ISCO-08 codes, 1 to 4 digits ("2221")
ESCO = "esco"  # ESCO occupation URIs ("http://data.europa.eu/esco/occupation/...")
SOC2018 = "soc2018"  # US SOC codes ("15-1252")
ONET_SOC = "onet-soc"  # O*NET-SOC codes ("15-1252.00")
# How ISCO-08 names a group of unlike occupations gathered as one ("Health professionals not elsewhere classified").
CATCH_ALL = "not elsewhere classified"
_UNIT_GROUP = re.compile(r"\d{4}")


def is_unit_group(code: str) -> bool:
    """Whether ``code`` is written as an ISCO-08 unit group's, four digits ("7126")."""
    return _UNIT_GROUP.fullmatch(code) is not None


def is_catch_all(label: str) -> bool:
    """Whether an ISCO-08 group's title names it a catch-all group of unlike occupations."""
    return CATCH_ALL in label.lower()


@dataclass(frozen=True)
class DatasetInfo:
    """Where a dataset comes from and how it must be credited; every figure shown carries this."""

    key: str  # a stable short name: "esco", "ilo_genai_2025", "gpts_are_gpts", ...
    name: str  # the dataset's own name
    year: int  # the year of the version read
    licence: str  # "CC BY 4.0", "MIT", ...
    attribution: str  # one line naming the authors or publisher, the title and the licence


@dataclass(frozen=True)
class Figure:
    """One figure a dataset gives for one occupation, under the dataset's own code."""

    scheme: str  # one of the schemes above
    code: str
    measure: str  # what the number or grade is, in the dataset's words ("exposure gradient", ...)
    value: str | float
    label: str = ""  # the dataset's title for the occupation, when it gives one


@dataclass(frozen=True)
class TaskScore:
    """A task of an ISCO-08 unit group and its score (the ILO index scores every task)."""

    isco: str
    task: str
    score: float


@dataclass(frozen=True)
class CrosswalkLink:
    """One code of one scheme that corresponds to one code of another (O*NET-SOC to ESCO, say)."""

    from_scheme: str
    from_code: str
    to_scheme: str
    to_code: str


@dataclass(frozen=True)
class EscoOccupation:
    """An ESCO occupation: its ISCO-08 unit group and every label people use for it."""

    uri: str
    isco: str  # 4-digit ISCO-08 unit group
    label: str
    alt_labels: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class IscoGroup:
    """An ISCO-08 group (1 to 4 digits) with its label."""

    code: str
    label: str
    alt_labels: tuple[str, ...] = ()


@dataclass
class DatasetRecords:
    """Everything read from one dataset."""

    info: DatasetInfo
    figures: list[Figure] = field(default_factory=list)
    tasks: list[TaskScore] = field(default_factory=list)
    crosswalk: list[CrosswalkLink] = field(default_factory=list)
    occupations: list[EscoOccupation] = field(default_factory=list)
    groups: list[IscoGroup] = field(default_factory=list)
