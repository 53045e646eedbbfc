"""Near-duplicate fingerprints: stability, the threshold's decisions on real articles, and LSH look-ups."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import re
import subprocess
import sys
from collections import defaultdict
from urllib.parse import urlsplit

import numpy as np
import pytest
from conftest import REPO, require_shared

from shadowmatch_kb.ingest import near_duplicates as nd
from shadowmatch_kb.ingest.near_duplicates import (
    FINGERPRINT_VERSION,
    MIN_SHINGLES,
    NUM_PERMUTATIONS,
    THRESHOLD,
    Fingerprint,
    band_keys,
    fingerprint,
    is_near_duplicate,
    similarity,
)

ARTICLE = """Apprenticeships are changing as software takes over routine paperwork in small firms.
A regional chamber of commerce surveyed four hundred employers last spring and found that most now
expect trainees to check, correct and explain the output of automated tools rather than to fill in
forms by hand. Trainers said the change freed time for customer contact and for learning the trade
itself, but warned that young people still need to understand what the tools do. Several firms have
started pairing each apprentice with an experienced colleague for a weekly review of the automated
work, so mistakes are caught early and the reasons behind them are discussed openly. The chamber
plans to publish guidance for trainers next year, with examples from bakeries, garages and offices."""

OTHER_ARTICLE = """Hospitals in three countries are testing speech recognition for nursing notes. Nurses dictate
observations at the bedside and a system drafts the record, which the nurse then reads and signs.
Early reports mention less time spent at computers after each shift, but also errors with drug names
and with patients who speak quietly. Unions asked for clear rules on who is responsible when a draft
is wrong, and for training time to be paid. The pilot projects will be evaluated by independent
researchers before any hospital decides to keep the system in daily use on its wards."""

# The fingerprint of ARTICLE as this FINGERPRINT_VERSION defines it. A change of normalisation, shingles,
# hashes or permutations changes it: bump FINGERPRINT_VERSION (stored fingerprints are then recomputed)
# and update this value in the same change.
ARTICLE_FINGERPRINT_SHA256 = "57b47444516c6a81ee9ca5f66643ba4089cb34d3b7efcd686944c470f63e6090"


def edit_words(text: str, rate: float, seed: int) -> str:
    """Substitute or drop about ``rate`` of the words, and swap two neighbouring sentences."""
    rng = random.Random(seed)
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    if len(sentences) > 2:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    words = []
    for word in " ".join(sentences).split():
        if rng.random() >= rate:
            words.append(word)
        elif rng.random() < 0.5:
            words.append(rng.choice(["notably", "meanwhile", "reported", "several", "figures"]))
    return " ".join(words)


def wrap(text: str) -> str:
    """The text as another outlet republishes it: byline, notice, related stories, copyright."""
    return (
        "By Anna Berg, Press Association\n\nThis story first appeared on example.org and is republished "
        f"with permission.\n\n{text}\n\nRelated stories\n\nCity council approves new cycle lanes\n\n"
        "Local bakery wins regional prize\n\n© 2024 Press Association. All rights reserved."
    )


def truncate(text: str, share: float) -> str:
    words = text.split()
    return " ".join(words[: int(len(words) * share)]) + "\n\nRead the full story on example.org."


# ----- self-contained -----------------------------------------------------------------------------


def test_fingerprint_shape_type_and_shingle_count():
    fp = fingerprint(ARTICLE)
    assert fp.signature.dtype == np.uint32
    assert fp.signature.shape == (NUM_PERMUTATIONS,)
    assert fp.shingles == len(nd.shingle_hashes(ARTICLE)) > 100
    assert similarity(fp, fp) == 1.0 and is_near_duplicate(fp, fp)


def test_fingerprint_is_stable_across_processes_and_releases():
    code = (
        "import hashlib, json, sys; from shadowmatch_kb.ingest.near_duplicates import fingerprint, band_keys; "
        "fp = fingerprint(sys.stdin.read()); "
        "print(json.dumps([hashlib.sha256(fp.to_bytes()).hexdigest(), band_keys(fp)]))"
    )
    outputs = []
    for hash_seed in ("1", "2"):  # str hashing differs between these two interpreters
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run(
            [sys.executable, "-c", code], input=ARTICLE, capture_output=True, text=True, env=env, cwd=REPO, check=True
        )
        outputs.append(json.loads(run.stdout))
    here = fingerprint(ARTICLE)
    assert outputs[0] == outputs[1] == [hashlib.sha256(here.to_bytes()).hexdigest(), band_keys(here)]
    assert outputs[0][0] == ARTICLE_FINGERPRINT_SHA256, "fingerprints changed: bump FINGERPRINT_VERSION"


def test_bytes_round_trip_and_refusals():
    fp = fingerprint(ARTICLE)
    data = fp.to_bytes()
    back = Fingerprint.from_bytes(data)
    assert back == fp and back.shingles == fp.shingles
    assert np.array_equal(back.signature, fp.signature) and back.signature.dtype == np.uint32
    assert band_keys(back) == band_keys(fp)
    other_version = data[:4] + bytes([FINGERPRINT_VERSION + 1]) + data[5:]
    with pytest.raises(ValueError, match="version"):
        Fingerprint.from_bytes(other_version)
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(data[:-4])
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(b"not a fingerprint at all")


def test_fingerprint_is_an_immutable_value():
    fp = fingerprint(ARTICLE)
    with pytest.raises(ValueError):
        fp.signature[0] = 1
    source = np.arange(NUM_PERMUTATIONS, dtype=np.uint32)
    made = Fingerprint(signature=source, shingles=50)
    source[0] = 99
    assert made.signature[0] == 0
    assert len({fp, Fingerprint.from_bytes(fp.to_bytes())}) == 1
    with pytest.raises(ValueError):
        Fingerprint(signature=np.zeros(3, dtype=np.uint32), shingles=5)


def test_normalisation_ignores_case_punctuation_and_spacing():
    shouted = re.sub(r"[.,]", " ;", ARTICLE.upper()).replace(" ", "   ")
    assert fingerprint(shouted) == fingerprint(ARTICLE)
    assert fingerprint("Ärger über Straße") == fingerprint("ÄRGER ÜBER STRASSE")  # case folding, ß -> ss


def test_short_texts_get_no_band_keys_and_are_never_near_duplicates():
    short = "Robots sort parcels at night in the new depot."
    fp = fingerprint(short)
    assert 0 < fp.shingles < MIN_SHINGLES
    assert band_keys(fp) == []
    assert not is_near_duplicate(fp, fingerprint(short))
    empty = fingerprint("  ...  ")
    assert empty.shingles == 0 and band_keys(empty) == [] and similarity(empty, empty) == 0.0


def test_self_written_copies_are_near_duplicates_and_different_articles_are_not():
    original = fingerprint(ARTICLE)
    for copy in (wrap(ARTICLE), truncate(ARTICLE, 0.75), edit_words(ARTICLE, 0.07, seed=3)):
        assert is_near_duplicate(original, fingerprint(copy)), copy[:80]
    assert similarity(original, fingerprint(OTHER_ARTICLE)) < 0.05
    assert not is_near_duplicate(original, fingerprint(OTHER_ARTICLE))


def test_word_order_matters():
    words = ARTICLE.split()
    shuffled = " ".join(random.Random(5).sample(words, len(words)))
    assert similarity(fingerprint(ARTICLE), fingerprint(shuffled)) < 0.1


def test_band_layout_finds_pairs_at_the_threshold():
    assert nd.BANDS * nd.ROWS <= NUM_PERMUTATIONS
    assert nd.candidate_probability(THRESHOLD, nd.BANDS, nd.ROWS) >= 0.99
    assert nd.candidate_probability(THRESHOLD / 2, nd.BANDS, nd.ROWS) < 0.5
    keys = band_keys(fingerprint(ARTICLE))
    assert len(keys) == nd.BANDS and len(set(keys)) == nd.BANDS
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert set(keys) & set(band_keys(fingerprint(edit_words(ARTICLE, 0.05, seed=1))))


def test_cjk_text_is_split_into_characters():
    text = "人工智能正在改变许多行业的工作方式，企业需要重新培训员工以适应新的工具和流程。"
    assert nd.tokens(text)[:4] == ["人", "工", "智", "能"]
    assert fingerprint(text).shingles >= MIN_SHINGLES


# ----- real articles ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zyte() -> dict[str, dict[str, str]]:
    truth = require_shared("extraction", "zyte", "ground-truth.json")
    return json.loads(truth.read_text(encoding="utf-8"))


def test_real_article_copies_are_near_duplicates(zyte):
    bodies = [r["articleBody"] for _, r in sorted(zyte.items()) if 300 <= len(r["articleBody"].split()) <= 1500]
    for number, body in enumerate(bodies[:20]):
        original = fingerprint(body)
        for copy in (wrap(body), truncate(body, 0.72), edit_words(body, 0.05, seed=number)):
            assert is_near_duplicate(original, fingerprint(copy)), (number, similarity(original, fingerprint(copy)))


def test_different_real_articles_from_one_site_are_not_near_duplicates(zyte):
    by_host: dict[str, list[str]] = defaultdict(list)
    for _, record in sorted(zyte.items()):
        by_host[urlsplit(record["url"]).hostname or ""].append(record["articleBody"])
    pairs = [bodies[:2] for bodies in by_host.values() if len(bodies) >= 2]
    assert len(pairs) >= 20
    for first, second in pairs:
        score = similarity(fingerprint(first), fingerprint(second))
        assert score < THRESHOLD / 2, (first[:60], second[:60], score)


def test_lsh_finds_a_copy_among_real_texts(zyte):
    posts = sorted(require_shared("signals_posts").glob("*.md"))
    texts = [r["articleBody"] for _, r in sorted(zyte.items())] + [p.read_text(encoding="utf-8") for p in posts]
    texts = texts[:200]
    buckets: dict[int, set[int]] = defaultdict(set)
    prints = [fingerprint(text) for text in texts]
    for number, fp in enumerate(prints):
        for key in band_keys(fp):
            buckets[key].add(number)
    target = next(i for i, text in enumerate(texts) if len(text.split()) > 400)
    copy = fingerprint(edit_words(wrap(texts[target]), 0.06, seed=11))
    candidates = set().union(*(buckets.get(key, set()) for key in band_keys(copy)))
    assert target in candidates
    assert [i for i in candidates if is_near_duplicate(copy, prints[i])] == [target]
    # Among the real texts themselves no two different ones are near-duplicates.
    pairs = {(a, b) for ids in buckets.values() for a in ids for b in ids if a < b}
    assert not [(a, b) for a, b in pairs if is_near_duplicate(prints[a], prints[b]) and texts[a] != texts[b]]


def german_pages(count: int) -> list[str]:
    """The main text of the first German evaluation pages with at least 200 words."""
    import trafilatura

    pages = []
    for path in sorted(require_shared("extraction", "trafilatura_eval", "html").glob("*.html.gz")):
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        if not re.search(r"<html[^>]*\blang=[\"']?de", html[:3000], re.I):
            continue
        text = trafilatura.extract(html) or ""
        if len(text.split()) >= 200:
            pages.append(text)
        if len(pages) == count:
            break
    return pages


def test_german_pages_copies_match_and_different_pages_do_not():
    pages = german_pages(4)
    assert len(pages) == 4
    prints = [fingerprint(page) for page in pages]
    for number, page in enumerate(pages):
        assert is_near_duplicate(prints[number], fingerprint(edit_words(page, 0.07, seed=number)))
        assert is_near_duplicate(prints[number], fingerprint(truncate(page, 0.75)))
    for a in range(len(pages)):
        for b in range(a + 1, len(pages)):
            assert not is_near_duplicate(prints[a], prints[b])
