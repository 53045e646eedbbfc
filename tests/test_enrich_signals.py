"""Signals tables with verbatim evidence: written sentences, the real Signals posts, news with no signal at all."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from conftest import SEEDS, require_shared

from shadowmatch_kb.enrich.forces import FORCES, classify_force
from shadowmatch_kb.enrich.signals import MAX_SIGNAL_WORDS, extract_signals
from shadowmatch_kb.formats.signals_post import parse_signals_post
from shadowmatch_kb.model import Signal, row_text
from shadowmatch_kb.text.sentences import split_sentences

# Measured on the real posts: 0.50 of reference rows matched; rows made of the first sentences' first
# seven words (change left empty, as a naive table would have it) match 0.22.
MATCH_FLOOR = 0.47
MATCH_COSINE = 0.6
SEED_POST = "001_9f78c95ed29b7d61.txt"
# Real news pages with no change in work to report: sport, music tours, a recipe, a lost cat, an advice column.
NO_SIGNAL_ARTICLES = (
    "0d46122928",  # Davis Cup tennis
    "264dc3ae31",  # ice hockey
    "65ce3a4577",  # college football
    "c81e134ed4",  # basketball scores
    "9a440270bf",  # Euro 2020 qualifying
    "ecb46e3e48",  # ice hockey
    "ac1bfdd4c5",  # a band's reunion tour
    "9cb8224b66",  # the same band's anniversary
    "4219d09690",  # holiday jam recipe
    "ef2b3f268a",  # a cat found after five years
    "87438a0dac",  # an advice column
    "2c46804d9d",  # a police rescue video
)


@pytest.fixture(scope="module")
def embedder():
    os.environ["HF_HUB_OFFLINE"] = "1"  # module fixtures run before conftest's per-test guard
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def posts():
    folder = require_shared("signals_posts")
    files = sorted(folder.glob("*.md")) + sorted((folder / "older_variant").glob("*.md"))
    parsed = [parse_signals_post(path.read_text(encoding="utf-8")) for path in files]
    seed = SEEDS / SEED_POST
    if seed.exists():
        parsed.append(parse_signals_post(seed.read_text(encoding="utf-8")))
    return [post for post in parsed if post.summary.strip()]


@pytest.fixture(scope="module")
def zyte_bodies() -> dict[str, str]:
    truth = json.loads(require_shared("extraction", "zyte", "ground-truth.json").read_text(encoding="utf-8"))
    return {key[:10]: entry["articleBody"] for key, entry in truth.items()}


@pytest.fixture(scope="module")
def post_sentences(posts, embedder):
    """Every post's sentences and their vectors, embedded in one batch as the enrichment pipeline does."""
    sentences = [split_sentences(post.summary) for post in posts]
    vectors = embedder.embed_batch([s.text for group in sentences for s in group])
    bounds = np.cumsum([0] + [len(group) for group in sentences])
    return [(group, vectors[a:b]) for group, a, b in zip(sentences, bounds[:-1], bounds[1:], strict=True)]


@pytest.fixture(scope="module")
def post_rows(posts, post_sentences, embedder):
    return [
        extract_signals(post.summary, embedder, title=post.title, sentences=group, sentence_vectors=vectors)
        for post, (group, vectors) in zip(posts, post_sentences, strict=True)
    ]


def _check_row(row: Signal, text: str) -> None:
    assert row.evidence and row.evidence in text, row
    assert 2 <= len(row.signal.split()) <= MAX_SIGNAL_WORDS, row.signal
    assert row.change and len(row.change.split()) <= 60, row.change
    if not re.match(r"from .+ to .+", row.change, re.IGNORECASE):
        # No "before" stated: the change is the clause as the text states it, not words of ours.
        words = re.findall(r"[\w'’]+", row.change.lower())
        assert sum(word in row.evidence.lower() for word in words) >= 0.8 * len(words), (row.change, row.evidence)
    assert row.horizon and row.driving_force in FORCES, row


# --- Written sentences ---------------------------------------------------------------------------------


def test_a_stated_year_or_time_frame_becomes_the_horizon(embedder) -> None:
    text = (
        "By 2030, AI will automate half of the routine paperwork that clerks do in insurance companies. "
        "Within five years, banks expect to cut 10,000 jobs as chatbots take over customer service. "
        "Law firms are adopting AI tools that draft routine contracts."
    )
    rows = {row.evidence.split()[0]: row for row in extract_signals(text, embedder)}
    assert rows["By"].horizon.startswith("By 2030, ")
    assert rows["Within"].horizon.startswith("Within five years, ")
    assert rows["Law"].horizon.startswith("In ten years, ")  # no time frame stated: the cautious default
    for row in rows.values():
        _check_row(row, text)


def test_explicit_changes_are_kept_and_coordinated_predicates_give_one_row_each(embedder) -> None:
    shift = "Banks are shifting from branch tellers to chatbots for routine customer queries."
    (row,) = extract_signals(shift, embedder)
    assert row.change == "from branch tellers to chatbots for routine customer queries"
    (replaced,) = extract_signals("Paralegals are being replaced by AI drafting software in many firms.", embedder)
    assert replaced.change == "from Paralegals to AI drafting software in many firms"
    listed = (
        "AI assistance improves customer sentiment, reduces the need for managerial intervention, "
        "and enhances employee retention."
    )
    signals = [row.signal for row in extract_signals(listed, embedder)]
    assert signals == [
        "AI assistance improves customer sentiment",
        "AI assistance reduces need for managerial intervention",
        "AI assistance enhances employee retention",
    ]


def test_a_title_that_names_the_change_lends_the_signal_its_words(embedder) -> None:
    text = (
        "Hotels are turning to robot vacuums and self-service kiosks because they cannot hire enough cleaners. "
        "The sector still has 350,000 fewer workers than before the pandemic."
    )
    rows = extract_signals(text, embedder, title="Hotels Turn to Robots as Staffing Shortages Persist")
    assert rows[0].signal.lower() == "hotels turn to robots"
    assert rows[0].evidence.startswith("Hotels are turning")
    assert rows[0].driving_force == "labour shortage"


def test_texts_without_a_change_in_work_get_an_empty_table(embedder) -> None:
    descriptive = (
        "The museum is housed in a red-brick building near the river. Its galleries show paintings from the "
        "nineteenth century. Visitors can buy tickets at the door or walk in the garden."
    )
    recipe = "Preheat the oven to 180 degrees. Mix the flour, sugar and butter in a bowl. Bake for 40 minutes."
    assert extract_signals(descriptive, embedder) == []
    assert extract_signals(recipe, embedder, title="Grandma's butter cake") == []


def test_short_empty_and_non_english_texts_are_handled(embedder) -> None:
    assert extract_signals("", embedder) == []
    assert extract_signals("   \n\n ", embedder) == []
    assert extract_signals("AI.", embedder, title="AI") == []
    assert extract_signals("Banks will replace tellers with AI by 2030.", embedder, max_rows=0) == []
    (row,) = extract_signals("Banks will replace tellers with AI by 2030.", embedder)
    assert row.horizon.startswith("By 2030, ") and row.evidence == "Banks will replace tellers with AI by 2030."
    german = (
        "Die Digitalisierung verändert die Arbeit in fast allen Branchen. Bis 2030 werden viele Aufgaben "
        "in der Verwaltung automatisiert, und Beschäftigte müssen neue Fähigkeiten lernen."
    )
    assert extract_signals(german, embedder) == []


def test_precomputed_vectors_give_the_same_rows_and_must_match_the_sentences(embedder) -> None:
    text = (
        "Employers are adopting generative AI tools to boost productivity. "
        "Call centres will need fewer agents by 2027, while new roles in AI oversight appear."
    )
    sentences = split_sentences(text)
    vectors = embedder.embed_batch([s.text for s in sentences])
    assert extract_signals(text, embedder, sentences=sentences, sentence_vectors=vectors) == extract_signals(
        text, embedder
    )
    with pytest.raises(ValueError):
        extract_signals(text, embedder, sentences=sentences, sentence_vectors=vectors[:1])


def test_row_text_joins_signal_and_change() -> None:
    row = Signal("AI drafts routine legal documents", "from drafting by hand to reviewing AI drafts")
    assert row_text(row) == "AI drafts routine legal documents: from drafting by hand to reviewing AI drafts"
    assert row_text(Signal("Only a signal")) == "Only a signal"


# --- Driving forces ------------------------------------------------------------------------------------


def test_the_force_vocabulary_holds_the_named_forces_and_those_of_real_posts() -> None:
    assert 12 <= len(FORCES) <= 16 and len(set(FORCES)) == len(FORCES)
    named = ("efficiency and productivity", "cost", "labour shortage", "ageing population", "regulation")
    assert set(named) | {"consumer demand", "technology capability"} <= set(FORCES)


@pytest.mark.parametrize(
    ("sentence", "force"),
    [
        ("Hospitals are turning to robots because they cannot hire enough nurses.", "labour shortage"),
        ("The population is ageing and many nurses will retire in the next decade.", "ageing population"),
        ("A new EU law requires employers to disclose how their hiring algorithms work.", "regulation"),
        ("Companies replace call-centre staff with chatbots to cut costs.", "cost"),
        ("Customers expect instant answers at any hour, so retailers deploy chatbots.", "consumer demand"),
        ("Workers need new digital skills as offices adopt AI assistants.", "skills and education"),
    ],
)
def test_forces_are_classified_from_what_a_sentence_says(embedder, sentence: str, force: str) -> None:
    assert classify_force(sentence, embedder) == force


def test_forces_always_come_from_the_vocabulary(embedder, zyte_bodies) -> None:
    texts = ["", "   ", "x", "Ein kurzer deutscher Satz.", *[body[:300] for body in list(zyte_bodies.values())[:8]]]
    for text in texts:
        assert classify_force(text, embedder) in FORCES


# --- Real texts ----------------------------------------------------------------------------------------


def test_every_row_of_every_real_post_and_seed_quotes_its_evidence(posts, post_rows) -> None:
    assert len(posts) >= 100
    assert sum(1 for rows in post_rows if rows) >= 0.9 * len(posts)
    for post, rows in zip(posts, post_rows, strict=True):
        assert len(rows) <= 10
        for row in rows:
            _check_row(row, post.summary)


def test_every_seed_document_gets_rows_quoted_verbatim(embedder) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))
    if not seeds:
        pytest.skip(f"{SEEDS} is absent (seed documents live in ../shared/seeds beside the checkout)")
    for path in seeds:
        text = path.read_text(encoding="utf-8")
        title, _, body = text.partition("\n")
        rows = extract_signals(body, embedder, title=title)
        assert rows, path.name
        for row in rows:
            _check_row(row, body)


def test_horizons_of_real_posts_use_the_time_frames_they_state(posts, post_rows) -> None:
    stated = re.compile(r"\b(?:by 20\d\d|within \w+ years|over the next \w+ years)\b", re.IGNORECASE)
    checked = 0
    for rows in post_rows:
        for row in rows:
            frames = stated.findall(row.evidence)
            if frames:
                checked += 1
                assert row.horizon.lower().startswith(frames[-1].lower()), (row.evidence, row.horizon)
    assert checked >= 3


def test_news_with_no_change_in_work_gets_an_empty_table(embedder, zyte_bodies) -> None:
    for key in NO_SIGNAL_ARTICLES:
        assert extract_signals(zyte_bodies[key], embedder) == [], key


def test_news_of_layoffs_gets_rows_and_long_or_foreign_texts_stay_graceful(embedder, zyte_bodies) -> None:
    layoffs = zyte_bodies["bc13ff87b2"]  # WeWork cuts a third of its staff
    rows = extract_signals(layoffs, embedder)
    assert rows and any("layoff" in row.evidence.lower() for row in rows)
    for row in rows:
        _check_row(row, layoffs)
    longest = max(zyte_bodies.values(), key=len)  # some 8,000 words of Russian
    assert extract_signals(longest, embedder) == []
    for key in ("57b4dafd18", "85439e26c4", "0ec95c7261"):  # German, Japanese, Korean
        assert extract_signals(zyte_bodies[key], embedder) == [], key
    very_long = "\n\n".join(list(zyte_bodies.values())[:60])
    rows = extract_signals(very_long, embedder, max_rows=4)
    assert len(rows) <= 4
    for row in rows:
        _check_row(row, very_long)


def test_rows_match_the_reference_tables_of_real_posts(posts, post_rows, embedder) -> None:
    """The share of reference rows that one of ours matches; also beats a naive first-sentences table."""
    reference = [row_text(row) for post in posts for row in post.signals]
    ours = [row_text(row) for rows in post_rows for row in rows]
    naive = [
        row_text(Signal(" ".join(s.text.split()[:MAX_SIGNAL_WORDS])))
        for post, rows in zip(posts, post_rows, strict=True)
        for s in split_sentences(post.summary)[: max(1, len(rows))]
    ]
    vectors = embedder.embed_batch(reference + ours + naive)
    ref_vectors, our_vectors, naive_vectors = np.split(vectors, [len(reference), len(reference) + len(ours)])
    matched = naive_matched = start = our_start = naive_start = 0
    for post, rows in zip(posts, post_rows, strict=True):
        refs = ref_vectors[start : start + len(post.signals)]
        start += len(post.signals)
        count = max(1, len(rows))
        naive_block = naive_vectors[naive_start : naive_start + min(count, len(split_sentences(post.summary)))]
        naive_start += len(naive_block)
        if len(refs) and len(naive_block):
            naive_matched += int(((refs @ naive_block.T).max(axis=1) >= MATCH_COSINE).sum())
        block = our_vectors[our_start : our_start + len(rows)]
        our_start += len(rows)
        if len(refs) and len(block):
            matched += int(((refs @ block.T).max(axis=1) >= MATCH_COSINE).sum())
    share, naive_share = matched / len(reference), naive_matched / len(reference)
    assert share >= MATCH_FLOOR, (share, naive_share)
    assert share > naive_share + 0.05, (share, naive_share)
