"""Quality and speed of the offline enrichment on the real Signals posts in ../shared/data/signals_posts.

Each post's Summary is the input; its Keywords, Themes and Signals are the reference. Prints one
JSON document with every figure beside a baseline computed in the same run:

- keywords: F1@10 with lenient matching (light stemming; one phrase containing the other) against
  plain YAKE top-10 (target: 1.3x YAKE);
- themes: for each reference theme, the best cosine similarity (bundled model) to one of our three,
  averaged; leave-one-out (a post's own themes never help it) against the three most frequent
  themes of the other posts;
- signals: share of reference rows matched by one of ours at cosine >= 0.6 (target 0.5), against rows
  made from the summary's first sentences; share of our rows whose evidence is a verbatim substring
  of the input (must be 1.0);
- speed: items/s of the whole enrichment after the model is loaded (target 20 on 2 cores).

Usage: python scripts/eval_enrich.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
POSTS = REPO.parent / "shared" / "data" / "signals_posts"
MATCH_COSINE = 0.6


@dataclass
class Post:
    title: str
    summary: str
    keywords: list[str]
    themes: list[str]
    signals: list


def load_posts(limit: int | None) -> list[Post]:
    """Every real post with a summary, parsed by the project's own reader."""
    from shadowmatch_kb.formats.signals_post import parse_signals_post

    posts = []
    for path in sorted(POSTS.rglob("*.md")):
        try:
            parsed = parse_signals_post(path.read_text(encoding="utf-8", errors="replace"), item_id=path.stem)
        except Exception:  # noqa: BLE001 - a post the reader refuses is not part of the reference
            continue
        if parsed.summary.strip():
            posts.append(Post(parsed.title, parsed.summary, parsed.keywords, parsed.themes, parsed.signals))
    return posts[:limit] if limit else posts


def _cosines(embedder, left: list[str], right: list[str]) -> np.ndarray:
    if not left or not right:
        return np.zeros((len(left), len(right)), dtype=np.float32)
    vectors = embedder.embed_batch(left + right)
    return vectors[: len(left)] @ vectors[len(left) :].T


def eval_keywords(posts: list[Post], embedder) -> dict:
    """Lenient F1@10 of ours and of plain YAKE against each post's own keywords."""
    from _enrich_metrics import keyword_f1

    from shadowmatch_kb.enrich.keywords import extract_keywords
    from shadowmatch_kb.enrich.yake import yake_keywords

    ours, yake = [], []
    for post in posts:
        if not post.keywords:
            continue
        ours.append(keyword_f1(extract_keywords(post.summary, embedder, title=post.title), post.keywords))
        yake.append(keyword_f1(yake_keywords(post.summary), post.keywords))
    figures = _versus(float(np.mean(ours)), float(np.mean(yake)), "f1_at_10", "baseline_yake_f1_at_10")
    return {"posts": len(ours), **figures, "target_ratio": 1.3}


def eval_themes(posts: list[Post], embedder) -> dict:
    """Leave-one-out theme assignment against the most frequent themes."""
    from shadowmatch_kb.enrich.themes import ThemeExample, ThemeVocabulary

    labelled = [(i, post) for i, post in enumerate(posts) if post.themes]
    vectors = embedder.embed_batch([f"{post.title}. {post.summary}" for _, post in labelled])
    ours_scores, base_scores = [], []
    for position, (_, post) in enumerate(labelled):
        others = [(vectors[j], other) for j, (_, other) in enumerate(labelled) if j != position]
        examples = [ThemeExample(vector=v, themes=tuple(o.themes)) for v, o in others]
        counts = Counter(theme for _, other in others for theme in other.themes)
        vocabulary = ThemeVocabulary(embedder, extra_themes=sorted(counts), examples=examples)
        assigned = vocabulary.assign(post.summary, text_vector=vectors[position])
        frequent = [theme for theme, _ in counts.most_common(3)]
        ours_scores.append(float(_cosines(embedder, post.themes, assigned).max(axis=1).mean()) if assigned else 0.0)
        base_scores.append(float(_cosines(embedder, post.themes, frequent).max(axis=1).mean()))
    figures = _versus(
        float(np.mean(ours_scores)), float(np.mean(base_scores)), "mean_best_cosine", "baseline_most_frequent"
    )
    return {"posts": len(labelled), **figures}


def _versus(ours: float, base: float, ours_name: str, base_name: str) -> dict:
    """A figure, its baseline from the same run, and their ratio."""
    return {ours_name: round(ours, 4), base_name: round(base, 4), "ratio": round(ours / base, 3) if base else None}


def _first_sentence_rows(text: str, count: int) -> list:
    from shadowmatch_kb.model import Signal
    from shadowmatch_kb.text.sentences import split_sentences

    rows = []
    for sentence in split_sentences(text)[:count]:
        rows.append(Signal(" ".join(sentence.text.split()[:7]), sentence.text, "", "", sentence.text))
    return rows


def _matched(embedder, reference: list[str], rows: list) -> int:
    from shadowmatch_kb.model import row_text

    if not rows:
        return 0
    return int((_cosines(embedder, reference, [row_text(r) for r in rows]).max(axis=1) >= MATCH_COSINE).sum())


def eval_signals(posts: list[Post], embedder) -> dict:
    """Reference rows matched by ours (and by a first-sentences baseline); verbatim evidence."""
    from shadowmatch_kb.enrich.signals import extract_signals
    from shadowmatch_kb.model import row_text

    matched = base_matched = references = rows = verbatim = empty = 0
    for post in posts:
        ours = extract_signals(post.summary, embedder, title=post.title)
        rows += len(ours)
        verbatim += sum(1 for row in ours if row.evidence and row.evidence in post.summary)
        empty += not ours
        if not post.signals:
            continue
        reference = [row_text(row) for row in post.signals]
        references += len(reference)
        matched += _matched(embedder, reference, ours)
        base_matched += _matched(embedder, reference, _first_sentence_rows(post.summary, max(1, len(ours))))
    return {
        "posts": len(posts),
        "reference_rows": references,
        "our_rows": rows,
        "posts_with_no_rows": empty,
        "matched_share": round(matched / references, 4) if references else None,
        "baseline_first_sentences_matched_share": round(base_matched / references, 4) if references else None,
        "target_matched_share": 0.5,
        "evidence_verbatim_share": round(verbatim / rows, 4) if rows else None,
        "required_verbatim_share": 1.0,
    }


def _items_per_s(texts: list[tuple[str, str]], embedder) -> float:
    from shadowmatch_kb.enrich.pipeline import Enricher
    from shadowmatch_kb.model import Item

    enricher = Enricher(embedder)
    items = [Item(id=f"{i:032x}", title=title, text=text) for i, (title, text) in enumerate(texts)]
    enricher.enrich(items[0])  # warm-up: label vectors, caches
    start = time.perf_counter()
    for item in items:
        enricher.enrich(item)
    return len(items) / (time.perf_counter() - start)


def eval_speed(posts: list[Post], embedder) -> dict:
    """Items/s of the whole enrichment (all five fields computed) once the model is loaded.

    The knowledge base enriches with the ONNX export of the model (the same vectors); the figure with
    sentence-transformers running the same model is printed beside it.
    """
    import tempfile

    from shadowmatch_kb.embed.onnx import OnnxEmbedder

    summaries = [(post.title, post.summary) for post in posts]
    articles = _articles(60)
    with tempfile.TemporaryDirectory() as folder:
        onnx = OnnxEmbedder.load(embedder.export_onnx(Path(folder) / "onnx"), spinning=True)
        ours = _items_per_s(summaries, onnx)
        on_articles = _items_per_s(articles, onnx) if articles else None
    torch_based = _items_per_s(summaries, embedder)
    return {
        "items": len(posts),
        "items_per_s": round(ours, 1),
        "embedder": "onnxruntime (the export the knowledge base makes)",
        "same_model_with_sentence_transformers_items_per_s": round(torch_based, 1),
        "target_items_per_s": 20,
        "full_articles": {
            "items": len(articles),
            "mean_words": round(sum(len(text.split()) for _, text in articles) / len(articles)) if articles else None,
            "items_per_s": round(on_articles, 1) if on_articles else None,
        },
        "cores": os.cpu_count(),
    }


def _articles(limit: int) -> list[tuple[str, str]]:
    """Whole news articles (the Zyte benchmark's bodies), for the speed on texts longer than a summary."""
    truth = REPO.parent / "shared" / "data" / "extraction" / "zyte" / "ground-truth.json"
    if not truth.exists():
        return []
    entries = json.loads(truth.read_text(encoding="utf-8")).values()
    found = [(entry.get("headline") or "", entry["articleBody"]) for entry in entries if entry.get("articleBody")]
    return found[:limit]


def main() -> int:
    """Run every evaluation and print one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="use only the first N posts")
    args = parser.parse_args()
    if not POSTS.exists():
        sys.stderr.write(f"{POSTS} is absent: the evaluation needs ../shared/data beside the checkout\n")
        return 1
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    posts = load_posts(args.limit)
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    report = {"posts": len(posts), "model": embedder.model_name}
    for name, run in (("keywords", eval_keywords), ("themes", eval_themes), ("signals", eval_signals),
                      ("speed", eval_speed)):  # fmt: skip
        sys.stderr.write(f"{name} ...\n")
        report[name] = run(posts, embedder)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
