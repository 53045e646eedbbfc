"""The signal tracker (`smkb trends`), its emerging signals, charts and digests (`smkb digest`)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import copy_kb, require_shared, smkb

from shadowmatch_kb.model import Item, Signal, SignalRow
from shadowmatch_kb.store.sqlite import SqliteStore
from shadowmatch_kb.store.timeline import DatedItem, dated_items
from shadowmatch_kb.trends.digest import build_digest, parse_since
from shadowmatch_kb.trends.emerging import EmergenceParams, emergence_scores, flag_emerging
from shadowmatch_kb.trends.periods import period_of, period_range
from shadowmatch_kb.trends.plot import sparkline
from shadowmatch_kb.trends.series import Timeline, growth
from shadowmatch_kb.trends.service import build_trends, count_sectors, split_future

TODAY = "2025-06-30"


def _dated(item_id: str, date: str, *, themes=(), sectors=(), duplicate_of=None, by="published") -> DatedItem:
    return DatedItem(item_id, date, by, tuple(sectors), tuple(themes), duplicate_of)


# ----- periods, counts and growth (no model) -------------------------------------------------------


def test_periods_of_months_and_quarters_include_the_empty_ones() -> None:
    assert period_of("2024-03-31", "month") == "2024-03" and period_of("2024-03-31", "quarter") == "2024-Q1"
    assert period_range("2023-11", "2024-02", "month") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert period_range("2023-Q4", "2024-Q3", "quarter") == ["2023-Q4", "2024-Q1", "2024-Q2", "2024-Q3"]


def test_counts_per_month_and_quarter_with_copies_counted_once_as_their_original() -> None:
    items = [
        _dated("a", "2024-01-10", themes=["Automation"]),
        _dated("b", "2024-01-20", themes=["automation"]),
        _dated("c", "2024-04-02", themes=["Automation"], duplicate_of="a"),  # a copy of "a": counts once, in January
        _dated("d", "2024-04-05", themes=["Skills"]),
    ]
    by_month = Timeline(items, "month")
    assert by_month.periods == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert by_month.counts(["a", "b", "c"]) == [2, 0, 0, 0]
    assert by_month.counts(["c"]) == [1, 0, 0, 0]  # the copy alone still counts as its original
    by_quarter = Timeline(items, "quarter")
    assert by_quarter.periods == ["2024-Q1", "2024-Q2"] and by_quarter.counts(["a", "b", "c", "d"]) == [2, 1]
    # A third item in another quarter gives "Automation" the minimum support of a trend; "Skills" (one item) has not.
    report = build_trends([*items, _dated("e", "2024-07-01", themes=["AUTOMATION"])], [], None, by="month", today=TODAY)
    automation = next(s for s in report.series if s.kind == "theme" and s.label.lower() == "automation")
    assert automation.label == "Automation" and automation.counts == [2, 0, 0, 0, 0, 0, 1]  # spellings merged
    document = report.to_dict()
    assert document["periods"] == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07"]
    assert "Skills" not in {s["label"] for s in document["series"]}
    points = next(s for s in document["series"] if s["label"] == "Automation")["points"]
    counts, shares = [2, 0, 0, 0, 0, 0, 1], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert points == [
        {"period": p, "count": c, "share": s} for p, c, s in zip(document["periods"], counts, shares, strict=True)
    ]


def test_sectors_are_counted_per_isic_section_by_name_only() -> None:
    items = [
        _dated("a", "2024-01-10", sectors=["healthcare"]),  # a post's own word (older records held such)
        _dated("b", "2024-02-10", sectors=["healthcare and social care"]),  # the section name, as now stored
        _dated("c", "2024-02-11", sectors=["Nursing", "education"]),  # a finer everyday label
        _dated("d", "2024-02-12", sectors=["space tourism"]),  # no section: stored as a tag, never counted
    ]
    # One more item in another quarter gives healthcare the minimum support of a trend; education (one item) has not.
    later = _dated("e", "2024-05-02", sectors=["healthcare"])
    report = build_trends([*items, later], [], None, by="month", today=TODAY)
    sectors = {s.label: s.total for s in report.series if s.kind == "sector"}
    assert sectors == {"healthcare and social care": 4}
    assert count_sectors(items) == {"healthcare and social care": 3, "education": 1}


def test_growth_compares_the_recent_window_with_the_earlier_periods_smoothed() -> None:
    assert growth([1] * 12, "month") == 1.0  # steady
    assert growth([0] * 6 + [1] * 6, "month") == 3.0  # from nothing to one a month: (1 + .5) / (0 + .5)
    assert growth([2] * 6 + [0] * 6, "month") == 0.2  # stopped
    assert growth([0, 0, 0, 1], "month") == pytest.approx((0.5 + 0.5) / 0.5)  # window: half of 4 periods
    assert growth([3], "quarter") == 1.0 and growth([], "month") == 1.0
    assert sparkline([0, 1, 2, 4]) == "▁▃▅█" and sparkline([0, 0]) == "▁▁"


def test_undated_future_and_implausible_dates_are_never_counted(tmp_path) -> None:
    store = SqliteStore(tmp_path / "kb.sqlite")
    for item in [Item("a" * 32, "Dated", published="2024-02-01", themes=["Skills"]),
                 Item("b" * 32, "Undated", themes=["Skills"]),
                 Item("c" * 32, "Typo", published="2099-01-01", themes=["Skills"]),
                 Item("d" * 32, "A number read as a year", published="1747-01-01", themes=["Skills"])]:  # fmt: skip
        store.put_item(item, content_hash=item.id, text_hash=item.id, raw=None)
    items = dated_items(store)
    undated = next(d for d in items if d.item_id == "b" * 32)
    assert undated.undated and undated.date == undated.imported  # the import day, for a briefing's recency only
    kept, notices = split_future(items, "2098-12-31")
    assert [d.item_id for d in kept] == ["a" * 32]
    assert any("1 undated item(s) not counted" in n for n in notices)
    assert any("after today" in n and "2099-01-01" in n for n in notices)
    assert any("before 1990" in n and "1747-01-01" in n for n in notices)
    report = build_trends(items, [], None, by="quarter", today="2098-12-31")
    assert report.periods == ["2024-Q1"]  # neither the import day nor 2099 nor 1747 opens a period
    assert all(s.total <= 1 for s in report.series)


def test_no_dated_items_gives_empty_series_and_a_notice() -> None:
    report = build_trends([], [], None, today=TODAY)
    assert report.to_dict()["series"] == [] and report.notices


def test_emergence_picks_the_new_cluster_that_takes_off_not_the_old_steady_one() -> None:
    months = 36
    steady = [1 if m % 3 == 0 else 0 for m in range(months)]  # stated every quarter for three years
    takeoff = [0] * (months - 3) + [1, 1, 2]  # first stated three months ago, four items since
    one_off_new = [0] * (months - 2) + [1, 0]
    one_offs = [[1 if m == k else 0 for m in range(months)] for k in range(0, months, 2)]
    params = EmergenceParams()
    scores = emergence_scores([steady, takeoff, one_off_new, *one_offs], params)
    assert scores[0] is None  # too old to be emerging
    assert scores[1] is not None and scores[2] is not None and scores[1] > scores[2]
    supports = [sum(h) for h in [steady, takeoff, one_off_new, *one_offs]]
    assert flag_emerging(scores, supports, params) == [1]
    for method in ("decayed_popularity", "sweet_spot"):
        other = emergence_scores([steady, takeoff, one_off_new], EmergenceParams(method=method))
        assert other[0] is None and (other[1] or 0) > (other[2] or 0)


def test_digest_dates_are_checked() -> None:
    assert parse_since("2024-03") == "2024-03-01" and parse_since("2024") == "2024-01-01"
    from shadowmatch_kb.errors import UsageError

    for bad in ("yesterday", "2024-13-01", "2024-02-30"):
        with pytest.raises(UsageError):
            parse_since(bad)
    empty = build_digest([], [], None, since="2024-01-01", today=TODAY)
    assert empty.to_dict()["items"] == [] and "None" in empty.to_markdown()


def test_digest_markdown_makes_hostile_titles_and_links_inert() -> None:
    items = [_dated("x", "2024-05-01"), _dated("y", "2024-05-02")]
    rows = [SignalRow("x", Signal("<script>alert(1)</script>", "[a](javascript:alert(2))"), "2024-05-01")]
    about = {"x": ("<img src=x onerror=alert(3)>", "javascript:alert(4)"), "y": ("Fine", "https://example.org/y")}
    found = build_digest(items, rows, None, since="2024-01-01", today=TODAY, about=lambda ids: about)
    text = found.to_markdown()
    assert "javascript:alert(4)" not in text and "(<https://example.org/y>)" in text
    assert not re.search(r"(?<!\\)<(?:script|img)", text) and not re.search(r"(?<!\\)\]\(javascript", text)


# ----- the real model: clusters, emergence, charts, the commands ----------------------------------

STEADY = [("Remote work becomes the norm", "from office days to working from home"),
          ("Remote work is becoming normal", "from working in the office to working from home"),
          ("Working from home becomes the norm", "from office days to remote work at home")]  # fmt: skip
TAKEOFF = [("AI agents process customer refunds", "from clerks handling refunds to AI agents processing them"),
           ("AI agents handle refund requests", "from staff processing refunds to AI agents doing it"),
           ("Refunds processed by AI agents", "from human refund clerks to AI agents"),
           ("AI agents settle customer refunds", "from refund desks to AI agents settling refunds")]  # fmt: skip
FILLERS = [("Drones inspect wind turbines", "from climbing technicians to drone inspections"),
           ("Robots pick strawberries", "from seasonal pickers to picking robots"),
           ("3D printers build houses", "from bricklayers to printed concrete walls"),
           ("Pharmacies automate dispensing", "from counting pills by hand to dispensing machines"),
           ("Trucks drive in platoons", "from single drivers to convoys led by one driver"),
           ("Chatbots teach languages", "from evening classes to practice with a chatbot"),
           ("Satellites monitor crops", "from field visits to satellite images of fields"),
           ("Smart meters replace readers", "from meter readers to automatic readings")]  # fmt: skip


def _month(index: int) -> str:
    return f"{2022 + index // 12}-{index % 12 + 1:02d}-15"


def constructed_items() -> list[Item]:
    """Three years of posts: a steady signal every quarter, one-off fillers, and a new signal taking off."""
    items = []
    for n, month in enumerate(range(0, 36, 3)):
        signal, change = STEADY[n % len(STEADY)]
        items.append(Item(f"{n:032x}", f"Remote work, part {n}", url=f"https://example.org/remote/{n}",
                          published=_month(month), themes=["Remote work"], sectors=["Finance"],
                          signals=[Signal(signal, change)]))  # fmt: skip
    for n, (signal, change) in enumerate(FILLERS):
        items.append(Item(f"f{n:031x}", f"Filler {n}", published=_month(4 * n + 1), themes=["Automation"],
                          signals=[Signal(signal, change)]))  # fmt: skip
    for n, (signal, change) in enumerate(TAKEOFF):
        month = [37, 38, 39, 39][n]
        items.append(Item(f"e{n:031x}", f"Refund agents, part {n}", url=f"https://example.org/agents/{n}",
                          published=_month(month), themes=["AI agents"], sectors=["Retail"],
                          signals=[Signal(signal, change)]))  # fmt: skip
    copy = items[-1]
    items.append(Item("c" * 32, "Refund agents (syndicated)", published=copy.published, themes=["AI agents"],
                      signals=list(copy.signals), duplicate_of=copy.id))  # fmt: skip
    items.append(Item("d" * 32, "Dated by mistake", published="2099-05-01", themes=["AI agents"],
                      signals=[Signal("AI agents handle refunds", "from clerks to AI agents")]))  # fmt: skip
    return items


@pytest.fixture(scope="module")
def embedder():
    os.environ["HF_HUB_OFFLINE"] = "1"  # module fixtures run before conftest's per-test guard
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


def _rows_and_dates(items: list[Item]) -> tuple[list[DatedItem], list[SignalRow]]:
    dated = [_dated(i.id, i.published or "", themes=i.themes, sectors=i.sectors, duplicate_of=i.duplicate_of)
             for i in items]  # fmt: skip
    rows = [SignalRow(i.id, s, i.published, i.duplicate_of) for i in items for s in i.signals]
    return sorted(dated, key=lambda d: d.date), rows


@pytest.mark.slow
def test_the_new_signal_that_takes_off_is_emerging_and_the_steady_one_is_not(embedder) -> None:
    items = constructed_items()
    dated, rows = _rows_and_dates(items)
    report = build_trends(dated, rows, embedder, by="month", today="2025-06-30")
    assert [e.label for e in report.emerging] and report.emerging[0].item_ids[0].startswith("e")
    top = report.emerging[0]
    assert top.support == 4 and set(top.item_ids) == {f"e{n:031x}" for n in range(4)} | {"c" * 32}
    signals = {s.label: s for s in report.series if s.kind == "signal"}
    steady = next(s for s in signals.values() if s.item_ids[0] == f"{0:032x}")
    assert steady.total == 12 and not steady.emerging
    takeoff = next(s for s in signals.values() if s.emerging)
    assert takeoff.total == 4 and takeoff.counts[-4:] == [0, 1, 1, 2]  # the copy counts once, with its original
    assert takeoff.growth > 1.5 and steady.growth < 1.0
    assert "2099" not in report.periods[-1] and any("2099-05-01" in n for n in report.notices)


@pytest.mark.slow
def test_a_digest_calls_rising_only_what_two_items_state_since(embedder) -> None:
    dated, rows = _rows_and_dates(constructed_items())
    found = build_digest(dated, rows, embedder, since="2024-09-01", today="2025-06-30")
    assert found.rising and all(signal["support_since"] >= 2 for signal in found.rising)
    steady = [s for s in found.rising if f"{0:032x}" in s["items"]]
    assert not steady  # the steady signal was stated once since (2024-10): shown under its item, not rising


@pytest.mark.slow
def test_the_chart_is_a_real_png(embedder, tmp_path) -> None:
    from shadowmatch_kb.trends.plot import write_chart

    dated, rows = _rows_and_dates(constructed_items())
    path = write_chart(build_trends(dated, rows, embedder, by="quarter", today=TODAY), tmp_path / "out" / "t.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and 20_000 < len(data) < 2_000_000


@pytest.fixture(scope="module")
def dated_kb(tmp_path_factory, demo_kb) -> Path:
    """A KB holding the constructed items, with the demo KB's ONNX export (no second export)."""
    from shadowmatch_kb.kb import KnowledgeBase

    kb_dir = tmp_path_factory.mktemp("dated_kb")
    copy_kb(demo_kb / "indexes" / "onnx", kb_dir / "indexes" / "onnx")
    with KnowledgeBase.open(kb_dir) as kb:
        store = kb.record.create()
        for item in constructed_items():
            store.put_item(item, content_hash=item.id, text_hash=item.id, raw=None)
    return kb_dir


@pytest.mark.slow
def test_trends_json_follows_the_spec(dated_kb) -> None:
    result = smkb("trends", "--json", "--by", "month", kb=dated_kb)  # quarters are the default on thin months
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert "2099-05-01" in result.stderr  # the future item is named in a warning, not counted
    periods = document["periods"]
    assert periods[0] == "2022-01" and periods[-1] == "2025-04" and len(periods) == 40
    for series in document["series"]:
        assert set(series) >= {"label", "kind", "points", "growth"} and series["kind"] in {"signal", "theme", "sector"}
        assert [p["period"] for p in series["points"]] == periods and isinstance(series["growth"], float)
    kinds = {s["kind"] for s in document["series"]}
    assert kinds == {"signal", "theme", "sector"}
    agents = next(s for s in document["series"] if s["label"] == "AI agents")
    assert sum(p["count"] for p in agents["points"]) == 4  # the syndicated copy counts once, the 2099 one not at all
    assert document["emerging"] and document["emerging"][0]["support"] == 4
    assert document["method"]["method"] == "age_surprise"
    quarter = json.loads(smkb("trends", "--json", "--by", "quarter", "--sector", "retail", kb=dated_kb).stdout)
    assert quarter["periods"] == ["2025-Q1", "2025-Q2"]
    assert {s["label"] for s in quarter["series"] if s["kind"] == "sector"} == {
        "retail and wholesale trade"
    }  # counted per ISIC section


@pytest.mark.slow
def test_trends_table_and_plot(dated_kb, tmp_path) -> None:
    chart = tmp_path / "trends.png"
    result = smkb("trends", "--plot", str(chart), "--by", "quarter", kb=dated_kb)
    assert result.exit_code == 0, result.stderr
    assert "▲" in result.stdout and "growth" in result.stdout and "Remote work" in result.stdout
    assert any(bar in result.stdout for bar in "▂▃▄▅▆▇█")
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "chart written" in result.stderr
    bad = smkb("trends", "--by", "week", kb=dated_kb)
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1


@pytest.mark.slow
def test_digest_json_and_markdown(dated_kb) -> None:
    result = smkb("digest", "--since", "2025-01-01", "--format", "json", kb=dated_kb)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["since"] == "2025-01-01"
    ids = [item["id"] for item in document["items"]]
    assert ids == [f"e{n:031x}" for n in (3, 2, 1, 0)]  # newest first; the copy and the 2099 item left out
    dates = [item["date"] for item in document["items"]]
    assert dates == sorted(dates, reverse=True) and "c" * 32 not in ids and "d" * 32 not in ids
    first = document["items"][0]
    assert first["title"].startswith("Refund agents") and first["url"].startswith("https://example.org/agents/")
    assert first["signals"][0]["support"] == 4
    rising = document["rising"][0]
    assert rising["status"] == "new" and rising["support_since"] == 4
    assert set(rising["items_since"]) == set(ids) | {"c" * 32}
    markdown = smkb("digest", "--since", "2024-10", kb=dated_kb)
    assert markdown.exit_code == 0 and markdown.stdout.startswith("# Digest since 2024-10-01")
    assert "## Rising signals" in markdown.stdout and "Remote work, part 11" in markdown.stdout
    bad = smkb("digest", "--since", "last week", kb=dated_kb)
    assert bad.exit_code == 2 and bad.stderr.startswith("error:") and bad.stderr.count("\n") == 1


@pytest.mark.slow
def test_an_empty_knowledge_base_has_empty_series(tmp_path) -> None:
    from shadowmatch_kb.kb import KnowledgeBase

    with KnowledgeBase.open(tmp_path) as kb:
        kb.record.create()
    result = smkb("trends", "--json", kb=tmp_path)
    assert result.exit_code == 0 and json.loads(result.stdout)["series"] == [] and "no dated items" in result.stderr
    table = smkb("trends", kb=tmp_path)
    assert table.exit_code == 0 and "no dated items" in table.stdout


@pytest.mark.slow
def test_real_posts_end_to_end(tmp_path, seed_onnx) -> None:
    folder = require_shared("signals_posts")
    picked = sorted(folder.glob("*.md"))[:20] + [folder / "bc5ff4c170f1f63b34eb7ca70775d8d7.md"]  # the 2029 one
    posts, kb = tmp_path / "posts", tmp_path / "kb"
    posts.mkdir()
    kb.mkdir()
    for path in picked:
        shutil.copy(path, posts / path.name)
    seed_onnx(kb)
    assert smkb("ingest", str(posts), "--json", kb=kb).exit_code == 0
    result = smkb("trends", "--json", "--by", "quarter", kb=kb)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert "2029-08-30" in result.stderr and not any(p.startswith("2029") for p in document["periods"])
    signals = [s for s in document["series"] if s["kind"] == "signal"]
    assert signals and all(sum(p["count"] for p in s["points"]) >= 1 for s in signals)
    periods = document["periods"]
    assert periods == sorted(periods) and len(set(periods)) == len(periods)
    digest = smkb("digest", "--since", "2023-01-01", "--format", "json", kb=kb)
    assert digest.exit_code == 0 and all(i["date"] >= "2023-01-01" for i in json.loads(digest.stdout)["items"])
