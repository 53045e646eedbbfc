"""Import throughput and vector-index query speed, recall and memory, on real data.

Prints one JSON document. Every figure comes with a baseline measured in the same run:

* import: ``kb.ingest`` of the 181 Zyte ground-truth articles (items/s, chunks/s) against the raw
  encoding of exactly the texts the import embeds by the same model (its ONNX export, which every import
  uses; and, when torch is installed, by sentence-transformers too); target overhead <= 15 %. The
  one-time ONNX export is built before timing and not counted.
* queries: for the flat and the Chroma index at each size (default 10k and 100k real sentence
  embeddings, one vector per item and one chunk per item), ``query_items`` / ``query_chunks`` top-10
  latency p50/p99 and recall@10 against exact search, against a bare numpy dot product +
  argpartition over the same matrix; build rate; peak RSS (VmHWM) of each case, run in its own
  process, against a process that only loads the vectors; then the same index reopened by a fresh
  process that only searches (``reopened``), as ``smkb search`` would use it. Targets: flat p50
  <= 10 ms at 100k, Chroma recall >= 0.98.

    python scripts/bench_index.py [--sizes 10000,100000] [--queries 1000] [--cache DIR]
                                  [--skip-import] [--skip-queries] [--articles N] [--skip-chroma]
                                  [--chroma-http]

The sentence embeddings are cached in --cache (default ~/.cache/shadowmatch_kb/bench); the first
run embeds about 101k texts (minutes), later runs load them. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_data import DEFAULT_CACHE, REPO, data_missing, log, real_vectors, write_zyte_articles  # noqa: E402

TARGETS = {"import_overhead": 0.15, "flat_p50_ms_at_100k": 10.0, "chroma_recall_at_10": 0.98}
K = 10
WARMUP_QUERIES = 20
IMPORT_ROUNDS = 2  # import and raw encoding alternate; the best of each is compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="index sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=1000, help="held-out query vectors")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where embeddings are cached")
    parser.add_argument("--skip-import", action="store_true", help="skip the import benchmark")
    parser.add_argument("--skip-queries", action="store_true", help="skip the index query benchmarks")
    parser.add_argument("--articles", type=int, help="import only the first N articles (quick runs)")
    parser.add_argument("--skip-chroma", action="store_true", help="measure the flat index only")
    parser.add_argument("--chroma-http", action="store_true", help="also a `chroma run` server at the smallest size")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # KIND:N, run by the parent in a subprocess
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chroma-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if args.case:
        print(json.dumps(run_case(args.case, args.workdir, args.chroma_url)))
        return
    missing = data_missing()
    if missing:
        print(json.dumps({"skipped": missing}))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    started = time.perf_counter()
    report: dict[str, Any] = {"machine": machine_facts(), "targets": TARGETS}
    with tempfile.TemporaryDirectory(prefix="smkb-bench-index-") as tmp:
        work = Path(tmp)
        if not args.skip_import:
            report["import"] = bench_import(work / "import", args.articles)
        if not args.skip_queries:
            report["queries"] = bench_queries(work / "queries", sizes, args)
    report["verdict"] = verdict(report)
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    report["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))


def machine_facts() -> dict[str, Any]:
    """What the figures depend on: cores, load from other jobs, library versions."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for name in ("numpy", "chromadb", "torch", "sentence-transformers", "onnxruntime"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:  # noqa: PERF203 - five names
            versions[name] = None
    return {
        "cpu_count": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "versions": versions,
    }


# ----- import -------------------------------------------------------------------------------


class PhaseClock:
    """A Progress that records when each phase of an ingest starts and ends."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, str, float]] = []
        self._label = ""

    def start(self, label: str, total: int | None) -> None:
        """Mark the start of a phase."""
        self._label = label
        self.marks.append((label, "start", time.perf_counter()))

    def advance(self, steps: int = 1) -> None:
        """Ignore steps."""

    def finish(self) -> None:
        """Mark the end of the phase."""
        self.marks.append((self._label, "finish", time.perf_counter()))

    def span(self, label: str) -> tuple[float, float]:
        """(start, finish) of a phase."""
        found = {kind: t for name, kind, t in self.marks if name == label}
        return found["start"], found["finish"]


def bench_import(work: Path, limit: int | None = None) -> dict[str, Any]:
    """Time kb.ingest of real articles against the raw encoding of the same texts by the same ONNX model (and,
    when torch is installed, by sentence-transformers)."""
    from shadowmatch_kb.config import Config
    from shadowmatch_kb.embed.base import DEFAULT_MODEL
    from shadowmatch_kb.embed.chunking import chunk_text, item_embedding_text
    from shadowmatch_kb.embed.exports import load_embedder
    from shadowmatch_kb.index.sync import BATCH_ITEMS
    from shadowmatch_kb.kb import KnowledgeBase

    articles = work / "articles"
    files = write_zyte_articles(articles, limit)
    log(f"import: {files} articles written; building the ONNX export and loading it")
    seed = work / "seed-indexes"
    t0 = time.perf_counter()
    # What every import embeds with: the model's ONNX export, built from its weights (no torch).
    embedder = load_embedder(seed, DEFAULT_MODEL, spinning=True)
    export_s = time.perf_counter() - t0
    load_s = export_s
    embedder.embed_batch(["a sentence to warm the model up"] * 8)
    reference = _sentence_transformers()  # the same model run by torch, when installed: a second baseline

    def encode(texts: list[str], model: Any = embedder) -> float:
        t = time.perf_counter()
        model.embed_batch(texts)
        return time.perf_counter() - t

    rounds: list[dict[str, Any]] = []
    for number, kind in enumerate(["flat"] * IMPORT_ROUNDS + ["chroma"]):
        config = Config.resolve(work / f"kb-{number}", index_kind=kind)
        shutil.copytree(seed / "onnx", config.indexes_dir / "onnx")  # seeded: the export is not timed
        clock = PhaseClock()
        log(f"import round {number + 1} ({kind} index)")
        with KnowledgeBase(config) as kb:  # loads the seeded export, as `smkb ingest` does
            t0 = time.perf_counter()
            results = kb.ingest([str(articles)], progress=clock)
            import_s = time.perf_counter() - t0
            rows = list(kb.store.iter_index_inputs())
            stored = kb.stats()["index"]
        failed = [r.to_dict() for r in results if r.status != "added"]
        if failed:
            raise SystemExit(f"import failed for {len(failed)} input(s): {failed[:3]}")
        # The texts sync_index embeds, in its order and its groups of BATCH_ITEMS items.
        t0 = time.perf_counter()
        groups = []
        for start in range(0, len(rows), BATCH_ITEMS):
            group = []
            for _, _, title, summary, text in rows[start : start + BATCH_ITEMS]:
                group.append(item_embedding_text(title, summary, text))
                group.extend(chunk_text(text))
            groups.append(group)
        prepare_s = time.perf_counter() - t0
        texts = [t for g in groups for t in g]
        # Baselines only beside the flat rounds (the chroma round is judged against their best).
        raw_s = encode(texts) if kind == "flat" else None
        grouped_s = sum(encode(g) for g in groups) if number == 0 else None
        torch_s = encode(texts, reference) if number == 0 and reference is not None else None
        reading = clock.span("Importing")
        embedding = clock.span("Embedding")
        # Enrichment (summary, keywords, Signals rows) runs inside the import; it is timed apart, and
        # the indexing path is what the overhead target is about.
        enriching = clock.span("Enriching")
        enrich_s = enriching[1] - enriching[0]
        total_s, import_s = import_s, import_s - enrich_s
        rounds.append({
            "index": kind,
            "import_s": round(import_s, 2),
            "import_with_enrichment_s": round(total_s, 2),
            "enrich_s": round(enrich_s, 2),
            "raw_encode_s": None if raw_s is None else round(raw_s, 2),
            "raw_encode_in_import_groups_s": None if grouped_s is None else round(grouped_s, 2),
            "sentence_transformers_encode_s": None if torch_s is None else round(torch_s, 2),
            "phases_s": {
                "read_and_store": round(reading[1] - reading[0], 2),
                "embed_and_upsert": round(embedding[1] - embedding[0], 2),
                "flush_and_rest": round(import_s - (reading[1] - reading[0]) - (embedding[1] - embedding[0]), 2),
            },
            "chunking_s": round(prepare_s, 3),
            "items": len(rows),
            "chunks": len(texts) - len(rows),
            "index_items": stored.get("items"),
            "index_chunks": stored.get("chunks"),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        })  # fmt: skip
    flat = [r for r in rounds if r["index"] == "flat"]
    best_import = min(r["import_s"] for r in flat)
    best_raw = min(r["raw_encode_s"] for r in flat)
    best_grouped = rounds[0]["raw_encode_in_import_groups_s"]
    items, chunks = flat[0]["items"], flat[0]["chunks"]
    chroma = rounds[-1]
    return {
        "input": f"{files} Zyte ground-truth articleBody texts as .txt (title line from the URL slug)",
        "model": DEFAULT_MODEL,
        "batch_size": embedder.batch_size,
        "batch_items_per_model_call": BATCH_ITEMS,
        "model_load_s": round(load_s, 2),
        "onnx_export_s": round(export_s, 2),
        "onnx_export_note": "built from the weights once before timing (with loading it) and copied into each KB; "
        "not counted in import_s",
        "embedder": "the model's ONNX export (what every import uses)",
        "baseline_sentence_transformers_encode_s": rounds[0]["sentence_transformers_encode_s"],
        "items": items,
        "chunks": chunks,
        "texts_embedded": items + chunks,
        "import_s": best_import,
        "import_s_note": "without the enrichment that runs inside the import (timed apart as enrich_s)",
        "enrich_s": min(r["enrich_s"] for r in flat),
        "enrich_items_per_s": round(items / min(r["enrich_s"] for r in flat), 2),
        "items_per_s_with_enrichment": round(items / min(r["import_with_enrichment_s"] for r in flat), 2),
        "items_per_s": round(items / best_import, 2),
        "chunks_per_s": round(chunks / best_import, 2),
        "baseline_raw_encode_s": best_raw,
        "baseline_texts_per_s": round((items + chunks) / best_raw, 2),
        "overhead": round(best_import / best_raw - 1, 3),
        "overhead_target": TARGETS["import_overhead"],
        "overhead_if_encoded_in_import_groups": round(best_import / best_grouped - 1, 3),
        "grouping_cost": round(best_grouped / best_raw - 1, 3),
        "chroma_import_s": chroma["import_s"],
        "chroma_overhead": round(chroma["import_s"] / best_raw - 1, 3),
        "rounds": rounds,
        "peak_rss_mib": _peak_rss_of("self"),
    }


def _sentence_transformers() -> Any:
    try:
        from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

        model = SentenceTransformerEmbedder()
        model.embed_batch(["a sentence to warm the model up"] * 8)
        return model
    except Exception:  # noqa: BLE001 - torch absent (the default install): that baseline is left out
        return None


# ----- queries ------------------------------------------------------------------------------


def bench_queries(work: Path, sizes: list[int], args: argparse.Namespace) -> dict[str, Any]:
    """Prepare the vectors once, then run every (kind, size) case in its own process."""
    work.mkdir(parents=True)
    vectors, facts = real_vectors(args.queries + sizes[-1], args.cache)
    # A fixed shuffle decides which texts are queries: held out, never in any index.
    order = np.random.default_rng(5).permutation(len(vectors))
    queries = np.ascontiguousarray(vectors[order[: args.queries]])
    np.save(work / "queries.npy", queries)
    exact_s: dict[str, float] = {}
    for n in sizes:
        matrix = np.ascontiguousarray(vectors[order[args.queries : args.queries + n]])
        np.save(work / f"index-{n}.npy", matrix)
        t0 = time.perf_counter()
        np.save(work / f"exact-{n}.npy", exact_top_k(matrix, queries))
        exact_s[str(n)] = round(time.perf_counter() - t0, 2)
    del vectors
    kinds = ["flat"] + ([] if args.skip_chroma else ["chroma"])
    out: dict[str, Any] = {"vectors": facts, "queries": args.queries, "k": K, "exact_search_all_queries_s": exact_s}
    from shadowmatch_kb.index.chroma import DEFAULT_EF_SEARCH, EF_CONSTRUCTION, MAX_NEIGHBORS

    out["chroma_settings"] = {"ef_search": DEFAULT_EF_SEARCH, "M": MAX_NEIGHBORS, "ef_construction": EF_CONSTRUCTION}
    out["by_size"] = {}
    for n in sizes:
        row: dict[str, Any] = {"load_only_baseline": subprocess_case(f"load:{n}", work)}
        for kind in kinds:
            base = row["load_only_baseline"]["peak_rss_mib"]
            row[kind] = subprocess_case(f"{kind}:{n}", work)
            # The same index opened by a fresh process that only searches, as `smkb search` does.
            row[kind]["reopened"] = subprocess_case(f"{kind}-open:{n}", work)
            for case in (row[kind], row[kind]["reopened"]):
                case["peak_rss_over_load_only_mib"] = round(case["peak_rss_mib"] - base, 1)
        if args.chroma_http and not args.skip_chroma and n == sizes[0]:
            row["chroma_http"] = chroma_http_case(n, work)
        out["by_size"][str(n)] = row
    return out


def exact_top_k(matrix: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Row numbers of the exact top K of every query (brute force, in blocks to bound memory)."""
    found = np.zeros((len(queries), K), dtype=np.int64)
    for start in range(0, len(queries), 100):
        scores = queries[start : start + 100] @ matrix.T
        top = np.argpartition(-scores, K, axis=1)[:, :K]
        best = np.take_along_axis(scores, top, axis=1)
        found[start : start + 100] = np.take_along_axis(top, np.argsort(-best, axis=1), axis=1)
    return found


def subprocess_case(case: str, work: Path, chroma_url: str | None = None) -> dict[str, Any]:
    """Run one case in a fresh interpreter, so its peak RSS is its own."""
    log(f"case {case} ...")
    argv = [sys.executable, str(Path(__file__).resolve()), "--case", case, "--workdir", str(work)]
    if chroma_url:
        argv += ["--chroma-url", chroma_url]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"case {case} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"case {case}: {json.dumps(result)}")
    return result


def chroma_http_case(n: int, work: Path) -> dict[str, Any]:
    """The Chroma case against a `chroma run` server on loopback, started and stopped here."""
    import socket

    executable = Path(sys.executable).with_name("chroma")
    if not executable.exists():
        return {"skipped": "the `chroma` executable is missing"}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with open(work / "chroma-server.log", "wb") as server_log:
        server = subprocess.Popen(
            [str(executable), "run", "--path", str(work / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=server_log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )  # fmt: skip
        try:
            _wait_for(url, server)
            result = subprocess_case(f"chroma-http:{n}", work, chroma_url=url)
            result["server_peak_rss_mib"] = _peak_rss_of(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return result


def _wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise SystemExit("chroma run exited early")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"chroma run did not answer at {url} within 60 s") from None
            time.sleep(0.2)


def _peak_rss_of(pid: int | str) -> float | None:
    """VmHWM in MiB: unlike ru_maxrss it is reset by exec, so a child does not report its parent's peak."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


# ----- one case (runs in a subprocess) ----------------------------------------------------------


def run_case(case: str, work: Path, chroma_url: str | None) -> dict[str, Any]:
    """Build one index kind at one size, query it, and report latency, recall and peak RSS."""
    kind, size = case.split(":")
    n = int(size)
    queries = np.load(work / "queries.npy")
    matrix = np.load(work / f"index-{n}.npy")
    exact = np.load(work / f"exact-{n}.npy")
    result: dict[str, Any] = {"n": n}
    if kind != "load":
        from shadowmatch_kb.embed.base import DEFAULT_MODEL

        folder = work / f"{kind.removesuffix('-open')}-{n}"
        if kind.endswith("-open"):
            t0 = time.perf_counter()
            index = _open(kind, folder, DEFAULT_MODEL, matrix.shape[1])
            result["open_ms"] = round(1000 * (time.perf_counter() - t0), 2)
        else:
            ids = [f"{row:032x}" for row in range(n)]
            t0 = time.perf_counter()
            index = _build(kind, folder, DEFAULT_MODEL, matrix, ids, chroma_url)
            build_s = time.perf_counter() - t0
            result.update(build_s=round(build_s, 2), build_vectors_per_s=round(n / build_s, 1))
        if kind == "flat":
            # Queries run on the index as a fresh process sees it: memory-mapped from disk.
            t0 = time.perf_counter()
            index = _open("flat-open", folder, DEFAULT_MODEL, matrix.shape[1])
            result["open_ms"] = round(1000 * (time.perf_counter() - t0), 2)

        def bare(query: np.ndarray) -> np.ndarray:
            scores = matrix @ query
            top = np.argpartition(scores, n - K)[n - K :]
            return top[np.argsort(-scores[top])]

        searches = {
            "query_items": lambda q: [int(h.item_id, 16) for h in index.query_items(q, K)],
            "query_chunks": lambda q: [int(h.item_id, 16) for h in index.query_chunks(q, K)],
            "baseline_numpy": bare,
        }
        t0 = time.perf_counter()
        index.query_items(queries[0], K)  # a reopened Chroma loads its HNSW graph on the first query
        result["first_query_ms"] = round(1000 * (time.perf_counter() - t0), 2)
        result.update(_measure(searches, queries, exact))
        if kind.startswith("flat"):
            # Diagnostic: with other jobs on the cores, a multi-threaded BLAS matvec waits for its
            # descheduled peer thread; one thread shows what the same code does without that wait.
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1, user_api="blas"):
                one = _measure({k: searches[k] for k in ("query_items", "baseline_numpy")}, queries, exact)
            result["blas_1_thread"] = one
    result["peak_rss_mib"] = _peak_rss_of("self")
    result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return result


def _open(kind: str, folder: Path, model: str, dimension: int) -> Any:
    """Open an index a build case left in ``folder``."""
    if kind == "flat-open":
        from shadowmatch_kb.index.flat import FlatIndex

        return FlatIndex(folder, model, dimension)
    if kind == "chroma-open":
        from shadowmatch_kb.index.chroma import ChromaIndex

        return ChromaIndex.persistent(folder, model, dimension)
    raise SystemExit(f"unknown case kind {kind!r}")


def _build(kind: str, folder: Path, model: str, matrix: np.ndarray, ids: list[str], url: str | None) -> Any:
    """Upsert every vector as one item with itself as its single chunk, then flush."""
    if kind == "flat":
        from shadowmatch_kb.index.flat import FlatIndex

        index: Any = FlatIndex(folder, model, matrix.shape[1])
    elif kind == "chroma":
        from shadowmatch_kb.index.chroma import ChromaIndex

        index = ChromaIndex.persistent(folder, model, matrix.shape[1])
    elif kind == "chroma-http":
        from shadowmatch_kb.index.chroma import ChromaIndex

        assert url is not None
        index = ChromaIndex.http(url, model, matrix.shape[1], collection_prefix=f"bench{len(ids)}")
    else:
        raise SystemExit(f"unknown case kind {kind!r}")
    for row, item_id in enumerate(ids):
        index.upsert(item_id, f"{row:064x}", matrix[row], matrix[row : row + 1])
    index.flush()
    return index


def _measure(searches: dict[str, Any], queries: np.ndarray, exact: np.ndarray) -> dict[str, Any]:
    """Latency percentiles (after a warm-up) and recall@K of each search, each query run by all in turn.

    Interleaving puts the index and its numpy baseline under the same load from other jobs.
    """
    names = list(searches)
    for query in queries[:WARMUP_QUERIES]:
        for name in names:
            searches[name](query)
    times = {name: np.zeros(len(queries)) for name in names}
    hits = dict.fromkeys(names, 0)
    for number, query in enumerate(queries):
        truth = set(exact[number].tolist())
        # Rotating the order keeps any one search from always running right after another's cache misses.
        for name in names[number % len(names) :] + names[: number % len(names)]:
            t0 = time.perf_counter()
            found = searches[name](query)
            times[name][number] = time.perf_counter() - t0
            hits[name] += len({int(x) for x in found[:K]} & truth)
    out: dict[str, Any] = {}
    for name in names:
        out[name] = {
            "p50_ms": round(1000 * float(np.percentile(times[name], 50)), 3),
            "p99_ms": round(1000 * float(np.percentile(times[name], 99)), 3),
            "mean_ms": round(1000 * float(times[name].mean()), 3),
            "recall_at_10": round(hits[name] / (K * len(queries)), 4),
        }
    base = out.get("baseline_numpy")
    for name in names:
        if base and name != "baseline_numpy":
            out[name]["p50_vs_numpy"] = round(out[name]["p50_ms"] / base["p50_ms"], 2)
    return out


def verdict(report: dict[str, Any]) -> dict[str, Any]:
    """Each target, the figure it is judged on, and whether it is met."""
    out: dict[str, Any] = {}
    if "import" in report:
        overhead = report["import"]["overhead"]
        out["import_overhead"] = {"value": overhead, "target": "<= 0.15", "met": overhead <= 0.15}
    if "queries" not in report:
        return out
    queries = report["queries"]["by_size"]
    flat_100k = queries.get("100000", {}).get("flat")
    if flat_100k:
        p50 = flat_100k["query_items"]["p50_ms"]
        out["flat_p50_ms_at_100k"] = {"value": p50, "target": "<= 10", "met": p50 <= 10.0}
    recalls = {size: row["chroma"]["query_items"]["recall_at_10"] for size, row in queries.items() if "chroma" in row}
    if recalls:
        worst = min(recalls.values())
        out["chroma_recall_at_10"] = {"value": recalls, "target": ">= 0.98", "met": worst >= 0.98}
    return out


if __name__ == "__main__":
    main()
