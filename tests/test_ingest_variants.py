"""Two files that claim one item: a variant never overwrites a newer version, and re-imports stay no-ops.

These run the import's own steps (``read_input`` then ``store_once``, as `smkb ingest` does) on a record
store without the embedding model; tests/test_roundtrip.py runs the whole command on the same folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import require_shared

from shadowmatch_kb.ingest.duplicates import store_once
from shadowmatch_kb.ingest.readers import expand_inputs, read_input
from shadowmatch_kb.store.sqlite import SqliteStore

# The posts that signals_posts/older_variant/ holds a second time, in the earlier layout, with their titles.
CURRENT_TITLES = {
    "0770afeb444e4bbb336cdc72c07d6688": "Boosting Competences for the Online World",
    "07bcf7d8e29d33f8438f4b35a7f15021": (
        "Human Motion Diffusion Model (MDM): A Generative Approach for Natural and Expressive Human Motion"
    ),
    "17cff4adea214f71c7a5eed15307b0e7": "The Impact of AI on Jobs",
    "382e9ebc1e518ee49e541da1e6b5f8af": "Challenges and Concerns in AI Deployment",
    "40a99c098bad8dda821b757d8d88a80a": "Strategic Foresight: Anticipating and Adapting to the Future",
    "977ac6628e9192d07524905819496121": "Integrating ChatGPT with Internal Knowledge Management",
}


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "corpus" / "kb.sqlite")
    yield s
    s.close()


def import_all(store: SqliteStore, *inputs: Path) -> dict[str, list[tuple[str, str | None]]]:
    """Each input's (status, reason), as `smkb ingest` would report it, grouped by status."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    for value in expand_inputs([str(p) for p in inputs]):
        loaded = read_input(value)
        decision = store_once(store, loaded.item, loaded.raw, identical="link")
        found.setdefault(decision.outcome, []).append((value, decision.reason))
    return found


def post(title: str, day: str, link: str | None) -> str:
    external = f"__[External link]({link})__\n\n" if link else ""
    heading = f"# __{title}__, from" if title else "# 0123456789abcdef0123456789abcdef from"
    return (
        f"{heading} ([{day}](https://example.substack.com/p/{day}).)\n\n{external}"
        "## Summary\n\nWarehouse pickers now work beside robots that bring shelves to them.\n\n"
        "## Themes\n\n* automation in warehouses\n"
    )


def test_real_folder_reimport_is_a_no_op_and_keeps_current_posts(store):
    folder = require_shared("signals_posts")
    first = import_all(store, folder)
    assert "updated" not in first and "failed" not in first
    variants = [(value, reason) for value, reason in first["unchanged"]]
    assert sorted(Path(v).stem for v, _ in variants) == sorted(CURRENT_TITLES)
    assert all("older_variant" in v and reason and "variant of item" in reason for v, reason in variants)
    second = import_all(store, folder)
    assert set(second) == {"unchanged"}
    assert len(second["unchanged"]) == sum(len(v) for v in first.values())
    for item_id, title in CURRENT_TITLES.items():
        item = store.get(item_id)
        assert item.title == title
        assert item.url and item.url != item.source  # the external link, not the post's own page
        assert "older_variant" not in (store.raw_source(item_id) or "")


def test_the_order_of_the_files_does_not_decide(store):
    folder = require_shared("signals_posts")
    import_all(store, folder / "older_variant")  # the earlier layout first
    second = import_all(store, folder)
    assert sorted(Path(v).stem for v, _ in second["updated"]) == sorted(CURRENT_TITLES)
    assert {item_id: store.get(item_id).title for item_id in CURRENT_TITLES} == CURRENT_TITLES
    third = import_all(store, folder)
    assert set(third) == {"unchanged"}


def test_a_newer_date_wins_whichever_comes_first(store, tmp_path):
    name = "0123456789abcdef0123456789abcdef.md"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / name).write_text(post("Robots in warehouses (2024)", "20240105", "https://news.example/2024"))
    (tmp_path / "b" / name).write_text(post("Robots in warehouses (2023)", "20230105", "https://news.example/2023"))
    first = import_all(store, tmp_path / "b", tmp_path / "a")  # the older one first
    assert [s for s in first] == ["added", "updated"]
    reason = import_all(store, tmp_path / "b")["unchanged"][0][1]
    assert reason and "it is newer (2024-01-05 against 2023-01-05)" in reason
    assert store.get("0123456789abcdef0123456789abcdef").title == "Robots in warehouses (2024)"


def test_same_date_keeps_the_first_unless_only_one_names_its_source(store, tmp_path):
    name = "0123456789abcdef0123456789abcdef.md"
    for folder, title in (("a", "First title"), ("b", "Second title")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text(post(title, "20240105", "https://news.example/x"))
    import_all(store, tmp_path / "a", tmp_path / "b")
    assert store.get("0123456789abcdef0123456789abcdef").title == "First title"
    reason = import_all(store, tmp_path / "b")["unchanged"][0][1]
    assert reason and "the version stored first stays" in reason


def test_an_edited_file_and_a_moved_file_still_update(store, tmp_path):
    name = "0123456789abcdef0123456789abcdef.md"
    (tmp_path / "inbox").mkdir()
    path = tmp_path / "inbox" / name
    path.write_text(post("Draft title", "20240105", "https://news.example/x"))
    assert list(import_all(store, path)) == ["added"]
    path.write_text(post("Final title", "20240105", "https://news.example/x"))
    assert list(import_all(store, path)) == ["updated"]  # the same file, edited in place
    (tmp_path / "archive").mkdir()
    moved = tmp_path / "archive" / name
    shutil.move(path, moved)
    moved.write_text(post("Archived title", "20240105", "https://news.example/x"))
    assert list(import_all(store, moved)) == ["updated"]  # its old path is gone: it is the same file
    assert store.get("0123456789abcdef0123456789abcdef").title == "Archived title"
