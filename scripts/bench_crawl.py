"""Crawl throughput (pages/s) and memory against a plain sequential fetch-and-extract loop, on loopback.

Prints one JSON document. The site (see ``_bench_site.py``) serves at least 2,000 distinct article pages
built from the 181 real Zyte pages in ``../shared/data``, a sitemap and a robots.txt, from its own process,
each answer held back by ``--latency-ms`` (default 50: the round trip to a typical distant server).

* crawl: the project's crawler (``Crawler.run``, wired as ``KnowledgeBase.crawl`` wires it, without the
  embedding step that follows a crawl) over the sitemap, politeness delay off, into a fresh knowledge
  base, in a fresh process per run; pages/s = pages stored / the crawl's own seconds.
* baseline, same run, same site: ``httpx.Client().get(url)`` then ``extract_article(response.text)`` for
  each of the first ``--baseline-pages`` sitemap URLs, one after another; pages/s.
* the same comparison again with no latency (``at_latency_0``), so the gain from overlapping waits and
  the gain from extracting on every core can be told apart.
* memory: the crawl at each of ``--sizes`` pages, peak RSS of the crawling process and (separately) of
  its extraction worker processes; ``memory_growth`` = peak RSS at the largest size / at the smallest.

Target: crawl >= 4x the baseline at the default latency.

    python scripts/bench_crawl.py [--pages 2000] [--latency-ms 50] [--baseline-pages 300]
                                  [--sizes 500,1000,2000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_site import RunningSite, data_missing, plan_templates, save_plan  # noqa: E402

TARGET_RATIO = 4.0
MIN_PAGES = 2000


def log(message: str) -> None:
    """Progress for the person running the benchmark; stdout is kept for the JSON."""
    print(message, file=sys.stderr, flush=True)


def _mb(kilobytes: int) -> float:
    return round(kilobytes / 1024, 1)


def _proc_status_mb(field: str) -> float | None:
    """A memory line of /proc/self/status (Linux only), in MB."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"{field}:\s+(\d+) kB", status)
    return _mb(int(found.group(1))) if found else None


def _peak_rss_mb() -> float:
    """Peak RSS of this process since it started its program.

    ru_maxrss would not do: Linux carries the high-water mark of the process image replaced by exec,
    here the benchmark's own process, into the new program's figure.
    """
    peak = _proc_status_mb("VmHWM")
    return peak if peak is not None else _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# ----- one crawl, in its own process ----------------------------------------------------------


def crawl_case(site: str, pages: int, kb_dir: Path, concurrency: int, workers: int | None) -> dict[str, Any]:
    """Crawl the first ``pages`` pages of the site into a fresh KB; figures and peak RSS of this process."""
    from shadowmatch_kb.crawl.articles import ArticleWriter
    from shadowmatch_kb.crawl.run import Crawler, CrawlOptions, start_extraction_workers
    from shadowmatch_kb.crawl.sources import SOURCES_FILE, add_source, new_source
    from shadowmatch_kb.fetch.async_http import FetchOptions
    from shadowmatch_kb.kb import KnowledgeBase
    from shadowmatch_kb.store.frontier import Frontier
    from shadowmatch_kb.store.sqlite import SqliteStore

    # As KnowledgeBase.crawl does: workers first, forked before any file or thread exists.
    extractor = start_extraction_workers(workers)
    kb = KnowledgeBase.open(kb_dir)
    source = new_source("bench", f"{site}/sitemap-{pages}.xml", "sitemap", allow_private=True)
    add_source(kb.config.corpus_dir / SOURCES_FILE, source)
    options = CrawlOptions(
        delay=0.0,
        per_host=concurrency,
        concurrency=concurrency,
        workers=workers,
        fetch=FetchOptions(user_agent=kb.config.user_agent),
    )
    store = SqliteStore(kb.config.store_path)
    try:
        crawler = Crawler(Frontier(store.db), ArticleWriter(store), kb.sources(), options, extractor=extractor)
        rss_before = _proc_status_mb("VmRSS")
        before = resource.getrusage(resource.RUSAGE_SELF)
        report = crawler.run()
        during = resource.getrusage(resource.RUSAGE_SELF)
        stored = store.count()
    finally:
        store.close()
        if extractor is not None:
            # Waiting reaps the workers, so that RUSAGE_CHILDREN covers them.
            extractor.shutdown(wait=True, cancel_futures=True)
    added = report.counts["added"]
    full = report.to_dict()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = {
        "pages": pages,
        "pages_per_s": round(added / report.seconds, 1) if report.seconds else None,
        "seconds": round(report.seconds, 2),
        "added": added,
        "stored_items": stored,
        # URLs fetched, robots.txt and the sitemap included (older reports call it "requests").
        "requests": full.get("fetches", full.get("requests")),
        # The crawl's own CPU time: setting up (imports, the new store) is left out.
        "cpu_s": round(during.ru_utime + during.ru_stime - before.ru_utime - before.ru_stime, 1),
        "children_cpu_s": round(children.ru_utime + children.ru_stime, 1),
        "rss_before_crawl_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
        "children_peak_rss_mb": _mb(children.ru_maxrss),
    }
    if added != pages:
        result["problem"] = {key: full[key] for key in ("counts", "stopped", "remaining", "notes")}
        result["problem"]["failures"] = full["failures"][:10]
        result["problem"]["skipped"] = full["skipped"][:10]
    return result


def run_crawl(site: str, pages: int, work: Path, args: argparse.Namespace, label: str) -> dict[str, Any]:
    """One crawl in a fresh process, so its peak RSS is its own."""
    argv = [sys.executable, __file__, "--case-crawl", site, "--case-pages", str(pages),
            "--case-kb", str(work / f"kb-{label}-{pages}"), "--concurrency", str(args.concurrency)]  # fmt: skip
    if args.workers is not None:
        argv += ["--workers", str(args.workers)]
    done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    if done.returncode != 0:
        raise SystemExit(f"crawl of {pages} pages failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    log(f"  crawl {label} {pages} pages: {result['pages_per_s']} pages/s, added {result['added']}, "
        f"{result['requests']} requests, peak RSS {result['peak_rss_mb']} MB "
        f"(workers {result['children_peak_rss_mb']} MB)")  # fmt: skip
    if "problem" in result:
        log(f"  !! expected {pages} items added, got {result['added']}: {json.dumps(result['problem'])[:1500]}")
    return result


# ----- the baseline ------------------------------------------------------------------------------


def run_baseline(site: str, pages: int, site_pages: int) -> dict[str, Any]:
    """A sequential loop: httpx GET then extract_article, page after page."""
    import httpx

    from shadowmatch_kb.errors import InputError
    from shadowmatch_kb.extract.html import extract_article

    with httpx.Client(timeout=30) as client:
        sitemap = client.get(f"{site}/sitemap-{pages}.xml").text
        urls = re.findall(r"<loc>([^<]+)</loc>", sitemap)
        # One untimed page (outside the measured ones) loads the extractor's lazy state.
        warm = f"{site}/news/{site_pages - 1:05d}.html"
        extract_article(client.get(warm).text, url=warm)
        failed = 0
        start, cpu_start = time.perf_counter(), time.process_time()
        for url in urls:
            response = client.get(url)
            try:
                extract_article(response.text, url=url)
            except InputError:
                failed += 1
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    result: dict[str, Any] = {
        "pages_per_s": round(len(urls) / seconds, 1),
        "pages": len(urls),
        "seconds": round(seconds, 2),
        "cpu_ms_per_page": round(1000 * cpu / max(1, len(urls)), 1),
    }
    if failed:
        result["extraction_failed"] = failed
    log(f"  baseline {len(urls)} pages: {result['pages_per_s']} pages/s")
    return result


# ----- the whole run ------------------------------------------------------------------------------


def _ratio(crawl: dict[str, Any], baseline: dict[str, Any]) -> float | None:
    if not crawl.get("pages_per_s") or not baseline.get("pages_per_s"):
        return None
    return round(crawl["pages_per_s"] / baseline["pages_per_s"], 2)


def _cpu_ms_per_page(run: dict[str, Any]) -> dict[str, float]:
    pages = max(1, run["added"])
    return {
        "crawl_process": round(1000 * run["cpu_s"] / pages, 1),
        "extraction_workers": round(1000 * run["children_cpu_s"] / pages, 1),
    }


def _growth(smallest: dict[str, Any], largest: dict[str, Any], key: str) -> float | None:
    return round(largest[key] / smallest[key], 3) if smallest[key] else None


def _measure_at(
    latency_ms: float, plan: Path, site_pages: int, sizes: list[int], work: Path, args: argparse.Namespace
) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The baseline, then the crawl at every size, against one site: (baseline, crawl by size)."""
    label = f"{latency_ms:g}ms"
    log(f"latency {label}:")
    with RunningSite(plan, site_pages, latency_ms) as site:
        baseline = run_baseline(site.url, args.baseline_pages, site_pages)
        crawls = {n: run_crawl(site.url, n, work, args, label) for n in sizes}
        site_cpu = site.cpu_seconds()
    if site_cpu is not None:
        baseline["site_cpu_s"] = round(site_cpu, 1)
    return baseline, crawls


def bench(args: argparse.Namespace, sizes: list[int]) -> dict[str, Any]:
    """Every measurement of one run, as the JSON report."""
    site_pages = max(args.pages, *sizes)
    cores = os.cpu_count() or 1
    load_start = os.getloadavg()
    started = time.perf_counter()
    log(f"planning pages from the real ones ({cores} processes) ...")
    templates, left_out = plan_templates(cores)
    log(f"  {len(templates)} real pages used, {len(left_out)} left out ({time.perf_counter() - started:.1f} s)")
    with tempfile.TemporaryDirectory(prefix="smkb-bench-crawl-") as tmp:
        work = Path(tmp)
        plan = work / "plan.json"
        save_plan(templates, plan)
        headline_sizes = sorted({*sizes, args.pages})
        baseline, by_size = _measure_at(args.latency_ms, plan, site_pages, headline_sizes, work, args)
        if args.latency_ms:
            baseline_0, by_size_0 = _measure_at(0, plan, site_pages, [args.pages], work, args)
        else:
            baseline_0, by_size_0 = baseline, by_size
    crawl, crawl_0 = by_size[args.pages], by_size_0[args.pages]
    memory = [by_size[n] for n in sizes]
    smallest, largest = memory[0], memory[-1]
    every_crawl = [*by_size.values(), crawl_0] if args.latency_ms else list(by_size.values())
    ratio = _ratio(crawl, baseline)
    crawl_cpu = _cpu_ms_per_page(crawl)
    # If every core did nothing but this crawl's work, it could go no faster than this.
    ceiling = 1000 * cores / (crawl_cpu["crawl_process"] + crawl_cpu["extraction_workers"])
    load_end = os.getloadavg()
    return {
        "pages": args.pages,
        "latency_ms": args.latency_ms,
        "crawl": {
            **{key: crawl[key] for key in ("pages_per_s", "seconds", "added", "requests", "stored_items")},
            "cpu_ms_per_page": crawl_cpu,
        },
        "baseline": baseline,
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "target_met": (ratio or 0) >= TARGET_RATIO,
        "cpu_bound_ceiling": {
            "pages_per_s": round(ceiling, 1),
            "ratio": round(ceiling / baseline["pages_per_s"], 2),
        },
        "at_latency_0": {
            "crawl_pages_per_s": crawl_0["pages_per_s"],
            "crawl_seconds": crawl_0["seconds"],
            "added": crawl_0["added"],
            "crawl_cpu_ms_per_page": _cpu_ms_per_page(crawl_0),
            "baseline_pages_per_s": baseline_0["pages_per_s"],
            "baseline_cpu_ms_per_page": baseline_0["cpu_ms_per_page"],
            "ratio": _ratio(crawl_0, baseline_0),
        },
        "memory": [
            {
                key: run[key]
                for key in (
                    "pages",
                    "rss_before_crawl_mb",
                    "peak_rss_mb",
                    "children_peak_rss_mb",
                    "pages_per_s",
                    "added",
                )
            }
            for run in memory
        ],
        "memory_growth": _growth(smallest, largest, "peak_rss_mb"),
        "children_memory_growth": _growth(smallest, largest, "children_peak_rss_mb"),
        "all_pages_stored": all(run["added"] == run["pages"] for run in every_crawl),
        "problems": [{"pages": run["pages"], **run["problem"]} for run in every_crawl if "problem" in run],
        "cores": cores,
        # The start is before this benchmark's own work; the end includes it.
        "loadavg": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in load_end]},
        "crawl_options": {
            "concurrency": args.concurrency,
            "per_host": args.concurrency,
            "delay": 0.0,
            "extraction_workers": args.workers if args.workers is not None else "one per core, up to 4",
        },
        "real_pages_used": len(templates),
        "real_pages_left_out": left_out,
        "seconds_total": round(time.perf_counter() - started, 1),
        "notes": _notes(args, cores, load_start),
    }


def _notes(args: argparse.Namespace, cores: int, load_start: tuple[float, ...]) -> list[str]:
    notes = [
        f"assumption: the target is judged at {args.latency_ms:g} ms per response, the round trip to a typical "
        "distant web server; with no latency (at_latency_0) only extraction on several cores can help",
        "the site runs in its own process on the same machine; its CPU time is in baseline.site_cpu_s",
        "crawl figures exclude the embedding step that `smkb crawl` runs after storing; they include robots.txt, "
        "the sitemap, extraction, language guess, near-duplicate fingerprints, raw-page compression and SQLite writes",
        f"the baseline fetches and extracts only (stores nothing), on the first {args.baseline_pages} pages",
        "pages built from the same real page differ by one short paragraph, so the crawler stores all of them "
        "but links all but the first as near-duplicates (duplicate_of), a path a real site takes less often",
        "cpu_bound_ceiling: pages/s if all cores ran nothing but the crawl at its measured CPU cost per page",
        "peak RSS: VmHWM of the crawling process (rss_before_crawl_mb: its RSS once set up, before crawling); "
        "children: the largest extraction worker's ru_maxrss, pages shared with the crawling process included",
    ]
    if load_start[0] > cores / 2:
        notes.append(
            f"other work was running when this benchmark started (1-minute load average {load_start[0]:.1f} on "
            f"{cores} cores): its figures may be lower and noisier than on an idle machine"
        )
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=MIN_PAGES, help=f"pages of the headline crawl (>= {MIN_PAGES})")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="delay of every response (default 50)")
    parser.add_argument("--baseline-pages", type=int, default=300, help="pages of the sequential baseline")
    parser.add_argument("--sizes", default="500,1000,2000", help="crawl sizes of the memory check, comma-separated")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight, also per host (as smkb crawl)")
    parser.add_argument("--workers", type=int, help="extraction processes (default: one per core, up to 4)")
    parser.add_argument("--case-crawl", help=argparse.SUPPRESS)  # site URL: run one crawl, print its JSON
    parser.add_argument("--case-pages", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--case-kb", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case_crawl:
        print(json.dumps(crawl_case(args.case_crawl, args.case_pages, args.case_kb, args.concurrency, args.workers)))
        return
    missing = data_missing()
    if missing:
        log(f"bench_crawl: {missing}; this benchmark needs the real pages in ../shared/data")
        print(json.dumps({"skipped": missing}))
        raise SystemExit(1)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    if args.pages < MIN_PAGES:
        parser.error(f"--pages must be at least {MIN_PAGES}")
    if not sizes or args.baseline_pages < 1:
        parser.error("--sizes and --baseline-pages need at least one page")
    report = bench(args, sizes)
    print(json.dumps(report, indent=2))
    if not report["all_pages_stored"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
