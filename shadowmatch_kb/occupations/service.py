"""``smkb occupations``: import the public datasets, and match a question to ISCO-08 groups with their figures."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shadowmatch_kb.embed.base import Embedder
from shadowmatch_kb.errors import ShadowmatchError
from shadowmatch_kb.occupations.match import OccupationMatcher
from shadowmatch_kb.occupations.store import figures_for, imported_datasets, labels, save_dataset, tasks_for
from shadowmatch_kb.progress import NullProgress, Progress

__all__ = ["DATASETS", "ImportResult", "import_datasets", "load_matcher", "match_question"]

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
    """The matcher over every imported label; None before ESCO is imported.

    The label vectors are derived data, kept in ``cache_dir`` and recomputed when the labels or the
    model change (about 20 seconds for ESCO's 32,000 labels on two cores).
    """
    found = labels(db)
    if not found:
        return None
    model = embedder()
    texts = [label.label for label in found]
    digest = hashlib.sha256(json.dumps([model.model_name, texts]).encode("utf-8")).hexdigest()[:16]
    path = Path(cache_dir) / f"labels-{digest}.npy"
    if path.is_file():
        vectors = np.load(path)
    else:
        progress = progress or NullProgress()
        progress.start("Embedding occupation labels", len(texts))
        vectors = np.zeros((len(texts), model.dimension), dtype=np.float32)
        for start in range(0, len(texts), 2000):
            vectors[start : start + 2000] = model.embed_batch(texts[start : start + 2000])
            progress.advance(min(2000, len(texts) - start))
        progress.finish()
        _save_atomically(path, vectors)
    return OccupationMatcher(found, vectors, model)


def _save_atomically(path: Path, vectors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob("labels-*.npy"):
        stale.unlink(missing_ok=True)  # labels or model changed: the old vectors describe nothing now
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        np.save(handle, vectors)
    os.replace(tmp, path)


def match_question(db: sqlite3.Connection, matcher: OccupationMatcher | None, text: str, k: int = 5) -> dict[str, Any]:
    """The JSON of ``smkb occupations match``: the groups, what each imported dataset says of them, and
    which datasets were not imported."""
    imported = imported_datasets(db)
    missing = [key for key in DATASETS if key not in imported]
    occupations = []
    for found in matcher.match(text, k) if matcher is not None else []:
        tasks = tasks_for(db, found.isco)
        occupations.append(
            {
                "isco": found.isco,
                "label": found.label,
                "score": found.score,
                "matched_label": found.matched_label,
                "exposure": [figure.to_dict() for figure in figures_for(db, found.isco, list(found.esco_uris))],
                "most_exposed_tasks": [{"task": t, "score": s} for t, s in tasks[:_TASKS_SHOWN]],
                "least_exposed_tasks": [{"task": t, "score": s} for t, s in tasks[::-1][:_TASKS_SHOWN]],
            }
        )
    return {"question": text, "occupations": occupations, "missing_datasets": missing}
