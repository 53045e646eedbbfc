"""Honest dates through the CLI: an undated item, a date after today and a number read as a year never move a
count of the tracker, the digest takes items by published date unless asked for the import date, doctor flags
the dates it cannot count, and the newest item shown is never one from the future."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from conftest import smkb

from shadowmatch_kb.kb import KnowledgeBase

TODAY = datetime.date.today()
FUTURE = (TODAY + datetime.timedelta(days=900)).strftime("%Y%m%d")


def _post(title: str, date: str | None, signal: str, summary: str) -> str:
    heading = (
        f"# __{title}__, from ([{date}](https://example.org/{title.split()[0].lower()}).)" if date else f"# __{title}__"
    )
    return "\n".join(
        [
            heading,
            "",
            "## Summary",
            summary,
            "",
            "## Themes",
            "* automation in retail",
            "",
            "## Sectors",
            "* retail",
            "",
            "## Signals",
            "| Signal | Change | 10y horizon | Driving force |",
            "|:--|:--|:--|:--|",
            f"| {signal} | from manual to AI-assisted | common | cost |",
            "",
        ]
    )


@pytest.fixture(scope="module")
def dated_kb(tmp_path_factory) -> Path:
    """Four posts: one dated, one undated, one dated after today, one whose date is a number read as a year."""
    root = tmp_path_factory.mktemp("dates")
    posts = root / "posts"
    posts.mkdir()
    (posts / "dated.md").write_text(
        _post(
            "Dated shift planning",
            "20240305",
            "AI plans retail shifts",
            "A grocer lets software draw up rotas for 300 stores.",
        )
    )
    (posts / "undated.md").write_text(
        _post(
            "Undated chat answers",
            None,
            "Chatbots answer shoppers",
            "An online shop answers most delivery questions by chatbot.",
        )
    )
    (posts / "future.md").write_text(
        _post(
            "Future typo report",
            FUTURE,
            "Robots stock shelves",
            "Shelf-scanning robots patrol aisles at night in one chain.",
        )
    )
    (posts / "ancient.md").write_text(
        _post(
            "Ancient number report",
            "17470101",
            "Cameras count stock",
            "Ceiling cameras tell a warehouse team which bins run low.",
        )
    )
    kb = root / "kb"
    result = smkb("ingest", str(posts), "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    (kb / "ingest.err").write_text(result.stderr)
    return kb


def test_the_import_says_which_dates_it_cannot_count(dated_kb, tmp_path) -> None:
    said = " ".join((dated_kb / "ingest.err").read_text().split())
    assert "future.md: dated" in said and "after today: kept out of the tracker" in said
    assert "ancient.md: dated 1747-01-01, before 1990" in said
    assert "undated.md" not in said  # a source without a date is not a wrong date
    junk = tmp_path / "junk.md"
    junk.write_text(
        _post("Junk date note", "x", "Kiosks take orders", "A burger chain takes orders at kiosks.").replace(
            "[x]", "[1747.0]"
        )
    )
    result = smkb("ingest", str(junk), "--json", kb=tmp_path / "kb")
    assert result.exit_code == 0 and json.loads(result.stdout)["items"][0]["status"] == "added"
    assert "its date '1747.0' is not a date: imported as undated" in " ".join(result.stderr.split())
    shown = json.loads(smkb("list", "--json", kb=tmp_path / "kb").stdout)["items"][0]
    assert shown["published"] is None


def test_trends_count_only_plausible_published_dates(dated_kb) -> None:
    result = smkb("trends", "--by", "quarter", "--json", kb=dated_kb)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["periods"] == ["2024-Q1"]  # not the import day's quarter, not the future, not 1747
    for series in report["series"]:
        assert sum(p["count"] for p in series["points"]) <= 1
    notices = " ".join(report["notices"])
    assert "1 undated item(s) not counted" in notices
    assert "after today" in notices and "before 1990" in notices


def test_digest_by_published_date_and_by_import_date(dated_kb) -> None:
    published = json.loads(smkb("digest", "--since", "2024-01-01", "--json", kb=dated_kb).stdout)
    assert published["by"] == "published"
    assert [i["title"] for i in published["items"]] == ["Dated shift planning"]
    assert any("--imported" in n for n in published["notices"])
    imported = smkb("digest", "--since", TODAY.isoformat(), "--imported", "--format", "json", kb=dated_kb)
    assert imported.exit_code == 0, imported.stderr
    found = json.loads(imported.stdout)
    assert found["by"] == "imported" and len(found["items"]) == 4
    undated = next(i for i in found["items"] if i["title"] == "Undated chat answers")
    assert undated["date"] is None and undated["dated_by"] == "undated"
    # Imported today: on the day the module was read, or the next one when the run crosses midnight.
    assert TODAY.isoformat() <= undated["imported"] <= datetime.date.today().isoformat()
    markdown = smkb("digest", "--since", TODAY.isoformat(), "--imported", kb=dated_kb).stdout
    assert "undated (imported" in markdown


def test_doctor_flags_dates_it_cannot_count(dated_kb) -> None:
    result = smkb("doctor", "--json", kb=dated_kb)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    problems = " ".join(report["problems"])
    future = f"{FUTURE[:4]}-{FUTURE[4:6]}-{FUTURE[6:]}"
    assert "1 item(s) dated after today" in problems and future in problems
    assert "1 item(s) dated before 1990" in problems and "1747-01-01" in problems
    assert "undated" not in problems  # no date is not a wrong date


def test_stats_count_what_the_tracker_leaves_out(dated_kb) -> None:
    counts = json.loads(smkb("stats", "--json", kb=dated_kb).stdout)
    assert counts["dates"] == {"undated": 1, "after_today": 1, "before_1990": 1}
    assert counts["oldest"] == counts["newest"] == "2024-03-05"  # the range the tracker counts
    assert "1 undated, 1 dated after today, 1 before 1990" in smkb("stats", kb=dated_kb).stdout
    listed = smkb("list", kb=dated_kb).stdout
    assert "after today" in listed and "undated" in listed


def test_the_newest_item_is_never_from_the_future(dated_kb) -> None:
    with KnowledgeBase.open(dated_kb) as kb:
        assert kb.size() == {"items": 4, "newest": "2024-03-05"}
