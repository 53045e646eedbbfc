"""Article-extraction quality of the project's import path, on real benchmark pages.

Prints one JSON document (progress goes to stderr):

* ``zyte``: article-body precision, recall and F1 on the 181 pages of scrapinghub's
  article-extraction-benchmark, scored with that benchmark's rule (written anew here): text is split
  into ``\\w+`` tokens, case kept (the benchmark compiles its pattern with IGNORECASE, which does not
  lowercase what it finds); a page's shingles are its token 4-grams (a text of 1-3 tokens is one
  shingle); the multisets of truth and prediction give TP/FP/FN, divided by their sum so that every
  page weighs the same; precision is averaged over pages with TP+FP > 0, recall over pages with
  TP+FN > 0, and F1 comes from the two averages. A page the import rejects is an empty prediction:
  as in the benchmark it drops out of the precision average and counts 0 for recall. It is listed
  under ``failed``. Beside it, measured in the same run: an all-text baseline (every text node of
  ``<body>`` outside script/style), ``trafilatura.extract`` with default settings and as the benchmark
  runs it (``include_comments=False``, the configuration behind the published trafilatura row), and
  the published figures read from ``PUBLISHED_FIGURES.md``.
* ``newspaper4k``: title, author and date accuracy against the metadata JSON of that project's test
  pages, and body scores with the same metric against its expected texts.
* ``trafilatura_eval``: trafilatura's own 990-page evaluation set (mostly German), scored with its rule
  (written anew here): per page, each must-contain snippet found in the text (a substring match after
  collapsing whitespace on both sides) is a true positive, each one missing a false negative; each
  must-not-contain snippet found is a false positive, each one absent a true negative; the counts are
  summed over pages and F1 is 2TP / (2TP + FP + FN). A page that gives no text counts as that runner
  counts a failure: every snippet missing. Beside it, in the same run, trafilatura called as its
  evaluation runner calls it ("fallback": the raw bytes, ``fast=False``, no comments, tables kept, no
  formatting), on all pages and on the pages our import accepts, and the floor its CI pins. A third
  figure counts the pages the crawler would skip as too short (``MIN_ARTICLE_WORDS``) as empty.

Each page goes through ``shadowmatch_kb.ingest.readers.read_input`` as a ``<id>.html`` file, which is
what ``smkb ingest`` does with an HTML file.

    python scripts/eval_extraction.py [--sets zyte,newspaper4k,trafilatura_eval] [--workers 2] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shadowmatch_kb.model import Item

REPO = Path(__file__).resolve().parents[1]
EXTRACTION = REPO.parent / "shared" / "data" / "extraction"
ZYTE = EXTRACTION / "zyte"
NEWSPAPER = EXTRACTION / "newspaper4k"
TRAFILATURA_EVAL = EXTRACTION / "trafilatura_eval"
PUBLISHED = EXTRACTION / "PUBLISHED_FIGURES.md"
NGRAM = 4
_TOKEN = re.compile(r"\w+")

Counts = tuple[float, float, float]
Segments = tuple[int, int, int, int]  # TP, FP, FN, TN of must-contain / must-not-contain snippets
SETS = ("zyte", "newspaper4k", "trafilatura_eval")


def log(message: str) -> None:
    """Progress for the person running the script; stdout is kept for the JSON."""
    print(message, file=sys.stderr, flush=True)


# ----- the benchmark's metric ---------------------------------------------------------------------


def shingles(text: str) -> Counter[tuple[str, ...]]:
    """The multiset of token 4-grams of a text; a text shorter than 4 tokens is one shingle."""
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    return Counter(tuple(tokens[i : i + NGRAM]) for i in range(max(1, len(tokens) - NGRAM + 1)))


def page_counts(truth: str, prediction: str) -> Counts:
    """TP, FP and FN of one page over shingles, divided by their sum so long pages weigh no more."""
    expected, found = shingles(truth), shingles(prediction)
    tp = float(sum((expected & found).values()))
    fp = float(sum((found - expected).values()))
    fn = float(sum((expected - found).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _ratio(part: float, other: float, rest: float) -> float:
    # The benchmark's convention: nothing wrong at all is a perfect score.
    return 1.0 if other == rest == 0 else part / (part + other)


def score(pages: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Precision and recall averaged over pages, F1 from those averages, and exact-token accuracy."""
    counts, exact = [], []
    for truth, prediction in pages:
        counts.append(page_counts(truth, prediction))
        exact.append(float(_TOKEN.findall(truth or "") == _TOKEN.findall(prediction or "")))
    precisions = [_ratio(tp, fp, fn) for tp, fp, fn in counts if tp + fp > 0]
    recalls = [_ratio(tp, fn, fp) for tp, fp, fn in counts if tp + fn > 0]
    precision = statistics.fmean(precisions) if precisions else 0.0
    recall = statistics.fmean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "pages": len(counts),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "accuracy": round(statistics.fmean(exact), 4) if exact else 0.0,
    }


# ----- extractors ---------------------------------------------------------------------------------


def import_page(workdir: Path, name: str, content: bytes) -> tuple[Item | None, str | None]:
    """The item ``smkb ingest`` would build from this page as ``<name>.html``, or why it failed."""
    from shadowmatch_kb.errors import ShadowmatchError
    from shadowmatch_kb.ingest.readers import read_input

    path = workdir / f"{name}.html"
    path.write_bytes(content)
    try:
        return read_input(str(path)).item, None
    except ShadowmatchError as exc:  # the reason alone: the temporary path would only vary between runs
        return None, getattr(exc, "reason", None) or str(exc)
    except Exception as exc:  # a crash is a failed import too, but one to look into: keep its type
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        path.unlink()


def all_text(html: str) -> str:
    """Every text node under <body> outside script and style, space-joined (the 'all text' row)."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except Exception:  # lxml refuses a few odd documents; an empty prediction is the honest answer
        return ""
    bodies = root.xpath("//body")
    nodes = (bodies[0] if bodies else root).xpath(".//text()[not(ancestor::script or ancestor::style)]")
    # Joined with spaces: text_content() would glue the last word of one block to the next block's first.
    return " ".join(" ".join(str(node) for node in nodes).split())


def trafilatura_default(html: str) -> str:
    """Plain ``trafilatura.extract`` with its default settings."""
    import trafilatura

    return trafilatura.extract(html) or ""


def trafilatura_as_benchmarked(html: str) -> str:
    """``trafilatura.extract`` as the benchmark's runner calls it (comments left out)."""
    import trafilatura

    return trafilatura.extract(html, include_comments=False) or ""


def published_figures() -> dict[str, dict[str, Any]]:
    """The Zyte results table of PUBLISHED_FIGURES.md: tool -> version, f1, precision, recall."""
    section = PUBLISHED.read_text(encoding="utf-8").split("## 2.")[0]
    figures: dict[str, dict[str, Any]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not re.match(r"^\d\.\d+", cells[2]):
            continue
        f1, precision, recall = (float(cell.split()[0]) for cell in cells[2:5])
        figures[cells[0]] = {"version": cells[1], "f1": f1, "precision": precision, "recall": recall}
    return figures


# ----- the two data sets --------------------------------------------------------------------------


def eval_zyte(workdir: Path) -> dict[str, Any]:
    """The project's import path, two baselines and the published figures on the Zyte pages."""
    truth = json.loads((ZYTE / "ground-truth.json").read_text(encoding="utf-8"))
    project: list[tuple[str, str]] = []
    extractors: dict[str, Callable[[str], str]] = {
        "all_text": all_text,
        "trafilatura_default": trafilatura_default,
        "trafilatura_as_benchmarked": trafilatura_as_benchmarked,
    }
    baselines: dict[str, list[tuple[str, str]]] = {name: [] for name in extractors}
    failed: list[dict[str, str]] = []
    seconds = dict.fromkeys(["import", *extractors], 0.0)
    for number, page_id in enumerate(sorted(truth), 1):
        content = gzip.decompress((ZYTE / "html" / f"{page_id}.html.gz").read_bytes())
        expected = truth[page_id].get("articleBody") or ""
        start = time.perf_counter()
        item, reason = import_page(workdir, page_id, content)
        seconds["import"] += time.perf_counter() - start
        if item is None:
            failed.append({"id": page_id, "reason": reason or ""})
        project.append((expected, item.text if item else ""))
        html = content.decode("utf-8", errors="replace")  # the benchmark's runners read the pages as UTF-8
        for name, extract in extractors.items():
            start = time.perf_counter()
            baselines[name].append((expected, extract(html)))
            seconds[name] += time.perf_counter() - start
        if number % 20 == 0 or number == len(truth):
            log(f"zyte: {number}/{len(truth)} pages, {len(failed)} failed")
    result = score(project)
    published = published_figures()
    for name, pages in baselines.items():
        baseline = score(pages)
        baseline["ratio_f1_project_vs_this"] = round(result["f1"] / baseline["f1"], 4) if baseline["f1"] else None
        result[f"baseline_{name}"] = baseline
    result["failed"] = failed
    result["published"] = published
    anchor = published.get("trafilatura", {}).get("f1")
    result["ratio_f1_vs_trafilatura_published"] = round(result["f1"] / anchor, 4) if anchor else None
    result["seconds"] = {name: round(value, 1) for name, value in seconds.items()}
    return result


def _norm(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def eval_newspaper(workdir: Path) -> dict[str, Any]:
    """Title, author and date accuracy against the metadata JSON, and body scores against the texts."""
    checks: dict[str, list[bool]] = {"title_exact": [], "title_lenient": [], "author": [], "date": []}
    misses: list[dict[str, Any]] = []
    bodies: list[tuple[str, str]] = []
    failed: list[dict[str, str]] = []
    for page in sorted(NEWSPAPER.glob("html/*.html.gz")):
        name = page.name.removesuffix(".html.gz")
        item, reason = import_page(workdir, name, gzip.decompress(page.read_bytes()))
        if item is None:
            failed.append({"id": name, "reason": reason or ""})
        text_path = NEWSPAPER / "txt" / f"{name}.txt"
        if text_path.exists():
            bodies.append((text_path.read_text(encoding="utf-8"), item.text if item else ""))
        meta_path = NEWSPAPER / "metadata" / f"{name}.json"
        if not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        got = {"title": item.title, "author": item.author, "date": item.published} if item else {}
        expected = {"title": meta.get("title"), "authors": meta.get("authors"), "date": meta.get("publish_date")}
        got_title, got_author = _norm(got.get("title")), _norm(got.get("author"))
        found: dict[str, bool] = {}
        if title := _norm(expected["title"]):
            found["title_exact"] = got_title == title
            found["title_lenient"] = bool(got_title) and (got_title in title or title in got_title)
        if authors := [_norm(a) for a in expected["authors"] or [] if _norm(a)]:
            found["author"] = bool(got_author) and any(a in got_author for a in authors)
        if expected["date"]:
            found["date"] = (got.get("date") or "")[:10] == str(expected["date"])[:10]
        for key, ok in found.items():
            checks[key].append(ok)
        if not all(found.values()):
            wrong = sorted(key for key, ok in found.items() if not ok)
            misses.append({"id": name, "wrong": wrong, "expected": expected, "got": got})
        log(f"newspaper4k: {name}")
    result: dict[str, Any] = {"pages": len(list(NEWSPAPER.glob("html/*.html.gz")))}
    for key, values in checks.items():
        correct = sum(1 for ok in values if ok)
        accuracy = round(correct / len(values), 4) if values else None
        result[key] = {"pages": len(values), "correct": correct, "accuracy": accuracy}
    result["body"] = score(bodies)
    result["failed"] = failed
    result["metadata_misses"] = misses
    return result


# ----- trafilatura's evaluation set -----------------------------------------------------------------


def _collapse(text: str) -> str:
    return " ".join(text.split())


def segment_counts(item: dict[str, Any], text: str | None) -> Segments:
    """TP, FP, FN, TN of one page's snippets; no text at all misses every snippet, as the runner counts it."""
    if text is None:
        return 0, 0, len(item["with"]), len(item["without"])
    found = _collapse(text)
    tp = sum(1 for snippet in item["with"] if _collapse(snippet) in found)
    fp = sum(1 for snippet in item["without"] if _collapse(snippet) in found)
    return tp, fp, len(item["with"]) - tp, len(item["without"]) - fp


def segment_scores(counts: Iterable[Segments]) -> dict[str, Any]:
    """Precision, recall, accuracy and F1 over snippet counts summed across pages."""
    tp = fp = fn = tn = pages = 0
    for page_tp, page_fp, page_fn, page_tn in counts:
        tp, fp, fn, tn, pages = tp + page_tp, fp + page_fp, fn + page_fn, tn + page_tn, pages + 1
    total = tp + fp + fn + tn
    return {
        "pages": pages,
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "accuracy": round((tp + tn) / total, 4) if total else 0.0,
        "f1": round(2 * tp / (2 * tp + fp + fn), 4) if 2 * tp + fp + fn else 0.0,
    }


def trafilatura_as_its_runner(content: bytes) -> str | None:
    """``trafilatura.extract`` as trafilatura's own evaluation runs it ("fallback"), on the raw bytes."""
    import trafilatura

    try:
        return trafilatura.extract(
            content, fast=False, include_comments=False, include_tables=True, include_formatting=False
        )
    except Exception:  # the runner counts a crash as a page with no text
        return None


def _trafilatura_page(job: tuple[int, str, str]) -> dict[str, Any]:
    """Both extractors on one page of the set (run in a worker process)."""
    number, file_name, workdir = job
    content = gzip.decompress((TRAFILATURA_EVAL / "html" / f"{file_name}.gz").read_bytes())
    start = time.perf_counter()
    item, reason = import_page(Path(workdir), f"page{number}", content)
    middle = time.perf_counter()
    baseline = trafilatura_as_its_runner(content)
    end = time.perf_counter()
    return {
        "text": item.text if item else None,
        "reason": reason,
        "baseline": baseline,
        "seconds": (middle - start, end - middle),
    }


def eval_trafilatura_set(workdir: Path, workers: int, limit: int | None = None) -> dict[str, Any]:
    """The project's import path and trafilatura as its runner calls it, on trafilatura's 990 pages."""
    evaldata: dict[str, dict[str, Any]] = json.loads((TRAFILATURA_EVAL / "evaldata.json").read_text(encoding="utf-8"))
    items = list(evaldata.items())[:limit]
    jobs = [(number, item["file"], str(workdir)) for number, (_, item) in enumerate(items)]
    from shadowmatch_kb.extract.html import MIN_ARTICLE_WORDS

    project, project_kept, baseline, baseline_kept, crawled = [], [], [], [], []
    failed: list[dict[str, str]] = []
    short = 0
    seconds = [0.0, 0.0]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for number, ((url, item), page) in enumerate(zip(items, pool.map(_trafilatura_page, jobs), strict=True), 1):
            project.append(segment_counts(item, page["text"]))
            # The crawler skips a main text under MIN_ARTICLE_WORDS words as "not an article".
            too_short = page["text"] is None or len(_TOKEN.findall(page["text"])) < MIN_ARTICLE_WORDS
            short += too_short
            crawled.append(segment_counts(item, None if too_short else page["text"]))
            baseline.append(segment_counts(item, page["baseline"]))
            if page["text"] is None:
                failed.append({"url": url, "file": item["file"], "reason": page["reason"] or ""})
            else:
                project_kept.append(project[-1])
                baseline_kept.append(baseline[-1])
            seconds[0] += page["seconds"][0]
            seconds[1] += page["seconds"][1]
            if number % 100 == 0 or number == len(items):
                log(f"trafilatura_eval: {number}/{len(items)} pages, {len(failed)} skipped by the import")
    result = segment_scores(project)  # skipped pages count as empty, as the runner counts failures
    mine, theirs = result["f1"], segment_scores(baseline)
    result["baseline_trafilatura_fallback"] = theirs
    result["ratio_f1_project_vs_baseline"] = round(mine / theirs["f1"], 4) if theirs["f1"] else None
    kept, kept_theirs = segment_scores(project_kept), segment_scores(baseline_kept)
    kept["baseline_trafilatura_fallback_same_pages"] = kept_theirs
    kept["ratio_f1_project_vs_baseline"] = round(kept["f1"] / kept_theirs["f1"], 4) if kept_theirs["f1"] else None
    result["imported_pages_only"] = kept
    as_crawled = segment_scores(crawled)
    as_crawled["short_pages"] = short
    as_crawled["ratio_f1_project_vs_baseline"] = round(as_crawled["f1"] / theirs["f1"], 4) if theirs["f1"] else None
    result[f"short_pages_as_empty_under_{MIN_ARTICLE_WORDS}_words"] = as_crawled
    floors = json.loads((TRAFILATURA_EVAL / "eval_baseline.json").read_text(encoding="utf-8"))["floors"]
    result["published_ci_floor_f1"] = floors  # trafilatura's own pinned floors, another version
    result["trafilatura_version"] = _trafilatura_version()
    result["failed"] = failed
    result["seconds"] = {"import": round(seconds[0], 1), "trafilatura_fallback": round(seconds[1], 1)}
    return result


def _trafilatura_version() -> str:
    import trafilatura

    return str(getattr(trafilatura, "__version__", "unknown"))


def main() -> None:
    """Run the chosen evaluations and print the JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for trafilatura_eval")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages of trafilatura_eval (a trial)")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.sets.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SETS]
    if unknown:
        parser.error(f"unknown set(s): {', '.join(unknown)}")
    needed = {
        "zyte": [ZYTE / "ground-truth.json", ZYTE / "html", PUBLISHED],
        "newspaper4k": [NEWSPAPER / "html"],
        "trafilatura_eval": [TRAFILATURA_EVAL / "evaldata.json", TRAFILATURA_EVAL / "html"],
    }
    missing = [str(path) for name in chosen for path in needed[name] if not path.exists()]
    if missing:
        print(json.dumps({"skipped": f"shared data not found: {', '.join(missing)}"}))
        return
    start = time.perf_counter()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="smkb-eval-") as tmp:
        workdir = Path(tmp)
        if "zyte" in chosen:
            report["zyte"] = eval_zyte(workdir)
        if "newspaper4k" in chosen:
            report["newspaper4k"] = eval_newspaper(workdir)
        if "trafilatura_eval" in chosen:
            report["trafilatura_eval"] = eval_trafilatura_set(workdir, max(1, args.workers), args.limit)
    report["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
