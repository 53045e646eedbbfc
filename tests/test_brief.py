"""`smkb brief`: retrieval in the question's sector, merged signals, the citation gate, thin evidence, formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import HOSTILE_POST, PageParser, copy_kb, smkb

from shadowmatch_kb.brief.gate import apply_citation_gate
from shadowmatch_kb.brief.model import Briefing, BriefSignal, Cited
from shadowmatch_kb.brief.readability import grade_level, syllables
from shadowmatch_kb.brief.render import to_html, to_markdown
from shadowmatch_kb.formats.inert import safe_url
from shadowmatch_kb.model import Item
from shadowmatch_kb.text.sectors import SectorVocabulary

NURSE = "I'm a nurse on a busy ward. How will AI change my job?"
CITATION = re.compile(r"\[(\d+)\]")


# ----- readability ---------------------------------------------------------------------------


def test_syllables_and_grade_rank_plain_text_below_dense_text() -> None:
    assert [syllables(w) for w in ("cat", "table", "make", "wanted", "jumped", "information")] == [1, 2, 1, 2, 1, 4]
    plain = "The robot moves boxes. People check the work. The day is shorter."
    dense = (
        "Organisational implementation of generative artificial intelligence necessitates comprehensive "
        "reconsideration of occupational responsibilities and institutional accountability mechanisms."
    )
    assert grade_level(plain) < 4 < 16 < grade_level(dense)
    assert grade_level("The robot moves boxes [12].") == grade_level("The robot moves boxes.")
    assert grade_level("") == 0.0


# ----- the citation gate ---------------------------------------------------------------------


def _items(*ids: str) -> dict[str, Item]:
    return {i: Item(i, f"Title {i}", url=f"https://example.org/{i}", published="2024-01-01") for i in ids}


def test_the_gate_drops_uncited_claims_and_numbers_only_cited_sources() -> None:
    items = _items("a" * 32, "b" * 32, "c" * 32)
    briefing = Briefing("q", None, [], 3)
    briefing.overview = [Cited("Supported.", ["b" * 32]), Cited("Unsupported claim.", []), Cited("Ghost.", ["f" * 32])]
    briefing.signals = [
        BriefSignal("Cited signal", "x", "y", "z", ["a" * 32, "b" * 32], 2),
        BriefSignal("Uncited signal", "x", "y", "z", [], 0),
    ]
    dropped = apply_citation_gate(briefing, items)
    assert dropped == ["Unsupported claim.", "Ghost.", "Uncited signal"]
    assert [c.text for c in briefing.overview] == ["Supported."]
    assert [s.signal for s in briefing.signals] == ["Cited signal"]
    # Numbered in the evidence's order (most relevant first); the item nobody cites is not listed.
    assert [(s.number, s.id) for s in briefing.sources] == [(1, "a" * 32), (2, "b" * 32)]
    markdown = to_markdown(briefing)
    # An item's own sentence is shown with the title, site and year of the item it comes from.
    assert f"- *Title {'b' * 32}* (example.org, 2024): Supported. [2]" in markdown
    assert "**Cited signal** [1][2]" in markdown
    assert "Unsupported" not in markdown and "Ghost" not in markdown and "c" * 32 not in markdown


def test_only_http_links_are_kept() -> None:
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in (
        "javascript:alert(1)",
        "data:text/html,x",
        "ftp://x",
        "https://x.org/a b",
        'https://x.org/"><script>',
        None,
    ):
        assert safe_url(bad) is None


def test_hostile_text_is_inert_in_markdown_and_html() -> None:
    evil = "e" * 32
    items = {evil: Item(evil, "<script>alert(1)</script> [click](javascript:alert(2))", url="javascript:alert(3)")}
    briefing = Briefing('<img src=x onerror="alert(4)">', None, [], 1)
    briefing.overview = [Cited("<b onmouseover=alert(5)>hi</b> [x](javascript:alert(6))", [evil])]
    briefing.signals = [BriefSignal("<script>s</script>", "<iframe src=//evil>", "h", "f", [evil], 1)]
    apply_citation_gate(briefing, items)
    page = to_html(briefing)
    assert "<script" not in page and "<iframe" not in page and "<img" not in page and "<b " not in page
    assert 'href="javascript' not in page
    markdown = to_markdown(briefing)
    assert not re.search(r"(?<!\\)\]\(javascript", markdown)  # escaped brackets make no link
    assert not re.search(r"(?<!\\)<(?:script|img|b )", markdown)  # escaped angle brackets make no HTML


# ----- on the demo corpus (real model) -------------------------------------------------------


def _brief(kb: Path, *args: str) -> dict:
    result = smkb("brief", *args, "--format", "json", kb=kb)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_a_nurse_gets_healthcare_signals_every_one_cited(demo_kb) -> None:
    found = _brief(demo_kb, NURSE)
    assert found["sector"] == "healthcare and social care" and found["notice"] is None
    assert 3 <= len(found["signals"]) <= 8 and 2 <= len(found["overview"]) <= 3
    source_ids = {s["id"] for s in found["sources"]}
    assert all(s["sources"] and set(s["sources"]) <= source_ids for s in found["signals"])
    assert all(c["sources"] and set(c["sources"]) <= source_ids for c in found["overview"])
    assert [s["number"] for s in found["sources"]] == list(range(1, len(found["sources"]) + 1))
    # Every cited item is about health care (as the demo posts say of themselves).
    resolver = SectorVocabulary.load()
    for source in found["sources"]:
        item = json.loads(smkb("show", source["id"], "--format", "json", kb=demo_kb).stdout)
        assert "healthcare and social care" in {resolver.normalise(s) for s in item["sectors"]}, item["title"]
        assert source["about"] == item["sectors"][:2]  # the source list says so
    # The markdown cites only numbered sources and links only the items' own URLs.
    markdown = found["markdown"]
    assert {int(n) for n in CITATION.findall(markdown)} == set(range(1, len(found["sources"]) + 1))
    assert set(re.findall(r"<(https?://[^>]+)>", markdown)) <= {s["url"] for s in found["sources"]}
    overview = markdown.split("## Overview")[1].split("##")[0].strip()
    assert all(CITATION.search(sentence) for sentence in re.split(r"(?<=\])\s+", overview))
    # Short and plain: two printed pages, prompts at about a 9th-grade level.
    assert len(markdown.split()) <= 1000 and len(markdown.splitlines()) <= 110
    assert 3 <= len(found["prompts"]) <= 5 and found["readability"]["prompts"] <= 9


@pytest.mark.slow
def test_a_question_on_an_uncovered_sector_says_so_instead_of_padding(demo_kb) -> None:
    found = _brief(demo_kb, "I work in a quarry running the crushing plant. How will AI change my job?")
    assert found["sector"] == "mining and quarrying"
    assert found["coverage"] == "The knowledge base holds nothing yet on the mining and quarrying sector."
    assert found["notice"] and "smkb" not in found["notice"]  # said to the mentor, not to an analyst
    assert found["signals"] == [] and found["sources"] == [] and found["overview"] == []
    assert "Little evidence.** The knowledge base holds nothing yet on the mining" in found["markdown"]


@pytest.mark.slow
def test_since_keeps_only_newer_items_and_copies_count_once(demo_kb, tmp_path) -> None:
    found = _brief(demo_kb, "How will AI change banking jobs?", "--since", "2024-06-01")
    assert found["sources"] and all(s["published"] >= "2024-06-01" for s in found["sources"])
    # A syndicated copy of a cited post adds no support and never appears beside its original.
    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)
    first = _brief(kb, NURSE)
    original = first["sources"][0]["id"]
    text = smkb("show", original, "--format", "md", kb=kb).stdout
    copy = tmp_path / "copy.md"
    copy.write_text(text.replace("# ", "# Syndicated: ", 1), encoding="utf-8")
    assert smkb("ingest", str(copy), kb=kb).exit_code == 0
    again = _brief(kb, NURSE)
    assert [s["id"] for s in again["sources"]] == [s["id"] for s in first["sources"]]
    assert [s["support"] for s in again["signals"]] == [s["support"] for s in first["signals"]]


@pytest.mark.slow
def test_html_is_one_self_contained_printable_page(demo_kb, tmp_path) -> None:
    target = tmp_path / "brief.html"
    result = smkb("brief", NURSE, "--format", "html", "-o", str(target), kb=demo_kb)
    assert result.exit_code == 0, result.stderr
    page = PageParser(target.read_text(encoding="utf-8"))
    assert page.title.startswith("Briefing: I'm a nurse")
    assert page.loads == [] and "script" not in page.tags and page.handlers == []
    assert {"h1", "h2", "table", "ol", "sup"} <= set(page.tags)
    assert all(link.startswith(("https://", "http://", "#source-")) for link in page.links)
    assert "@media print" in target.read_text(encoding="utf-8")


@pytest.mark.slow
def test_md_output_and_usage_errors(demo_kb, tmp_path) -> None:
    result = smkb("brief", NURSE, kb=demo_kb)
    assert result.exit_code == 0 and result.stdout.startswith("# Briefing: ") and "## Sources" in result.stdout
    bad = smkb("brief", NURSE, "--format", "pdf", kb=demo_kb)
    assert bad.exit_code == 2 and "--format must be one of md, html, json" in bad.stderr
    assert smkb("brief", NURSE, "--since", "last week", kb=demo_kb).exit_code == 2
    picked = smkb("brief", NURSE, "--occupation", "nurse", kb=demo_kb)  # a job title needs the occupation data
    assert (
        picked.exit_code == 1 and "needs the occupation data" in picked.stderr and "occupations import" in picked.stderr
    )
    digits = smkb("brief", NURSE, "--occupation", "123", kb=demo_kb)
    assert digits.exit_code == 1 and "neither a job title in words" in digits.stderr
    unknown = smkb("brief", NURSE, "--occupation", "2221", kb=demo_kb)  # no occupation data in the demo KB
    assert unknown.exit_code == 1 and "not an ISCO-08 unit group of the imported occupation data" in unknown.stderr
    empty = smkb("brief", "   ", kb=demo_kb)
    assert empty.exit_code == 1 and empty.stderr.startswith("error: the question is empty")
    missing = smkb("brief", NURSE, kb=tmp_path / "nowhere")
    assert missing.exit_code == 1 and "no knowledge base" in missing.stderr and len(missing.stderr.splitlines()) == 1


@pytest.mark.slow
def test_hostile_item_text_never_runs_or_links_in_a_briefing(demo_kb, tmp_path, seed_onnx) -> None:
    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)
    post = tmp_path / "hostile.md"
    post.write_text(HOSTILE_POST, encoding="utf-8")
    assert smkb("ingest", str(post), kb=kb).exit_code == 0
    found = _brief(kb, "How will robots change hospital nursing?")
    assert any("<script>" in s["title"] for s in found["sources"])  # it is cited: the test means something
    target = tmp_path / "brief.html"
    assert (
        smkb(
            "brief", "How will robots change hospital nursing?", "--format", "html", "-o", str(target), kb=kb
        ).exit_code
        == 0
    )
    page = PageParser(target.read_text(encoding="utf-8"))
    assert "script" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    assert page.handlers == [] and not any(link.lower().startswith("javascript") for link in page.links)
    assert not re.search(r"(?<!\\)<(?:script|img|iframe)", found["markdown"]) and not re.search(
        r"(?<!\\)\]\(javascript", found["markdown"]
    )
