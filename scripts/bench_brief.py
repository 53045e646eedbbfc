"""Warm briefing and tracker times on generated knowledge bases of 1k, 10k and 100k items.

Items are made from real material: sentences and Signals rows of the real posts in
../shared/data/signals_posts (else of the bundled demo corpus), dated 2019-2026, each in one or two of
the 21 sectors; their vectors are means of the real sentence vectors they are made of, as in
scripts/bench_cli.py. For each size, in one warm process (model and caches loaded, as a server would be):

* ``brief``: median and max time of a briefing over 8 mentor questions (after one warm-up briefing on
  another question), with no sentence vectors kept from earlier runs; then the same questions again;
  baseline from the same run: the plain hybrid search of the same questions (retrieval alone);
* ``trends``: the tracker over the whole knowledge base, by month — first run (Signals-row vectors read
  from the model once and kept) and a second run (warm).

Target: a warm briefing at 10k items in at most 1.5 s. Prints one JSON document.
Usage: python scripts/bench_brief.py [--sizes 1000 10000 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_POSTS = REPO.parent / "shared" / "data" / "signals_posts"
DEMO = REPO / "corpus" / "demo"
TARGET_BRIEF_10K_S = 1.5
QUESTIONS = [
    "I'm a nurse on a busy ward. How will AI change my job?",
    "I work as a bank clerk processing loan forms. What is coming?",
    "I supervise a team in a distribution warehouse.",
    "I teach maths at a secondary school. What will AI mean for my marking?",
    "I'm a solicitor at a law firm. Will junior research work disappear?",
    "I drive a lorry for a haulage company.",
    "I run the kitchen of a restaurant. Will robots cook?",
    "I'm a software developer. Will coding assistants take my job?",
]


def _material() -> tuple[list[str], list[dict[str, str]], str]:
    """Sentences and Signals rows to build items from, and where they came from."""
    import re

    from shadowmatch_kb.formats.signals_post import parse_signals_post

    folder = SHARED_POSTS if SHARED_POSTS.is_dir() else DEMO
    sentences: set[str] = set()
    rows: list[dict[str, str]] = []
    for path in sorted(folder.glob("*.md")):
        item = parse_signals_post(path.read_text(encoding="utf-8"))
        for sentence in re.split(r"(?<=[.!?])\s+", item.summary):
            if len(sentence.split()) >= 5:
                sentences.add(sentence.strip())
        rows += [s.to_dict() for s in item.signals if s.signal.strip()]
    return sorted(sentences), rows, str(folder)


def build_kb(workdir: Path, items: int, onnx_from: Path) -> Path:
    """A knowledge base of ``items`` generated items with a flat index, cached between runs."""
    from _bench_data import write_generated_kb

    from shadowmatch_kb.embed.onnx import OnnxEmbedder, export_dir_for
    from shadowmatch_kb.model import Item, Signal
    from shadowmatch_kb.text.sectors import SectorVocabulary

    kb_dir = workdir / f"brief-{items}"
    if (kb_dir / "complete.json").exists():
        return kb_dir
    shutil.rmtree(kb_dir, ignore_errors=True)
    sentences, rows, _ = _material()
    model = "all-MiniLM-L6-v2"
    embedder = OnnxEmbedder.load(export_dir_for(onnx_from / "indexes", model))
    pool = embedder.embed_batch(sentences)
    sectors = SectorVocabulary.load().names()
    rng = random.Random(11)

    def generated():
        for n in range(items):
            picks = rng.sample(range(len(sentences)), rng.randint(3, 7))
            item = Item(
                id=f"{n:032x}",
                title=" ".join(sentences[picks[0]].split()[:9]),
                published=f"{rng.randint(2019, 2026)}-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
                text=" ".join(sentences[p] for p in picks),
                summary=" ".join(sentences[p] for p in picks[:3]),
                sectors=rng.sample(sectors, rng.randint(1, 2)),
                themes=[],
                signals=[Signal(**row) for row in rng.sample(rows, rng.randint(2, 6))],
                kind="text",
            )
            yield item, None, pool[picks].mean(axis=0)

    write_generated_kb(kb_dir, onnx_from, model, embedder.dimension, generated(), noise_seed=11)
    return kb_dir


def _demo_with_export(workdir: Path) -> Path:
    """The demo corpus imported once: it holds the ONNX export every generated KB copies."""
    from shadowmatch_kb.kb import KnowledgeBase

    kb_dir = workdir / "demo"
    if not (kb_dir / "indexes" / "onnx").is_dir():
        shutil.rmtree(kb_dir, ignore_errors=True)
        with KnowledgeBase.open(kb_dir) as kb:
            kb.ingest([str(DEMO)])
    return kb_dir


def measure(kb_dir: Path) -> dict[str, object]:
    from shadowmatch_kb.kb import KnowledgeBase

    # The vectors kept on disk start empty, so the first pass embeds every sentence it reads as a fresh
    # question would; the second pass asks the same questions again, as a server answering a bookmark does.
    shutil.rmtree(kb_dir / "indexes" / "vectors", ignore_errors=True)
    with KnowledgeBase.open(kb_dir) as kb:
        kb.brief("warm-up: how will AI change the work of a plumber?")
        brief_times, search_times, repeat_times, cited = [], [], [], []
        for question in QUESTIONS:
            start = time.perf_counter()
            briefing = kb.brief(question)
            brief_times.append(time.perf_counter() - start)
            cited.append(len(briefing.sources))
            start = time.perf_counter()
            kb.search(question, k=10)
            search_times.append(time.perf_counter() - start)
        for question in QUESTIONS:
            start = time.perf_counter()
            kb.brief(question)
            repeat_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        first = kb.trends(by="month")
        trends_first = time.perf_counter() - start
        start = time.perf_counter()
        kb.trends(by="month")
        trends_warm = time.perf_counter() - start
    brief_median, search_median = statistics.median(brief_times), statistics.median(search_times)
    return {
        "brief_warm_s": {"median": round(brief_median, 3), "max": round(max(brief_times), 3)},
        "brief_repeated_s": {"median": round(statistics.median(repeat_times), 3)},
        "baseline_search_warm_s": {"median": round(search_median, 3)},
        "ratio_brief_to_search": round(brief_median / max(search_median, 1e-9), 2),
        "sources_cited_mean": round(statistics.mean(cited), 1),
        "trends_s": {"first": round(trends_first, 2), "warm": round(trends_warm, 2)},
        "trend_series": len(first.series),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "smkb-bench-brief")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    args.workdir.mkdir(parents=True, exist_ok=True)
    demo = _demo_with_export(args.workdir)
    _, rows, source = _material()
    report: dict[str, object] = {"material": source, "distinct_rows": len({json.dumps(r) for r in rows}), "sizes": {}}
    for size in args.sizes:
        start = time.perf_counter()
        kb_dir = build_kb(args.workdir, size, demo)
        built = time.perf_counter() - start
        figures = measure(kb_dir)
        figures["build_s"] = round(built, 1)
        report["sizes"][str(size)] = figures  # type: ignore[index]
        print(f"{size}: {json.dumps(figures)}", file=sys.stderr)
    at_10k = report["sizes"].get("10000")  # type: ignore[attr-defined]
    report["target"] = {"brief_warm_10k_s": TARGET_BRIEF_10K_S}
    if at_10k:
        report["target"]["met"] = at_10k["brief_warm_s"]["median"] <= TARGET_BRIEF_10K_S  # type: ignore[index]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
