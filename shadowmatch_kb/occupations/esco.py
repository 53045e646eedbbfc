"""ESCO v1 occupations and ISCO-08 groups, as published (the CSV export): the labels people use for a job."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.occupations.records import DatasetInfo, DatasetRecords, EscoOccupation, IscoGroup

__all__ = ["ESCO_FILES", "ESCO_INFO", "read_esco"]

ESCO_FILES = ("occupations_en.csv", "ISCOGroups_en.csv")
ESCO_INFO = DatasetInfo(
    key="esco",
    name="ESCO classification, occupations pillar (v1)",
    year=2024,
    licence="ESCO terms of use (free reuse with attribution)",
    attribution="European Commission, ESCO (European Skills, Competences, Qualifications and Occupations) v1",
)
_OCCUPATION_COLUMNS = {"conceptUri", "iscoGroup", "preferredLabel", "altLabels", "description"}
_GROUP_COLUMNS = {"code", "preferredLabel", "altLabels"}


def read_esco(folder: Path) -> DatasetRecords:
    """Every released ESCO occupation with its ISCO-08 unit group and labels, and every ISCO-08 group."""
    folder = Path(folder)
    occupations = [
        EscoOccupation(
            uri=row["conceptUri"].strip(),
            isco=row["iscoGroup"].strip().zfill(4),
            label=row["preferredLabel"].strip(),
            # Hidden labels are the names ESCO keeps for search only ("GP", "family doctor"): people use them.
            alt_labels=_labels(row["altLabels"]) + _labels(row.get("hiddenLabels") or ""),
            description=" ".join(row["description"].split()),
        )
        for row in _rows(folder / ESCO_FILES[0], _OCCUPATION_COLUMNS)
        if row.get("status", "released") == "released" and row["iscoGroup"].strip()
    ]
    groups = [
        IscoGroup(code=row["code"].strip(), label=row["preferredLabel"].strip(), alt_labels=_labels(row["altLabels"]))
        for row in _rows(folder / ESCO_FILES[1], _GROUP_COLUMNS)
        if row["code"].strip()
    ]
    return DatasetRecords(info=ESCO_INFO, occupations=occupations, groups=groups)


def _labels(cell: str) -> tuple[str, ...]:
    # Alternative labels are one per line in the export.
    return tuple(dict.fromkeys(label.strip() for label in (cell or "").splitlines() if label.strip()))


def _rows(path: Path, needed: set[str]) -> Iterator[dict[str, str]]:
    if not path.is_file():
        raise UsageError(f"{path} is missing: an ESCO folder holds {' and '.join(ESCO_FILES)}")
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = needed - set(reader.fieldnames or ())
            if missing:
                raise UsageError(f"{path} lacks the ESCO columns {', '.join(sorted(missing))}")
            yield from reader
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path} is not a readable ESCO CSV file ({' '.join(str(exc).split())})") from exc
