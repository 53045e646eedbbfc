"""Cold start of the command line: `smkb --help` and `smkb search`, each in a fresh process.

Measured on the demo corpus and on a generated 100k-item knowledge base, against two baselines
run in the same session: `python -c pass` (the floor) and the sentence-transformers + Chroma
query path (what a straightforward implementation would do). Prints one JSON document.

    python scripts/bench_cli.py [--runs 5] [--workdir DIR] [--items 100000]

The generated KB is cached in the work directory (default: a folder under the system temp dir)
and rebuilt when missing. Its texts are sentences of the demo corpus recombined at random; its
vectors are the mean of those sentences' real embeddings, so the index has the shape and spread
of real data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "corpus" / "demo"
SMKB = [sys.executable, "-m", "shadowmatch_kb"]
QUERIES = [
    "how is AI changing the work of nurses?",
    "warehouse robots and pickers",
    "will bank clerks lose their jobs",
    "teachers using chatbots in class",
    "AI tools for lawyers and paralegals",
]
TARGETS = {"help_s": 0.3, "search_100k_s": 1.0}

BASELINE_QUERY = r"""
import sys, time
import chromadb
from sentence_transformers import SentenceTransformer
from shadowmatch_kb.embed.base import resolve_model_path
model = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu")
vector = model.encode([sys.argv[2]], normalize_embeddings=True)[0].tolist()
client = chromadb.PersistentClient(path=sys.argv[1], settings=chromadb.Settings(anonymized_telemetry=False))
collection = client.get_collection("bench_items")
print(len(collection.query(query_embeddings=[vector], n_results=10)["ids"][0]))
"""


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one fresh process; fails loudly if the command fails."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(argv)}\n{done.stderr[-2000:]}")
    return elapsed


def median_of(runs: int, make_argv, env: dict[str, str]) -> float:
    """Median wall time over ``runs`` fresh processes (after one run that warms the file cache)."""
    timed(make_argv(0), env)
    return statistics.median(timed(make_argv(n), env) for n in range(runs))


def build_demo_kb(workdir: Path) -> Path:
    from shadowmatch_kb.kb import KnowledgeBase

    kb_dir = workdir / "demo"
    if not (kb_dir / "indexes" / "index.json").exists():
        shutil.rmtree(kb_dir, ignore_errors=True)
        with KnowledgeBase.open(kb_dir) as kb:
            results = kb.ingest([str(DEMO)])
        assert all(r.status != "failed" for r in results)
    return kb_dir


def demo_sentences(kb_dir: Path) -> list[str]:
    import re

    from shadowmatch_kb.kb import KnowledgeBase

    with KnowledgeBase.open(kb_dir) as kb:
        texts = [i.summary + " " + " ".join(f"{s.signal}. {s.horizon}." for s in i.signals) for i in kb.iter_all()]
    sentences = [s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s.split()) >= 4]
    return sorted(set(sentences))


def build_large_kb(workdir: Path, demo_dir: Path, items: int) -> Path:
    """A KB of ``items`` generated items with a flat index, cached between runs."""
    from _bench_data import write_generated_kb

    from shadowmatch_kb.embed.exports import export_dir_for
    from shadowmatch_kb.embed.onnx import OnnxEmbedder
    from shadowmatch_kb.model import Item
    from shadowmatch_kb.store.sqlite import RawInput

    kb_dir = workdir / f"generated-{items}"
    if (kb_dir / "complete.json").exists():
        return kb_dir
    shutil.rmtree(kb_dir, ignore_errors=True)
    sentences = demo_sentences(demo_dir)
    model = "all-MiniLM-L6-v2"
    embedder = OnnxEmbedder.load(export_dir_for(demo_dir / "indexes", model))
    pool = embedder.embed_batch(sentences)
    rng = random.Random(7)
    sectors = ["banking", "healthcare", "retail", "logistics", "law", "manufacturing", "education",
               "creative work", "software", "public sector", "hospitality", "agriculture"]  # fmt: skip

    def generated():
        for n in range(items):
            picks = rng.sample(range(len(sentences)), rng.randint(3, 7))
            text = " ".join(sentences[p] for p in picks)
            item = Item(
                id=f"{n:032x}",
                title=" ".join(sentences[picks[0]].split()[:9]),
                published=f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                text=text,
                summary=sentences[picks[0]],
                sectors=[rng.choice(sectors)],
                kind="text",
            )
            yield item, RawInput("generated", "text/plain", text.encode()), pool[picks].mean(axis=0)

    write_generated_kb(kb_dir, demo_dir, model, embedder.dimension, generated(), noise_seed=7)
    return kb_dir


def build_chroma_copy(kb_dir: Path) -> Path:
    """The same item vectors in a Chroma persistent folder, for the baseline query path."""
    import chromadb
    import numpy as np

    from shadowmatch_kb.index.flat import FlatIndex

    folder = kb_dir / "bench-chroma"
    if (folder / "complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    index = FlatIndex.open(kb_dir / "indexes" / "flat")
    assert index is not None
    ids = sorted(index.entries())
    client = chromadb.PersistentClient(path=str(folder), settings=chromadb.Settings(anonymized_telemetry=False))
    collection = client.create_collection(
        "bench_items", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        vectors = np.stack([index.item_vector(i) for i in chunk])
        collection.add(ids=chunk, embeddings=vectors)
    (folder / "complete").write_text("ok")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per figure (median)")
    parser.add_argument("--items", type=int, default=100_000, help="size of the generated KB")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "smkb-bench-cli")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")

    demo_dir = build_demo_kb(args.workdir)
    large_dir = build_large_kb(args.workdir, demo_dir, args.items)

    floor = median_of(args.runs, lambda n: [sys.executable, "-c", "pass"], env)
    help_s = median_of(args.runs, lambda n: [*SMKB, "--help"], env)
    report: dict[str, object] = {
        "help": {"median_s": round(help_s, 3), "baseline_python_pass_s": round(floor, 3),
                 "ratio": round(help_s / floor, 2), "target_s": TARGETS["help_s"]},
    }  # fmt: skip
    for label, kb_dir in (("demo", demo_dir), (f"{args.items // 1000}k", large_dir)):
        ours = median_of(args.runs, lambda n, d=kb_dir: [*SMKB, "--kb", str(d), "search", QUERIES[n % 5]], env)
        chroma_dir = build_chroma_copy(kb_dir)
        base = median_of(
            args.runs, lambda n, c=chroma_dir: [sys.executable, "-c", BASELINE_QUERY, str(c), QUERIES[n % 5]], env
        )
        report[f"search_{label}"] = {
            "median_s": round(ours, 3),
            "baseline_sentence_transformers_chroma_s": round(base, 3),
            "speedup": round(base / ours, 2),
            "baseline_python_pass_s": round(floor, 3),
        }
    report[f"search_{args.items // 1000}k"]["target_s"] = TARGETS["search_100k_s"]  # type: ignore[index]
    report["runs"] = args.runs
    report["cpu_count"] = os.cpu_count()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
