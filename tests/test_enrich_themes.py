"""Themes from a growing vocabulary, on the real bundled model and the real Signals posts."""

from __future__ import annotations

import itertools
import os
from collections import Counter

import numpy as np
import pytest
from conftest import require_shared

from shadowmatch_kb.enrich.themes import ThemeExample, ThemeVocabulary, load_seed_themes
from shadowmatch_kb.errors import BackendError

pytestmark = pytest.mark.slow

WAREHOUSE = (
    "The retailer has installed picking robots in its three largest warehouses. The machines now take "
    "over the repetitive work of fetching boxes from the shelves, a task that used to occupy hundreds of "
    "pickers on every shift. Managers say the robots run through the night and make fewer mistakes, and "
    "the company plans to bring them to every distribution centre by 2027."
)
SHADOW = (
    "Each spring, engineers at the plant host a secondary-school pupil for one day. The pupil follows "
    "them through meetings, the test bench and lunch, asks what the job is really like, and leaves with "
    "a sense of what the work involves and which subjects lead there."
)


class CachedEmbedder:
    """The real model, remembering vectors so that many vocabularies over the same themes stay cheap."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.cache: dict[str, np.ndarray] = {}

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        for text, vector in zip(missing, self.inner.embed_batch(missing), strict=True):
            self.cache[text] = vector
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])


@pytest.fixture(scope="module")
def embedder() -> CachedEmbedder:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    return CachedEmbedder(SentenceTransformerEmbedder("all-MiniLM-L6-v2"))


def _cosines(embedder: CachedEmbedder, themes: list[str], others: list[str]) -> np.ndarray:
    return embedder.embed_batch(themes) @ embedder.embed_batch(others).T


def test_seed_themes_are_about_thirty_distinct_described_workforce_themes() -> None:
    seeds = load_seed_themes()
    names = [name for name, _ in seeds]
    assert 30 <= len(seeds) <= 40
    assert len({n.casefold() for n in names}) == len(names)
    for name, description in seeds:
        assert name.strip() == name and name
        assert len(description.split()) >= 6 and "\n" not in description
    for expected in ("task automation", "job displacement", "algorithmic management", "regulation of AI at work"):
        assert expected in names


def test_vocabulary_grows_with_imported_and_corrected_themes(embedder) -> None:
    vector = embedder.embed_batch(["a text"])[0]
    vocabulary = ThemeVocabulary(
        embedder,
        extra_themes=["  Prompt   engineering ", "prompt engineering", "Task Automation", ""],
        examples=[ThemeExample(vector, ("work shadowing",), weight=2.0), ThemeExample(vector, ())],
    )
    themes = vocabulary.themes()
    seeds = [name for name, _ in load_seed_themes()]
    assert themes[: len(seeds)] == seeds
    assert themes[len(seeds) :] == ["Prompt engineering", "work shadowing"]


def test_three_distinct_themes_that_fit_the_text(embedder) -> None:
    vocabulary = ThemeVocabulary(embedder)
    themes = vocabulary.assign(WAREHOUSE)
    assert len(themes) == 3 and len(set(themes)) == 3
    assert {"robotics and physical automation", "task automation"} & set(themes)
    assert not {"AI in healthcare", "diversity and inclusion", "AI and creative work"} & set(themes)
    assert vocabulary.assign(WAREHOUSE) == themes


def test_near_identical_themes_are_never_returned_together(embedder) -> None:
    extra = ["AI", "artificial intelligence", "Artificial Intelligence (AI)", "labor market", "labour market"]
    vocabulary = ThemeVocabulary(embedder, extra_themes=extra)
    text = "Artificial intelligence (AI) is changing the labour market, and AI tools reach every labor market."
    themes = vocabulary.assign(text, k=6)
    assert len(themes) == 6
    assert len({"AI", "artificial intelligence", "Artificial Intelligence (AI)"} & set(themes)) == 1
    assert len({"labor market", "labour market"} & set(themes)) <= 1
    similarity = _cosines(embedder, themes, themes)
    for i, j in itertools.combinations(range(len(themes)), 2):
        assert similarity[i, j] < 0.75, (themes[i], themes[j])


def test_labelled_neighbours_bring_their_themes(embedder) -> None:
    # An analyst's programme name shares no words with the text; only the labelled neighbour can bring it.
    neighbour = embedder.embed_batch(["Engineers host a pupil for a day to show what their job involves."])[0]
    far = embedder.embed_batch(["Quarterly results of a mining company beat expectations."])[0]
    without = ThemeVocabulary(embedder, extra_themes=["Lighthouse programme"])
    assert "Lighthouse programme" not in without.assign(SHADOW)
    with_far = ThemeVocabulary(embedder, examples=[ThemeExample(far, ("Lighthouse programme",))])
    assert "Lighthouse programme" not in with_far.assign(SHADOW)
    with_near = ThemeVocabulary(embedder, examples=[ThemeExample(neighbour, ("Lighthouse programme",), weight=2.0)])
    assert "Lighthouse programme" in with_near.assign(SHADOW)


def test_analyst_corrections_outweigh_imported_labels(embedder) -> None:
    vector = embedder.embed_batch([SHADOW])[0]

    def top(weight_imported: float, weight_corrected: float) -> str:
        examples = [
            ThemeExample(vector, ("Harbour initiative",), weight=weight_imported),
            ThemeExample(vector, ("Lighthouse programme",), weight=weight_corrected),
        ]
        return ThemeVocabulary(embedder, examples=examples).assign(SHADOW, k=1)[0]

    assert top(1.0, 2.0) == "Lighthouse programme"
    assert top(2.0, 1.0) == "Harbour initiative"


def test_a_precomputed_vector_is_used_as_given(embedder) -> None:
    vocabulary = ThemeVocabulary(embedder)
    vector = embedder.embed_batch([WAREHOUSE])[0]
    assert vocabulary.assign(WAREHOUSE, text_vector=vector) == vocabulary.assign(WAREHOUSE)
    # The vector decides, not the text: the pipeline may pass a vector of the whole item with a short text.
    assert vocabulary.assign("", text_vector=vector) == vocabulary.assign(WAREHOUSE)
    assert vocabulary.assign("", text_vector=vector * 3.0) == vocabulary.assign(WAREHOUSE)
    with pytest.raises(BackendError, match="dimensions"):
        vocabulary.assign(WAREHOUSE, text_vector=np.ones(12, dtype=np.float32))
    with pytest.raises(BackendError, match="dimensions"):
        ThemeVocabulary(embedder, examples=[ThemeExample(np.ones(12, dtype=np.float32), ("x",))])


def test_blank_short_long_and_non_english_texts(embedder) -> None:
    vocabulary = ThemeVocabulary(embedder)
    assert vocabulary.assign("   \n ") == []
    assert vocabulary.assign(WAREHOUSE, k=0) == []
    assert len(vocabulary.assign("Robots.")) == 3
    assert len(set(vocabulary.assign(WAREHOUSE * 40, k=5))) == 5
    french = "Les robots remplacent les caristes dans les entrepôts, et les syndicats demandent des formations."
    assert len(vocabulary.assign(french)) == 3


def _key(theme: str) -> str:
    return " ".join(theme.casefold().split())


def test_leave_one_out_on_real_posts_beats_the_most_frequent_themes(embedder) -> None:
    from shadowmatch_kb.formats.signals_post import parse_signals_post

    folder = require_shared("signals_posts")
    posts = [parse_signals_post(p.read_text(encoding="utf-8"), item_id=p.stem) for p in sorted(folder.glob("*.md"))]
    posts = [p for p in posts if p.themes and p.summary.strip()]
    assert len(posts) >= 50
    vectors = embedder.embed_batch([p.summary for p in posts])
    ours: list[float] = []
    frequent: list[float] = []
    for i, post in enumerate(posts):
        # Leave one out: the post's own themes may only come back through other posts that share them.
        others = [j for j in range(len(posts)) if j != i]
        examples = [ThemeExample(vectors[j], tuple(posts[j].themes)) for j in others]
        extra = [t for j in others for t in posts[j].themes]
        vocabulary = ThemeVocabulary(embedder, extra_themes=extra, examples=examples)
        assigned = vocabulary.assign(post.summary, text_vector=vectors[i])
        counts = Counter(_key(t) for j in others for t in posts[j].themes)
        baseline = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
        assert len(assigned) == 3
        ours.append(float(_cosines(embedder, assigned, post.themes).max(axis=1).mean()))
        frequent.append(float(_cosines(embedder, baseline, post.themes).max(axis=1).mean()))
    # Measured: 0.59 against 0.51 for the three most frequent themes.
    assert np.mean(ours) >= np.mean(frequent) + 0.05
