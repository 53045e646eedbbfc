"""Real texts and their embeddings for the benchmark scripts, read from ``../shared/data``.

Two things live here so that several ``bench_*`` scripts can share them:

* ``write_zyte_articles``: the Zyte ground-truth article bodies as ``.txt`` files (title line first),
  the input of an import benchmark;
* ``real_vectors``: sentences (then consecutive sentence pairs) from the extraction pages and the
  Signals posts, embedded with the bundled model and cached as ``.npy``, so reruns start at once.

Everything is deterministic: the same data gives the same texts in the same order, and the cache
file name carries a hash of that list, so a change of data or recipe never reuses stale vectors.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import random
import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_CACHE = Path.home() / ".cache" / "shadowmatch_kb" / "bench"
# Bumped when the sentence recipe changes; part of the cache key.
RECIPE = "sentences-v1"

_HTML_DIRS = ("extraction/zyte/html", "extraction/trafilatura_eval/html", "extraction/newspaper4k/html")
_DROP = re.compile(r"(?is)<(script|style|noscript|svg|template|head)\b.*?</\1\s*>|<!--.*?-->")
_BLOCK = re.compile(
    r"(?i)<\s*/?\s*(p|div|br|li|ul|ol|h[1-6]|td|th|tr|table|section|article|header|footer|nav|"
    r"blockquote|pre|figcaption|dd|dt|title)\b[^>]*>"
)
_TAG = re.compile(r"(?s)<[^>]*>")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_EMBED_CHUNK = 4096  # texts per progress line; the cache is saved every few chunks


def data_missing() -> str | None:
    """Why the shared data cannot be used, or None when it is there."""
    needed = [SHARED_DATA / "extraction" / "zyte" / "ground-truth.json", SHARED_DATA / "signals_posts"]
    missing = [str(p) for p in needed if not p.exists()]
    return f"shared data not found: {', '.join(missing)}" if missing else None


def log(message: str) -> None:
    """Progress for the person running the benchmark; stdout is kept for the JSON."""
    print(message, file=sys.stderr, flush=True)


# ----- import input -------------------------------------------------------------------------


def write_zyte_articles(folder: Path, limit: int | None = None) -> int:
    """Write each Zyte ground-truth ``articleBody`` as ``<id>.txt``, a title line first; returns the count."""
    truth = json.loads((SHARED_DATA / "extraction" / "zyte" / "ground-truth.json").read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for key, record in sorted(truth.items())[:limit]:
        body = (record.get("articleBody") or "").strip()
        if not body:
            continue
        title = _title_from_url(record.get("url") or "") or " ".join(body.split()[:10])
        # The first 32 hex digits of the key become the item id (readers keep 32-hex file names).
        (folder / f"{key[:32]}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
        written += 1
    return written


def _title_from_url(url: str) -> str:
    """A readable title from the URL's slug (the ground truth has no headline field)."""
    parts = [p for p in re.split(r"[/?#]", url.split("://", 1)[-1])[1:] if p]
    slugs = [p for p in parts if "-" in p and not re.fullmatch(r"[\d-]+", p)]
    if not slugs:
        return ""
    words = re.sub(r"\.[a-z]+$", "", max(slugs, key=len)).replace("_", "-").split("-")
    words = [w for w in words if w and not re.fullmatch(r"[0-9a-f]{6,}|\d{5,}", w)]
    return " ".join(words)[:150].capitalize()


# ----- sentences ----------------------------------------------------------------------------


def real_texts() -> tuple[list[str], dict[str, int]]:
    """All unique sentences (shuffled), then all consecutive pairs (shuffled); and counts by source."""
    seen: set[str] = set()
    singles: list[str] = []
    pairs: list[str] = []
    sources: dict[str, int] = {}
    for label, text in _documents():
        kept = _sentences(text, seen)
        singles.extend(kept)
        sources[label] = sources.get(label, 0) + len(kept)
        for first, second in zip(kept, kept[1:], strict=False):
            pair = f"{first} {second}"
            if pair not in seen:
                seen.add(pair)
                pairs.append(pair)
    random.Random(11).shuffle(singles)
    random.Random(12).shuffle(pairs)
    sources["sentences"] = len(singles)
    sources["sentence_pairs_available"] = len(pairs)
    return singles + pairs, sources


def _documents() -> list[tuple[str, str]]:
    docs: list[tuple[str, str]] = []
    for sub in _HTML_DIRS:
        label = sub.split("/")[1]
        for path in sorted((SHARED_DATA / sub).glob("*.html.gz")):
            raw = gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
            raw = _BLOCK.sub("\n", _DROP.sub(" ", raw))
            docs.append((label, html.unescape(_TAG.sub(" ", raw))))
    for path in sorted((SHARED_DATA / "extraction" / "newspaper4k" / "txt").glob("*.txt")):
        docs.append(("newspaper4k", path.read_text(encoding="utf-8", errors="replace")))
    for path in sorted((SHARED_DATA / "signals_posts").glob("*.md")):
        docs.append(("signals_posts", path.read_text(encoding="utf-8", errors="replace")))
    return docs


def _sentences(text: str, seen: set[str]) -> list[str]:
    """Sentences of 6-80 words and 40-400 characters not seen before, in document order."""
    kept: list[str] = []
    for line in text.split("\n"):
        for piece in _SENTENCE_END.split(line):
            sentence = " ".join(piece.split())
            words = sentence.count(" ") + 1
            if 40 <= len(sentence) <= 400 and 6 <= words <= 80 and sentence not in seen:
                seen.add(sentence)
                kept.append(sentence)
    return kept


# ----- embeddings ---------------------------------------------------------------------------


def real_vectors(needed: int, cache: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """The first ``needed`` real texts embedded (float32, L2-normalised), cached in ``cache``; and facts."""
    texts, sources = real_texts()
    if needed > len(texts):
        raise SystemExit(f"only {len(texts)} real texts are available, {needed} were asked for")
    from shadowmatch_kb.embed.base import DEFAULT_MODEL

    digest = hashlib.sha256("\n".join([RECIPE, DEFAULT_MODEL, *texts]).encode()).hexdigest()[:16]
    path = cache / f"vectors-{digest}.npy"
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() and path.exists() else {}
    have = np.load(path) if meta else np.zeros((0, 0), np.float32)
    facts: dict[str, Any] = {"sources": sources, "texts": needed, "cache_file": str(path)}
    facts["pairs_used"] = max(0, needed - sources["sentences"])
    if len(have) >= needed:
        facts.update(embedder=meta["embedder"], embedded_now=0, cached=True)
        return have[:needed], facts
    cache.mkdir(parents=True, exist_ok=True)
    embed, kind, choice = _pick_embedder(cache, meta.get("embedder"), texts[:512])
    started = time.perf_counter()
    parts = [have] if len(have) else []
    done = len(have)
    last_save = done
    while done < needed:
        batch = texts[done : min(done + _EMBED_CHUNK, needed)]
        parts.append(embed(batch))
        done += len(batch)
        rate = (done - len(have)) / (time.perf_counter() - started)
        log(f"embedding {done}/{needed} texts with {kind} ({rate:.0f}/s, {(needed - done) / rate / 60:.1f} min left)")
        if done - last_save >= 5 * _EMBED_CHUNK or done == needed:
            # Saved as it goes so an interrupted run keeps what it embedded.
            merged = np.concatenate(parts)
            _save(path, merged, kind)
            parts = [merged]
            last_save = done
    seconds = time.perf_counter() - started
    facts.update(
        embedder=kind,
        embedder_choice=choice,
        embedded_now=needed - len(have),
        embed_s=round(seconds, 1),
        embed_texts_per_s=round((needed - len(have)) / seconds, 1),
        cached=False,
    )
    return parts[0][:needed], facts


def _save(path: Path, vectors: np.ndarray, kind: str) -> None:
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, np.ascontiguousarray(vectors, dtype=np.float32))
    tmp.replace(path)
    path.with_suffix(".json").write_text(json.dumps({"embedder": kind, "rows": len(vectors)}) + "\n")


def _pick_embedder(
    cache: Path, fixed: str | None, sample: list[str]
) -> tuple[Callable[[list[str]], np.ndarray], str, dict[str, Any]]:
    """The faster of sentence-transformers and its ONNX export on ``sample`` (or the one already used)."""
    from shadowmatch_kb.embed.base import DEFAULT_MODEL
    from shadowmatch_kb.embed.exports import export_dir_for
    from shadowmatch_kb.embed.onnx import OnnxEmbedder
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    log("loading the embedding model to choose the faster embedder")
    torch_model = SentenceTransformerEmbedder(DEFAULT_MODEL)
    export = export_dir_for(cache / "model", DEFAULT_MODEL)
    if not (export / "export.json").exists():
        torch_model.export_onnx(export)
    onnx_model = OnnxEmbedder.load(export)
    candidates = {"sentence-transformers": torch_model.embed_batch, "onnx": onnx_model.embed_batch}
    if fixed:
        return candidates[fixed], fixed, {"reason": "same embedder as the cached rows"}
    rates: dict[str, float] = {}
    for name, embed in candidates.items():
        embed(sample[:32])  # warm-up: first calls allocate and optimise
        started = time.perf_counter()
        embed(sample)
        rates[name] = round(len(sample) / (time.perf_counter() - started), 1)
    best = max(rates, key=lambda name: rates[name])
    log(f"texts/s on {len(sample)} sentences: {rates}; using {best}")
    return candidates[best], best, {"sample_texts_per_s": rates}


# ----- generated knowledge bases ------------------------------------------------------------


def write_generated_kb(
    kb_dir: Path,
    onnx_kb: Path,
    model: str,
    dimension: int,
    generated: Iterable[tuple[Any, Any, np.ndarray]],
    noise_seed: int,
    *,
    postgres_url: str | None = None,
) -> None:
    """Store generated items and their vectors as a knowledge base with a flat index, then mark it complete.

    ``generated`` yields (item, raw input or None, the mean of its sentences' vectors): the item is
    indexed under that mean with a little noise, and its one chunk under the mean itself. The ONNX
    export is copied from the knowledge base ``onnx_kb``, so queries embed as in any other. With
    ``postgres_url`` the record and the vectors (pgvector) go to that database, and ``kb_dir`` is its
    working folder.
    """
    import shutil

    from shadowmatch_kb.index.base import VectorIndex
    from shadowmatch_kb.index.flat import FlatIndex
    from shadowmatch_kb.store.sqlite import SqliteStore

    noise = np.random.default_rng(noise_seed)
    index: VectorIndex
    if postgres_url:
        from shadowmatch_kb.index.pgvector import PgVectorIndex
        from shadowmatch_kb.store.postgres import PostgresStore

        store: SqliteStore = PostgresStore(postgres_url)
        index = PgVectorIndex(postgres_url, model, dimension, rebuild=True)  # HNSW graphs built once, at flush
    else:
        store = SqliteStore(kb_dir / "corpus" / "kb.sqlite")
        index = FlatIndex(kb_dir / "indexes" / "flat", model, dimension)
    batch = []
    count = 0
    for count, (item, raw, mean) in enumerate(generated, start=1):
        content_hash = f"{count - 1:064x}"
        batch.append((item, content_hash, content_hash, raw))
        noisy = mean + noise.normal(0, 0.01, mean.shape).astype(np.float32)
        index.upsert(item.id, content_hash, noisy / np.linalg.norm(noisy), (mean / np.linalg.norm(mean))[None, :])
        if len(batch) == 5000:
            store.put_items(batch)
            batch = []
    if batch:
        store.put_items(batch)
    index.flush()
    shutil.copytree(onnx_kb / "indexes" / "onnx", kb_dir / "indexes" / "onnx")
    meta = {"kind": "pgvector" if postgres_url else "flat", "model": model, "dimension": dimension}
    if postgres_url:
        store.set_meta("index", json.dumps(meta))  # type: ignore[attr-defined]
        # What a person would do after a bulk load, and what autovacuum does a little later anyway: give the
        # planner its statistics, so the first queries are not timed while they are being gathered.
        store.db.execute("VACUUM ANALYZE")
    else:
        (kb_dir / "indexes" / "index.json").write_text(json.dumps(meta))
    store.close()
    (kb_dir / "complete.json").write_text(json.dumps({"items": count}))
