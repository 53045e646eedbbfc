"""`smkb trends` at scale on a folder knowledge base of DISTINCT Signals rows: the columnar tracker with its kept
grouping (tracker.trends_report) against the row-by-row tracker (dated_items, signal_rows, a full cluster_rows and
build_trends) in the same run.

Each item's rows compose real Signals rows of ../shared/data/signals_posts (else the demo corpus) with a place and a
running number, so no two texts repeat; a row's vector is its real row's vector (bundled model) plus seeded noise
strong enough that most rows stand alone, as in a real corpus of distinct rows (tens of thousands of clusters),
computed from the text as a warm vector cache would return it: the figures are the tracker's, not the model's.
Measured: cold (no kept grouping), warm (nothing new), warm after 1k new items and warm again, in one process,
then warm in a new process as `smkb trends` makes it; each builds the whole report and its JSON. The baseline
runs in a child process stopped after --baseline-cap seconds (reported as such).
Usage: python scripts/bench_trends.py [--sizes 10000 100000] [--baseline-cap 300]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET_WARM_S = 2.0
NOISE = 0.06  # per dimension; 0.035 let copies of one real row group into a few hundred clusters
TODAY = "2025-12-31"


class Seeded:
    """Vectors computed from the text: the real row it composes, plus noise seeded by its running number."""

    model_name, dimension = "bench-seeded", 384

    def __init__(self, base_vectors: np.ndarray) -> None:
        self.base = base_vectors

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), np.float32)
        for n, text in enumerate(texts):
            b = int(re.search(r"\(#\d+\.\d+\.(\d+)\)", text).group(1))  # type: ignore[union-attr]
            seed = int(hashlib.blake2b(text.encode(), digest_size=8).hexdigest(), 16)
            v = self.base[b] + np.random.default_rng(seed).normal(0, NOISE, self.dimension).astype(np.float32)
            out[n] = v / np.linalg.norm(v)
        return out


def items(count: int, start: int, base: list, facets: list) -> list:
    from shadowmatch_kb.model import Item, Signal

    rng = random.Random(start)
    places = ["in hospitals", "for farmers", "in city councils", "at small firms", "in schools", "for drivers"]
    found = []
    for n in range(start, start + count):
        # Dated 2019-2025 in the order of n (new items are the latest), one in a hundred undated.
        day = 2019 * 365 + (n * 7 * 365) // (count + start)
        date = f"{day // 365:04d}-{day % 365 // 31 + 1:02d}-{day % 31 % 28 + 1:02d}" if n % 100 else None
        signals = []
        for k in range(rng.randint(2, 6)):
            b = rng.randrange(len(base))
            signals.append(Signal(f"{base[b].signal} {rng.choice(places)} (#{n}.{k}.{b})", base[b].change))
        themes, sectors = rng.choice(facets)
        found.append(Item(f"{n:032x}", f"Item {n}", published=date, signals=signals, themes=themes, sectors=sectors))
    return found


def report_json(kb_dir: Path, model: Seeded) -> dict:
    from shadowmatch_kb import tracker
    from shadowmatch_kb.kb import KnowledgeBase

    with KnowledgeBase.open(kb_dir) as kb:
        found = tracker.trends_report(
            kb.store, tracker.SignalModel(model.model_name, lambda: model), kb.config.indexes_dir, None,
            by="month", top=None, today=TODAY,
        )  # fmt: skip
        return json.loads(json.dumps(found.to_dict()))


def warm_in_a_new_process(kb_dir: Path, base_vectors: np.ndarray, out: multiprocessing.Queue) -> None:
    """A warm call as `smkb trends` makes it: in a process of its own (imports and opening not counted)."""
    model = Seeded(base_vectors)
    report_json(kb_dir, model)  # imports, the page cache
    started = time.perf_counter()
    report_json(kb_dir, model)
    out.put(time.perf_counter() - started)


def row_by_row(kb_dir: Path, model: Seeded, out: multiprocessing.Queue) -> None:
    from shadowmatch_kb.kb import KnowledgeBase
    from shadowmatch_kb.signal_clusters import cluster_rows
    from shadowmatch_kb.store.timeline import dated_items, signal_rows
    from shadowmatch_kb.trends.service import TREND_COSINE, build_trends, dated_up_to_today

    started = time.perf_counter()
    with KnowledgeBase.open(kb_dir) as kb:
        listed = dated_items(kb.store)
        rows = signal_rows(kb.store, [d.item_id for d in listed])
        clusters = cluster_rows(dated_up_to_today(listed, rows, TODAY)[1], model, threshold=TREND_COSINE)
        found = build_trends(listed, rows, None, today=TODAY, clusters=clusters, themes=kb.store.themes)
        json.dumps(found.to_dict())
    out.put((time.perf_counter() - started, len(clusters)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--baseline-cap", type=float, default=300.0)
    args = parser.parse_args()
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder
    from shadowmatch_kb.formats.signals_post import parse_signals_post
    from shadowmatch_kb.kb import KnowledgeBase
    from shadowmatch_kb.model import row_text
    from shadowmatch_kb.trends.service import TREND_COSINE

    folder = REPO.parent / "shared" / "data" / "signals_posts"
    folder = folder if folder.is_dir() else REPO / "corpus" / "demo"
    posts = [parse_signals_post(p.read_text()) for p in sorted(folder.glob("*.md"))]
    base = [s for post in posts for s in post.signals if s.signal]
    facets = [(post.themes, post.sectors) for post in posts]
    model = Seeded(np.asarray(SentenceTransformerEmbedder("all-MiniLM-L6-v2").embed_batch([row_text(s) for s in base])))
    report: dict = {"material": str(folder), "base_rows": len(base), "threshold": TREND_COSINE, "noise": NOISE}
    report["sizes"] = {}
    for size in args.sizes:
        scratch = Path(tempfile.mkdtemp(prefix="smkb-bench-trends-"))
        try:  # a 100k knowledge base and its kept grouping take about 0.8 GB
            kb_dir = scratch / "kb"
            with KnowledgeBase.open(kb_dir) as kb:
                store = kb.record.create()
                store.put_items((item, item.id, item.id, None) for item in items(size, 0, base, facets))
            figures: dict = {"items": size}
            for label in ("cold_s", "warm_s", "after_1k_new_items_s", "warm_again_s"):
                if label == "after_1k_new_items_s":
                    with KnowledgeBase.open(kb_dir) as kb:
                        kb.store.put_items((item, item.id, item.id, None) for item in items(1000, size, base, facets))
                started = time.perf_counter()
                document = report_json(kb_dir, model)
                figures[label] = round(time.perf_counter() - started, 2)
                print(f"{size}: {label} {figures[label]}", file=sys.stderr, flush=True)
            spawn = multiprocessing.get_context("spawn")
            queue_new = spawn.Queue()
            child = spawn.Process(target=warm_in_a_new_process, args=(kb_dir, model.base, queue_new))
            child.start()
            figures["warm_new_process_s"] = round(queue_new.get(), 2)
            child.join()
            state = next((kb_dir / "indexes" / "trend-clusters").glob("*.npz"))
            from shadowmatch_kb.trends.cluster_index import ClusterIndex

            kept = ClusterIndex(state, model.model_name, TREND_COSINE)
            kept._load()
            figures.update(
                clusters=kept.cluster_count,
                series=len(document["series"]),
                state_mb=round(state.stat().st_size / 1e6, 1),
            )
            queue: multiprocessing.Queue = multiprocessing.Queue()
            child = multiprocessing.get_context("fork").Process(target=row_by_row, args=(kb_dir, model, queue))
            child.start()
            child.join(args.baseline_cap)
            if child.is_alive():
                child.kill()
                child.join()
                figures["baseline_row_by_row_s"] = f"> {args.baseline_cap:g} (stopped at the cap)"
                figures["ratio_baseline_to_warm"] = f"> {round(args.baseline_cap / max(figures['warm_s'], 1e-3), 1)}"
            else:
                seconds, clusters = queue.get()
                figures["baseline_row_by_row_s"] = round(seconds, 2)
                figures["baseline_clusters"] = clusters
                figures["ratio_baseline_to_warm"] = round(seconds / max(figures["warm_s"], 1e-3), 1)
            figures["warm_target_met"] = max(figures["warm_s"], figures["warm_new_process_s"]) <= TARGET_WARM_S
            report["sizes"][str(size)] = figures
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
