"""The tracker as people read it: shares, minimum support, quarters by default, small multiples, "rising since".

Unit checks run on constructed dated items (no model); the command, the page in a real browser and the real
Signals posts run end to end (slow).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import require_shared, smkb, smkb_serve

from shadowmatch_kb.store.timeline import DatedItem
from shadowmatch_kb.trends.plot import choose_period, write_chart
from shadowmatch_kb.trends.series import Series, annotate, growth_in_words, rising_summary, to_quarters
from shadowmatch_kb.trends.service import build_trends

TODAY = "2025-06-30"


def _dated(item_id: str, date: str, *, themes=(), sectors=()) -> DatedItem:
    return DatedItem(item_id, date, "published", tuple(sectors), tuple(themes), None)


def _items() -> list[DatedItem]:
    """Two years of one post a month on "Automation", one post on "Once", and "Agents" taking off at the end."""
    items = [_dated(f"a{n:031x}", f"{2023 + n // 12}-{n % 12 + 1:02d}-10", themes=["Automation"]) for n in range(24)]
    items.append(_dated("b" * 32, "2023-05-02", themes=["Once"]))
    items += [_dated(f"c{n:031x}", f"2024-{m:02d}-20", themes=["Agents"]) for n, m in enumerate([2, 10, 11, 12, 12])]
    return items


def test_share_is_the_count_over_the_periods_items_and_one_item_is_no_trend() -> None:
    s = annotate(
        Series("x", "theme", [1, 0, 2, 3], 1.0), ["2024-01", "2024-02", "2024-04", "2024-05"], [4, 2, 4, 3], "month"
    )
    assert s.shares == [0.25, 0.0, 0.5, 1.0] and s.supported  # 6 items in 2024-Q1 and 2024-Q2
    one_quarter = annotate(Series("y", "theme", [2, 1, 0], 1.0), ["2024-01", "2024-02", "2024-04"], [2, 2, 2], "month")
    assert not one_quarter.supported  # 3 items, but all in one quarter: a burst, not a trend
    report = build_trends(_items(), [], None, by="month", today=TODAY)
    labels = [s.label for s in report.series]
    assert "Once" not in labels and {"Automation", "Agents"} <= set(labels)
    assert report.period_totals == [sum(1 for d in _items() if d.date[:7] == p) for p in report.periods]


def test_rising_needs_growth_recent_items_and_a_larger_share() -> None:
    report = build_trends(_items(), [], None, by="quarter", today=TODAY)
    agents = next(s for s in report.series if s.label == "Agents")
    automation = next(s for s in report.series if s.label == "Automation")
    assert agents.rising and not automation.rising and report.series[0] is agents  # rising first
    summary = rising_summary(agents, report.periods, report.period_totals, "quarter")
    assert summary["since"] == "2024-Q3" and summary["sentence"].startswith(
        "Items on “Agents” rose from about one item every 6 quarters"
    )
    assert "to about 2 items a quarter since 2024-Q3" in summary["sentence"] and "%" in summary["sentence"]
    assert summary["item_ids"][0] in {"c" + f"{n:031x}" for n in (3, 4)} and len(summary["item_ids"]) == 4
    # More items overall is no rise: the same counts while every quarter grew as fast.
    busy = annotate(Series("z", "theme", [0, 1, 2, 2], 1.0), ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"],
                    [1, 2, 40, 40], "quarter")  # fmt: skip
    assert busy.growth >= 1.5 and not busy.rising


def test_quarters_by_default_when_months_are_thin_and_an_explicit_month_is_honoured() -> None:
    assert to_quarters(["2024-02", "2024-03", "2024-04"], [1, 2, 3]) == (["2024-Q1", "2024-Q2"], [3, 3])
    report = choose_period(build_trends(_items(), [], None, by="month", today=TODAY), None)
    assert report.by == "quarter" and report.periods[0] == "2023-Q1"
    assert "half the months hold 1 item or fewer" in report.period_choice
    assert sum(report.period_totals) == len(_items())
    assert report.to_dict()["rising"][0]["label"] == "Agents"
    asked = choose_period(build_trends(_items(), [], None, by="month", today=TODAY), "month")
    assert asked.by == "month" and asked.period_choice == "per month, as asked"
    busy = [_dated(f"{n:032x}", f"2024-{n % 12 + 1:02d}-01", themes=["T"]) for n in range(12 * 12)]
    assert choose_period(build_trends(busy, [], None, by="month", today=TODAY), None).by == "month"


def test_growth_in_words() -> None:
    assert growth_in_words(1.0) == "steady" and growth_in_words(2.1) == "up (2.10×)"
    assert growth_in_words(2.1, rising=True) == "rising (2.10×)"  # the word is kept for the series marked rising
    assert growth_in_words(0.4).startswith("fading") and "a little" in growth_in_words(1.2)


def test_the_png_is_small_multiples(tmp_path) -> None:
    report = choose_period(build_trends(_items(), [], None, by="month", today=TODAY), None)
    path = write_chart(report, tmp_path / "t.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    empty = write_chart(build_trends([], [], None, today=TODAY), tmp_path / "empty.png")
    assert empty.stat().st_size > 1000


@pytest.mark.slow
def test_the_command_says_the_period_shares_rising_and_growth_in_words(demo_kb) -> None:
    result = smkb("trends", "--json", kb=demo_kb)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["by"] in {"month", "quarter"} and document["period_choice"].startswith(f"per {document['by']}")
    assert len(document["period_totals"]) == len(document["periods"])
    for series in document["series"]:
        assert all(0.0 <= p["share"] <= 1.0 for p in series["points"]) and series["growth_in_words"]
        assert series["total"] >= 3 or series["emerging"]
    assert "1.0 is steady" in document["growth_explained"]
    month = json.loads(smkb("trends", "--json", "--by", "month", kb=demo_kb).stdout)
    assert month["by"] == "month" and month["period_choice"] == "per month, as asked"
    table = smkb("trends", kb=demo_kb)
    assert table.exit_code == 0 and "1.0 is steady" in table.stdout
    assert "Rising since" in table.stdout or "Nothing is rising" in table.stdout
    assert "emerging" in table.stdout.lower()


def test_on_an_80_column_terminal_labels_wrap_between_words(demo_kb, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    table = smkb("trends", kb=demo_kb)
    assert table.exit_code == 0, table.stderr
    document = json.loads(smkb("trends", "--json", kb=demo_kb).stdout)
    text = " ".join(table.stdout.split())
    words = {word for series in document["series"] for word in series["label"].split() if len(word) <= 16}
    assert words and all(word in text for word in words), sorted(w for w in words if w not in text)


def _browser_missing() -> str | None:
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium is absent (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is absent (pip install playwright)"
    return None


@pytest.mark.slow
def test_the_trends_page_shows_small_multiples_and_select_lists_in_a_browser(demo_kb) -> None:
    missing = _browser_missing()
    if missing:
        if os.environ.get("SMKB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test must run here: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with smkb_serve(demo_kb) as served, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{served.base}/trends")
        assert page.locator("select#sector").count() == 1 and page.locator("input#sector").count() == 0
        sectors = page.locator("select#sector option").all_inner_texts()
        assert "healthcare and social care" in sectors and len(sectors) > 10
        assert len(page.locator("select#theme option").all_inner_texts()) > 2
        panels = page.locator("figure.multiple")
        assert panels.count() >= 3 and page.locator("figure.multiple svg.panel").count() == panels.count()
        widths = {round(box["width"]) for box in (panels.nth(i).bounding_box() for i in range(3)) if box}
        assert len(widths) == 1  # a grid of equal panels, not one wide chart
        assert page.locator("#emerging-heading").count() == 1 and page.locator("#rising-heading").count() == 1
        page.select_option("select#sector", "healthcare and social care")
        page.click("form.filters button")
        page.wait_for_load_state()
        assert "sector=healthcare+and+social+care" in page.url and page.title().startswith("Trends: healthcare")
        browser.close()


@pytest.mark.slow
def test_real_posts_read_per_quarter_with_supported_series(tmp_path, seed_onnx) -> None:
    folder = require_shared("signals_posts")
    posts, kb = tmp_path / "posts", tmp_path / "kb"
    posts.mkdir()
    kb.mkdir()
    for path in sorted(folder.glob("*.md")):
        shutil.copy(path, posts / path.name)
    seed_onnx(kb)
    assert smkb("ingest", str(posts), "--json", kb=kb).exit_code == 0
    result = smkb("trends", "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["by"] == "quarter" and "half the months hold" in document["period_choice"]  # about 2 a month
    for series in document["series"]:
        quarters = {p["period"] for p in series["points"] if p["count"]}
        assert series["emerging"] or (series["total"] >= 3 and len(quarters) >= 2)
    for rising in document["rising"]:
        assert rising["sentence"].endswith(f"of all the items of those {document['by']}s).") and rising["item_ids"]
