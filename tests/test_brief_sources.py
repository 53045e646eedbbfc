"""What a briefing's source list tells a mentor about each item: its date, and the sectors it is about.

The blind mentor reviews of session 8 found evidence about another job shown without a caveat: a study of bank call
centres cited to someone at an energy company's contact centre read as if it were about their own work.
"""

from __future__ import annotations

import json
from datetime import date

from test_brief_unit import HEALTH, TODAY, RankedSearcher, item, make_store, reading, resolver  # noqa: F401

from shadowmatch_kb.brief.gate import ABOUT_SECTORS, apply_citation_gate
from shadowmatch_kb.brief.model import Briefing, Cited
from shadowmatch_kb.brief.render import to_html, to_markdown
from shadowmatch_kb.brief.retrieve import retrieve
from shadowmatch_kb.model import Item
from shadowmatch_kb.store.enrichment import save_enrichment


def _briefing(*items: Item) -> Briefing:
    briefing = Briefing("I take calls about energy bills", None, ["business support services"], len(items))
    briefing.overview = [Cited(f"Said by {item.title}.", [item.id]) for item in items]
    apply_citation_gate(briefing, {item.id: item for item in items}, today=date(2026, 12, 6))
    return briefing


def test_each_source_says_which_sectors_it_is_about() -> None:
    bank = Item(
        "a" * 32,
        "Bank chatbot",
        url="https://bank.example/a",
        published="2024-02-27",
        sectors=["banking and insurance"],
    )
    professions = "law, accounting and professional services"
    study = Item(
        "b" * 32,
        "Exposure study",
        url="https://gov.example/b",
        published="2023-11-28",
        sectors=[professions, "banking and insurance", "education"],
    )
    blog = Item("c" * 32, "A blog post", url="https://blog.example/c")  # no sector, no date
    briefing = _briefing(bank, study, blog)

    assert [s.about for s in briefing.sources] == [["banking and insurance"], study.sectors[:ABOUT_SECTORS], []]
    markdown = to_markdown(briefing).split("## Sources")[1]
    assert "1. Bank chatbot (2024-02-27; on banking and insurance) <https://bank.example/a>" in markdown
    # Sector names hold commas and "and" themselves: the second one is set apart.
    assert "(2023-11-28; on law, accounting and professional services, and on banking and insurance)" in markdown
    assert "education" not in markdown
    assert "3. A blog post (undated) <https://blog.example/c>" in markdown
    html = to_html(briefing)
    assert "(2024-02-27; on banking and insurance)" in html
    assert json.loads(json.dumps(briefing.to_dict("")["sources"]))[0]["about"] == ["banking and insurance"]


def test_a_source_names_only_the_sectors_enrichment_was_sure_of(resolver) -> None:  # noqa: F811
    # Session 11's reviews: a recruiter's briefing said no item was mainly about business support services, while
    # its first source said it was on them (enrichment had computed that sector at low confidence).
    unsure = item(1, "2024-01-01", [HEALTH, "education"])
    store = make_store(unsure)
    save_enrichment(store, unsure, {"sector_confidence": {HEALTH: 0.9, "education": 0.4}})
    searcher = RankedSearcher(store, {unsure.id: 0.3})
    found = retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert unsure.sectors == [HEALTH, "education"] and [e.sure_sectors for e in found.evidence] == [(HEALTH,)]

    briefing = Briefing("q", None, [HEALTH], 1)
    briefing.overview = [Cited("Said.", [unsure.id])]
    apply_citation_gate(briefing, {unsure.id: unsure}, today=TODAY, about={unsure.id: found.evidence[0].sure_sectors})
    assert [s.about for s in briefing.sources] == [[HEALTH]]


def test_a_source_is_dated_by_its_articles_own_address_when_that_is_earlier() -> None:
    # Session 19's reviewer read "(edition.cnn.com, 2024)" for an article of 28 January 2023 that a digest of 2024
    # linked; an essay of 2005 was shown as of 2024 the same way.
    def shown(url: str, published: str | None) -> str | None:
        return _briefing(Item("a" * 32, "An article", url=url, published=published)).sources[0].published

    assert (
        shown("https://edition.cnn.com/2023/01/28/tech/chatgpt/index.html?utm_source=x", "2024-01-21") == "2023-01-28"
    )
    assert shown("https://hbr.org/2005/01/managing-oneself", "2024-07-28") == "2005-01"  # a month is all it says
    assert shown("https://www.theverge.com/2024/2/11/24069251/waymo-taxi-fire", "2024-02-18") == "2024-02-11"
    assert shown("https://www.theverge.com/2023/11/14/23960367/uber-tasks", None) == "2023-11-14"  # was undated
    # The item's own date stands when the address says the same or later, or nothing that can be a date.
    assert shown("https://news.example/2024/01/21/story", "2024-01-21") == "2024-01-21"
    assert shown("https://news.example/2024/03/story", "2024-01-21") == "2024-01-21"
    assert shown("https://news.example/2023/13/40/story", "2024-01-21") == "2024-01-21"
    assert shown("https://news.example/2999/01/01/story", "2024-01-21") == "2024-01-21"
    # ... and a date in the address that cannot be right is not taken, even for an undated item.
    assert shown("https://news.example/2999/01/01/story", None) is None
    assert shown("https://archive.example/1985/05/12/story", "2024-01-21") == "2024-01-21"
    assert shown("https://news.example/story-2023", "2024-01-21") == "2024-01-21"
    markdown = to_markdown(
        _briefing(Item("a" * 32, "Managing oneself", url="https://hbr.org/2005/01/managing-oneself"))
    )
    assert "1. Managing oneself (2005-01) <https://hbr.org/2005/01/managing-oneself>" in markdown
    # A briefing of items published since a date shows none from before it: they were chosen by their own dates.
    since = Briefing("I sell houses", None, [], 1)
    since.since = "2024-01-01"
    cnn = Item("a" * 32, "An article", url="https://edition.cnn.com/2023/01/28/tech/x", published="2024-01-21")
    since.overview = [Cited("Said.", [cnn.id])]
    apply_citation_gate(since, {cnn.id: cnn}, today=date(2026, 12, 6))
    assert since.sources[0].published == "2024-01-21"
