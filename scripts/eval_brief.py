"""Whether a mentor's question finds what the knowledge base holds on their job: search, briefing, occupation.

The labelled set is ``scripts/eval_brief_set.json``, written for this evaluation before any tuning, by people
who had not seen the code: questions worded the way workers talk (a detail of their day, everyday words),
one per occupation, each with graded relevance over the real Signals posts of ../shared/data/signals_posts
and the bundled demo corpus (2 = about this occupation or its tasks, 1 = its sector or close work, else 0),
and the ISCO-08 groups the question means. Job descriptions for the occupation check are in
``scripts/eval_occupation_jobs.json``. Each set is split into a development part (tuned on) and a test part
(never tuned on); every figure is reported for both.

All items are imported into a temporary knowledge base with the real ``ingest``, the public occupation
datasets with the real ``occupations import``; then, for every question:

* nDCG@10 and precision@5 (grade >= 1) of the project's search (``smkb search``) and of the briefing's
  cited sources, against three baselines from the same run: plain BM25 (every word OR-ed, k1 1.2, b 0.75,
  Porter stemming; ``_eval_rankings.PlainBM25``), the bundled model's dense ranking, and their
  reciprocal-rank fusion (target: nDCG@10 >= 1.3x the best baseline);
* the share of cited sources with grade >= 1 (target >= 0.85);
* briefings that cite no item (and so say the knowledge base holds nothing) while a relevant item exists
  (target 0);
* the share of the briefing's signals graded on the person's work (>= 1) in ``eval_brief_signal_labels.json``
  (graded blind; a signal shown that was not graded is counted apart, as unlabelled);
* what the briefing would score if it cited the first k items search lists (k = 1 to 6, and 10), its nDCG@10 and
  the share of them with grade >= 1: both targets above are met only where one k meets both, and this shows
  whether any does;
* the occupation named by the briefing itself (top-1 in the labelled groups; target >= 0.9 on the job
  descriptions), and again when the person, not finding theirs, types their job title (``--occupation``, the
  web page's "Not your job?" form: the set's own name of the occupation); and the pages the printed briefing
  takes (A4, headless chromium, target <= 2).

Prints one JSON document. Usage: python scripts/eval_brief.py [--keep DIR|URL] [--no-pages]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
QUESTIONS = Path(__file__).with_name("eval_brief_set.json")
SIGNAL_LABELS = Path(__file__).with_name("eval_brief_signal_labels.json")
CHROMIUM = Path("/usr/bin/chromium")
DEPTH = 200
TARGET_RATIO = 1.3
FIRST_K = (1, 2, 3, 4, 5, 6, 10)  # prefixes of search's list: what citing that many would score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _eval_rankings import PlainBM25, ndcg_at, precision_at, rrf  # noqa: E402
from eval_occupations import JOBS  # noqa: E402  (the job descriptions, both sets)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep",
        help="Build the knowledge base here and keep it (reused when present): a folder, or a postgresql:// URL "
        "to measure a knowledge base in Postgres (its working folder: SMKB_WORKDIR).",
    )
    parser.add_argument("--no-pages", action="store_true", help="Do not print the briefings to PDF.")
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    parser.add_argument(
        "--show", action="store_true", help="Add each development question's and job's figures to the report."
    )
    args = parser.parse_args()
    if not (SHARED_DATA / "signals_posts").is_dir() or not (SHARED_DATA / "occupations").is_dir():
        print(json.dumps({"skipped": f"{SHARED_DATA} lacks signals_posts/ or occupations/"}))
        return 0
    sys.path.insert(0, str(REPO))
    from shadowmatch_kb.kb import KnowledgeBase

    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    jobs = [job for path in JOBS if path.is_file() for job in json.loads(path.read_text(encoding="utf-8"))["jobs"]]
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    with tempfile.TemporaryDirectory() as scratch:
        kb_dir = args.keep or Path(scratch) / "kb"
        kb = KnowledgeBase.open(kb_dir)
        started = time.perf_counter()
        ids_by_key = _import(kb)
        import_seconds = time.perf_counter() - started
        bm25 = PlainBM25((item.id, f"{item.title}\n{item.summary}\n{item.text}") for item in kb.iter_all())
        signal_grades = _signal_grades(kb, ids_by_key)
        kb.brief("warm-up question about nurses")  # loads the model, the matcher and the caches once
        printer = None if args.no_pages else _Printer.start()
        try:
            rows = [
                _question(kb, bm25, q, ids_by_key, printer, signal_grades) for q in questions if q["split"] in splits
            ]
        finally:
            if printer is not None:
                printer.close()
        job_rows = [_job(kb, job) for job in jobs if job["split"] in splits]
        kb.close()
    report: dict[str, Any] = {
        "items": len(set(ids_by_key.values())),
        "import_seconds": round(import_seconds, 1),
        "targets": {
            "ndcg_at_10_ratio_vs_best_baseline": TARGET_RATIO,
            "cited_sources_relevant": 0.85,
            "wrongly_holds_nothing": 0,
            "occupation_top1_jobs": 0.9,
            "max_pages": 2,
        },
    }
    for split in splits:
        report[split] = _summary([r for r in rows if r["split"] == split], [j for j in job_rows if j["split"] == split])
    if args.show:  # the test part's items stay unseen: only its totals are printed, so nobody tunes on them
        report["per_question"] = [r for r in rows if r["split"] == "dev"]
        report["per_job"] = [j for j in job_rows if j["split"] == "dev"]
    print(json.dumps(report, indent=2))
    return 0


def _import(kb: Any) -> dict[str, str]:
    """Import the demo corpus, the real posts and the occupation datasets; label keys to item ids."""
    inputs = {f"corpus/demo/{p.name}": p for p in sorted((REPO / "corpus" / "demo").glob("*.md"))}
    inputs |= {f"signals_posts/{p.name}": p for p in sorted((SHARED_DATA / "signals_posts").glob("*.md"))}
    variants = sorted((SHARED_DATA / "signals_posts" / "older_variant").glob("*.md"))
    results = kb.ingest([str(p) for p in [*inputs.values(), *variants]])
    by_input = {Path(r.input).resolve(): r.id for r in results if r.id}
    kb.import_occupations([str(p) for p in sorted((SHARED_DATA / "occupations").iterdir()) if p.is_dir()])
    ids = {key: by_input[path.resolve()] for key, path in inputs.items() if path.resolve() in by_input}
    originals = {item.id: item.duplicate_of for item in kb.iter_all() if item.duplicate_of}
    return {key: originals.get(item_id, item_id) for key, item_id in ids.items()}


def _signal_grades(kb: Any, ids: dict[str, str]) -> dict[tuple[str, str, str], int]:
    """(question, item counted, the row's text) -> its blind grade, from ``eval_brief_signal_labels.json``."""
    from shadowmatch_kb.model import row_text

    originals = _originals(kb)
    grades: dict[tuple[str, str, str], int] = {}
    for label in json.loads(SIGNAL_LABELS.read_text(encoding="utf-8"))["rows"]:
        item = kb.get(ids[label["item"]])  # the row is counted for the item its page counts as
        text = row_text(item.signals[label["row"]])
        grades[(label["question"], originals.get(item.id, item.id), text)] = label["grade"]
    return grades


def _signal_counts(kb: Any, briefing: Any, question: str, grades: dict[tuple[str, str, str], int]) -> dict[str, int]:
    """How many signals the briefing shows, how many are graded on the person's work, how many were not graded."""
    from shadowmatch_kb.model import Signal, row_text

    originals = _originals(kb)
    on_work = unlabelled = 0
    for signal in briefing.signals:
        text = row_text(Signal(signal.signal, signal.change))
        found = [grades.get((question, originals.get(i, i), text)) for i in signal.sources]
        known = [g for g in found if g is not None]
        on_work += bool(known) and max(known) >= 1
        unlabelled += not known
    return {"shown": len(briefing.signals), "on_work": on_work, "unlabelled": unlabelled}


def _question(
    kb: Any,
    bm25: PlainBM25,
    q: dict[str, Any],
    ids: dict[str, str],
    printer: Any,
    signal_grades: dict[tuple[str, str, str], int],
) -> dict[str, Any]:
    originals = _originals(kb)
    grades: dict[str, int] = {}
    for key, grade in q["grades"].items():
        counted = originals.get(ids[key], ids[key])
        grades[counted] = max(grade, grades.get(counted, 0))
    text = q["question"]
    closeness = kb.searcher().closest(text, DEPTH)[0]  # the model's own ranking of the question as asked
    dense = _unique(originals.get(i, i) for i in sorted(closeness, key=lambda i: -closeness[i]))
    plain = _unique(originals.get(i, i) for i in bm25.rank(text, DEPTH))
    rankings = {
        "search": _unique(originals.get(r.id, r.id) for r in kb.search(text, k=10)),
        "bm25": plain,
        "dense": dense,
        "bm25_dense_rrf": rrf([plain, dense]),
    }
    started = time.perf_counter()
    briefing = kb.brief(text)
    seconds = time.perf_counter() - started
    cited = _unique(originals.get(s.id, s.id) for s in briefing.sources)
    rankings["brief_sources"] = cited
    relevant = sum(g >= 1 for g in grades.values())
    says_nothing = not briefing.sources  # judged on the page: items found but none shown would say nothing too
    top = briefing.occupations[0]["isco"] if briefing.occupations else None
    row: dict[str, Any] = {
        "split": q["split"],
        "occupation": q["occupation"],
        "question": text,
        "relevant_items": relevant,
        "ndcg_at_10": {n: round(ndcg_at(r, grades), 3) for n, r in rankings.items()} if relevant else None,
        "precision_at_5": {n: precision_at(r, grades) for n, r in rankings.items()} if relevant else None,
        "search_first_k": {k: _first_k(rankings["search"][:k], grades, relevant > 0) for k in FIRST_K},
        "cited": len(cited),
        "cited_relevant": sum(grades.get(i, 0) >= 1 for i in cited),
        "wrongly_holds_nothing": says_nothing and relevant > 0,
        "signals": _signal_counts(kb, briefing, text, signal_grades),
        "occupation_named": top,
        "occupation_right": top in q["isco"],
        "occupation_right_given_title": _named_given_title(kb, text, q) in q["isco"],
        "brief_seconds": round(seconds, 3),
    }
    if printer is not None:
        from shadowmatch_kb.brief.render import to_html

        row["pages"] = printer.pages(to_html(briefing))
    return row


def _first_k(first: list[str], grades: dict[str, int], graded: bool) -> dict[str, Any]:
    """nDCG@10 of citing ``first`` (None for a question with no relevant item), and how many of them are relevant."""
    found = sum(grades.get(i, 0) >= 1 for i in first)
    return {"ndcg": ndcg_at(first, grades) if graded else None, "listed": len(first), "relevant": found}


def _job(kb: Any, job: dict[str, Any]) -> dict[str, Any]:
    briefing = kb.brief(job["description"])
    named = [o["isco"] for o in [*briefing.occupations, *briefing.alternatives]]
    return {
        "split": job["split"],
        "occupation": job["occupation"],
        "named": named[:1],
        "top1": bool(named) and named[0] in job["isco"],
        "top3": any(code in job["isco"] for code in named[:3]),
        "top1_given_title": _named_given_title(kb, job["description"], job) in job["isco"],
    }


def _named_given_title(kb: Any, text: str, labelled: dict[str, Any]) -> str | None:
    """The occupation a briefing names when the person, not finding theirs, types their job title: the set's own
    name of the occupation, as its writer put it ("forklift driver", "care worker in a care home for the elderly")."""
    briefing = kb.brief(text, occupation=labelled["occupation"])
    return briefing.occupations[0]["isco"] if briefing.occupations else None


def _summary(rows: list[dict[str, Any]], jobs: list[dict[str, Any]]) -> dict[str, Any]:
    graded = [r for r in rows if r["ndcg_at_10"] is not None]
    names = ["search", "brief_sources", "bm25", "dense", "bm25_dense_rrf"]
    ndcg = {n: round(statistics.mean(r["ndcg_at_10"][n] for r in graded), 3) for n in names} if graded else {}
    p5 = {n: round(statistics.mean(r["precision_at_5"][n] for r in graded), 3) for n in names} if graded else {}
    best = max(("bm25", "dense", "bm25_dense_rrf"), key=lambda n: ndcg.get(n, 0.0))
    cited = sum(r["cited"] for r in rows)
    signals = {key: sum(r["signals"][key] for r in rows) for key in ("shown", "on_work", "unlabelled")}
    summary: dict[str, Any] = {
        "questions": len(rows),
        "questions_with_relevant_items": len(graded),
        "occupations": len({r["occupation"] for r in rows}),
        "ndcg_at_10": ndcg,
        "precision_at_5": p5,
        "best_baseline": best,
        "ndcg_ratio_search_vs_best": round(ndcg["search"] / max(ndcg[best], 1e-9), 3) if ndcg else None,
        "ndcg_ratio_brief_vs_best": round(ndcg["brief_sources"] / max(ndcg[best], 1e-9), 3) if ndcg else None,
        "cited_sources_relevant": round(sum(r["cited_relevant"] for r in rows) / max(cited, 1), 3),
        "cited_sources": cited,
        "wrongly_holds_nothing": sum(r["wrongly_holds_nothing"] for r in rows),
        "signals_shown": signals["shown"],
        "signals_on_work": round(signals["on_work"] / max(signals["shown"] - signals["unlabelled"], 1), 3),
        "signals_unlabelled": signals["unlabelled"],
        "occupation_top1_questions": round(statistics.mean(r["occupation_right"] for r in rows), 3) if rows else None,
        "occupation_top1_questions_given_title": (
            round(statistics.mean(r["occupation_right_given_title"] for r in rows), 3) if rows else None
        ),
        "warm_brief_seconds_median": round(statistics.median(r["brief_seconds"] for r in rows), 3) if rows else None,
    }
    if jobs:
        summary["jobs"] = len(jobs)
        summary["occupation_top1_jobs"] = round(statistics.mean(j["top1"] for j in jobs), 3)
        summary["occupation_top3_jobs"] = round(statistics.mean(j["top3"] for j in jobs), 3)
        summary["occupation_top1_jobs_given_title"] = round(statistics.mean(j["top1_given_title"] for j in jobs), 3)
    summary["if_citing_search_first_k"] = {
        k: {
            "ndcg_at_10": round(statistics.mean(r["search_first_k"][k]["ndcg"] for r in graded), 3) if graded else None,
            "relevant_share": round(
                sum(r["search_first_k"][k]["relevant"] for r in rows)
                / max(sum(r["search_first_k"][k]["listed"] for r in rows), 1),
                3,
            ),
        }
        for k in FIRST_K
    }
    pages = [r["pages"] for r in rows if r.get("pages") is not None]
    if pages:
        summary["pages"] = {"max": max(pages), "over_two": sum(p > 2 for p in pages)}
    return summary


_ORIGINALS: dict[str, str] = {}


def _originals(kb: Any) -> dict[str, str]:
    """Item -> the one it counts as, read once: a copy is ranked as its original, and the items of one page (an
    article imported twice, say once with tracking parameters in its address) as one, as search and the briefing
    list them. Labels and every ranking, baselines included, are read through it."""
    if not _ORIGINALS:
        from shadowmatch_kb.fetch.safety import page_address

        items = list(kb.iter_all())
        copies = {item.id: item.duplicate_of for item in items if item.duplicate_of}
        page_of = {item.id: page_address(item.url) for item in items}
        first_of_page: dict[str, str] = {}
        for item_id in sorted(page_of):
            if page_of[item_id] and item_id not in copies:
                first_of_page.setdefault(str(page_of[item_id]), item_id)
        for item in items:
            original = copies.get(item.id, item.id)
            _ORIGINALS[item.id] = first_of_page.get(page_of.get(original) or "", original)
    return _ORIGINALS


def _unique(ids: Any) -> list[str]:
    return list(dict.fromkeys(ids))


class _Printer:
    """Headless chromium (playwright) printing HTML to A4 PDF; None when either is missing."""

    def __init__(self, playwright: Any, browser: Any) -> None:
        self.playwright, self.browser = playwright, browser
        self.page = browser.new_page()

    @classmethod
    def start(cls) -> _Printer | None:
        if not CHROMIUM.exists():
            return None
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            return None
        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        return cls(playwright, browser)

    def pages(self, html: str) -> int:
        self.page.set_content(html)
        pdf = self.page.pdf(format="A4")
        return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))

    def close(self) -> None:
        self.browser.close()
        self.playwright.stop()


if __name__ == "__main__":
    raise SystemExit(main())
