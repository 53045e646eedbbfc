"""One name per theme: near-synonyms merged, spellings folded, uninformative themes kept out of the tracker's
ranking, an aliases file analysts edit, and old records migrated to canonical names (SQLite and Postgres)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import DEMO, smkb

from shadowmatch_kb.errors import InputError
from shadowmatch_kb.model import Item
from shadowmatch_kb.store import migrations
from shadowmatch_kb.store.sqlite import RawInput, SqliteStore
from shadowmatch_kb.store.timeline import DatedItem
from shadowmatch_kb.text.themes import ThemeVocabulary, theme_key
from shadowmatch_kb.trends.service import _facet_items

VOCABULARY = ThemeVocabulary.load()
AI = "artificial intelligence"
LLM = "large language models"


# ----- the vocabulary --------------------------------------------------------------------------------------------


def test_near_synonyms_merge_and_spellings_fold() -> None:
    for label in (
        "AI",
        "A.I.",
        "ai",
        "Artificial Intelligence",
        "artificial-intelligence",
        " artificial  intelligence ",
    ):
        assert VOCABULARY.canonical(label) == AI, label
    assert VOCABULARY.canonical("LLMs") == VOCABULARY.canonical("language models") == LLM
    assert VOCABULARY.canonical("labor market") == VOCABULARY.canonical("Job Market") == "labour market"
    assert VOCABULARY.canonical("ai agent") == VOCABULARY.canonical("AI-Agents") == "AI agents"
    # A label no merge names keeps its spelling, tidied; blank labels are no theme.
    assert VOCABULARY.canonical("  Workplace   Trends ") == "Workplace Trends"
    assert VOCABULARY.canonical("   ") == ""
    assert theme_key("Workplace Trends") == theme_key("workplace-trend")
    assert theme_key("news") != theme_key("new") and theme_key("ethics") == "ethics"
    # Order kept, one theme once, blanks dropped.
    assert VOCABULARY.canonical_list(["AI", "LLMs", "artificial intelligence", "", "Tech", "A.I.", LLM]) == [
        AI,
        LLM,
        "technology",
    ]


def test_uninformative_themes_are_known_by_any_of_their_names() -> None:
    for label in ("AI", "A.I.", AI, "technology", "Technologies", "tech", "innovation", "Future of Work"):
        assert VOCABULARY.is_uninformative(label), label
    for label in ("generative AI", "GenAI", "automation", "labour market", "AI agents", "Workplace Trends"):
        assert not VOCABULARY.is_uninformative(label), label
    assert theme_key(AI) in VOCABULARY.uninformative()
    assert "ai" in VOCABULARY.merges()[AI]


# ----- the analysts' aliases file --------------------------------------------------------------------------------


def test_an_aliases_file_adds_merges_and_uninformative_themes(tmp_path) -> None:
    assert ThemeVocabulary.for_record(tmp_path) is VOCABULARY  # no file: the shipped vocabulary
    (tmp_path / "theme_aliases.toml").write_text(
        '# our own words\n"gen AI wave" = "generative AI"\n"robots" = "Robotics"\n"robot arms" = "robots"\n'
        '"artificial intelligence" = "AI in general"  # an analyst may rename a shipped merge\n'
        '[uninformative]\nthemes = ["Digital", "GenAI"]\n',
        encoding="utf-8",
    )
    ours = ThemeVocabulary.for_record(tmp_path)
    assert ours.canonical("Gen AI Wave") == "generative AI" and ours.canonical("robot arm") == "Robotics"
    assert ours.canonical("A.I.") == ours.canonical("artificial intelligence") == "AI in general"
    assert ours.is_uninformative("AI in general") and ours.is_uninformative("digital")
    assert ours.is_uninformative("gen AI wave")  # listed by an alias of its name
    assert VOCABULARY.canonical("robots") == "robots"  # the shipped vocabulary is untouched


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('"gen AI" = "generative AI"\n"robots" = \n', 2, "not valid TOML"),
        ('"gen AI" = "generative AI"\n\n"robots" = 3\n', 3, "should name a theme in quotes"),
        ('"robots" = "robotics"\n"Robots" = "automation"\n', 2, "already merged into 'robotics'"),
        ('"a b" = "c d"\n"c d" = "a b"\n', 2, "go round in a circle"),
        ('"x" = "y"\n[uninformative]\nthemes = "digital"\n', 2, "holds one list of names"),
        ('"..." = "y"\n', 1, "has no words"),
    ],
)
def test_a_malformed_aliases_file_names_the_file_and_line(tmp_path, text: str, line: int, reason: str) -> None:
    path = tmp_path / "theme_aliases.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        ThemeVocabulary.for_record(tmp_path)
    message = str(error.value)
    assert message.startswith(f"{path}:{line}: ") and reason in message and "\n" not in message, message


# ----- the migration of a record made before the vocabulary ------------------------------------------------------

OLD_SCHEMA = 8  # the last migration before themes were canonical


def _old_record(path: Path, monkeypatch) -> list[str]:
    """A record at schema 8 with themes as their writers spelled them and an analyst's theme corrections."""
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] <= OLD_SCHEMA])
    store = SqliteStore(path)
    ids = []
    for number, themes in enumerate([["AI", "Technology", "artificial intelligence", "LLMs"], ["gen AI", "robots"]]):
        item = Item(id=f"{number:032x}", title=f"Item {number}", text="Machines and models at work.", themes=themes)
        raw = RawInput(f"item{number}.txt", "text/plain", b"x")
        store.put_item(item, content_hash=str(number), text_hash=str(number), raw=raw)
        ids.append(item.id)
    for value in (["A.I."], ["labor market", "Job market", "A.I."]):  # the latest edit wins on read
        store.db.execute(
            "INSERT INTO analyst_edits (item_id, field, value, edited_at) VALUES (?, 'themes', ?, ?)",
            (ids[1], json.dumps(value), "2024-01-01T00:00:00Z"),
        )
    store.close()
    monkeypatch.undo()
    return ids


def test_an_old_record_gets_canonical_themes_once_with_its_own_aliases(tmp_path, monkeypatch) -> None:
    path = tmp_path / "corpus" / "kb.sqlite"
    ids = _old_record(path, monkeypatch)
    (path.parent / "theme_aliases.toml").write_text('"robots" = "robotics"\n', encoding="utf-8")
    store = SqliteStore(path)
    assert store.db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == 9
    first, second = store.get(ids[0]), store.get(ids[1])
    assert first.themes == [AI, "technology", LLM]
    assert second.themes == ["labour market", AI]  # the analyst's latest correction, canonical
    stored = json.loads(store.db.execute("SELECT themes FROM items WHERE id = ?", (ids[1],)).fetchone()[0])
    assert stored == ["generative AI", "robotics"]  # the record's own alias applied
    edits = store.db.execute("SELECT value FROM analyst_edits WHERE field = 'themes' ORDER BY id").fetchall()
    assert [json.loads(row[0]) for row in edits] == [[AI], ["labour market", AI]]
    # The full-text row holds the themes, so it follows them.
    assert [hit[0] for hit in store.keyword_search("generative", limit=5)] == [ids[1]]
    assert store.check() == []
    store.close()


# ----- the tracker -----------------------------------------------------------------------------------------------


def test_the_tracker_counts_canonical_themes_and_leaves_uninformative_ones_out() -> None:
    spelled = [["AI", "LLMs", "Technology"], [AI, "language models"], ["A.I.", "automation"]]
    items = [_dated(f"i{n}", themes) for n, themes in enumerate(spelled)]
    assert _facet_items(items, "theme") == {LLM: ["i0", "i1"], "automation": ["i2"]}
    ours = VOCABULARY.with_aliases_text('"automation" = "task automation"\n', "aliases")
    assert set(_facet_items(items, "theme", ours)) == {LLM, "task automation"}


def _dated(item_id: str, themes: list[str]) -> DatedItem:
    values = {"item_id": item_id, "date": "2024-03-01", "dated_by": "published", "sectors": (), "themes": tuple(themes)}
    values["duplicate_of"] = None
    return DatedItem(**{name: value for name, value in values.items() if name in DatedItem.__dataclass_fields__})


# ----- through the command line ----------------------------------------------------------------------------------

POST_THEMES = [["AI", "Technology", "LLMs"], [AI, LLM], ["A.I.", "technology", "language models"], ["generative AI"]]


@pytest.fixture
def themed_kb(tmp_path, seed_onnx) -> tuple[Path, list[str]]:
    """Four demo posts whose themes are spelled as real posts spell them, imported into a new knowledge base."""
    folder = tmp_path / "posts"
    folder.mkdir()
    for post, themes in zip(sorted(DEMO.glob("*.md")), POST_THEMES, strict=False):
        text = post.read_text(encoding="utf-8")
        listed = "".join(f"* {theme}\n" for theme in themes)
        (folder / post.name).write_text(re.sub(r"## Themes\n(\* .*\n)+", f"## Themes\n{listed}", text))
    kb = tmp_path / "kb"
    seed_onnx(kb)
    result = smkb("ingest", str(folder), "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    ids = [entry["id"] for entry in json.loads(smkb("list", "--json", kb=kb).stdout)["items"]]
    return kb, ids


def _ids_with(kb: Path, theme: str) -> set[str]:
    result = smkb("list", "--theme", theme, "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    return {entry["id"] for entry in json.loads(result.stdout)["items"]}


def test_trends_lists_canonical_themes_and_not_the_uninformative(themed_kb) -> None:
    kb, _ = themed_kb
    result = smkb("trends", "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    themes = {s["label"]: s for s in json.loads(result.stdout)["series"] if s["kind"] == "theme"}
    assert not {"AI", AI, "technology", "Technology"} & set(themes), sorted(themes)
    assert LLM in themes and len(themes[LLM]["item_ids"]) == 3
    assert not {"LLMs", "language models"} & set(themes)


def test_a_theme_filter_finds_every_spelling(themed_kb) -> None:
    kb, ids = themed_kb
    with_ai = _ids_with(kb, "AI")
    assert len(with_ai) == 3 and with_ai == _ids_with(kb, "Artificial Intelligence") == _ids_with(kb, "A.I.")


def test_an_analysts_themes_are_stored_canonical(themed_kb) -> None:
    kb, ids = themed_kb
    result = smkb("tag", ids[0], "--theme", "A.I.", "--theme", "LLMs", "--theme", "AI", "--json", kb=kb)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["themes"] == [AI, LLM]


def test_naming_keeps_the_spelling_a_knowledge_base_already_uses() -> None:
    from shadowmatch_kb.text.themes import ThemeVocabulary, merge_spellings

    name = ThemeVocabulary.load().naming(["productivity gains", "Shift Work"])
    assert name("Productivity Gains") == "productivity gains" and name("shift-work") == "Shift Work"
    assert name("night rotas") == "night rotas" and name("  ") == ""
    assert merge_spellings({"Productivity Gains": 1, "productivity gains": 17, "jobs": 3}) == {
        "productivity gains": 18,
        "jobs": 3,
    }


def test_an_analysts_new_spelling_joins_the_theme_items_have(themed_kb) -> None:
    kb, _ = themed_kb
    assert "Generative AI" not in json.loads(smkb("stats", "--json", kb=kb).stdout)["themes"]
    listed = json.loads(smkb("list", "--json", kb=kb).stdout)["items"]
    other = next(item["id"] for item in listed if "generative AI" not in item["themes"])
    result = smkb("tag", other, "--add-theme", "Generative AI", "--json", kb=kb)  # stored as "generative AI"
    assert result.exit_code == 0, result.stderr
    assert "generative AI" in json.loads(result.stdout)["themes"]
    themes = json.loads(smkb("stats", "--json", kb=kb).stdout)["themes"]
    assert themes["generative AI"] == 2 and "Generative AI" not in themes


def test_a_theme_no_item_has_is_a_usage_error_naming_the_closest(themed_kb) -> None:
    kb, _ = themed_kb
    for command in (["trends"], ["list"], ["search", "language models"]):
        result = smkb(*command, "--theme", "large langauge model", kb=kb)
        assert result.exit_code == 2, command
        assert "no item has the theme 'large langauge model'; closest themes: large language models" in " ".join(
            result.stderr.split()
        )
    # Nothing spelled like it: the commonest themes that say something, not those every item has.
    result = smkb("list", "--theme", "quarterly zebra census", kb=kb)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "most common themes: " in message and LLM in message
    assert not {"AI", AI, "technology", "Technology"} & set(message.split("themes: ")[1].split(" (")[0].split(", "))


# ----- Postgres --------------------------------------------------------------------------------------------------


def test_postgres_shares_the_aliases_file_and_upgrades_old_themes(postgres_url, tmp_path, monkeypatch) -> None:
    from shadowmatch_kb.store.postgres import PostgresStore

    left, right = tmp_path / "left", tmp_path / "right"
    aliases = '"robots" = "robotics"\n[uninformative]\nthemes = ["digital"]\n'

    def stats(machine: Path) -> dict:
        monkeypatch.setenv("SMKB_WORKDIR", str(machine))
        result = smkb("stats", "--json", kb=postgres_url)  # type: ignore[arg-type]
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    store = PostgresStore(postgres_url)  # makes the tables
    item = Item(id="ab" * 16, title="Robots", published="2024-03-01", text="Robots at work.", themes=["x"])
    store.put_item(item, content_hash="h", text_hash="t", raw=RawInput("robots.txt", "text/plain", b"x"))
    store.close()
    stats(left)
    (left / "corpus").mkdir(exist_ok=True)
    (left / "corpus" / "theme_aliases.toml").write_text(aliases, encoding="utf-8")  # an analyst's hand edit
    stats(left)  # shares it
    # Now as a database an older shadowmatch_kb filled: themes as written, its schema version before the vocabulary.
    store = PostgresStore(postgres_url)
    raw = ["AI", "robots", "Technology", "artificial intelligence", "digital"]
    store.db.execute("UPDATE items SET themes = ?", (json.dumps(raw),))
    store.db.execute("UPDATE kb_meta SET value = '2' WHERE key = 'schema_version'")
    store.close()

    counts = stats(right)  # another machine opens it: the upgrade uses the shared aliases
    assert (right / "corpus" / "theme_aliases.toml").read_text(encoding="utf-8") == aliases
    assert counts["themes"] == {AI: 1, "digital": 1, "robotics": 1, "technology": 1}
    store = PostgresStore(postgres_url)
    assert store.db.execute("SELECT value FROM kb_meta WHERE key = 'schema_version'").fetchone()[0] == "3"
    assert store.get(item.id).themes == [AI, "robotics", "technology", "digital"]
    store.close()
