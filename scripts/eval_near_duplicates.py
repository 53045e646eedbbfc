"""How well ``shadowmatch_kb.ingest.near_duplicates`` links copies of one article, on real texts.

Prints one JSON document on stdout (progress goes to stderr).

Texts, read from ``../shared/data`` (the script exits with a message when it is absent):

* the 181 Zyte ground-truth article bodies (``extraction/zyte/ground-truth.json``), each with a headline
  made from its URL slug; bodies under 50 words (captions, stubs) take no part in positives;
* the Summary paragraph of every Signals post in ``signals_posts/`` (one newsletter, one topic area);
* the main text of the ``extraction/trafilatura_eval`` pages as trafilatura extracts it (mostly German,
  some English, Spanish, Polish, French), with the page's host from its metadata.

Positives: five rewrites of every Zyte article, each drawn with its own seeded generator, compared
with the original (headline + body):

* ``syndicated``: a byline, a "originally appeared on" line, a "Related stories" block of three to five
  other real headlines and a copyright line around the unchanged text;
* ``paragraph_dropped``: one paragraph left out (a three-sentence group when the body is one paragraph);
* ``teaser``: the first 70-80 % of the words, cut back to a sentence end when one is near, and a
  "Read the full story" line;
* ``light_edit``: 5-10 % of the words substituted (by a word of another article) or removed, and two
  neighbouring sentences swapped;
* ``rewritten``: a new headline and one paragraph rewritten (half its words substituted, its
  sentences in reverse order); only for articles of two paragraphs or more;
* ``real_copy``: two pairs of evaluation pages that carry one story on two sites (``REAL_COPIES``).

Negatives, each pair of two different texts:

* ``random``: pairs drawn at random from all texts;
* ``same_site`` (hard): every pair of Zyte articles or extraction pages from the same host, and every
  pair of Signals summaries (same newsletter, same subject);
* ``closest_topic`` (hard): the pairs with the highest TF-IDF cosine among all pairs of all texts;
* ``shared_wrapper`` (hard): two different articles syndicated with the very same byline, notice and
  related-stories block.

For thresholds 0.30-0.90 it reports precision, recall and F1 of ``similarity >= t`` (both texts long
enough to judge), recall by kind, and the LSH layout ``choose_bands(t)`` would use: its candidate
probability at ``t`` and ``t/2``, the share of the found positives that also share a band key, and how
many negative pairs become candidates. The threshold chosen has the best recall among those with
precision 1.0 that stand ``MARGIN_SIGMAS`` standard errors above the most similar negative and whose
layout pairs at most half of the texts at ``t/2``; the higher one on a tie. Beside it, measured in the
same run: exact matching on a normalised-text hash (the baseline), the same choice for other shingle
sizes, the MinHash estimate against the exact Jaccard of the shingle sets, and fingerprints per second
on 1,000-word texts.

    python scripts/eval_near_duplicates.py [--limit N] [--seed S]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shadowmatch_kb.ingest import near_duplicates as nd  # noqa: E402

SHARED_DATA = REPO.parent / "shared" / "data"
ZYTE = SHARED_DATA / "extraction" / "zyte" / "ground-truth.json"
POSTS = SHARED_DATA / "signals_posts"
PAGES = SHARED_DATA / "extraction" / "trafilatura_eval" / "html"
MIN_POSITIVE_WORDS = 50
THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(13)]
HARD = ("same_site", "closest_topic", "shared_wrapper")
AGENCIES = ["Associated Press", "Reuters", "Agence France-Presse", "The Conversation", "Bloomberg News"]
BYLINES = ["Maria Keller", "James Okafor", "Lena Park", "David Moreau", "Priya Raman", "Tom Lindqvist"]
POSITIVE_KINDS = ("syndicated", "paragraph_dropped", "teaser", "light_edit", "rewritten", "real_copy")
# Pairs of evaluation pages that carry the same story, found by reading the most similar "negatives" of an
# earlier run: a hunters' association press release republished by a hunting magazine in reported speech,
# and a news agency's wire story whose first paragraphs a second Chilean site reused before adding its own.
REAL_COPIES = {
    ("page:djz.de-amoklauf.html.gz", "page:jagdverband.de-erschuettert.html.gz"),
    ("page:24horas.cl-segundo.html.gz", "page:cooperativa.cl-presidente.html.gz"),
}
# The chosen threshold keeps this many standard errors of the MinHash estimate above the most similar
# negative, so that pair measured with other permutations would still fall short of it.
MARGIN_SIGMAS = 3.0
# And its LSH layout must leave pairs at half the threshold more often apart than together: with 128
# permutations no layout that finds 99 % of the pairs at t does better for t near 0.5.
MAX_HALF_CANDIDATES = 0.5
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass
class Doc:
    """One real text: a stable key, where it comes from, its site, headline and body."""

    key: str
    source: str
    host: str
    title: str
    body: str

    @property
    def text(self) -> str:
        """Headline and body, as an item's text reads."""
        return f"{self.title}\n\n{self.body}" if self.title else self.body


def log(message: str) -> None:
    """Progress for the person running the script; stdout is kept for the JSON."""
    print(message, file=sys.stderr, flush=True)


# ----- real texts ---------------------------------------------------------------------------------


def load_docs(limit: int | None) -> list[Doc]:
    """Zyte bodies, Signals summaries and extracted evaluation pages, in a fixed order."""
    docs: list[Doc] = []
    truth = json.loads(ZYTE.read_text(encoding="utf-8"))
    for key, record in sorted(truth.items())[:limit]:
        url = record.get("url") or ""
        body = (record.get("articleBody") or "").strip()
        if body:
            docs.append(Doc(f"zyte:{key}", "zyte", urlsplit(url).hostname or "", headline_from_url(url), body))
    for path in sorted(POSTS.glob("*.md"))[:limit]:
        post = path.read_text(encoding="utf-8")
        summary = re.search(r"^## Summary\s*\n(.*?)(?=^## |\Z)", post, re.S | re.M)
        title = re.search(r"^# _*(.*?)_*,? from", post, re.M)
        if summary and summary.group(1).strip():
            docs.append(
                Doc(
                    f"post:{path.stem}", "signals", "signals", title.group(1) if title else "", summary.group(1).strip()
                )
            )
    docs.extend(extract_pages(limit))
    return docs


def extract_pages(limit: int | None) -> list[Doc]:
    """The main text of each evaluation page, as trafilatura extracts it."""
    import trafilatura

    pages = []
    paths = sorted(PAGES.glob("*.html.gz"))[:limit]
    for number, path in enumerate(paths, 1):
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        found = trafilatura.bare_extraction(html, with_metadata=True)
        text = str(getattr(found, "text", None) or "").strip()
        if text:
            host = str(getattr(found, "hostname", None) or "").removeprefix("www.")
            title = str(getattr(found, "title", None) or "")
            pages.append(Doc(f"page:{path.name}", "trafilatura_eval", host or path.name, title, text))
        if number % 200 == 0:
            log(f"extracted {number}/{len(paths)} evaluation pages")
    return pages


def headline_from_url(url: str) -> str:
    """A readable headline from the URL's longest slug (the ground truth has none)."""
    parts = [p for p in re.split(r"[/?#]", url.split("://", 1)[-1])[1:] if "-" in p]
    if not parts:
        return ""
    words = re.sub(r"\.[a-z]+$", "", max(parts, key=len)).replace("_", "-").split("-")
    return " ".join(w for w in words if w and not re.fullmatch(r"\d{4,}|[0-9a-f]{8,}", w)).capitalize()


# ----- positives: rewrites of one article ---------------------------------------------------------


def paragraphs(body: str) -> list[str]:
    """The body's paragraphs; a one-paragraph body is cut into groups of three sentences."""
    parts = [p.strip() for p in re.split(r"\n\s*\n|\n", body) if p.strip()]
    if len(parts) > 1:
        return parts
    sentences = _SENTENCE_END.split(body.strip())
    return [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]


def syndicated(doc: Doc, rng: random.Random, headlines: list[str], wrapper: dict[str, Any] | None = None) -> str:
    """The article inside another outlet's byline, notice, related-stories block and copyright."""
    wrapper = wrapper or make_wrapper(rng, headlines, doc.host)
    return "\n\n".join(
        [
            doc.title,
            f"By {wrapper['byline']}, {wrapper['agency']}",
            f"This story originally appeared on {wrapper['host']} and is republished here with permission.",
            doc.body,
            "Related stories",
            *wrapper["related"],
            f"© 2024 {wrapper['agency']}. All rights reserved. This material may not be redistributed.",
        ]
    )


def make_wrapper(rng: random.Random, headlines: list[str], host: str) -> dict[str, Any]:
    """One outlet's syndication furniture, drawn from fixed lists and real headlines."""
    return {
        "byline": rng.choice(BYLINES),
        "agency": rng.choice(AGENCIES),
        "host": host or "the original site",
        "related": rng.sample(headlines, min(len(headlines), rng.randint(3, 5))),
    }


def paragraph_dropped(doc: Doc, rng: random.Random) -> str | None:
    """The article with one paragraph left out; None when it has only one."""
    parts = paragraphs(doc.body)
    if len(parts) < 2:
        return None
    del parts[rng.randrange(len(parts))]
    return "\n\n".join([doc.title, *parts])


def teaser(doc: Doc, rng: random.Random) -> str:
    """The first 70-80 % of the words, ended at a sentence when one ends in the last fifth kept."""
    words = doc.body.split()
    kept = " ".join(words[: max(1, round(len(words) * rng.uniform(0.70, 0.80)))])
    cut = max(kept.rfind(". "), kept.rfind("? "), kept.rfind("! "))
    if cut > 0.8 * len(kept):
        kept = kept[: cut + 1]
    return f"{doc.title}\n\n{kept}\n\nRead the full story on {doc.host or 'the original site'}."


def substitute(words: list[str], rate: float, rng: random.Random, vocabulary: list[str], remove: float) -> list[str]:
    """Words edited at ``rate``: removed with probability ``remove``, otherwise replaced by another word."""
    edited = []
    for word in words:
        if rng.random() >= rate:
            edited.append(word)
        elif rng.random() >= remove:
            edited.append(rng.choice(vocabulary))
    return edited


def light_edit(doc: Doc, rng: random.Random, vocabulary: list[str]) -> str:
    """5-10 % of the words substituted or removed, and two neighbouring sentences swapped."""
    sentences = _SENTENCE_END.split(doc.body.strip())
    if len(sentences) > 1:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    words = " ".join(sentences).split()
    return f"{doc.title}\n\n" + " ".join(substitute(words, rng.uniform(0.05, 0.10), rng, vocabulary, remove=0.5))


def rewritten(doc: Doc, rng: random.Random, vocabulary: list[str]) -> str | None:
    """A new headline, and one paragraph with half its words substituted and its sentences reversed."""
    parts = paragraphs(doc.body)
    if len(parts) < 2:  # rewriting the only paragraph would make a different article, not a copy
        return None
    i = rng.randrange(len(parts))
    sentences = _SENTENCE_END.split(parts[i])[::-1]
    parts[i] = " ".join(substitute(" ".join(sentences).split(), 0.5, rng, vocabulary, remove=0.2))
    title_words = doc.title.split() or ["Report"]
    headline = " ".join(substitute(rng.sample(title_words, len(title_words)), 0.5, rng, vocabulary, remove=0.0))
    return "\n\n".join([headline.capitalize(), *parts])


# Every rewrite as one call shape: (article, generator, other headlines, substitute words) -> copy or None.
COPIERS: dict[str, Callable[[Doc, random.Random, list[str], list[str]], str | None]] = {
    "syndicated": lambda doc, rng, headlines, _: syndicated(doc, rng, headlines),
    "paragraph_dropped": lambda doc, rng, _, __: paragraph_dropped(doc, rng),
    "teaser": lambda doc, rng, _, __: teaser(doc, rng),
    "light_edit": lambda doc, rng, _, vocabulary: light_edit(doc, rng, vocabulary),
    "rewritten": lambda doc, rng, _, vocabulary: rewritten(doc, rng, vocabulary),
}


def positive_pairs(docs: list[Doc], seed: int) -> list[tuple[str, str, str]]:
    """(kind, original, copy) for every rewrite of every Zyte article of at least 50 words."""
    articles = [d for d in docs if d.source == "zyte" and len(d.body.split()) >= MIN_POSITIVE_WORDS]
    pairs = []
    for doc in articles:
        # Substitutes come from other articles, so an edit never restores a word the copy already had.
        vocabulary = [w for d in articles if d is not doc for w in d.body.split()[:40]]
        headlines = [d.title for d in articles if d.title and d.title != doc.title]
        for kind, copier in COPIERS.items():
            copy = copier(doc, random.Random(f"{seed}:{doc.key}:{kind}"), headlines, vocabulary)
            if copy is not None:
                pairs.append((kind, doc.text, copy))
    keyed = {d.key: d for d in docs}
    pairs.extend(
        ("real_copy", keyed[a].text, keyed[b].text) for a, b in sorted(REAL_COPIES) if a in keyed and b in keyed
    )
    return pairs


# ----- negatives: different articles --------------------------------------------------------------


def negative_pairs(docs: list[Doc], seed: int, random_count: int, topic_count: int) -> list[tuple[str, str, str]]:
    """(kind, text, text) for random, same-site, closest-topic and shared-wrapper pairs of different texts."""
    rng = random.Random(f"{seed}:negatives")
    chosen: dict[tuple[int, int], str] = {}
    by_host: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, doc in enumerate(docs):
        by_host[(doc.source, doc.host)].append(i)
    for members in by_host.values():
        for pair in combinations(members, 2):
            chosen[pair] = "same_site"
    for pair in closest_pairs(docs, topic_count):
        chosen.setdefault(pair, "closest_topic")
    wanted = min(random_count, len(docs) * (len(docs) - 1) // 2 - len(chosen))
    drawn = 0
    while drawn < wanted:
        a, b = sorted(rng.sample(range(len(docs)), 2))
        if (a, b) not in chosen:
            chosen[(a, b)] = "random"
            drawn += 1
    pairs = [
        (kind, docs[a].text, docs[b].text)
        for (a, b), kind in chosen.items()
        if docs[a].text != docs[b].text and tuple(sorted((docs[a].key, docs[b].key))) not in REAL_COPIES
    ]
    articles = [d for d in docs if d.source == "zyte"]
    headlines = [d.title for d in articles if d.title]
    for number in range(topic_count if len(articles) >= 2 else 0):
        wrap_rng = random.Random(f"{seed}:wrapper:{number}")
        first, second = wrap_rng.sample(articles, 2)
        wrapper = make_wrapper(wrap_rng, headlines, "syndication.example")
        copies = [syndicated(doc, wrap_rng, headlines, wrapper) for doc in (first, second)]
        pairs.append(("shared_wrapper", copies[0], copies[1]))
    return pairs


def closest_pairs(docs: list[Doc], count: int) -> list[tuple[int, int]]:
    """The ``count`` pairs of texts with the highest TF-IDF cosine (sublinear tf, smoothed idf)."""
    counted: list[dict[str, int]] = [defaultdict(int) for _ in docs]
    frequency: dict[str, int] = defaultdict(int)
    for bag, doc in zip(counted, docs, strict=True):
        for word in nd.tokens(doc.text):
            bag[word] += 1
        for word in bag:
            frequency[word] += 1
    # Words in one text only cannot relate two texts; words in most texts say nothing about topic.
    vocabulary = {w: i for i, w in enumerate(w for w, f in frequency.items() if 2 <= f <= len(docs) // 2)}
    matrix = np.zeros((len(docs), len(vocabulary)), dtype=np.float32)
    for row, bag in enumerate(counted):
        for word, n in bag.items():
            if word in vocabulary:
                idf = np.log((1 + len(docs)) / (1 + frequency[word])) + 1
                matrix[row, vocabulary[word]] = (1 + np.log(n)) * idf
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    cosine = matrix @ matrix.T
    upper = np.triu_indices(len(docs), k=1)
    order = np.argsort(-cosine[upper], kind="stable")[:count]
    return [(int(upper[0][i]), int(upper[1][i])) for i in order]


# ----- measurement --------------------------------------------------------------------------------


@dataclass
class Scored:
    """One labelled pair, measured."""

    kind: str
    positive: bool
    estimate: float
    judged: bool  # both texts have enough shingles to be judged at all
    exact: float
    candidate: dict[float, bool]


def score_pairs(pairs: list[tuple[str, bool, str, str]], size: int, with_lsh: bool) -> list[Scored]:
    """Estimated and exact resemblance of every pair, and for each swept threshold whether LSH pairs it."""
    hashes: dict[str, np.ndarray] = {}
    prints: dict[str, nd.Fingerprint] = {}
    for _, _, a, b in pairs:
        for text in (a, b):
            if text not in hashes:
                hashes[text] = nd.shingle_hashes(text, size)
                prints[text] = nd.from_shingle_hashes(hashes[text])
    layouts = {t: nd.choose_bands(t) for t in THRESHOLDS} if with_lsh else {}
    keys = {t: {text: set(nd.band_keys(fp, *layout)) for text, fp in prints.items()} for t, layout in layouts.items()}
    scored = []
    for kind, positive, a, b in pairs:
        fa, fb = prints[a], prints[b]
        union = np.union1d(hashes[a], hashes[b]).size
        exact = np.intersect1d(hashes[a], hashes[b]).size / union if union else 0.0
        judged = min(fa.shingles, fb.shingles) >= nd.MIN_SHINGLES
        candidate = {t: bool(keys[t][a] & keys[t][b]) for t in layouts}
        scored.append(Scored(kind, positive, nd.similarity(fa, fb), judged, exact, candidate))
    return scored


def at(scored: list[Scored], threshold: float, hard_only: bool = False) -> dict[str, Any]:
    """Precision, recall and F1 of ``similarity >= threshold`` (both texts judged) over the pairs."""
    said = [s for s in scored if s.judged and s.estimate >= threshold]
    tp = sum(s.positive for s in said)
    fp = sum(not s.positive and (s.kind in HARD or not hard_only) for s in said)
    positives = sum(s.positive for s in scored)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "tp": tp, "fp": fp}


def sweep(scored: list[Scored]) -> list[dict[str, Any]]:
    """One row per swept threshold: the decision's quality and what the matching LSH layout finds."""
    rows = []
    negatives = [s for s in scored if not s.positive]
    kinds = sorted({s.kind for s in scored if s.positive}, key=POSITIVE_KINDS.index)
    for t in THRESHOLDS:
        row: dict[str, Any] = {"threshold": t, **at(scored, t)}
        row["hard_negative_fp"] = at(scored, t, hard_only=True)["fp"]
        row["recall_by_kind"] = {
            kind: round(np.mean([s.judged and s.estimate >= t for s in scored if s.kind == kind]), 3) for kind in kinds
        }
        if scored and t in scored[0].candidate:
            bands, rows_per_band = nd.choose_bands(t)
            found = [s for s in scored if s.positive and s.judged and s.estimate >= t]
            row["lsh"] = {
                "bands": bands,
                "rows": rows_per_band,
                "p_candidate_at_t": round(nd.candidate_probability(t, bands, rows_per_band), 4),
                "p_candidate_at_half_t": round(nd.candidate_probability(t / 2, bands, rows_per_band), 4),
                "candidate_recall": round(sum(s.candidate[t] for s in found) / len(found), 4) if found else None,
                "negative_candidates": sum(s.candidate[t] for s in negatives),
                "random_pair_candidate_rate": round(
                    np.mean([s.candidate[t] for s in negatives if s.kind == "random"]), 5
                ),
            }
        rows.append(row)
    return rows


def sigma(resemblance: float) -> float:
    """Standard error of the MinHash estimate of a resemblance."""
    return float(np.sqrt(resemblance * (1 - resemblance) / nd.NUM_PERMUTATIONS))


def choose(rows: list[dict[str, Any]], negative_max: float) -> dict[str, Any]:
    """Best recall at precision 1.0, margin kept and LSH layout steep enough; the higher threshold on a tie."""
    floor = negative_max + MARGIN_SIGMAS * sigma(negative_max)

    def steep(t: float) -> bool:
        return nd.candidate_probability(t / 2, *nd.choose_bands(t)) <= MAX_HALF_CANDIDATES

    clean = [r for r in rows if r["fp"] == 0 and r["threshold"] >= floor and steep(r["threshold"])]
    return max(clean, key=lambda r: (r["recall"], r["threshold"])) if clean else rows[-1]


def by_kind(scored: list[Scored], threshold: float) -> dict[str, Any]:
    """Per kind of pair: how many, the spread of the estimate, and how many reach the threshold."""
    kinds: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        kinds[s.kind].append(s)
    table = {}
    for kind, items in kinds.items():
        values = np.array([s.estimate for s in items])
        table[kind] = {
            "pairs": len(items),
            "min": round(float(values.min()), 4),
            "median": round(float(np.median(values)), 4),
            "max": round(float(values.max()), 4),
            "at_or_above_threshold": int(sum(s.judged and s.estimate >= threshold for s in items)),
        }
    return table


def estimator_error(scored: list[Scored]) -> dict[str, Any]:
    """The MinHash estimate against the exact Jaccard of the shingle sets."""
    errors = np.array([s.estimate - s.exact for s in scored])
    spread = np.array([sigma(s.exact) for s in scored])
    return {
        "mean_abs_error": round(float(np.abs(errors).mean()), 4),
        "mean_error": round(float(errors.mean()), 4),
        "share_within_2_sigma": round(float((np.abs(errors) <= 2 * spread + 1e-9).mean()), 4),
    }


def normalised_hash(text: str) -> str:
    """The text hash the store uses for exact duplicates: lower-cased \\w+ words joined by spaces."""
    return hashlib.sha256(" ".join(re.findall(r"\w+", text.lower())).encode()).hexdigest()


def speed(docs: list[Doc], seconds: float = 2.0) -> dict[str, Any]:
    """Fingerprints per second on 1,000-word texts: a first pass with an empty token-hash cache, then warm."""
    texts = [" ".join(d.body.split()[:1000]) for d in docs if len(d.body.split()) >= 1000]
    nd._token_hash.cache_clear()
    start = time.perf_counter()
    for text in texts:
        nd.fingerprint(text)
    cold = len(texts) / (time.perf_counter() - start)
    start, done = time.perf_counter(), 0
    while not done or time.perf_counter() - start < seconds:
        for text in texts:
            nd.band_keys(nd.fingerprint(text))
        done += len(texts)
    warm = done / (time.perf_counter() - start)
    return {
        "texts": len(texts),
        "words_each": 1000,
        "fingerprints_per_s": round(cold, 1),
        "warm_cache_fingerprints_with_band_keys_per_s": round(warm, 1),
    }


def compare_sizes(pairs: list[tuple[str, bool, str, str]], sizes: list[int], done: list[Scored]) -> dict[str, Any]:
    """For each shingle size: the threshold the same rule picks, its recall, and the hardest negative."""
    table: dict[str, Any] = {}
    for size in sizes:
        scored = done if size == nd.SHINGLE_SIZE else score_pairs(pairs, size, with_lsh=False)
        negative_max = max(s.estimate for s in scored if not s.positive)
        pick = choose([{"threshold": t, **at(scored, t)} for t in THRESHOLDS], negative_max)
        kinds = by_kind(scored, pick["threshold"])
        table[str(size)] = {
            "threshold": pick["threshold"],
            "recall": pick["recall"],
            "fp": pick["fp"],
            "max_negative": round(negative_max, 4),
            "light_edit_median": kinds.get("light_edit", {}).get("median"),
        }
        log(f"shingle size {size}: {table[str(size)]}")
    best = max(table, key=lambda k: (table[k]["recall"], -int(k)))
    return {"best": int(best), "by_size": table}


def margin(scored: list[Scored], threshold: float) -> dict[str, Any]:
    """How far the threshold stands above the most similar negative, also in standard errors."""
    hardest = max((s for s in scored if not s.positive), key=lambda s: s.estimate)
    return {
        "max_negative_similarity": round(hardest.estimate, 4),
        "max_negative_kind": hardest.kind,
        "max_negative_exact_jaccard": round(hardest.exact, 4),
        "threshold_minus_max_negative": round(threshold - hardest.estimate, 4),
        "in_standard_errors": round((threshold - hardest.estimate) / max(sigma(hardest.estimate), 1e-9), 2),
        "required_standard_errors": MARGIN_SIGMAS,
    }


def parse_args() -> argparse.Namespace:
    """The command line: limits and seeds, everything else fixed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="at most this many texts of each source")
    parser.add_argument("--seed", type=int, default=7, help="seed of every random choice")
    parser.add_argument("--random-negatives", type=int, default=3000, help="random pairs of different texts")
    parser.add_argument(
        "--closest", type=int, default=300, help="closest-topic pairs (and as many shared-wrapper pairs)"
    )
    parser.add_argument("--sizes", default="3,4,5,6,7", help="shingle sizes to compare, comma-separated")
    return parser.parse_args()


def main() -> int:
    """Build the pairs, score them, print the report."""
    args = parse_args()
    missing = [str(p) for p in (ZYTE, POSTS, PAGES) if not p.exists()]
    if missing:
        print(f"real data not found: {', '.join(missing)} (../shared/data beside the checkout)", file=sys.stderr)
        return 1
    docs = load_docs(args.limit)
    positives = positive_pairs(docs, args.seed)
    negatives = negative_pairs(docs, args.seed, args.random_negatives, args.closest)
    pairs = [(k, True, a, b) for k, a, b in positives] + [(k, False, a, b) for k, a, b in negatives]
    log(f"{len(docs)} texts, {len(positives)} positive and {len(negatives)} negative pairs")
    scored = score_pairs(pairs, nd.SHINGLE_SIZE, with_lsh=True)
    rows = sweep(scored)
    best = choose(rows, max(s.estimate for s in scored if not s.positive))
    baseline = sum(normalised_hash(a) == normalised_hash(b) for _, a, b in positives) / len(positives)
    texts: dict[str, int] = defaultdict(int)
    for doc in docs:
        texts[doc.source] += 1
    report = {
        "texts": texts,
        "pairs": {
            "positive": len(positives),
            "negative": len(negatives),
            "hard_negative": sum(kind in HARD for kind, _, _ in negatives),
        },
        "module": {
            n.lower(): getattr(nd, n) for n in ("SHINGLE_SIZE", "NUM_PERMUTATIONS", "THRESHOLD", "BANDS", "ROWS")
        },
        "threshold": best["threshold"],
        "margin": margin(scored, best["threshold"]),
        "at_threshold": {k: best[k] for k in ("precision", "recall", "f1")},
        "at_module_threshold": at(scored, nd.THRESHOLD),
        "by_kind": by_kind(scored, best["threshold"]),
        "baseline_exact_hash": {"recall": round(baseline, 4)},
        "recall_ratio_vs_baseline": round(best["recall"] / baseline, 1) if baseline else None,
        "sweep": rows,
        "shingle_sizes": compare_sizes(pairs, [int(v) for v in args.sizes.split(",")], scored),
        "estimator": estimator_error(scored),
        "speed": speed(docs),
    }
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
