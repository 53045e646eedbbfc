"""Fit the briefing's relevance model on the development half of the labelled mentor questions.

``brief/retrieve.py`` estimates how likely an item is to be on a person's work from five signals (the cosine
with what they do, the cosine with their occupation's names, whether it is of their sector, their own words in
it, and the cosine with what their occupation's work is) with a logistic model, and cites items above a floor.
This script fits that model on the questions of ``scripts/eval_brief_set.json`` marked "dev" only (the "test"
half is never read), with the same knowledge base ``scripts/eval_brief.py`` builds. It fits twice: with the
occupation datasets (``WITH_OCCUPATION``) and with the questions read as a knowledge base without them reads
them (``WITHOUT_OCCUPATION``). It prints JSON: the weights to copy into those models, and for a range of
floors the share of the items kept that are relevant (grade >= 1), how many are kept, and the questions left
with none though a relevant item exists (leave-one-question-out, so a floor is not judged on the questions
that fitted it).

Usage: python scripts/fit_brief_relevance.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eval_brief  # noqa: E402  (its knowledge base and labels)

FEATURES = ("similarity", "occupation_similarity", "in_sector", "keyword", "occupation_work")
FEATURES_WITHOUT_OCCUPATION = ("similarity", "in_sector", "keyword")
FLOORS = (0.2, 0.3, 0.4, 0.5, 0.6)
RIDGE = 1.0  # a light L2 penalty: a few hundred labelled pairs, four weights


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Build the knowledge base here and keep it (reused when present).")
    args = parser.parse_args()
    if not (eval_brief.SHARED_DATA / "signals_posts").is_dir():
        print(json.dumps({"skipped": f"{eval_brief.SHARED_DATA} lacks signals_posts/"}))
        return 0
    sys.path.insert(0, str(eval_brief.REPO))
    from shadowmatch_kb.kb import KnowledgeBase

    labelled = json.loads(eval_brief.QUESTIONS.read_text(encoding="utf-8"))["questions"]
    questions = [q for q in labelled if q["split"] == "dev"]
    with tempfile.TemporaryDirectory() as scratch:
        kb = KnowledgeBase.open(args.keep or Path(scratch) / "kb")
        ids = eval_brief._import(kb)
        report: dict[str, Any] = {"questions": len(questions)}
        for name, with_occupation in (("with_occupation", True), ("without_occupation", False)):
            groups = [_candidates(kb, q, ids, with_occupation) for q in questions]
            report[name] = _report(groups, FEATURES if with_occupation else FEATURES_WITHOUT_OCCUPATION)
        kb.close()
    print(json.dumps(report, indent=2))
    return 0


def _report(groups: list[tuple[np.ndarray, np.ndarray]], features: tuple[str, ...]) -> dict[str, Any]:
    x = np.concatenate([g[0] for g in groups])
    y = np.concatenate([g[1] for g in groups])
    weights = _fit(x, y)
    held_out = [
        _fit(
            np.concatenate([g[0] for j, g in enumerate(groups) if j != i]),
            np.concatenate([g[1] for j, g in enumerate(groups) if j != i]),
        )
        for i in range(len(groups))
    ]
    return {
        "pairs": int(len(y)),
        "relevant_pairs": int(y.sum()),
        "weights": {"intercept": round(float(weights[0]), 2)}
        | {name: round(float(w), 2) for name, w in zip(features, weights[1:], strict=True)},
        "floors_leave_one_question_out": [_at_floor(groups, held_out, floor) for floor in FLOORS],
    }


def _candidates(
    kb: Any, q: dict[str, Any], ids: dict[str, str], with_occupation: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The features and labels of every item retrieval scores for one question (``with_occupation`` False:
    read as a knowledge base without the occupation datasets reads it)."""
    from shadowmatch_kb.brief.compose import read_question
    from shadowmatch_kb.brief.retrieve import score_candidates

    grades: dict[str, int] = {}
    for key, grade in q["grades"].items():
        grades[ids[key]] = max(grade, grades.get(ids[key], 0))
    resolver = kb.sector_resolver()
    _, reading = read_question(
        q["question"],
        embedder=kb.backends.signal_embedder(),
        resolver=resolver,
        occupations=kb._occupation_lookup() if with_occupation else None,
        occupation_work=kb._loaded_matcher().work_vector if with_occupation else None,
    )
    found, _, _ = score_candidates(kb.searcher(), reading, resolver.vocabulary)
    rows = [[e.similarity, e.occupation_similarity, float(e.in_sector), e.keyword, e.work_similarity] for e in found]
    if not with_occupation:
        rows = [[f, sector, words] for f, _, sector, words, _ in rows]
    y = np.array([float(grades.get(e.item_id, 0) >= 1) for e in found])
    return np.array(rows).reshape(len(found), -1), y


def _fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logistic regression by Newton's method, intercept first, with a ridge on the weights (not the intercept)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(design.shape[1])
    penalty = RIDGE * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _at_floor(groups: list[tuple[np.ndarray, np.ndarray]], held_out: list[np.ndarray], floor: float) -> dict[str, Any]:
    kept = relevant = empty = 0
    for (x, y), w in zip(groups, held_out, strict=True):
        p = 1.0 / (1.0 + np.exp(-(w[0] + x @ w[1:])))
        top = np.argsort(-p)[:6]
        chosen = [i for i in top if p[i] >= floor]
        kept += len(chosen)
        relevant += int(sum(y[i] for i in chosen))
        empty += int(not chosen and y.sum() > 0)
    return {
        "floor": floor,
        "kept": kept,
        "kept_relevant": round(relevant / max(kept, 1), 3),
        "questions_with_none_though_relevant_exists": empty,
    }


if __name__ == "__main__":
    raise SystemExit(main())
