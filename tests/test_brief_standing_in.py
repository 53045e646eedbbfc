"""When no item is likely about the person's work, the closest few stand in: quoted and named as the closest the
knowledge base holds, each with its one closest signal under a heading that says whose signals they are.

Session 10's blind reviews: a local reporter's only evidence was an article on the US intelligence community, and
four of its rows were offered as the changes in their work.
"""

from __future__ import annotations

from test_brief_unit import (  # noqa: F401  (parts and resolver are fixtures)
    HEALTH,
    QUESTION,
    TODAY,
    RankedSearcher,
    cosine_for,
    item,
    make_store,
    parts,
    reading,
    resolver,
)

from shadowmatch_kb.brief import compose
from shadowmatch_kb.brief.model import Briefing, Source
from shadowmatch_kb.brief.prompts import prompts_for
from shadowmatch_kb.brief.render import to_html, to_markdown
from shadowmatch_kb.brief.retrieve import FALLBACK_FLOOR, WITHOUT_OCCUPATION, Evidence, Retrieval, retrieve


def test_retrieval_says_when_its_items_only_stand_in(resolver) -> None:  # noqa: F811
    likely, unlikely = item(1, "2024-01-01", ["nursing"]), item(2, "2024-01-01", ["nursing"])
    floor = WITHOUT_OCCUPATION.cite_floor
    searcher = RankedSearcher(make_store(likely, unlikely), {likely.id: cosine_for(floor + 0.1, in_sector=True)})
    assert not retrieve(searcher, reading([HEALTH]), resolver.vocabulary, today=TODAY).standing_in
    closest = {unlikely.id: cosine_for((floor + FALLBACK_FLOOR) / 2, in_sector=True)}
    found = retrieve(RankedSearcher(make_store(unlikely), closest), reading([HEALTH]), resolver.vocabulary, today=TODAY)
    assert [e.item_id for e in found.evidence] == [unlikely.id] and found.standing_in


def test_items_standing_in_are_quoted_and_give_one_signal_each(parts, monkeypatch) -> None:  # noqa: F811
    question = "Nurses review AI drafts: how will AI scribes that draft clinical notes change hospital nursing?"

    def first_item(standing: bool):
        def retrieval(*args, **kwargs):
            found = retrieve(*args, **kwargs)
            found.evidence, found.standing_in = found.evidence[:1], standing
            return found

        return retrieval

    monkeypatch.setattr(compose, "retrieve", first_item(False))
    usual = compose.build_briefing(question, **parts, today=TODAY)
    assert len(usual.signals) == 2 and not usual.standing_in  # an item likely on the work gives each of its rows
    assert "This briefing rests on" in usual.coverage
    # One item is little evidence: its rows are the closest the knowledge base holds, not news of the person's work
    # (session 20's reviewer read an air traffic controller asked whether warehouse robots "match what you see").
    assert usual.notice and "## Signals in the closest items" in to_markdown(usual)
    assert usual.prompts[0].startswith("The closest change found:")
    usual.notice = None  # on more evidence, they are the changes found
    assert "## Signals of change" in to_markdown(usual) and prompts_for(usual)[0].startswith("Talk about")
    usual.notice, usual.names_job = "Treat what follows as a starting point.", True  # ... or where one names the job
    assert "## Signals of change" in to_markdown(usual) and prompts_for(usual)[0].startswith("Talk about")

    monkeypatch.setattr(compose, "retrieve", first_item(True))
    briefing = compose.build_briefing(question, **parts, today=TODAY)
    assert briefing.standing_in and briefing.to_dict("")["standing_in"] is True
    assert briefing.signals == usual.signals[:1]
    assert all(claim.is_quote for claim in briefing.overview)  # each named by its item, no lead claiming the work
    assert "The closest items found, quoted below: " in briefing.coverage
    assert "## Signals in the closest items" in to_markdown(briefing) and "Signals of change" not in to_html(briefing)


def test_an_item_standing_in_gives_only_its_closest_signal(parts) -> None:  # noqa: F811
    store, embedder = parts["store"], parts["embedder"]
    first = store.get_many([f"{1:032x}"])[f"{1:032x}"]  # two rows: AI scribes draft notes; nurses review AI drafts
    targets = embedder.embed_batch(["nurses review AI scribes drafts of clinical notes"])
    both = compose._signals(store, [first], embedder, targets, {})
    assert len(both) == 2
    assert compose._signals(store, [first], embedder, targets, {}, limit=1) == both[:1]


def test_an_item_standing_in_from_other_work_is_not_called_close_to_the_work() -> None:
    # Session 11: "No item ... is close to the work of bricklayers ... The closest the knowledge base holds, quoted
    # below: 1 item closest to the work you describe" said and unsaid the same thing in two sentences.
    robots = Evidence(f"{1:032x}", 0.1, 0.3, 0.1, False, "wider", "2024-01-01", relevance=0.1)
    briefing = Briefing("q", None, ["construction"], 1)
    briefing.occupations = [{"isco": "7112", "label": "Bricklayers and related workers"}]
    briefing.sources = [Source(1, robots.item_id, "t", None, None)]

    def coverage(standing_in: bool) -> str:
        found = Retrieval(["construction"], [robots], 10, [], 0, standing_in)
        return compose._coverage(found, briefing, lacked=["bricklayer"])

    briefing.title = "bricklayer"
    assert coverage(True) == (
        "No item in the knowledge base names bricklayers or is mainly about the construction sector. The closest items "
        "found, quoted below: 1 item on other work."
    )
    assert coverage(False).endswith("This briefing rests on 1 item closest to the work you describe.")
