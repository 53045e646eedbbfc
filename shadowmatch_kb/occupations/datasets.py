"""The public occupation datasets, as published, read into plain records (see ``records.py``).

``read_dataset(path)`` recognises a dataset by the files in its folder (users rename folders) and reads it.
Every reader uses the standard library only; bad input raises ``UsageError`` with one line naming the file.
"""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.occupations.records import (
    ESCO,
    ISCO08,
    ONET_SOC,
    SOC2018,
    CrosswalkLink,
    DatasetInfo,
    DatasetRecords,
    Figure,
    TaskScore,
)

__all__ = ["KNOWN_DATASETS", "UnknownDatasetError", "read_dataset"]


class UnknownDatasetError(UsageError):
    """A path that holds none of the occupation datasets this module reads."""


# --- ILO refined generative-AI exposure index (Gmyrek et al. 2025) -------------------------------------------------

ILO_JSON = "output_data.json"
ILO_XLSX = "Final_Scores_ISCO08_Gmyrek_et_al_2025.xlsx"
ILO_INFO = DatasetInfo(
    key="ilo_genai_2025",
    name="Generative AI and jobs: a refined global index of occupational exposure",
    year=2025,
    licence="CC BY 4.0",
    attribution="ILO, Gmyrek et al. 2025, Generative AI and jobs: a refined global index of occupational exposure "
    "(ILO Working Paper 140), CC BY 4.0",
)
_ILO_OCCUPATION = re.compile(r"(\d{4}) - (.+)", re.S)  # "1111 - Legislators"
_ILO_TASK = re.compile(r"\(\s*([0-9]*\.?[0-9]+)\s*\)\s*-\s*(.+)", re.S)  # "( 0.34 ) - Presiding over ..."


def read_ilo_genai(folder: Path) -> DatasetRecords:
    """ISCO-08 unit groups with their exposure gradient and task-score summary, and every scored task."""
    # The xlsx adds only the 2023 scores and per-model predictions; reading it would need openpyxl, which we lack.
    path = folder / ILO_JSON
    tree = _load_json(path, "the ILO index as a JSON tree of ISCO-08 groups (the xlsx alone is not read)")
    records = DatasetRecords(info=ILO_INFO)
    for node in _ilo_occupation_nodes(tree):
        code, title, gradient, scores, tasks = _ilo_occupation(node, path)
        records.tasks.extend(tasks)
        records.figures.append(Figure(ISCO08, code, "exposure gradient", gradient, title))
        records.figures.append(Figure(ISCO08, code, "mean task score", round(statistics.mean(scores), 4), title))
        if len(scores) > 1:  # the published SD_2025 is the sample standard deviation of the task scores
            sd = round(statistics.stdev(scores), 4)
            records.figures.append(Figure(ISCO08, code, "task score standard deviation", sd, title))
    if not records.tasks:
        raise UsageError(f"{path} holds no ISCO-08 occupations: expected nodes named like '1111 - Legislators'")
    return records


def _ilo_occupation_nodes(node: Any) -> Iterator[dict[str, Any]]:
    # Occupations are the only nodes that carry both an exposure grade ("risk") and tasks as children.
    if not isinstance(node, dict):
        return
    children = node.get("children")
    if "risk" in node and isinstance(children, list):
        yield node
        return
    for child in children if isinstance(children, list) else ():
        yield from _ilo_occupation_nodes(child)


def _ilo_occupation(node: dict[str, Any], path: Path) -> tuple[str, str, str, list[float], list[TaskScore]]:
    match = _ILO_OCCUPATION.fullmatch(str(node.get("name", "")).strip())
    if not match:
        raise UsageError(f"{path}: occupation node {_clip(node.get('name'))} is not named like '1111 - Legislators'")
    code, title = match.group(1), _one_line(match.group(2))
    tasks = [_ilo_task(code, child, path) for child in node["children"]]
    if not tasks:
        raise UsageError(f"{path}: occupation {code} has no scored tasks")
    return code, title, _one_line(str(node["risk"])), [task.score for task in tasks], tasks


def _ilo_task(code: str, node: Any, path: Path) -> TaskScore:
    name = node.get("name", "") if isinstance(node, dict) else node
    match = _ILO_TASK.fullmatch(str(name).strip())
    if not match:
        raise UsageError(f"{path}: task {_clip(name)} of {code} is not named like '( 0.34 ) - task text'")
    return TaskScore(isco=code, task=_one_line(match.group(2)), score=float(match.group(1)))


def _looks_like_ilo_tree(path: Path) -> bool:
    # "output_data.json" is a common name; the ILO tree starts with the ISCO-08 root node.
    try:
        with path.open("rb") as handle:
            return b'"ISCO-08"' in handle.read(200)
    except OSError:
        return False


# --- GPTs are GPTs (Eloundou et al.) -------------------------------------------------------------------------------

GPTS_CSV = "occ_level.csv"
GPTS_INFO = DatasetInfo(
    key="gpts_are_gpts",
    name="GPTs are GPTs: labor market impact potential of large language models (occupation-level exposure)",
    year=2024,
    licence="MIT",
    attribution="OpenAI, Eloundou, Manning, Mishkin and Rock, GPTs are GPTs: labor market impact potential of "
    "large language models (Science 2024), occupation-level exposure data, MIT",
)
# The README's words: dv_rating is the GPT-4 rating, human is the annotators'; alpha=E1, beta=E1+.5*E2, gamma=E1+E2.
_GPTS_MEASURES = {
    "dv_rating_alpha": "GPT-4 rated exposure alpha (E1)",
    "dv_rating_beta": "GPT-4 rated exposure beta (E1 + 0.5*E2)",
    "dv_rating_gamma": "GPT-4 rated exposure gamma (E1 + E2)",
    "human_rating_alpha": "human rated exposure alpha (E1)",
    "human_rating_beta": "human rated exposure beta (E1 + 0.5*E2)",
    "human_rating_gamma": "human rated exposure gamma (E1 + E2)",
}


def read_gpts_are_gpts(folder: Path) -> DatasetRecords:
    """Human and GPT-4 rated exposure of each O*NET-SOC occupation to LLMs (alpha, beta, gamma)."""
    path = folder / GPTS_CSV
    rows = _csv_rows(path, {"O*NET-SOC Code", "Title", *_GPTS_MEASURES}, "occupation-level exposure")
    figures = [
        Figure(ONET_SOC, _code(row["O*NET-SOC Code"]), measure, value, _one_line(row["Title"]))
        for line, row in rows
        for column, measure in _GPTS_MEASURES.items()
        if (value := _number(row[column], path, line, column)) is not None
    ]
    return DatasetRecords(info=GPTS_INFO, figures=figures)


# --- Working with AI (Tomlinson et al., Microsoft Research 2025) ---------------------------------------------------

WWAI_CSV = "soc_ai_applicability_scores.csv"
WWAI_INFO = DatasetInfo(
    key="working_with_ai",
    name="Working with AI: measuring the applicability of generative AI to occupations",
    year=2025,
    licence="CC BY 4.0",
    attribution="Microsoft Research, Tomlinson, Jaffe, Wang, Counts and Suri 2025, Working with AI: measuring the "
    "applicability of generative AI to occupations (arXiv 2507.07935), CC BY 4.0",
)


def read_working_with_ai(folder: Path) -> DatasetRecords:
    """The AI applicability score of each detailed SOC 2018 occupation ("15-1252"), from Bing Copilot usage."""
    path = folder / WWAI_CSV
    rows = _csv_rows(path, {"SOC Code", "title", "ai_applicability_score"}, "AI applicability scores by SOC code")
    figures = [
        Figure(SOC2018, _code(row["SOC Code"]), "AI applicability score", value, _one_line(row["title"]))
        for line, row in rows
        if (value := _number(row["ai_applicability_score"], path, line, "ai_applicability_score")) is not None
    ]
    return DatasetRecords(info=WWAI_INFO, figures=figures)


# --- Mapping Career Causeways (Nesta 2020) -------------------------------------------------------------------------

NESTA_RISK_CSV = "automation_risk/mcc_risk_All_occupations.csv"
NESTA_CROSSWALK_CSV = "ONET_ESCO_crosswalk/esco_onet_crosswalk_Nov2020.csv"
NESTA_ISCO_CSVS = {"automation_risk/mcc_risk_ISCO_4digit.csv": 4, "automation_risk/mcc_risk_ISCO_3digit.csv": 3}
NESTA_INFO = DatasetInfo(
    key="nesta_automation",
    name="Mapping Career Causeways: automation risk estimates and O*NET-ESCO crosswalk",
    year=2020,
    licence="MIT",
    attribution="Nesta, Kanders, Djumalieva, Sleeman and Orlik 2020, Mapping Career Causeways: supporting workers "
    "at risk (automation risk estimates and O*NET-ESCO crosswalk), MIT",
)
# Measures in the README's words; risk is on a 1 (minimal) to 5 (maximal) scale, prevalence from 0 to 1.
_NESTA_MEASURES = {
    "risk": "overall automation risk",
    "prevalence": "prevalence of bottleneck tasks",
    "risk_category": "automation risk category",
    "risk_nonphysical": "automation risk of non-physical tasks",
    "prevalence_nonphysical": "prevalence of bottleneck tasks, non-physical",
}
_NESTA_GRADES = {"risk_category"}  # a label ("High risk", "Low risk", "Other"), not a number


def read_nesta_automation(folder: Path) -> DatasetRecords:
    """Automation risk by ESCO occupation (and by ISCO-08 group, when present) and the O*NET to ESCO crosswalk."""
    records = DatasetRecords(info=NESTA_INFO, figures=_nesta_esco_figures(folder / NESTA_RISK_CSV))
    for name, digits in NESTA_ISCO_CSVS.items():
        # The ISCO-08 averages are extras of the same release; a folder without them still reads.
        if (folder / name).is_file():
            records.figures.extend(_nesta_isco_figures(folder / name, digits))
    records.crosswalk = _nesta_crosswalk(folder / NESTA_CROSSWALK_CSV)
    return records


def _nesta_esco_figures(path: Path) -> list[Figure]:
    rows = _csv_rows(path, {"occupation", "concept_uri", *_NESTA_MEASURES}, "automation risk by ESCO occupation")
    return [
        figure
        for line, row in rows
        for figure in _nesta_figures(ESCO, _code(row["concept_uri"]), _one_line(row["occupation"]), row, path, line)
    ]


def _nesta_isco_figures(path: Path, digits: int) -> list[Figure]:
    title = "isco_unit_group" if digits == 4 else "isco_minor_group"
    needed = {"isco_code", title, "risk", "prevalence", "risk_category"}
    rows = _csv_rows(path, needed, f"automation risk by {digits}-digit ISCO-08 group")
    return [
        figure
        for line, row in rows
        for figure in _nesta_figures(
            ISCO08, _code(row["isco_code"]).zfill(digits), _one_line(row[title]), row, path, line
        )
    ]


def _nesta_figures(scheme: str, code: str, label: str, row: dict[str, str], path: Path, line: int) -> Iterator[Figure]:
    for column, measure in _NESTA_MEASURES.items():
        if column not in row:  # the ISCO-08 tables have no non-physical columns
            continue
        value = _one_line(row[column]) if column in _NESTA_GRADES else _number(row[column], path, line, column)
        if value is not None and value != "":
            yield Figure(scheme, code, measure, value, label)


def _nesta_crosswalk(path: Path) -> list[CrosswalkLink]:
    rows = _csv_rows(path, {"onet_code", "concept_uri"}, "the O*NET to ESCO crosswalk")
    return [
        CrosswalkLink(ONET_SOC, _code(row["onet_code"]), ESCO, _code(row["concept_uri"]))
        for _, row in rows
        if row["onet_code"].strip() and row["concept_uri"].strip()
    ]


# --- O*NET occupation data ------------------------------------------------------------------------------------------

ONET_TXT = "Occupation Data.txt"


def read_onet(folder: Path) -> DatasetRecords:
    """O*NET-SOC titles and descriptions, as figures with measure "description" labelled with the title."""
    path = folder / ONET_TXT
    rows = _csv_rows(path, {"O*NET-SOC Code", "Title", "Description"}, "O*NET occupation data", delimiter="\t")
    figures = [
        Figure(
            ONET_SOC,
            _code(row["O*NET-SOC Code"]),
            "description",
            _one_line(row["Description"]),
            _one_line(row["Title"]),
        )
        for _, row in rows
        if row["O*NET-SOC Code"].strip()
    ]
    return DatasetRecords(info=_onet_info({figure.code for figure in figures}), figures=figures)


def _onet_info(codes: set[str]) -> DatasetInfo:
    # The file carries no version; its codes tell the taxonomy: 15-1252.00 exists only from O*NET-SOC 2019 on.
    year = 2019 if "15-1252.00" in codes else 2010
    return DatasetInfo(
        key="onet",
        name=f"O*NET occupation data (O*NET-SOC {year} taxonomy)",
        year=year,
        licence="CC BY 4.0",
        attribution="O*NET Resource Center, National Center for O*NET Development for USDOL/ETA, O*NET occupation "
        "titles and descriptions, CC BY 4.0",
    )


# --- ESCO (read by shadowmatch_kb.occupations.esco) -----------------------------------------------------------------


def read_esco_dataset(folder: Path) -> DatasetRecords:
    """ESCO occupations and ISCO-08 groups, read by the ESCO module (imported only when needed)."""
    from shadowmatch_kb.occupations.esco import read_esco

    return read_esco(folder)


# --- Recognising a dataset ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DatasetKind:
    key: str
    markers: tuple[str, ...]  # any of these paths, relative to the dataset's folder, marks the dataset
    read: Callable[[Path], DatasetRecords]
    accepts: Callable[[Path], bool] = Path.is_file  # whether a marker found is really this dataset's


_KINDS = (
    _DatasetKind("esco", ("occupations_en.csv", "ISCOGroups_en.csv"), read_esco_dataset),
    _DatasetKind("ilo_genai_2025", (ILO_JSON,), read_ilo_genai, _looks_like_ilo_tree),
    _DatasetKind("ilo_genai_2025", (ILO_XLSX,), read_ilo_genai),
    _DatasetKind("gpts_are_gpts", (GPTS_CSV,), read_gpts_are_gpts),
    _DatasetKind("working_with_ai", (WWAI_CSV,), read_working_with_ai),
    _DatasetKind("nesta_automation", (NESTA_RISK_CSV, NESTA_CROSSWALK_CSV), read_nesta_automation),
    _DatasetKind("onet", (ONET_TXT,), read_onet),
)
KNOWN_DATASETS: tuple[str, ...] = tuple(dict.fromkeys(kind.key for kind in _KINDS))


def read_dataset(path: Path) -> DatasetRecords:
    """Recognise which dataset a folder (or one of its files) is, and read it; UnknownDatasetError otherwise."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path} does not exist: give a dataset folder or one of its files")
    start = path if path.is_dir() else path.parent
    for kind in _KINDS:
        root = _dataset_root(start, kind)
        if root is not None:
            return kind.read(root)
    raise UnknownDatasetError(
        f"{path} is not an occupation dataset this reader knows (it knows {', '.join(KNOWN_DATASETS)}, "
        "each by its published files)"
    )


def _dataset_root(start: Path, kind: _DatasetKind) -> Path | None:
    # A marker may sit in a subfolder (Nesta's automation_risk/); the user may name that subfolder or a file in it.
    for marker in kind.markers:
        for root in (start, start.parent):
            parts = Path(marker).parts
            if root != start and not (len(parts) > 1 and parts[0] == start.name):
                continue
            if kind.accepts(root / marker):
                return root
    return None


# --- Reading files --------------------------------------------------------------------------------------------------


def _csv_rows(path: Path, needed: set[str], what: str, delimiter: str = ",") -> list[tuple[int, dict[str, str]]]:
    """Every row of a CSV with its line number, after checking the file has the columns needed."""
    if not path.is_file():
        raise UsageError(f"{path} is missing: expected {what} there")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            missing = needed - {name.strip() for name in reader.fieldnames or ()}
            if missing:
                raise UsageError(f"{path} lacks the columns {', '.join(sorted(missing))}: expected {what}")
            return [(reader.line_num, _stripped_keys(row)) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path} is not a readable CSV file of {what} ({_one_line(str(exc))})") from exc


def _stripped_keys(row: dict[str | Any, Any]) -> dict[str, str]:
    # Short rows give None cells and long rows a None key; both read as absent.
    return {str(key).strip(): value or "" for key, value in row.items() if key is not None and isinstance(value, str)}


def _load_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise UsageError(f"{path} is missing: expected {what} there")
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path} is not a readable JSON file of {what} ({_one_line(str(exc))})") from exc


def _number(cell: str, path: Path, line: int, column: str) -> float | None:
    """A cell as a float; None when the dataset leaves it empty or gives NaN."""
    text = cell.strip()
    if not text or text.lower() in {"nan", "na", "n/a"}:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{path}, line {line}: column {column} should hold a number, not {_clip(text)}") from None
    return None if math.isnan(value) else value


def _code(cell: str) -> str:
    return "".join(cell.split())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clip(value: object, limit: int = 60) -> str:
    text = _one_line(str(value))
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
