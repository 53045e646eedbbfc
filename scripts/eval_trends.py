"""Backtest of the tracker's emerging signals on the dated Signals posts in ``../shared/data/signals_posts``.

For each cut-off month, only the posts dated before it are known. Their Signals rows are grouped into
clusters (``cluster_rows`` at the tracker's threshold) and two lists of ten clusters are drawn:

* ours: the ten best emergence scores (``shadowmatch_kb.trends.emerging``, the tracker's default method);
* baseline: the ten clusters stated by the most posts in the last six months before the cut-off
  (ties: more posts overall, then the more recently stated).

A cluster "grew" when at least one post dated in the ``--horizon`` months from the cut-off has a Signals
row within the cluster's merge distance (cosine to the cluster's centre at or above the clustering
threshold, the rule by which ``cluster_rows`` lets a row join). Hits are counted per list of ten.

Beside the default, the same run scores every method in ``EMERGENCE_METHODS`` at every threshold in
``--thresholds`` (the "sweep"), so the choice of method and threshold can be checked.

Prints one JSON document on stdout; ``{"skipped": reason}`` (exit 0) when ``../shared/data`` is absent.

    python scripts/eval_trends.py [--horizon 12] [--thresholds 0.6,0.65,0.7,0.75,0.8]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
POSTS = REPO.parent / "shared" / "data" / "signals_posts"
CUTOFFS = ("2023-03", "2023-06", "2023-09", "2023-12", "2024-03", "2024-06")
TOP = 10
BASELINE_WINDOW_MONTHS = 6


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


def _month_add(month: str, n: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def load_posts(today: str):
    """Dated items and Signals rows of every post dated up to today (undated and future posts left out)."""
    from shadowmatch_kb.formats.signals_post import parse_signals_post
    from shadowmatch_kb.model import SignalRow
    from shadowmatch_kb.store.timeline import DatedItem

    items, rows, left_out = [], [], 0
    for path in sorted(POSTS.glob("*.md")):
        post = parse_signals_post(path.read_text(encoding="utf-8"), item_id=path.stem)
        if not post.published or post.published > today:
            left_out += 1
            continue
        items.append(DatedItem(path.stem, post.published, "published", (), tuple(post.themes), None))
        rows += [SignalRow(path.stem, signal, post.published) for signal in post.signals]
    return items, rows, left_out


def backtest_cutoff(cutoff: str, items, rows, embedder, threshold: float, methods, params, horizon: int) -> dict:
    """Ours (per method) and the baseline at one cut-off month."""
    from shadowmatch_kb.model import row_text
    from shadowmatch_kb.signal_clusters import cluster_rows
    from shadowmatch_kb.trends.emerging import emergence_scores
    from shadowmatch_kb.trends.series import Timeline

    start = f"{cutoff}-01"
    end = f"{_month_add(cutoff, horizon)}-01"
    known = [d for d in items if d.date < start]
    clusters = cluster_rows([r for r in rows if (r.published or "") < start], embedder, threshold=threshold)
    timeline = Timeline(known, "month", until=f"{_month_add(cutoff, -1)}-01")
    histories = [timeline.counts(c.item_ids) for c in clusters]
    later = [r for r in rows if start <= (r.published or "") < end]
    later_vectors = embedder.embed_batch([row_text(r.signal) for r in later])
    grew = []
    for cluster in clusters:
        centre = embedder.embed_batch([row_text(r.signal) for r in cluster.rows]).sum(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        grew.append(bool(len(later)) and float((later_vectors @ centre).max()) >= threshold)

    def recency(i: int) -> str:
        return clusters[i].last_seen or ""

    window = BASELINE_WINDOW_MONTHS
    recent_counts = [sum(h[-window:]) for h in histories]
    baseline = sorted(range(len(clusters)), key=lambda i: (-recent_counts[i], -clusters[i].support, _neg(recency(i))))
    result = {
        "cutoff": cutoff,
        "known_posts": len(known),
        "later_posts": len({r.item_id for r in later}),
        "clusters": len(clusters),
        "clusters_that_grew": sum(grew),
        "baseline": _scored(baseline[:TOP], clusters, grew),
    }
    for method in methods:
        scores = emergence_scores(histories, replace(params, method=method))
        ranked = sorted(
            (i for i, s in enumerate(scores) if s is not None),
            key=lambda i: (-(scores[i] or 0.0), -clusters[i].support, _neg(recency(i))),
        )
        result[method] = _scored(ranked[:TOP], clusters, grew)
    return result


def _neg(date: str) -> list[int]:
    return [-ord(ch) for ch in date]


def _scored(picked: list[int], clusters, grew: list[bool]) -> dict:
    return {
        "hits": sum(grew[i] for i in picked),
        "picked": [
            {"signal": clusters[i].representative.signal.signal, "support": clusters[i].support, "grew": grew[i]}
            for i in picked
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--horizon", type=int, default=12, help="months after the cut-off in which growth counts")
    parser.add_argument("--thresholds", default="0.6,0.65,0.7,0.75,0.8", help="clustering thresholds to sweep")
    parser.add_argument("--today", default=None, help="YYYY-MM-DD; posts dated later are left out (default: today)")
    args = parser.parse_args()
    if not POSTS.is_dir():
        print(json.dumps({"skipped": f"{POSTS} is absent (real data lives in ../shared/data)"}))
        return 0
    import datetime

    sys.path.insert(0, str(REPO))
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder
    from shadowmatch_kb.trends.emerging import EMERGENCE_METHODS, EmergenceParams
    from shadowmatch_kb.trends.service import TREND_COSINE

    today = args.today or datetime.date.today().isoformat()
    items, rows, left_out = load_posts(today)
    print(f"{len(items)} dated posts, {len(rows)} rows; {left_out} undated or future posts left out", file=sys.stderr)
    embedder = MemoEmbedder(SentenceTransformerEmbedder("all-MiniLM-L6-v2"))
    params = EmergenceParams()
    thresholds = sorted({float(t) for t in args.thresholds.split(",")} | {TREND_COSINE})
    runs: dict[float, list[dict]] = {}
    for threshold in thresholds:
        print(f"threshold {threshold} ...", file=sys.stderr)
        runs[threshold] = [
            backtest_cutoff(c, items, rows, embedder, threshold, EMERGENCE_METHODS, params, args.horizon)
            for c in CUTOFFS
        ]

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 3)

    sweep = []
    for threshold, cutoffs in runs.items():
        base = mean([c["baseline"]["hits"] for c in cutoffs])
        for method in EMERGENCE_METHODS:
            ours = mean([c[method]["hits"] for c in cutoffs])
            sweep.append({"threshold": threshold, "method": method, "mean_hits": ours, "baseline_mean_hits": base,
                          "ratio": round(ours / base, 3) if base else None})  # fmt: skip
    chosen = runs[TREND_COSINE]
    ours_mean = mean([c[params.method]["hits"] for c in chosen])
    base_mean = mean([c["baseline"]["hits"] for c in chosen])
    report = {
        "method": params.method,
        "params": {
            **params.to_dict(),
            "threshold": TREND_COSINE,
            "top": TOP,
            "horizon_months": args.horizon,
            "baseline_window_months": BASELINE_WINDOW_MONTHS,
        },  # fmt: skip
        "data": {"posts": len(items), "rows": len(rows), "left_out_posts": left_out},
        "cutoffs": [
            {
                "cutoff": c["cutoff"],
                "known_posts": c["known_posts"],
                "later_posts": c["later_posts"],
                "clusters": c["clusters"],
                "clusters_that_grew": c["clusters_that_grew"],
                "ours": c[params.method],
                "baseline": c["baseline"],
                "ratio": round(c[params.method]["hits"] / c["baseline"]["hits"], 3) if c["baseline"]["hits"] else None,
            }
            for c in chosen
        ],  # fmt: skip
        "mean": {
            "ours": ours_mean,
            "baseline": base_mean,
            "ratio": round(ours_mean / base_mean, 3) if base_mean else None,
        },
        "sweep": sweep,
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
