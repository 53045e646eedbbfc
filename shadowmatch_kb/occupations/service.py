"""``smkb occupations``: import the public datasets, and match a question to ISCO-08 groups with their figures."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.errors import ShadowmatchError, UsageError
from shadowmatch_kb.occupations.explain import FigureStanding, explained
from shadowmatch_kb.occupations.match import Lexicon, OccupationMatcher, offered_alternatives, runs_things
from shadowmatch_kb.occupations.records import is_catch_all, is_unit_group
from shadowmatch_kb.occupations.store import (
    Label,
    figures_for,
    imported_datasets,
    labels,
    save_dataset,
    tasks_for,
    work_texts,
)
from shadowmatch_kb.occupations.wording import with_title
from shadowmatch_kb.progress import NullProgress, Progress
from shadowmatch_kb.text.mojibake import repair_mojibake

__all__ = ["DATASETS", "ImportResult", "chosen_occupation", "import_datasets", "load_matcher", "match_question"]

# Every dataset `smkb occupations import` knows, by key, with the folder it is published as.
DATASETS = {
    "esco": "ESCO occupations and ISCO-08 groups (esco_v1)",
    "ilo_genai_2025": "ILO refined generative-AI exposure index 2025 (ilo_genai_exposure_2025)",
    "nesta_automation": "Nesta automation risk and the O*NET-ESCO crosswalk (nesta_mapping_career_causeways)",
    "gpts_are_gpts": "GPTs are GPTs exposure by O*NET-SOC occupation (gpts_are_gpts)",
    "working_with_ai": "Microsoft AI applicability scores by SOC occupation (working_with_ai)",
    "onet": "O*NET occupation data (onet_occupation_data)",
}
_TASKS_SHOWN = 3
# The ILO scores a task from 0 to 1; tasks a tenth apart or less are scored alike, and one group in six has no
# task further from its others than that: calling some of them "most open" would mislead.
_TASK_SPREAD = 0.1
# Tasks whose closeness to the person's words (cosine) falls this far below the closest task's are another kind
# of work within the same group (chosen by reading the tasks of twelve workers' questions, none of the eval's).
_TASK_CLOSENESS_MARGIN = 0.2
# Part of the lexicon cache's key: raise it when the way label words are read (wording.question_words) changes.
_LEXICON_FORMAT = 1
# A catch-all group's tasks (``records.is_catch_all``) are read only this close (cosine) to the person's words: a
# radiographer's are 0.35 and 0.32 from "Interviewing patients and conducting diagnostic tests" and "Evaluating and
# documenting patients' progress", 0.25 and 0.21 from the chiropractors' and the foot surgeons'.
_CATCH_ALL_CLOSENESS = 0.3
_ALTERNATIVES = 3  # the close groups after the best, for a briefing to ask "Is this you?"
# A task of supervising other people's work ("Supervising the work of accounts and bookkeeping clerks", "Training and
# supervising workers in crop production ..."): the ILO gives 33 such tasks to groups outside the managers. Session 17's
# reviewer read it put to a freelance bookkeeper, who supervises nobody; it is shown only to someone who says they
# run something (the matcher's reading for managers). Children, prisoners and patients are not staff.
_SUPERVISES_STAFF = re.compile(
    r"^(?:\w+(?:,| and| or) )*supervis\w*\b.*?\b(?:workers|staff|clerks|assistants|technicians|crew|crew members|"
    r"helpers|personnel|labourers|subcontractors|interns)\b",
    re.I,
)
# The standings of the figures, by store, kept while its datasets stay as imported (a match reads them often).
_STANDINGS: dict[int, FigureStanding] = {}


@dataclass
class ImportResult:
    """One path given to ``smkb occupations import``: the dataset found and what it held, or why it failed."""

    path: str
    dataset: str | None = None
    status: str = "imported"
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``smkb occupations import --json``."""
        return {"path": self.path, "dataset": self.dataset, "status": self.status, "counts": self.counts,
                "error": self.error}  # fmt: skip


def import_datasets(
    db: sqlite3.Connection, paths: Iterable[str], *, progress: Progress | None = None
) -> list[ImportResult]:
    """Read and store each dataset; one that cannot be read fails alone with a one-line reason."""
    from shadowmatch_kb.occupations.datasets import read_dataset

    paths = list(paths)
    progress = progress or NullProgress()
    progress.start("Importing datasets", len(paths))
    results = []
    for path in paths:
        try:
            records = read_dataset(Path(path))
            counts = save_dataset(db, records, str(Path(path).resolve()))
            results.append(ImportResult(path, records.info.key, "imported", counts))
        except ShadowmatchError as exc:
            results.append(ImportResult(path, None, "failed", error=" ".join(str(exc).split())))
        progress.advance()
    progress.finish()
    return results


def load_matcher(
    db: sqlite3.Connection, cache_dir: Path, embedder: Callable[[], Embedder], progress: Progress | None = None
) -> OccupationMatcher | None:
    """The matcher over every imported label and work text (ESCO descriptions, ILO tasks); None before ESCO.

    Their vectors are derived data, kept in ``cache_dir`` and recomputed when the texts or the model change
    (about 20 seconds for ESCO's 33,000 labels and 20 more for its descriptions and the ILO's tasks, on two cores).
    """
    found = labels(db)
    if not found:
        return None
    model = embedder()
    work = work_texts(db)
    vectors = _cached_vectors(model, [label.label for label in found], Path(cache_dir), "labels", progress)
    work_vectors = _cached_vectors(model, [w.text for w in work], Path(cache_dir), "work", progress)
    lexicon = _cached_lexicon(found, Path(cache_dir))
    return OccupationMatcher(found, vectors, model, work, work_vectors, lexicon)


def _cached_lexicon(found: list[Label], cache_dir: Path) -> Lexicon:
    """The labels' word tables, kept beside their vectors: rebuilding them is half of a cold match."""
    path = cache_dir / f"lexicon-{_digest([_LEXICON_FORMAT, [label.label for label in found]])}.json"
    try:
        return Lexicon.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent, or unreadable: built again below
    lexicon = Lexicon.build(found)
    _replace_cache(path, "lexicon", lambda handle: handle.write(lexicon.to_json().encode("utf-8")))
    return lexicon


def _digest(key: object) -> str:
    return hashlib.sha256(json.dumps(key).encode("utf-8")).hexdigest()[:16]


def _cached_vectors(
    model: Embedder, texts: list[str], cache_dir: Path, kind: str, progress: Progress | None
) -> np.ndarray:
    path = cache_dir / f"{kind}-{_digest([model.model_name, texts])}.npy"
    if path.is_file():
        return np.load(path)
    progress = progress or NullProgress()
    progress.start(f"Embedding occupation {'labels' if kind == 'labels' else 'descriptions and tasks'}", len(texts))
    vectors = np.zeros((len(texts), model.dimension), dtype=np.float32)
    for start in range(0, len(texts), 2000):
        vectors[start : start + 2000] = model.embed_batch(texts[start : start + 2000])
        progress.advance(min(2000, len(texts) - start))
    progress.finish()
    _replace_cache(path, kind, lambda handle: np.save(handle, vectors))
    return vectors


def _replace_cache(path: Path, kind: str, write: Callable[[BinaryIO], object]) -> None:
    """Write one derived file atomically, removing the older files of its kind: the texts or the model they
    were made from changed, so they describe nothing now."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f"{kind}-*{path.suffix}"):
        stale.unlink(missing_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        write(handle)
    os.replace(tmp, path)


def match_question(
    db: sqlite3.Connection, matcher: OccupationMatcher | None, text: str, k: int = 5, *, isco: str | None = None
) -> dict[str, Any]:
    """The JSON of ``smkb occupations match``: the groups, what each imported dataset says of them in numbers and
    in plain words, the group's ILO tasks closest to what the person said, the close alternatives to the best
    group ("Is this you?"), and which datasets were not imported. ``isco`` puts a group the person chose first."""
    imported = imported_datasets(db)
    missing = [key for key in DATASETS if key not in imported]
    # More than the alternatives shown: some of the closest are not offered (see ``offered_alternatives``).
    found = matcher.match(text, max(k, 1 + 2 * _ALTERNATIVES), first=isco) if matcher is not None else []
    standing = _standing(db)
    occupations = []
    for match in found[:k]:
        figures = figures_for(db, match.isco, list(match.esco_uris))
        catch_all = is_catch_all(match.label)
        most, least = _tasks_by_closeness(matcher, text, match.isco, tasks_for(db, match.isco), catch_all=catch_all)
        for task in [*most, *least]:
            task["percentile"] = standing.task_percentile(task["score"])
        occupations.append(
            {
                "isco": match.isco,
                "label": match.label,
                "score": match.score,
                "matched_label": match.matched_label,
                "exposure": [explained(figure, standing) for figure in figures],
                "most_exposed_tasks": most,
                "least_exposed_tasks": least,
            }
        )
    alternatives = [
        {"isco": m.isco, "label": m.label, "score": m.score, "matched_label": m.matched_label}
        for m in offered_alternatives(found, text, _ALTERNATIVES)
    ]
    return {
        "question": text,
        "title": matcher.title(text) if matcher is not None else None,
        "occupations": occupations,
        "alternatives": alternatives,
        "missing_datasets": missing,
    }


def chosen_occupation(
    db: sqlite3.Connection, matcher: OccupationMatcher | None, question: str, chosen: str | None
) -> tuple[Callable[[str, int], dict[str, Any]], str | None]:
    """How a briefing reads its question's occupation, and the ISCO-08 unit group the person chose (None when they
    chose none): one given by its four digits, as "Is this you?" offers them, or the one a job title they typed
    names. A typed title is read as if the question had opened with it ("I'm a plumber. ..."): said outright, a title
    finds its group far more often than a day's work described does."""
    if chosen is None:
        return partial(match_question, db, matcher), None
    if is_unit_group(chosen):
        if matcher is None or chosen not in matcher.groups:
            raise UsageError(
                f"occupation {chosen} is not an ISCO-08 unit group of the imported occupation data; "
                "`smkb occupations match TEXT` lists the groups"
            )
        return partial(match_question, db, matcher, isco=chosen), chosen
    found = matcher.match(with_title(question, chosen), 1) if matcher is not None else []
    if not found:
        raise UsageError(
            f"the job title {chosen!r} needs the occupation data, which this knowledge base has not imported: "
            "`smkb occupations import` adds it"
        )
    isco = found[0].isco

    def lookup(text: str, k: int) -> dict[str, Any]:
        return match_question(db, matcher, with_title(text, chosen), k, isco=isco)

    return lookup, isco


def _tasks_by_closeness(
    matcher: OccupationMatcher | None, text: str, isco: str, tasks: list[tuple[str, float]], *, catch_all: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The group's most and least exposed ILO tasks, each the closest to what the person said first.

    Only tasks near the person's own work are read: within ``_TASK_CLOSENESS_MARGIN`` of the closest, so "I'm a
    radiologist" is not shown the childbirth tasks its ISCO group (specialist doctors) also holds, nor a translator
    the study of ancient languages (when the near tasks all score alike, all tasks are read). Of those, the most
    exposed are chosen in the top third of their range of scores and the least exposed in its bottom third, so two
    tasks the ILO scores alike (0.17 and 0.165) are never shown on opposite sides; when they all score within
    ``_TASK_SPREAD`` of each other there is neither list. A ``catch_all`` group ("... not elsewhere classified")
    gathers unlike occupations, so only its tasks close to the words are read, and never the rest: a radiographer
    (filed by ESCO in 2269) was shown chiropractors' and foot surgeons' tasks as their own.
    """
    if not runs_things(text):  # one who runs nothing is not asked about supervising staff, unless that is all there is
        tasks = [t for t in tasks if not _SUPERVISES_STAFF.match(t[0])] or tasks
    if not tasks:
        return [], []
    closeness = matcher.closeness(text, isco, [t for t, _ in tasks]) if matcher is not None else [0.0] * len(tasks)
    scored: list[dict[str, Any]] = [
        {"task": repair_mojibake(t), "score": s, "closeness": round(c, 4)}
        for (t, s), c in zip(tasks, closeness, strict=True)
    ]
    nearest = max(t["closeness"] for t in scored)
    near = [t for t in scored if t["closeness"] >= nearest - _TASK_CLOSENESS_MARGIN]
    if catch_all:
        near = [t for t in near if t["closeness"] >= _CATCH_ALL_CLOSENESS]
        if not near:
            return [], []
    low, high = _score_range(near)
    if high - low >= _TASK_SPREAD:
        scored = near
    else:  # the tasks near the words all score alike: read the group's tasks
        low, high = _score_range(scored)
        if high - low < _TASK_SPREAD or catch_all:
            return [], []
    band = (high - low) / 3

    def closest(part: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(part, key=lambda task: -task["closeness"])[:_TASKS_SHOWN]

    return closest([t for t in scored if t["score"] >= high - band]), closest(
        [t for t in scored if t["score"] <= low + band]
    )


def _score_range(tasks: list[dict[str, Any]]) -> tuple[float, float]:
    scores = [t["score"] for t in tasks]
    return min(scores), max(scores)


def _standing(db: sqlite3.Connection) -> FigureStanding:
    """The figures' standings of this store, read once per import of the datasets."""
    stamp = tuple(db.execute("SELECT key, imported_at FROM occupation_datasets ORDER BY key"))
    kept = _STANDINGS.get(id(db))
    if kept is None or kept.db is not db or kept.stamp != stamp:
        if len(_STANDINGS) >= 8:
            _STANDINGS.clear()  # connections come and go (a server opens several); keep only the recent ones
        kept = _STANDINGS[id(db)] = FigureStanding(db, stamp)
    return kept
