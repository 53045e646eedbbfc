"""The whole offline enrichment of one item, on real pages: English, other languages, short and empty texts."""

from __future__ import annotations

import json
import os

import pytest
from conftest import require_shared

from shadowmatch_kb.enrich.pipeline import Enricher, LabelledItem
from shadowmatch_kb.model import Item, Signal

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    os.environ["HF_HUB_OFFLINE"] = "1"  # module fixtures run before conftest's per-test guard
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    labelled = [
        LabelledItem("Hospitals use AI scribes so nurses spend less time on notes.", ("AI in healthcare",), True)
    ]
    return Enricher(SentenceTransformerEmbedder("all-MiniLM-L6-v2"), labelled=labelled)


@pytest.fixture(scope="module")
def bodies() -> dict[str, dict]:
    truth = json.loads(require_shared("extraction", "zyte", "ground-truth.json").read_text(encoding="utf-8"))
    return {key[:10]: entry for key, entry in truth.items()}


def _item(entry: dict) -> Item:
    return Item(id="0" * 32, title=entry.get("headline") or "", text=entry["articleBody"])


def test_an_english_article_gets_every_field(enricher, bodies) -> None:
    entry = bodies["bc13ff87b2"]  # WeWork lays off a third of its staff
    item = enricher.enrich(_item(entry))
    assert item.summary and all(part in entry["articleBody"] for part in item.summary.split(". ")[:1])
    assert 5 <= len(item.keywords) <= 10 and len(item.themes) == 3
    assert item.signals and all(row.evidence in entry["articleBody"] for row in item.signals)
    assert enricher.enrich_with_record(item)[1]["language"] == "en"


def test_a_german_article_is_read_as_german_and_gets_no_english_rows(enricher, bodies) -> None:
    item = enricher.enrich(_item(bodies["57b4dafd18"]))  # electronic patient records
    assert enricher.enrich_with_record(item)[1]["language"] == "de"
    assert item.summary and item.keywords and item.signals == []
    assert not any(k.lower().split()[0] in {"der", "die", "das", "und"} for k in item.keywords), item.keywords
    assert "healthcare and social care" in item.sectors


@pytest.mark.parametrize("key", ["85439e26c4", "0ec95c7261"])  # Japanese, Korean
def test_texts_in_other_scripts_get_a_summary_and_nothing_guessed(enricher, bodies, key) -> None:
    entry = bodies[key]
    item = enricher.enrich(_item(entry))
    assert item.summary and item.summary.split(" ")[0] in entry["articleBody"]
    assert (item.keywords, item.themes, item.sectors, item.signals) == ([], [], [], [])
    assert enricher.enrich_with_record(item)[1]["language"] == "unknown"


def test_short_empty_and_complete_items(enricher) -> None:
    assert enricher.enrich(Item(id="0" * 32, title="", text="")).summary == ""
    short = enricher.enrich(Item(id="0" * 32, title="AI", text="AI."))
    assert short.summary == "AI." and short.signals == []
    done = Item(
        id="0" * 32, title="t", text="Banks will replace tellers with chatbots by 2030.", summary="s",
        keywords=["k"], themes=["x"], sectors=["finance"], signals=[Signal("a b", "c", "d", "cost", "e")],
    )  # fmt: skip
    assert enricher.enrich(done) == done  # nothing to compute


def test_a_post_keeps_its_own_fields_and_only_missing_ones_are_computed(enricher) -> None:
    text = (
        "Hospitals are adopting AI scribes that draft clinical notes, and nurses spend less time on paperwork. "
        "By 2030, most routine documentation in hospitals could be automated, researchers estimate."
    )
    item = enricher.enrich(Item(id="0" * 32, title="AI scribes", text=text, keywords=["AI scribes"], themes=["mine"]))
    assert item.keywords == ["AI scribes"] and item.themes == ["mine"]
    assert item.summary and item.sectors and item.signals
    assert any(row.horizon.startswith("By 2030") for row in item.signals)
