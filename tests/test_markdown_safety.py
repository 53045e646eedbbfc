"""Signals posts written from hostile item text stay inert under a CommonMark renderer and read back whole.

`smkb show --format md` and `smkb export --format md` write items as Signals posts; a crawled title or summary
may hold ``<script>``, ``<a href="javascript:...">`` or ``[x](javascript:...)``. Each post is rendered here
by markdown-it (CommonMark, raw HTML allowed, every link target let through, so that the test sees what the
markdown asks for) and the page is read as a browser would. The escaping must stay lossless:
``parse_signals_post`` gives back the very fields that were rendered.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import HOSTILE_POST, PageParser, copy_kb, smkb

from shadowmatch_kb.formats.signals_post import parse_signals_post, render_signals_post
from shadowmatch_kb.model import Item, Signal

EVIL = "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3))"
HOSTILE_ITEM = Item(
    id="e" * 32,
    title=f'Robots on wards {EVIL} <a href="javascript:alert(4)">here</a>',
    url="javascript:alert(5)",
    source="data:text/html,<script>alert(6)</script>",
    published="2024-01-02",
    summary=f"Nurses work beside robots. {EVIL}\n## Signals\n<iframe src=//evil></iframe>\n\nMore *here*.",
    keywords=["<b onmouseover=alert(7)>robots</b>", "[k](javascript:alert(8))", "C# and F#"],
    themes=["`code` | pipes \\ and _under_scores_"],
    sectors=["healthcare and social care"],
    signals=[Signal(f"Robots {EVIL}", "from <i>walking</i> to robots | lifts", "[h](javascript:x)", "cost", EVIL)],
)
ID_LINK = re.compile(r"^[0-9a-f]{32}$")


def _page(markdown: str) -> PageParser:
    markdown_it = pytest.importorskip("markdown_it")
    renderer = markdown_it.MarkdownIt("commonmark").enable("table")
    renderer.validateLink = lambda url: True  # let every link through: the markdown alone must keep them out
    return PageParser(renderer.render(markdown))


def _assert_inert(markdown: str) -> None:
    page = _page(markdown)
    assert not {"script", "img", "iframe", "b", "i"} & set(page.tags), page.tags
    assert page.handlers == [] and page.loads == []
    assert all(link.startswith(("http://", "https://")) or ID_LINK.match(link) for link in page.links), page.links


def test_a_hostile_item_renders_inert() -> None:
    markdown = render_signals_post(HOSTILE_ITEM, [("1" * 32, f"Related {EVIL}"), ("javascript:alert(9)", "x")])
    _assert_inert(markdown)
    assert "javascript" not in "".join(_page(markdown).links)
    assert "External link" not in markdown  # a javascript: article link is not written at all


def test_escaped_text_reads_back_as_it_was() -> None:
    post = parse_signals_post(render_signals_post(HOSTILE_ITEM, [("1" * 32, EVIL)]), item_id=HOSTILE_ITEM.id)
    for name in ("title", "published", "summary", "keywords", "themes", "sectors", "signals"):
        assert getattr(post, name) == getattr(HOSTILE_ITEM, name), name
    assert post.reference_closest == ["1" * 32] and post.url is None and post.post_url is None


@pytest.mark.parametrize(
    "title",
    [
        "AI & jobs: what's next? (a 2024 view)",
        "C# and F#: 5 * 3 <= 20 | [draft] \\o/ __init__ `code`",
        "Learning C#",
        "A title that ends in a backslash \\",
    ],
)
def test_ordinary_punctuation_survives_a_round_trip(title) -> None:
    item = Item(id="0" * 32, title=title, url="https://example.org/a_(b)", summary=f"{title}.\n- a list\n- of two")
    post = parse_signals_post(render_signals_post(item, []))
    assert (post.title, post.summary, post.url) == (title, item.summary, item.url)


@pytest.mark.slow
def test_show_and_export_as_markdown_are_inert(demo_kb, tmp_path, seed_onnx) -> None:
    kb = tmp_path / "kb"
    copy_kb(demo_kb, kb)
    post = tmp_path / "hostile.md"
    post.write_text(HOSTILE_POST, encoding="utf-8")
    assert smkb("ingest", str(post), kb=kb).exit_code == 0
    listed = json.loads(smkb("list", "--json", kb=kb).stdout)["items"]
    item_id = next(found["id"] for found in listed if "<script>" in found["title"])
    shown = smkb("show", item_id, "--format", "md", kb=kb)
    assert shown.exit_code == 0 and "alert('summary')" in shown.stdout  # the hostile text is there, escaped
    _assert_inert(shown.stdout)
    folder = tmp_path / "md"
    assert smkb("export", "--format", "md", "-o", str(folder), kb=kb).exit_code == 0
    exported = (folder / f"{item_id}.md").read_text(encoding="utf-8")
    _assert_inert(exported)
    assert parse_signals_post(exported).title == parse_signals_post(HOSTILE_POST).title
