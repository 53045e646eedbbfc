"""How well `smkb brief` keeps to the question's sector, and whether every claim it makes is cited.

The labelled set is ``scripts/eval_brief_labels.json``, written by hand for this evaluation: the real Signals
posts of ../shared/data/signals_posts and the bundled demo corpus, each labelled with the sectors it is
about (or none), and 36 mentor questions with the sectors they mean (4 of them on sectors the corpus barely
covers, where the briefing should say so). All items are imported into a temporary knowledge base with
the real `ingest`; then, for every question:

* the share of the briefing's cited sources that are about the question's sector (target >= 0.9);
* precision@5 of the briefing's retrieval against BM25 alone and the embedding index alone, from the
  same run (target: above both) — an item is relevant when its labels share a sector with the question;
* every signal cited, no overview sentence without a citation, links only the items' own;
* whether thin questions get the "little evidence" notice (and the others do not);
* the reading grade (Flesch-Kincaid) of the overview and the prompts, and the time of a warm briefing.

Prints one JSON document. Usage: python scripts/eval_brief.py [--keep DIR]
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

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
LABELS = Path(__file__).with_name("eval_brief_labels.json")
K = 5


def _relevant(labels: list[str], wanted: list[str]) -> bool:
    return bool(set(labels) & set(wanted))


def _precision(ids: list[str], labels: dict[str, list[str]], wanted: list[str]) -> float:
    top = ids[:K]
    return sum(_relevant(labels.get(i, []), wanted) for i in top) / K


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Build the knowledge base here and keep it (reused when present).")
    args = parser.parse_args()
    if not (SHARED_DATA / "signals_posts").is_dir():
        print(json.dumps({"skipped": f"{SHARED_DATA / 'signals_posts'} is absent"}))
        return 0
    sys.path.insert(0, str(REPO))
    from shadowmatch_kb.brief.render import to_markdown
    from shadowmatch_kb.brief.retrieve import DEPTH, retrieve
    from shadowmatch_kb.kb import KnowledgeBase

    data = json.loads(LABELS.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as scratch:
        kb_dir = args.keep or Path(scratch) / "kb"
        kb = KnowledgeBase.open(kb_dir)
        paths = {
            name: (SHARED_DATA / name if name.startswith("signals_posts/") else REPO / name) for name in data["items"]
        }
        start = time.perf_counter()
        results = kb.ingest([str(p) for p in paths.values()])
        import_seconds = time.perf_counter() - start
        by_input = {Path(r.input).resolve(): r for r in results}
        labels: dict[str, list[str]] = {}
        for name, path in paths.items():
            result = by_input.get(path.resolve())
            if result is not None and result.id:
                labels[result.id] = data["items"][name]
        # A duplicate stands for its original: judge it by the union of both labels.
        for item in kb.list_items():
            if item.duplicate_of and item.id in labels:
                merged = sorted(set(labels.get(item.duplicate_of, [])) | set(labels[item.id]))
                labels[item.duplicate_of] = labels[item.id] = merged

        resolver = kb.sector_resolver()
        kb.brief("warm-up question about nurses")  # loads the model and the caches once
        rows = []
        precision: dict[str, list[float]] = {"brief": [], "bm25_only": [], "semantic_only": []}
        cited_relevant = cited_total = 0
        signals_total = signals_cited = overview_total = overview_uncited = foreign_links = 0
        thin_right = 0
        grades: dict[str, list[float]] = {"overview": [], "prompts": []}
        seconds = []
        for question in data["questions"]:
            text, wanted, thin = question["question"], question["sectors"], question.get("thin", False)
            started = time.perf_counter()
            briefing = kb.brief(text)
            seconds.append(time.perf_counter() - started)
            thin_right += bool(briefing.notice) == thin
            cited = [s.id for s in briefing.sources]
            relevant = sum(_relevant(labels.get(i, []), wanted) for i in cited)
            if not thin:
                cited_relevant += relevant
                cited_total += len(cited)
                searcher = kb.searcher()
                ranked = searcher.rankings(text, DEPTH)
                found = retrieve(searcher, text, briefing.sectors, resolver.vocabulary, limit=K)
                ours = [e.item_id for e in found.evidence]
                for name, ids in (("brief", ours), ("bm25_only", ranked.keyword_ids),
                                  ("semantic_only", ranked.semantic_ids)):  # fmt: skip
                    originals = list(dict.fromkeys(_original(kb, i) for i in ids))
                    precision[name].append(_precision(originals, labels, wanted))
            urls = {s.url for s in briefing.sources if s.url}
            for signal in briefing.signals:
                signals_total += 1
                signals_cited += bool(signal.sources) and all(i in cited for i in signal.sources)
            for claim in briefing.overview:
                overview_total += 1
                overview_uncited += not claim.sources
            markdown = to_markdown(briefing)
            foreign_links += sum(url not in urls for url in re.findall(r"<(https?://[^>]+)>", markdown))
            if briefing.overview:
                grades["overview"].append(briefing.readability["overview"])
            grades["prompts"].append(briefing.readability["prompts"])
            rows.append(
                {
                    "question": text,
                    "wanted": wanted,
                    "resolved": briefing.sectors,
                    "thin": thin,
                    "notice": bool(briefing.notice),
                    "cited": len(cited),
                    "cited_relevant": relevant,
                    "signals": len(briefing.signals),
                    "words": len(markdown.split()),
                }
            )
        kb.close()

    means = {name: round(statistics.mean(values), 3) for name, values in precision.items()}
    report = {
        "items": len(labels),
        "questions": len(data["questions"]),
        "import_seconds": round(import_seconds, 1),
        "cited_sources_in_sector": round(cited_relevant / max(cited_total, 1), 3),
        "cited_sources": cited_total,
        "precision_at_5": means,
        "precision_ratio_vs_bm25": round(means["brief"] / max(means["bm25_only"], 1e-9), 3),
        "precision_ratio_vs_semantic": round(means["brief"] / max(means["semantic_only"], 1e-9), 3),
        "signals_cited": f"{signals_cited}/{signals_total}",
        "overview_sentences_uncited": f"{overview_uncited}/{overview_total}",
        "links_not_an_items_own": foreign_links,
        "thin_notice_right": f"{thin_right}/{len(data['questions'])}",
        "reading_grade": {k: round(statistics.mean(v), 2) if v else None for k, v in grades.items()},
        "max_words": max(r["words"] for r in rows),
        "warm_brief_seconds": {"median": round(statistics.median(seconds), 3), "max": round(max(seconds), 3)},
        "targets": {"cited_sources_in_sector": 0.9, "precision_at_5": "above bm25_only and semantic_only"},
        "per_question": rows,
    }
    print(json.dumps(report, indent=2))
    return 0


_ORIGINALS: dict[str, str] = {}


def _original(kb: object, item_id: str) -> str:
    """The original an item duplicates, else itself (as the briefing counts it)."""
    if item_id not in _ORIGINALS:
        row = kb.store.brief_rows([item_id]).get(item_id)  # type: ignore[attr-defined]
        _ORIGINALS[item_id] = (row["duplicate_of"] if row is not None else None) or item_id
    return _ORIGINALS[item_id]


if __name__ == "__main__":
    raise SystemExit(main())
