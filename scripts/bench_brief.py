"""Cold and warm briefing times, with every public occupation dataset imported; tracker times too.

* ``cold``: ``smkb brief QUESTION`` as a user runs it — a fresh process (``.venv/bin/smkb --kb DIR brief``),
  wall time, median of 5 runs over 5 different mentor questions — on a knowledge base holding the demo
  corpus and every dataset in ../shared/data/occupations (``smkb occupations import``); the first briefing
  after the import (no Signals-row vectors kept yet) is timed apart and left out of the median. Baselines
  from the same run: cold ``smkb search`` of the same questions, and ``smkb --help`` (process start).
* ``sizes``: generated knowledge bases of 1k, 10k and 100k items made from real material — sentences and
  Signals rows of the real posts in ../shared/data/signals_posts (else of the bundled demo corpus), dated
  2019-2026, each in one or two sectors; their vectors are means of the real sentence vectors they are
  made of, as in scripts/bench_cli.py. Each holds the same occupation tables and label vectors as the demo
  knowledge base (copied, not imported again), since a briefing matches the question to an occupation and
  retrieves with it. In one warm process per size (model and caches loaded, as a server would be):
  ``brief``, median and max over 8 mentor questions after one warm-up briefing on another question, with
  no sentence vectors kept from earlier runs; then the same questions again; baseline from the same run:
  the plain hybrid search of the same questions (retrieval alone); ``trends``, the tracker over the whole
  knowledge base by month, first run and warm.

Targets: a cold briefing on the demo corpus in at most 1.5 s; a warm briefing at 10k items in at most 0.5 s
(medians). Without ../shared/data/occupations the cold part is skipped with its reason, and the generated
knowledge bases hold no occupation data (said in the JSON). Prints one JSON document; progress on stderr.
Usage: python scripts/bench_brief.py [--sizes 1000 10000 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_POSTS = REPO.parent / "shared" / "data" / "signals_posts"
OCCUPATIONS = REPO.parent / "shared" / "data" / "occupations"
DEMO = REPO / "corpus" / "demo"
SMKB = REPO / ".venv" / "bin" / "smkb"
TARGET_COLD_S = 1.5
TARGET_BRIEF_10K_S = 0.5
COLD_RUNS = 5
WARM_UP_QUESTION = "I'm a hairdresser with my own salon. Will AI matter to people like me?"
# Worded as people talk, each with a detail of their day; the cold runs use the first five.
QUESTIONS = [
    "I'm a plumber, I fix boilers and leaks. How will AI change my job?",
    "I answer phones in a call centre for an energy company. Are chatbots going to replace us?",
    "I'm a nurse on a busy surgical ward, lots of paperwork between patients. What's AI going to do to that?",
    "I do the books for small businesses as an accountant. Will software do my clients' tax returns soon?",
    "I translate legal contracts from German into English. Is machine translation going to finish me off?",
    "I drive an articulated lorry, mostly night runs between depots. Are self-driving trucks really coming?",
    "I teach maths at a secondary school and spend my evenings marking. Can AI help or will it take over?",
    "I pick orders in a big distribution warehouse. The robots are already here, what happens next?",
]


def log(message: str) -> None:
    """Progress for the person running the benchmark; stdout is kept for the JSON."""
    print(message, file=sys.stderr, flush=True)


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


# ----- the demo knowledge base and the cold runs ---------------------------------------------


def _smkb(kb_dir: Path, *args: str) -> float:
    """Run ``smkb --kb DIR ARGS`` as a user would; its wall time in seconds (a failure stops the benchmark)."""
    start = time.perf_counter()
    done = subprocess.run([str(SMKB), "--kb", str(kb_dir), *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"smkb {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return seconds


def occupation_paths() -> list[Path]:
    """Every public occupation dataset folder in ../shared/data/occupations (empty when absent)."""
    return sorted(p for p in OCCUPATIONS.iterdir() if p.is_dir()) if OCCUPATIONS.is_dir() else []


def demo_kb(workdir: Path) -> tuple[Path, dict[str, Any]]:
    """The demo corpus ingested and every occupation dataset imported, with the CLI; kept between runs."""
    kb_dir = workdir / "demo"
    marker = kb_dir / "bench-occupations.json"
    wanted = [str(p) for p in occupation_paths()]
    if marker.exists() and json.loads(marker.read_text())["datasets"] == wanted:
        return kb_dir, json.loads(marker.read_text())
    shutil.rmtree(kb_dir, ignore_errors=True)
    log("ingesting the demo corpus")
    facts: dict[str, Any] = {"datasets": wanted, "ingest_s": round(_smkb(kb_dir, "ingest", str(DEMO)), 1)}
    if wanted:
        log(f"importing {len(wanted)} occupation datasets (embeds their labels and tasks)")
        facts["occupations_import_s"] = round(_smkb(kb_dir, "occupations", "import", *wanted), 1)
    marker.write_text(json.dumps(facts))
    return kb_dir, facts


def measure_cold(kb_dir: Path) -> dict[str, Any]:
    """Fresh-process times of ``brief``, ``search`` and ``--help`` on the demo knowledge base."""
    shutil.rmtree(kb_dir / "indexes" / "vectors", ignore_errors=True)
    first = _smkb(kb_dir, "brief", WARM_UP_QUESTION)
    help_times = [_smkb(kb_dir, "--help") for _ in range(COLD_RUNS)]
    brief_times, search_times = [], []
    for question in QUESTIONS[:COLD_RUNS]:
        log(f"cold: {question[:50]}")
        brief_times.append(_smkb(kb_dir, "brief", question))
        search_times.append(_smkb(kb_dir, "search", question))
    brief, search, start = (statistics.median(t) for t in (brief_times, search_times, help_times))
    return {
        "brief_s": {"median": round(brief, 3), "runs": [round(t, 3) for t in brief_times]},
        "first_brief_after_import_s": round(first, 3),
        "baseline_search_s": {"median": round(search, 3), "runs": [round(t, 3) for t in search_times]},
        "baseline_help_s": {"median": round(start, 3)},
        "ratio_brief_to_search": round(brief / search, 2),
        "ratio_brief_to_help": round(brief / start, 2),
        "target_s": TARGET_COLD_S,
        "met": brief <= TARGET_COLD_S,
    }


# ----- generated knowledge bases and the warm runs -------------------------------------------


def build_kb(workdir: Path, items: int, demo: Path, postgres_url: str | None = None) -> Path:
    """A knowledge base of ``items`` generated items with a flat index, cached between runs; with
    ``postgres_url``, the same items in that database (the folder returned is its working folder)."""
    from _bench_data import write_generated_kb

    from shadowmatch_kb.embed.exports import export_dir_for
    from shadowmatch_kb.embed.onnx import OnnxEmbedder
    from shadowmatch_kb.model import Item, Signal
    from shadowmatch_kb.text.sectors import SectorVocabulary

    kb_dir = workdir / (f"brief-{items}-postgres" if postgres_url else f"brief-{items}")
    if (kb_dir / "complete.json").exists():
        return kb_dir
    shutil.rmtree(kb_dir, ignore_errors=True)
    sentences, rows, _ = _material()
    model = "all-MiniLM-L6-v2"
    embedder = OnnxEmbedder.load(export_dir_for(demo / "indexes", model))
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

    write_generated_kb(kb_dir, demo, model, embedder.dimension, generated(), noise_seed=11, postgres_url=postgres_url)
    return kb_dir


def copy_occupations(demo: Path, kb_dir: Path) -> int:
    """Give ``kb_dir`` the demo knowledge base's occupation tables and cached label vectors; the labels copied.

    The rows keep their order, so the cache (keyed on the label texts and the model) is found, not recomputed.
    """
    db = sqlite3.connect(kb_dir / "corpus" / "kb.sqlite")
    try:
        db.execute("ATTACH DATABASE ? AS demo", (str(demo / "corpus" / "kb.sqlite"),))
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM demo.sqlite_master WHERE type = 'table' AND name LIKE 'occupation%'"
            )
        ]
        with db:
            for table in tables:
                db.execute(f"DELETE FROM main.{table}")  # noqa: S608 - names from the schema
                db.execute(f"INSERT INTO main.{table} SELECT * FROM demo.{table} ORDER BY rowid")  # noqa: S608
        labels = db.execute("SELECT count(*) FROM main.occupation_labels").fetchone()[0]
    finally:
        db.close()
    cache = kb_dir / "indexes" / "occupations"
    shutil.rmtree(cache, ignore_errors=True)
    if (demo / "indexes" / "occupations").is_dir():
        shutil.copytree(demo / "indexes" / "occupations", cache)
    return int(labels)


def _seconds(call: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def measure_warm(kb_dir: Path, location: str | None = None) -> dict[str, Any]:
    """Briefing, search and tracker times in one warm process over a generated knowledge base (``location``: its
    Postgres URL, when ``kb_dir`` is the working folder of one)."""
    from shadowmatch_kb.kb import KnowledgeBase

    # The vectors kept on disk start empty, so the first pass embeds every sentence it reads as a fresh
    # question would; the second pass asks the same questions again, as a server answering a bookmark does.
    shutil.rmtree(kb_dir / "indexes" / "vectors", ignore_errors=True)
    cache_before = sorted(p.name for p in (kb_dir / "indexes" / "occupations").glob("*.npy"))
    with KnowledgeBase.open(location or kb_dir) as kb:
        warm_up_s, _ = _seconds(lambda: kb.brief(WARM_UP_QUESTION))
        brief_times, search_times, repeat_times, cited, named = [], [], [], [], []
        for question in QUESTIONS:
            seconds, briefing = _seconds(lambda q=question: kb.brief(q))
            brief_times.append(seconds)
            cited.append(len(briefing.sources))
            named.append(briefing.occupations[0]["label"] if briefing.occupations else None)
            search_times.append(_seconds(lambda q=question: kb.search(q, k=10))[0])
        repeat_times = [_seconds(lambda q=question: kb.brief(q))[0] for question in QUESTIONS]
        trends_first, first = _seconds(lambda: kb.trends(by="month"))
        trends_warm, _ = _seconds(lambda: kb.trends(by="month"))
    cache_after = sorted(p.name for p in (kb_dir / "indexes" / "occupations").glob("*.npy"))
    brief, search = statistics.median(brief_times), statistics.median(search_times)
    return {
        "brief_warm_s": {"median": round(brief, 3), "max": round(max(brief_times), 3)},
        "brief_repeated_s": {"median": round(statistics.median(repeat_times), 3)},
        "warm_up_brief_s": round(warm_up_s, 2),
        "baseline_search_warm_s": {"median": round(search, 3)},
        "ratio_brief_to_search": round(brief / max(search, 1e-9), 2),
        "sources_cited_mean": round(statistics.mean(cited), 1),
        "occupation_named": named,
        "occupation_vectors_reused": bool(cache_before) and cache_before == cache_after,
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
    demo, demo_facts = demo_kb(args.workdir)
    _, rows, source = _material()
    report: dict[str, Any] = {"material": source, "distinct_rows": len({json.dumps(r) for r in rows})}
    # Other work on the machine slows every figure alike; the load says how far to trust a single run.
    report["load_average_start"] = [round(n, 1) for n in os.getloadavg()]
    report["demo_kb"] = demo_facts
    if demo_facts["datasets"]:
        report["cold"] = measure_cold(demo)
        log(f"cold: {json.dumps(report['cold'])}")
    else:
        report["cold"] = {
            "skipped": f"occupation datasets not found in {OCCUPATIONS}: a cold briefing without "
            "them would skip occupation matching and flatter the figure"
        }
    report["sizes"] = {}
    for size in args.sizes:
        start = time.perf_counter()
        kb_dir = build_kb(args.workdir, size, demo)
        labels = copy_occupations(demo, kb_dir)  # none when none were imported: an older copy goes too
        built = time.perf_counter() - start
        figures = measure_warm(kb_dir)
        figures.update(build_s=round(built, 1), occupation_labels=labels)
        report["sizes"][str(size)] = figures
        log(f"{size}: {json.dumps(figures)}")
    at_10k = report["sizes"].get("10000")
    report["target"] = {
        "cold_brief_s": {"target": TARGET_COLD_S, "met": report["cold"].get("met")},
        "brief_warm_10k_s": {
            "target": TARGET_BRIEF_10K_S,
            "met": at_10k["brief_warm_s"]["median"] <= TARGET_BRIEF_10K_S if at_10k else None,
        },
    }
    report["load_average_end"] = [round(n, 1) for n in os.getloadavg()]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
