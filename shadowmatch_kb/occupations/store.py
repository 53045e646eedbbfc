"""Imported occupation datasets in the record store (``corpus/kb.sqlite``), and what they say of an ISCO group."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from shadowmatch_kb.occupations.records import ESCO, ISCO08, ONET_SOC, SOC2018, DatasetInfo, DatasetRecords
from shadowmatch_kb.store.pg import insertion_order

__all__ = [
    "Exposure",
    "Label",
    "WorkText",
    "dataset_overview",
    "figures_for",
    "imported_datasets",
    "labels",
    "numbers_of",
    "task_scores",
    "save_dataset",
    "tasks_for",
    "values_of",
    "work_texts",
]

# ESCO's description of an occupation is kept beside the figures, under this measure (as O*NET's are).
DESCRIPTION = "description"


@dataclass(frozen=True)
class Label:
    """A name of an occupation: ESCO's preferred or alternative label, or an ISCO-08 unit group's."""

    isco: str
    label: str
    kind: str  # "preferred", "alt" or "group"
    esco_uri: str | None


@dataclass(frozen=True)
class WorkText:
    """A sentence saying what the work of an ISCO-08 unit group is: an ESCO description or an ILO task."""

    isco: str
    text: str
    kind: str  # "description" or "task"


@dataclass(frozen=True)
class Exposure:
    """One figure a dataset gives, attached to an ISCO-08 group, with the credit it requires."""

    dataset: str
    measure: str
    value: str | float
    attribution: str
    code: str  # the dataset's own code for the occupation the figure is about
    label: str  # and its title there
    scheme: str = ISCO08  # the coding scheme of ``code``: figures compare only within one

    def to_dict(self) -> dict[str, object]:
        """The JSON of ``smkb occupations match``."""
        return {
            "dataset": self.dataset,
            "measure": self.measure,
            "value": self.value,
            "attribution": self.attribution,
            "code": self.code,
            "label": self.label,
        }


def save_dataset(db: sqlite3.Connection, records: DatasetRecords, source_path: str) -> dict[str, int]:
    """Replace everything a dataset brought before with what it holds now, in one transaction; the counts."""
    key = records.info.key
    db.execute("BEGIN IMMEDIATE")
    try:
        for table in ("occupation_figures", "occupation_tasks", "occupation_crosswalk"):
            db.execute(f"DELETE FROM {table} WHERE dataset = ?", (key,))  # noqa: S608 - fixed table names
        if records.occupations or records.groups:
            db.execute("DELETE FROM occupation_labels")
        db.executemany(
            "INSERT INTO occupation_labels VALUES (?, ?, ?, ?)",
            [
                (occupation.isco, label, kind, occupation.uri)
                for occupation in records.occupations
                for label, kind in [(occupation.label, "preferred")] + [(alt, "alt") for alt in occupation.alt_labels]
            ]
            + [(group.code, group.label, "group", None) for group in records.groups if len(group.code) == 4],
        )
        db.executemany(
            "INSERT INTO occupation_figures VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (key, f.scheme, f.code, f.measure, str(f.value), f.value if isinstance(f.value, float) else None,
                 f.label)
                for f in records.figures
            ],
        )  # fmt: skip
        # ESCO's descriptions say what each occupation's work is: the matcher compares them with what people say.
        db.executemany(
            "INSERT INTO occupation_figures VALUES (?, ?, ?, ?, ?, NULL, ?)",
            [(key, ESCO, o.uri, DESCRIPTION, o.description, o.label) for o in records.occupations if o.description],
        )
        db.executemany(
            "INSERT INTO occupation_tasks VALUES (?, ?, ?, ?)", [(key, t.isco, t.task, t.score) for t in records.tasks]
        )
        db.executemany(
            "INSERT INTO occupation_crosswalk VALUES (?, ?, ?, ?, ?)",
            [(key, c.from_scheme, c.from_code, c.to_scheme, c.to_code) for c in records.crosswalk],
        )
        info = records.info
        db.execute(
            "INSERT INTO occupation_datasets VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
            " name = excluded.name, year = excluded.year, licence = excluded.licence,"
            " attribution = excluded.attribution, source_path = excluded.source_path,"
            " imported_at = excluded.imported_at",
            (key, info.name, info.year, info.licence, info.attribution, source_path,
             datetime.now(UTC).isoformat(timespec="seconds")),
        )  # fmt: skip
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return {
        "occupations": len(records.occupations),
        "groups": len(records.groups),
        "figures": len(records.figures),
        "tasks": len(records.tasks),
        "crosswalk": len(records.crosswalk),
    }


def imported_datasets(db: sqlite3.Connection) -> dict[str, DatasetInfo]:
    """The datasets imported so far, by key."""
    rows = db.execute("SELECT key, name, year, licence, attribution FROM occupation_datasets ORDER BY key")
    return {row[0]: DatasetInfo(*row) for row in rows}


def dataset_overview(db: sqlite3.Connection) -> dict[str, object]:
    """The imported datasets, each with its name, year, licence, attribution, when it was imported and how many
    figures, descriptions, tasks and crosswalk rows it brought; and the occupation labels held (from ESCO)."""
    counts: dict[str, dict[str, int]] = {}
    for key, measure, count in db.execute(
        "SELECT dataset, measure = ?, count(*) FROM occupation_figures GROUP BY 1, 2", (DESCRIPTION,)
    ):
        kind = "descriptions" if measure else "figures"
        counts.setdefault(key, {})[kind] = int(count)
    for table, kind in (("occupation_tasks", "tasks"), ("occupation_crosswalk", "crosswalk")):
        for key, count in db.execute(f"SELECT dataset, count(*) FROM {table} GROUP BY dataset"):  # noqa: S608
            counts.setdefault(key, {})[kind] = int(count)
    rows = db.execute(
        "SELECT key, name, year, licence, attribution, imported_at FROM occupation_datasets ORDER BY key"
    ).fetchall()
    kinds = ("figures", "descriptions", "tasks", "crosswalk")
    datasets = [
        {
            "key": row[0],
            "name": row[1],
            "year": int(row[2]),
            "licence": row[3],
            "attribution": row[4],
            "imported_at": row[5],
            "counts": {kind: counts.get(row[0], {}).get(kind, 0) for kind in kinds},
        }
        for row in rows
    ]
    labels_held = int(db.execute("SELECT count(*) FROM occupation_labels").fetchone()[0])
    return {"datasets": datasets, "labels": labels_held}


def labels(db: sqlite3.Connection) -> list[Label]:
    """Every label of every occupation, in a stable order (the order of the label vectors)."""
    rows = db.execute(f"SELECT isco, label, kind, esco_uri FROM occupation_labels ORDER BY {insertion_order(db)}")
    return [Label(*row) for row in rows]


def figures_for(db: sqlite3.Connection, isco: str, esco_uris: list[str]) -> list[Exposure]:
    """What every imported dataset says of an ISCO-08 unit group.

    ISCO-08 datasets speak of the group itself. The others speak of finer occupations: ESCO ones (by URI),
    and US ones reached from ESCO through a crosswalk (O*NET-SOC, and SOC as its first seven characters).
    ``esco_uris`` are the ESCO occupations of the group the question matched best, first the best.
    """
    attribution = {key: info.attribution for key, info in imported_datasets(db).items()}
    rows = _figures_of(db, ISCO08, isco) + [row for uri in esco_uris for row in _figures_of(db, ESCO, uri)]
    if esco_uris:
        marks = ",".join("?" * len(esco_uris))
        links = db.execute(
            f"SELECT from_code, to_code FROM occupation_crosswalk WHERE to_scheme = ? AND to_code IN ({marks})"  # noqa: S608
            " AND from_scheme = ?",
            [ESCO, *esco_uris, ONET_SOC],
        ).fetchall()
        # The US occupation of the best ESCO occupation speaks first: a staff nurse's figure is that of registered
        # nurses (the crosswalk of "nurse responsible for general care"), not of nurse practitioners (that of
        # "specialist nurse", the second best), whatever order the database returns them in.
        rank = {uri: n for n, uri in enumerate(esco_uris)}
        onet = list(dict.fromkeys(code for code, uri in sorted(links, key=lambda link: (rank[link[1]], link[0]))))
        # The crosswalk speaks O*NET-SOC 2010; datasets coded in the 2019 taxonomy share most 6-digit SOC
        # codes with it, so an O*NET code of the same SOC occupation stands in when the exact code is absent, before
        # the next ESCO occupation's code is tried (a plumber's figure is that of plumbers, found so, not that of
        # the sewer pipe cleaners of a lesser label); a code the 2019 taxonomy renumbered, by its title.
        for code in onet:
            same = ((ONET_SOC, code), (SOC2018, code[:7]), (ONET_SOC, f"{code[:7]}.%"))
            rows += [row for scheme, c in same for row in _figures_of(db, scheme, c)] + _figures_of_renamed(db, code)
    found: list[Exposure] = []
    seen: set[tuple[str, str]] = set()
    for dataset, measure, value, number, label, own_code, own_scheme in rows:
        if (dataset, measure) in seen:
            continue  # the closest occupation speaks for the group; the others would repeat it
        seen.add((dataset, measure))
        found.append(
            Exposure(dataset, measure, number if number is not None else value, attribution.get(dataset, ""),
                     own_code, label, own_scheme)
        )  # fmt: skip
    return found


def _figures_of(db: sqlite3.Connection, scheme: str, code: str) -> list[tuple]:
    """The figures (not descriptions, which say what an occupation is) filed under one code, or a code pattern."""
    return db.execute(
        "SELECT dataset, measure, value, number, label, code, scheme FROM occupation_figures WHERE scheme = ?"
        f" AND code {'LIKE' if code.endswith('%') else '='} ? AND measure != ? ORDER BY code, {insertion_order(db)}",
        (scheme, code, DESCRIPTION),
    ).fetchall()


# The crosswalk speaks O*NET-SOC 2010; the 2019 taxonomy (GPTs are GPTs, Working with AI) renumbered some occupations
# outright: "Software Developers, Applications" (15-1132) became "Software Developers" (15-1252), "Taxi Drivers and
# Chauffeurs" (53-3041) became "Taxi Drivers" (53-3054). Such a code's figures are those of the occupation of its
# major group whose title shares at least this share of its title's words (O*NET's own title, when imported); its
# neighbours by number are other work ("Ambulance Drivers" for a taxi driver, through 53-30).
_SAME_TITLE = 0.5
_TITLE_FILLER = frozenset({"and", "or", "except", "all", "other", "the", "of"})


def _figures_of_renamed(db: sqlite3.Connection, code: str) -> list[tuple]:
    """The figures of the occupation a renumbered O*NET-SOC 2010 ``code`` became, found by its title within its
    major group; none when the code's title is unknown."""
    title = db.execute(
        "SELECT label FROM occupation_figures WHERE scheme = ? AND code = ? AND measure = ? LIMIT 1",
        (ONET_SOC, code, DESCRIPTION),
    ).fetchone()
    if title is None:
        return []
    words = _title_words(title[0])
    titles = db.execute(
        "SELECT DISTINCT scheme, code, label FROM occupation_figures WHERE scheme IN (?, ?) AND code LIKE ?"
        " AND measure != ?",
        (ONET_SOC, SOC2018, f"{code[:3]}%", DESCRIPTION),
    ).fetchall()
    found: list[tuple] = []
    for scheme in (ONET_SOC, SOC2018):
        shared = [(_overlap(words, _title_words(label)), other) for s, other, label in titles if s == scheme and label]
        best = max(shared, default=(0.0, ""))
        if best[0] >= _SAME_TITLE:
            found += _figures_of(db, scheme, best[1])
    return found


def _title_words(title: str) -> set[str]:
    words = (w.lower().rstrip("s") for w in re.findall(r"[A-Za-z]+", title))
    return {w for w in words if w and w not in _TITLE_FILLER}


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


# A task the ILO's file scores without its text ("nan", once, for plumbers): its score counts in the group's mean,
# as published, but there is nothing to show or to compare a person's words with.
_NAMED_TASK = "lower(trim(task)) NOT IN ('nan', 'none', 'null', '')"


def tasks_for(db: sqlite3.Connection, isco: str) -> list[tuple[str, float]]:
    """The scored tasks of an ISCO-08 unit group that have a text, most exposed first."""
    rows = db.execute(
        f"SELECT task, score FROM occupation_tasks WHERE isco = ? AND {_NAMED_TASK} ORDER BY score DESC, task", (isco,)
    )
    return [(row[0], float(row[1])) for row in rows]


def task_scores(db: sqlite3.Connection) -> list[float]:
    """Every score the ILO gives a named task, of every group, lowest first."""
    rows = db.execute(f"SELECT score FROM occupation_tasks WHERE {_NAMED_TASK} ORDER BY score")
    return [float(row[0]) for row in rows]


def work_texts(db: sqlite3.Connection) -> list[WorkText]:
    """What each unit group's work is, in a stable order: ESCO's occupation descriptions, then the ILO's tasks."""
    descriptions = db.execute(
        "SELECT labels.isco, figures.value FROM occupation_figures AS figures"
        " JOIN occupation_labels AS labels ON labels.esco_uri = figures.code AND labels.kind = 'preferred'"
        " WHERE figures.dataset = 'esco' AND figures.scheme = ? AND figures.measure = ?"
        f" ORDER BY figures.{insertion_order(db)}",
        (ESCO, DESCRIPTION),
    )
    found = [WorkText(isco, text, "description") for isco, text in descriptions]
    tasks = db.execute(f"SELECT isco, task FROM occupation_tasks WHERE {_NAMED_TASK} ORDER BY {insertion_order(db)}")
    found += [WorkText(isco, task, "task") for isco, task in tasks]
    return list(dict.fromkeys(found))


def numbers_of(db: sqlite3.Connection, dataset: str, measure: str, scheme: str, code_length: int) -> list[float]:
    """Every number one dataset gives for one measure, over the occupations of one scheme (codes of one length
    for ISCO-08, whose groups have 1 to 4 digits), in ascending order."""
    rows = db.execute(
        "SELECT number FROM occupation_figures WHERE dataset = ? AND measure = ? AND scheme = ? AND number IS NOT NULL"
        " AND (? = 0 OR length(code) = ?) ORDER BY number",
        (dataset, measure, scheme, code_length, code_length),
    )
    return [float(row[0]) for row in rows]


def values_of(db: sqlite3.Connection, dataset: str, measure: str, scheme: str, code_length: int) -> Counter[str]:
    """How many occupations of one scheme (and code length, as ``numbers_of``) get each grade a dataset gives for
    one measure ("Exposed: Gradient 4")."""
    rows = db.execute(
        "SELECT value, count(*) FROM occupation_figures WHERE dataset = ? AND measure = ? AND scheme = ?"
        " AND number IS NULL AND (? = 0 OR length(code) = ?) GROUP BY value",
        (dataset, measure, scheme, code_length, code_length),
    )
    return Counter({value: int(n) for value, n in rows})
