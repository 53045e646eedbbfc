"""Backtest of the tracker's emerging signals on the dated Signals posts in ``../shared/data/signals_posts``.

Every month is a cut-off where there is enough history and future: at least ``--min-history`` posts dated
before it, at least ``--min-future`` posts in the ``h`` months from it, and its window ending by the month
after the last post. Only the posts dated (published) before the cut-off are known; undated posts and
posts dated after today are left out. The known Signals rows are grouped as the tracker groups them
(``cluster_rows`` at ``TREND_COSINE``) and three lists of ten clusters are drawn:

* ours: the ten best emergence scores (``shadowmatch_kb.trends.emerging``, the tracker's default method);
* frequency: the ten clusters stated by the most posts in the last six months (ties: more posts overall,
  then the more recently stated) — counting, at full strength;
* growth: the ten clusters with the highest growth the tracker shows (``trends.series.growth``: the last
  six months against the months before; ties as above).

A cluster "grew" when a post dated in the ``h`` months from the cut-off has a Signals row within the
cluster's merge distance (cosine to its centre at or above the threshold, the rule by which rows join).

Development and test: cut-offs whose whole window ends by ``--split`` are the development part, those from
``--split`` on the test part; the ones whose window straddles it belong to neither, so that no post dated
from ``--split`` on ever informed a choice made on the development part. Methods and parameters were
chosen on the development part only (``TRIES`` below lists every try; ``--tries`` prints their
development figures and never their test figures).

The interval: a percentile bootstrap of the ratio (ours / baseline, hits summed over the cut-offs) that
resamples *clusters* — each distinct signal, known by the row that founded it, with all its picks and hits
at every cut-off — not cut-offs. Consecutive monthly cut-offs share most of their window, so the same
cluster is picked and hit by the same later post month after month: the cut-offs are far from
independent, and resampling them would count one recurrence many times over as separate evidence.
Resampling whole clusters keeps that repetition inside one unit. Fixed seed, 2,000 resamples.

Prints one JSON document on stdout; ``{"skipped": reason}`` (exit 0) when ``../shared/data`` is absent.

    python scripts/eval_trends.py [--horizons 3,6,12] [--split 2024-01] [--tries] [--dev-only]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
POSTS = REPO.parent / "shared" / "data" / "signals_posts"
TOP = 10
BASELINE_WINDOW_MONTHS = 6
LISTS = ("ours", "frequency", "growth")
BOOTSTRAP_SAMPLES = 2000
SEED = 20


class MemoEmbedder:
    """Embeds each distinct text once for the whole run (every cut-off re-clusters the same rows)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.known: dict[str, np.ndarray] = {}

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            for text, vector in zip(missing, self.inner.embed_batch(missing), strict=True):
                self.known[text] = np.asarray(vector, dtype=np.float32)
        return np.stack([self.known[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)


def month_add(month: str, n: int) -> str:
    """``YYYY-MM`` moved by ``n`` months."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# ----- which cut-offs, and the interval: pure functions (tests/test_emerging.py) -----------------


def eligible_cutoffs(post_months: Sequence[str], horizon: int, min_history: int, min_future: int) -> list[str]:
    """Every month with ``min_history`` posts before it and ``min_future`` posts in its window, the window
    ending by the month after the last post."""
    if not post_months:
        return []
    months = sorted(post_months)
    end = month_add(months[-1], 1)
    chosen, month = [], month_add(months[0], 1)
    while month_add(month, horizon) <= end:
        before = sum(m < month for m in months)
        within = sum(month <= m < month_add(month, horizon) for m in months)
        if before >= min_history and within >= min_future:
            chosen.append(month)
        month = month_add(month, 1)
    return chosen


def split_cutoffs(cutoffs: Sequence[str], horizon: int, split: str) -> tuple[list[str], list[str]]:
    """(development, test): windows that end by ``split``, and cut-offs from ``split`` on; the ones whose
    window straddles ``split`` are dropped, so no post from ``split`` on informs the development part."""
    dev = [c for c in cutoffs if month_add(c, horizon) <= split]
    test = [c for c in cutoffs if c >= split]
    return dev, test


@dataclass
class Tally:
    """Hits per cluster (the bootstrap's unit) for each list, summed over cut-offs."""

    cutoffs: int = 0
    units: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, name: str, picked_units: Sequence[str], grew: Sequence[bool]) -> None:
        for unit, hit in zip(picked_units, grew, strict=True):
            self.units.setdefault(unit, dict.fromkeys(LISTS, 0))[name] += int(hit)

    def hits(self, name: str) -> int:
        return sum(u[name] for u in self.units.values())


def ratio_interval(
    ours: Sequence[int], baseline: Sequence[int], *, samples: int = BOOTSTRAP_SAMPLES, seed: int = SEED
) -> tuple[float | None, list[float] | None]:
    """sum(ours) / sum(baseline) and its 95 % percentile interval, resampling the paired units."""
    a, b = np.asarray(ours, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    if not len(a) or b.sum() == 0:
        return None, None
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(a), size=(samples, len(a)))
    top, bottom = a[draws].sum(axis=1), b[draws].sum(axis=1)
    # A resample where the baseline hit nothing has an unbounded ratio; no interpolation, so it stays inf.
    ratios = np.where(bottom > 0, top / np.maximum(bottom, 1e-12), np.inf)
    low, high = np.quantile(ratios, [0.025, 0.975], method="inverted_cdf")
    return round(float(a.sum() / b.sum()), 3), [_finite(low), _finite(high)]


def _finite(value: float) -> float | None:
    """A bound for JSON: None when unbounded."""
    return round(float(value), 3) if np.isfinite(value) else None


def summarise(tally: Tally, first_last: tuple[str, str] | None) -> dict:
    """Hits per cut-off of each list, and ours against each baseline with its interval."""
    n = max(tally.cutoffs, 1)
    units = list(tally.units.values())
    out: dict = {"cutoffs": tally.cutoffs, "from": first_last[0] if first_last else None}
    out["to"] = first_last[1] if first_last else None
    out["hits_per_cutoff"] = {name: round(tally.hits(name) / n, 3) for name in LISTS}
    for base in LISTS[1:]:
        ratio, interval = ratio_interval([u["ours"] for u in units], [u[base] for u in units])
        out[f"ratio_vs_{base}"] = ratio
        out[f"interval_vs_{base}"] = interval
    return out


# ----- the real posts -----------------------------------------------------------------------------


def load_posts(today: str):
    """Dated items and Signals rows of every post with a published date up to today."""
    from shadowmatch_kb.formats.signals_post import parse_signals_post
    from shadowmatch_kb.model import SignalRow
    from shadowmatch_kb.store.timeline import DatedItem

    items, rows, left_out = [], [], 0
    for path in sorted(POSTS.glob("*.md")):
        post = parse_signals_post(path.read_text(encoding="utf-8"), item_id=path.stem)
        if not post.published or post.published > today:
            left_out += 1
            continue
        items.append(
            DatedItem(
                item_id=path.stem,
                date=post.published,
                dated_by="published",
                sectors=(),
                themes=tuple(post.themes),
                duplicate_of=None,
            )
        )
        rows += [SignalRow(path.stem, signal, post.published) for signal in post.signals]
    return items, rows, left_out


@dataclass
class CutoffState:
    """What is known at one cut-off, and which clusters grew within each horizon."""

    cutoff: str
    histories: list[list[int]]
    supports: list[int]
    recency: list[str]
    units: list[str]
    grew: dict[int, list[bool]]


def prepare_cutoff(cutoff: str, items, rows, embedder, threshold: float, horizons: Sequence[int]) -> CutoffState:
    """Cluster the rows known at ``cutoff`` and test each cluster against the later rows of each horizon."""
    from shadowmatch_kb.model import row_text
    from shadowmatch_kb.signal_clusters import cluster_rows
    from shadowmatch_kb.trends.series import Timeline

    start = f"{cutoff}-01"
    known = [d for d in items if d.date < start]
    clusters = cluster_rows([r for r in rows if (r.published or "") < start], embedder, threshold=threshold)
    timeline = Timeline(known, "month", until=f"{month_add(cutoff, -1)}-01")
    later = [r for r in rows if start <= (r.published or "")]
    later_vectors = embedder.embed_batch([row_text(r.signal) for r in later])
    centres = np.stack([embedder.embed_batch([row_text(r.signal) for r in c.rows]).sum(axis=0) for c in clusters])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    cosines = later_vectors @ centres.T if len(later) else np.zeros((0, len(clusters)))
    grew = {}
    for h in horizons:
        within = np.array([(r.published or "") < f"{month_add(cutoff, h)}-01" for r in later], dtype=bool)
        best = cosines[within].max(axis=0) if within.any() else np.full(len(clusters), -1.0)
        grew[h] = [bool(x >= threshold) for x in best]
    return CutoffState(
        cutoff,
        [timeline.counts(c.item_ids) for c in clusters],
        [c.support for c in clusters],
        [c.last_seen or "" for c in clusters],
        [f"{c.rows[0].item_id}|{c.rows[0].signal.signal}" for c in clusters],
        grew,
    )


def _neg(date: str) -> list[int]:
    return [-ord(ch) for ch in date]


def rankings(state: CutoffState, score_of: Callable[[list[list[int]]], list[float | None]]) -> dict[str, list[int]]:
    """The three lists of ``TOP`` clusters at one cut-off."""
    from shadowmatch_kb.trends.series import growth

    def tie(i: int) -> tuple:
        return (-state.supports[i], _neg(state.recency[i]))

    recent = [sum(h[-BASELINE_WINDOW_MONTHS:]) for h in state.histories]
    grown = [growth(h, "month") for h in state.histories]
    scores = score_of(state.histories)
    every = range(len(state.histories))
    return {
        "ours": sorted((i for i in every if scores[i] is not None), key=lambda i: (-(scores[i] or 0.0), *tie(i)))[:TOP],
        "frequency": sorted(every, key=lambda i: (-recent[i], *tie(i)))[:TOP],
        "growth": sorted(every, key=lambda i: (-grown[i], -recent[i], *tie(i)))[:TOP],
    }


def evaluate(states: dict[str, CutoffState], parts: dict[int, dict[str, list[str]]], params) -> dict:
    """Per horizon and part: hits per cut-off of each list and ours against both baselines."""
    from shadowmatch_kb.trends.emerging import emergence_scores

    report: dict = {}
    for h, by_part in parts.items():
        report[str(h)] = {}
        for part, cutoffs in by_part.items():
            tally = Tally(cutoffs=len(cutoffs))
            for cutoff in cutoffs:
                state = states[cutoff]
                for name, picked in rankings(state, lambda hs: emergence_scores(hs, params)).items():
                    tally.add(name, [state.units[i] for i in picked], [state.grew[h][i] for i in picked])
            report[str(h)][part] = summarise(tally, (cutoffs[0], cutoffs[-1]) if cutoffs else None)
    return report


def tries():
    """Every method and parameter set tried, in the order tried (development figures only)."""
    from shadowmatch_kb.trends.emerging import EmergenceParams

    base = EmergenceParams()
    return [
        replace(base, method="age_surprise"),
        replace(base, method="decayed_popularity"),
        replace(base, method="sweet_spot"),
        replace(base, method="age_surprise", max_age_months=6),
        replace(base, method="age_surprise", max_age_months=24),
        replace(base, method="decayed_popularity", max_age_months=999, half_life_months=3.0),
        replace(base, method="decayed_popularity", max_age_months=999, half_life_months=6.0),
        replace(base, method="poisson_burst", max_age_months=999),
        replace(base, method="poisson_burst", max_age_months=999, burst_months=6),
        replace(base, method="poisson_burst"),
        replace(base, method="decayed_surprise", max_age_months=999),
        replace(base, method="decayed_surprise"),
        replace(base, method="recurrence", max_age_months=999),
        replace(base, method="recurrence", max_age_months=999, burst_months=6),
        replace(base, method="recurrence"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--horizons", default="3,6,12", help="months after the cut-off in which growth counts")
    parser.add_argument("--split", default="2024-01", help="YYYY-MM: test cut-offs start here")
    parser.add_argument("--min-history", type=int, default=20, help="posts that must be known at a cut-off")
    parser.add_argument("--min-future", type=int, default=3, help="posts that must fall in a cut-off's window")
    parser.add_argument("--tries", action="store_true", help="also print every try's development figures")
    parser.add_argument("--dev-only", action="store_true", help="leave the test part out (while choosing)")
    parser.add_argument("--today", default=None, help="YYYY-MM-DD; posts dated later are left out (default: today)")
    args = parser.parse_args()
    if not POSTS.is_dir():
        print(json.dumps({"skipped": f"{POSTS} is absent (real data lives in ../shared/data)"}))
        return 0
    import datetime

    sys.path.insert(0, str(REPO))
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder
    from shadowmatch_kb.trends.emerging import EmergenceParams
    from shadowmatch_kb.trends.service import TREND_COSINE

    today = args.today or datetime.date.today().isoformat()
    horizons = sorted({int(h) for h in args.horizons.split(",")})
    items, rows, left_out = load_posts(today)
    print(f"{len(items)} dated posts, {len(rows)} rows; {left_out} undated or future posts left out", file=sys.stderr)
    post_months = [d.date[:7] for d in items]
    parts: dict[int, dict[str, list[str]]] = {}
    for h in horizons:
        dev, test = split_cutoffs(eligible_cutoffs(post_months, h, args.min_history, args.min_future), h, args.split)
        parts[h] = {"dev": dev, "test": test}
    embedder = MemoEmbedder(SentenceTransformerEmbedder("all-MiniLM-L6-v2"))
    needed = sorted({c for p in parts.values() for cs in p.values() for c in cs})
    states = {c: prepare_cutoff(c, items, rows, embedder, TREND_COSINE, horizons) for c in needed}
    params = EmergenceParams()
    report: dict = {
        "method": params.method,
        "params": params.to_dict(),
        "design": {
            "threshold": TREND_COSINE,
            "top": TOP,
            "baseline_window_months": BASELINE_WINDOW_MONTHS,
            "split": args.split,
            "min_history_posts": args.min_history,
            "min_future_posts": args.min_future,
            "bootstrap": f"clusters resampled, {BOOTSTRAP_SAMPLES} draws, seed {SEED}, 95 % percentile",
        },
        "data": {"posts": len(items), "rows": len(rows), "left_out_posts": left_out},
    }
    dev_only = {h: {"dev": p["dev"]} for h, p in parts.items()}
    report["horizons"] = evaluate(states, dev_only if args.dev_only else parts, params)
    if args.tries:
        report["tries"] = []
        for tried in tries():
            figures = evaluate(states, dev_only, tried)
            report["tries"].append(
                {
                    "params": {k: v for k, v in tried.to_dict().items() if v != getattr(EmergenceParams(), k)}
                    | {"method": tried.method},
                    "dev": {
                        h: [f["dev"]["ratio_vs_frequency"], f["dev"]["hits_per_cutoff"]["ours"]]
                        for h, f in figures.items()
                    },
                }
            )
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
