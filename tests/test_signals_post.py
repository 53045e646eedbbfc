"""The Signals post format: real posts from ../shared/data and small hand-written edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEEDS, SHARED_DATA, require_shared

from shadowmatch_kb.errors import InputError
from shadowmatch_kb.formats.signals_post import (
    ParsedPost,
    looks_like_signals_post,
    parse_signals_post,
    render_signals_post,
)
from shadowmatch_kb.model import Item, Signal

POSTS = SHARED_DATA / "signals_posts"
ROUND_TRIP_FIELDS = ("title", "published", "url", "summary", "keywords", "themes", "signals")
HEADER = "| Signal | Change | 10y horizon | Driving force |\n|:--|:--|:--|:--|"


def _real_posts() -> list[Path]:
    if not POSTS.exists():
        return []
    return sorted(POSTS.glob("*.md")) + sorted((POSTS / "older_variant").glob("*.md"))


def _post_id(path: Path) -> str:
    return path.parent.name + "/" + path.stem if path.parent.name == "older_variant" else path.stem


def _read(*parts: str) -> str:
    return require_shared("signals_posts", *parts).read_text(encoding="utf-8")


def _to_item(post: ParsedPost, item_id: str) -> Item:
    return Item(
        id=item_id,
        title=post.title,
        url=post.url,
        published=post.published,
        summary=post.summary,
        keywords=post.keywords,
        themes=post.themes,
        signals=post.signals,
        reference_closest=post.reference_closest,
    )


def _round_trip(post: ParsedPost, item_id: str) -> ParsedPost:
    closest = [(ref, f"Title of {ref}") for ref in post.reference_closest]
    return parse_signals_post(render_signals_post(_to_item(post, item_id), closest), item_id=item_id)


# -- every real post -------------------------------------------------------------------------


def test_real_post_folders_hold_both_variants() -> None:
    require_shared("signals_posts", "older_variant")
    assert len(list(POSTS.glob("*.md"))) >= 100
    assert len(list((POSTS / "older_variant").glob("*.md"))) >= 10


def _post_params() -> list:
    absent = pytest.mark.skip(reason=f"{POSTS} is absent (real posts live in ../shared/data)")
    return [pytest.param(p, id=_post_id(p)) for p in _real_posts()] or [pytest.param(None, marks=absent)]


@pytest.mark.parametrize("path", _post_params())
def test_real_post_parses_and_round_trips(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert looks_like_signals_post(text)
    post = parse_signals_post(text, item_id=path.stem)
    assert post.title
    assert post.summary
    assert post.signals
    # every real row fills all four fields, whichever table layout the file uses
    assert all(s.signal and s.change and s.horizon and s.driving_force for s in post.signals)
    assert all(s.evidence == "" for s in post.signals)
    assert path.stem not in post.reference_closest
    assert len(set(post.reference_closest)) == len(post.reference_closest)
    assert post.published is None or len(post.published) == 10
    again = _round_trip(post, path.stem)
    for name in ROUND_TRIP_FIELDS:
        assert getattr(again, name) == getattr(post, name), name
    assert again.reference_closest == post.reference_closest


@pytest.mark.skipif(not _real_posts(), reason=f"{POSTS} is absent")
def test_round_trip_is_stable_as_text() -> None:
    """Rendering a re-parsed post gives the very same markdown: render is a fixed point."""
    for path in _real_posts():
        post = parse_signals_post(path.read_text(encoding="utf-8"), item_id=path.stem)
        closest = [(ref, ref) for ref in post.reference_closest]
        first = render_signals_post(_to_item(post, path.stem), closest)
        second = render_signals_post(_to_item(parse_signals_post(first), path.stem), closest)
        assert first == second, path.name


# -- named real posts ------------------------------------------------------------------------


def test_four_column_post_with_empty_closest() -> None:
    post = parse_signals_post(_read("01bec9add8819c277aad7d7ba19983f7.md"))
    assert post.title == "Boosting Productivity and Satisfaction with Generative AI"
    assert post.published == "2023-09-27"
    assert post.post_url == "https://kghosh.substack.com/p/20230927"
    assert post.url == "https://www.nber.org/papers/w31161?utm_source=substack&utm_medium=email"
    assert post.summary.startswith("This study examines the impact of a generative AI-based")
    assert len(post.keywords) == 10
    assert post.keywords[0] == "generative AI"
    assert post.themes == ["AI in customer support", "impact on productivity", "knowledge dissemination"]
    assert len(post.signals) == 5
    assert post.signals[-1] == Signal(
        signal="AI improves employee retention",
        change="Increase in employee retention",
        horizon="Higher levels of job satisfaction and loyalty",
        driving_force="Better workplace environment",
    )
    assert post.reference_closest == []
    assert post.heading_id is None
    assert post.extra_sections == {}


def test_six_column_table_maps_to_signal_fields() -> None:
    post = parse_signals_post(_read("048217ea507fedd0b8205ec892c6986b.md"))
    assert post.title == "How AI and CAPTCHAs Are Reshaping Work and Society"
    assert post.published == "2023-03-20"
    assert post.url == "https://digitalnative.substack.com/p/when-ai-begins-to-replace-humans"
    assert len(post.signals) == 7
    first = post.signals[0]
    assert first.signal == "Rise of AI Pop Stars"
    assert first.change.startswith("From human artists dominating the music scene")
    assert first.horizon.startswith("AI-generated artists could become mainstream")
    assert first.driving_force.startswith("Advancements in generative AI")
    assert first.evidence == ""
    # the description column has no Signal field and must not leak into one
    assert "Noonoouri" not in " ".join(vars(first).values())
    # Summary comes after Keywords, Themes and Other in this file
    assert post.summary.startswith("The article explores how technology")
    assert set(post.extra_sections) == {"Other", "Concerns", "Behaviors", "Technologies", "Issues"}
    assert post.extra_sections["Other"] == "* Category: technology\n* Type: blog post"
    assert post.extra_sections["Concerns"].startswith("| name")


def test_from_page_heading_form() -> None:
    post = parse_signals_post(_read("515caab076a67eec3531ff27aa8f3e83.md"))
    assert post.title == ("The Essential Role of Engineers in Addressing Global Challenges and Envisioning the Future")
    assert post.published == "2024-06-09"
    assert post.post_url == "https://kghosh.substack.com/p/20240609"
    assert post.url == "https://spectrum.ieee.org/engineering-needs-more-futurists"
    assert len(post.signals) == 5
    assert post.signals[0].signal == "Shift in Engineering Mindset"


def test_char_split_keywords_are_spelled_back_and_junk_date_is_none() -> None:
    post = parse_signals_post(_read("45b33e1316e998abe15730c2aeaaa70b.md"))
    assert post.title == "Uber Launches Pilot Service for Household Chores to Expand Driver Earnings"
    assert post.published is None  # the heading says 1747.0
    assert post.post_url == "https://kghosh.substack.com/p/1747.0"
    assert post.keywords == [
        "uber",
        "uber tasks",
        "freelance",
        "chores",
        "drivers",
        "courier",
        "pilot program",
    ]
    assert post.themes == [
        "uber",
        "household tasks",
        "freelance laborers",
        "ridesharing",
        "service expansion",
    ]
    assert len(post.signals) == 5


def test_older_variant_title_url_and_closest_without_self_link() -> None:
    item_id = "027558bc932f10b574b0608c17e61026"
    post = parse_signals_post(_read("older_variant", f"{item_id}.md"))
    assert post.heading_id == item_id
    assert post.title.startswith("The text discusses the importance of maintenance and repair")
    assert len(post.title) <= 81
    assert post.published == "2022-10-31"
    # no External link line in the older variant: the post link stands in
    assert post.url == post.post_url == "https://kghosh.substack.com/p/20221031"
    assert item_id not in post.reference_closest
    assert len(post.reference_closest) == 9
    assert post.reference_closest[:2] == [
        "cf7cc3361b8139c51e3e97835a2da4e4",
        "5faa4668aa08755679e2956ba96ecb18",
    ]


def test_self_links_drop_by_item_id() -> None:
    text = _read("977ac6628e9192d07524905819496121.md")
    own = "977ac6628e9192d07524905819496121"
    # every Closest entry in this file points at the post itself
    assert parse_signals_post(text, item_id=own).reference_closest == []
    assert parse_signals_post(text).reference_closest == [own]  # deduped, but no id to drop it by
    mixed = parse_signals_post(_read("2bd2f16207519e71b7ae8b7899a7e0f1.md"), item_id="2bd2f16207519e71b7ae8b7899a7e0f1")
    assert len(mixed.reference_closest) == 9
    assert mixed.reference_closest[0] == "d2a5e5d3dad76d8880d6d322b26a8ab9"


def test_seeds_tell_posts_from_plain_text() -> None:
    if not SEEDS.exists():
        pytest.skip(f"{SEEDS} is absent (seeds live in ../shared/seeds beside the checkout)")
    verdicts = {p.name: looks_like_signals_post(p.read_text(encoding="utf-8")) for p in SEEDS.iterdir()}
    assert sum(verdicts.values()) == 1
    assert verdicts["001_9f78c95ed29b7d61.txt"] is True
    post = parse_signals_post((SEEDS / "001_9f78c95ed29b7d61.txt").read_text(encoding="utf-8"))
    assert post.title == "AI Job Losses Are Rising, but the Full Story Goes Beyond the Numbers"
    assert post.published == "2023-12-30"


# -- hand-written inputs ---------------------------------------------------------------------


MINIMAL = """# __A Small Post__, from ([20240102](https://example.substack.com/p/20240102).)

## Summary

Robots sort parcels. Humans fix the robots.
"""


def test_missing_sections_leave_empty_fields() -> None:
    post = parse_signals_post(MINIMAL)
    assert post.title == "A Small Post"
    assert post.published == "2024-01-02"
    assert post.url == post.post_url == "https://example.substack.com/p/20240102"
    assert post.summary == "Robots sort parcels. Humans fix the robots."
    assert (post.keywords, post.themes, post.signals, post.reference_closest) == ([], [], [], [])
    assert looks_like_signals_post(MINIMAL)


def test_ragged_rows_are_padded_or_cut() -> None:
    text = (
        "# __Ragged__\n\n## Signals\n\n"
        "| Signal | Change | 10y horizon | Driving force |\n"
        "|:--|:--|:--|:--|\n"
        "| only two | cells |\n"
        "| a | b | c | d | e | f |\n"
        "|   padded   |    x |  y|z|\n"
        "| | | | |\n"
    )
    post = parse_signals_post(text)
    assert post.signals == [
        Signal("only two", "cells", "", ""),
        Signal("a", "b", "c", "d"),
        Signal("padded", "x", "y", "z"),
    ]


def test_table_without_outer_pipes_and_unknown_header_reads_in_spec_order() -> None:
    text = "# __T__\n\n## Signals\n\n| S | C | H | D |\n|---|---|---|---|\n| s1 | c1 | h1 | d1 |\n"
    assert parse_signals_post(text).signals == [Signal("s1", "c1", "h1", "d1")]


def test_escaped_pipes_in_cells_survive_parse_and_render() -> None:
    text = f"# __Pipes__\n\n## Signals\n\n{HEADER}\n| either \\| or | from a \\| b | later | force |\n"
    post = parse_signals_post(text)
    assert post.signals == [Signal("either | or", "from a | b", "later", "force")]
    rendered = render_signals_post(_to_item(post, "0" * 32), [])
    assert "| either \\| or | from a \\| b | later | force |" in rendered
    assert parse_signals_post(rendered).signals == post.signals


def test_empty_closest_section() -> None:
    post = parse_signals_post(MINIMAL + "\n## Closest\n\n* \n")
    assert post.reference_closest == []


def test_closest_keeps_only_hex_ids_lowercased_and_deduped() -> None:
    upper = "ABCDEF0123456789ABCDEF0123456789"
    text = MINIMAL + (
        "\n## Closest\n\n"
        f"* [One]({upper})\n"
        f"* [Again]({upper.lower()})\n"
        "* [Elsewhere](https://example.com/page)\n"
        "* [Short](abc123)\n"
        f"* [{'1' * 32}]({'1' * 32})\n"
        f"* [Self]({'f' * 32})\n"
    )
    post = parse_signals_post(text, item_id="F" * 32)
    assert post.reference_closest == [upper.lower(), "1" * 32]


def test_crlf_line_endings() -> None:
    text = MINIMAL.replace("\n", "\r\n") + "\r\n## Keywords\r\n\r\n* robots\r\n* parcels\r\n\r\n## Signals\r\n\r\n"
    text += HEADER.replace("\n", "\r\n") + "\r\n| s | c | h | d |\r\n"
    post = parse_signals_post(text)
    assert post.title == "A Small Post"
    assert post.summary == "Robots sort parcels. Humans fix the robots."
    assert post.keywords == ["robots", "parcels"]
    assert post.signals == [Signal("s", "c", "h", "d")]
    assert looks_like_signals_post(text)


def test_only_a_heading_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        parse_signals_post("# __Nothing Else__, from ([20240102](https://example.com/p).)\n")
    assert caught.value.source == "signals post"


def test_nothing_at_all_is_an_input_error() -> None:
    for text in ("", "\n\n", "just some words\n", "## Closest\n\n* [x](y)\n"):
        with pytest.raises(InputError):
            parse_signals_post(text)


def test_unrelated_text_is_not_a_post() -> None:
    assert not looks_like_signals_post("Dear team,\n\nthe meeting moved to Friday.\n")
    assert not looks_like_signals_post("# Release notes\n\n## Summary\n\nBug fixes.\n\n## Thanks\n")
    assert not looks_like_signals_post("## Summary\n\nNo title line.\n\n## Signals\n")
    assert not looks_like_signals_post("")


def test_plain_heading_with_two_known_sections_is_a_post() -> None:
    assert looks_like_signals_post("# Robots\n\n## Summary\n\nText.\n\n## Keywords\n\n* robots\n")


def test_heading_forms_keep_the_title_intact() -> None:
    body = "\n\n## Summary\n\nText.\n"
    assert parse_signals_post("# Learning C#" + body).title == "Learning C#"
    assert parse_signals_post("# **Bold Title** ##" + body).title == "Bold Title"
    assert parse_signals_post("# __Lessons from (old) mills__" + body).title == "Lessons from (old) mills"
    wiki = parse_signals_post("# __W__, from ([20200101](https://en.wikipedia.org/wiki/A_(b)).)" + body)
    assert (wiki.title, wiki.published, wiki.post_url) == (
        "W",
        "2020-01-01",
        "https://en.wikipedia.org/wiki/A_(b)",
    )


def test_junk_dates_and_no_heading() -> None:
    for junk in ("1747.0", "20231340", "soon"):
        text = MINIMAL.replace("[20240102]", f"[{junk}]")
        assert parse_signals_post(text).published is None
    headless = parse_signals_post("## Summary\n\nA short note on robots. It has more.\n")
    assert headless.title == "A short note on robots"


def test_older_variant_title_is_trimmed_at_a_word_boundary() -> None:
    item_id = "ab" * 16
    sentence = "Warehouse robots " + "increasingly share the floor with people " * 4 + "today."
    heading = f"# {item_id} from ([20220626](https://example.substack.com/p/20220626).)"
    text = f"{heading}\n\n## Summary\n\n{sentence}\n"
    text += f"\n## Closest\n\n* [{item_id}]({item_id})\n* [{'cd' * 16}]({'cd' * 16})\n"
    post = parse_signals_post(text)
    assert post.heading_id == item_id
    assert post.title.endswith("…") and len(post.title) <= 81
    assert sentence.startswith(post.title[:-1])
    assert post.reference_closest == ["cd" * 16]
    assert parse_signals_post(f"# {item_id}\n\n## Signals\n\n{HEADER}\n| s | c | h | d |\n").title == item_id


def test_render_writes_the_spec_layout() -> None:
    item = Item(
        id="0" * 32,
        title="Robots\nin  warehouses",
        url="https://source.example/a",
        published="2023-12-30",
        summary="One paragraph.",
        keywords=["robots", "warehouses"],
        themes=["automation"],
        signals=[Signal("Robots pick", "from people\nto robots", "fewer pickers", "cost", evidence="x")],
    )
    text = render_signals_post(item, [("1" * 32, "A related item")])
    assert text == (
        "# __Robots in warehouses__, from ([20231230](https://source.example/a).)\n\n"
        "__[External link](https://source.example/a)__\n\n"
        "## Summary\n\nOne paragraph.\n\n"
        "## Keywords\n\n* robots\n* warehouses\n\n"
        "## Themes\n\n* automation\n\n"
        f"## Signals\n\n{HEADER}\n| Robots pick | from people to robots | fewer pickers | cost |\n\n"
        "## Evidence\n\n1. **Robots pick**: x\n\n"
        f"## Closest\n\n* [A related item]({'1' * 32})\n"
    )


def test_evidence_round_trips_through_the_format() -> None:
    item = Item(
        id="2" * 32,
        title="Clerks and apps",
        summary="Banks say apps will replace most counter work by 2030.",
        signals=[
            Signal("Apps replace counter work", "from clerks to apps", "by 2030", "cost", "Banks say apps"),
            Signal("No quote here", "a", "b", "cost"),
        ],
    )
    parsed = parse_signals_post(render_signals_post(item, []), item_id=item.id)
    assert [s.evidence for s in parsed.signals] == ["Banks say apps", ""]


def test_render_of_a_bare_item_keeps_signals_and_closest_headings() -> None:
    text = render_signals_post(Item(id="0" * 32, title="Bare"), [])
    assert text == f"# __Bare__\n\n## Signals\n\n{HEADER}\n\n## Closest\n"
    dated = render_signals_post(Item(id="0" * 32, title="Dated", published="2024-02-03", summary="S."), [])
    assert dated.startswith("# __Dated__, from (20240203.)\n")
    assert parse_signals_post(dated).published == "2024-02-03"


# -- rendering keeps every field -------------------------------------------------------------


def _demo_posts() -> list[Path]:
    return sorted((Path(__file__).resolve().parents[1] / "corpus" / "demo").glob("*.md"))


def _as_imported(post: ParsedPost, item_id: str) -> Item:
    """The item `smkb ingest` makes of a post: its page link kept as the item's source."""
    item = _to_item(post, item_id)
    item.source, item.sectors = post.post_url, post.sectors
    return item


@pytest.mark.parametrize("path", _post_params() + [pytest.param(p, id=f"demo/{p.stem}") for p in _demo_posts()])
def test_real_and_demo_posts_round_trip_every_field(path: Path) -> None:
    post = parse_signals_post(path.read_text(encoding="utf-8"), item_id=path.stem)
    closest = [(ref, f"Title of {ref}") for ref in post.reference_closest]
    again = parse_signals_post(render_signals_post(_as_imported(post, path.stem), closest), item_id=path.stem)
    for name in (*ROUND_TRIP_FIELDS, "post_url", "sectors", "reference_closest"):
        assert getattr(again, name) == getattr(post, name), name


def test_a_junk_date_keeps_the_page_link() -> None:
    page = "https://example.substack.com/p/4320.0"
    text = MINIMAL.replace("[20240102](https://example.substack.com/p/20240102)", f"[4320.0]({page})")
    post = parse_signals_post(text)
    assert (post.published, post.post_url, post.url) == (None, page, page)
    rendered = render_signals_post(_as_imported(post, "0" * 32), [])
    assert rendered.startswith(f"# __A Small Post__, from ([undated]({page}).)\n")
    again = parse_signals_post(rendered)
    assert (again.published, again.post_url, again.url) == (None, page, page)
    real = parse_signals_post(_read("45b33e1316e998abe15730c2aeaaa70b.md"))  # its heading says 1747.0
    assert parse_signals_post(render_signals_post(_as_imported(real, "0" * 32), [])).post_url == real.post_url
