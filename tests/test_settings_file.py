"""A knowledge base's smkb.toml: crawl settings a team deploys with, below the environment and the flags.

For each setting the first of these wins: the flag, its environment variable, the KB's smkb.toml, the default.
The crawls here run against the real test site on 127.0.0.1 and stop after its feed (``--since`` in the future),
so they fetch two URLs and load no model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SHARED_DATA, require_shared, smkb
from crawl_site import CrawlSite

from shadowmatch_kb.config import (
    CRAWL_ENV,
    DEFAULT_USER_AGENT,
    Config,
    CrawlSettings,
    read_settings_file,
    resolve_crawl_settings,
)
from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.kb import KnowledgeBase

TEAM_AGENT = "our-programme-crawler/1.0 (+https://example.org/contact)"
TEAM_FILE = f"""\
[crawl]
delay = 2.0
concurrency = 4
per_host = 1
timeout = 30
user_agent = "{TEAM_AGENT}"
"""

# Per setting: the value the file gives, the value its variable gives (as text and as read), and a flag's value.
LEVELS = {
    "delay": ("2.0", "3.5", 3.5, 0.5),
    "concurrency": ("4", "16", 16, 32),
    "per_host": ("1", "3", 3, 5),
    "timeout": ("30", "45", 45.0, 60.0),
    "user_agent": ('"file-agent/1.0"', "env-agent/2.0", "env-agent/2.0", "flag-agent/3.0"),
}
FLAGS = {"delay": "--delay", "concurrency": "--concurrency", "per_host": "--per-host", "timeout": "--timeout"}


@pytest.fixture(autouse=True)
def _no_crawl_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in CRAWL_ENV.values():
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="module")
def site() -> Iterator[CrawlSite]:
    require_shared("extraction", "zyte")
    require_shared("feeds")
    with CrawlSite(SHARED_DATA, crawl_delay=0.0, timeout_hint=1.0) as running:
        yield running


@pytest.fixture
def kb(site: CrawlSite, tmp_path: Path) -> Path:
    """A KB with the site's feed registered, and the site's log cleared."""
    directory = tmp_path / "kb"
    result = smkb("sources", "add", "news", site.url("/feed.xml"), "--allow-private", kb=directory)
    assert result.exit_code == 0, result.stderr
    site.reset_log()
    return directory


def _write(kb: Path, text: str) -> Path:
    kb.mkdir(parents=True, exist_ok=True)
    path = kb / "smkb.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _crawl(kb: Path, *flags: str):
    return smkb("crawl", "--json", "--since", "2099-01-01", *flags, kb=kb)


# ----- through the command line ---------------------------------------------------------------------------


def test_the_file_sets_the_crawl_and_the_server_sees_its_user_agent(kb: Path, site: CrawlSite) -> None:
    _write(kb, TEAM_FILE)
    result = _crawl(kb)
    assert result.exit_code == 0, result.stderr
    settings = json.loads(result.stdout)["settings"]
    assert settings == {
        "delay": {"value": 2.0, "from": "smkb.toml"},
        "concurrency": {"value": 4, "from": "smkb.toml"},
        "per_host": {"value": 1, "from": "smkb.toml"},
        "timeout": {"value": 30.0, "from": "smkb.toml"},
        "user_agent": {"value": TEAM_AGENT, "from": "smkb.toml"},
    }
    assert [r.path for r in site.seen()] == ["/robots.txt", "/feed.xml"]
    assert {r.headers["user-agent"] for r in site.seen()} == {TEAM_AGENT}


def test_without_a_file_the_defaults_apply(kb: Path, site: CrawlSite) -> None:
    result = _crawl(kb)
    assert result.exit_code == 0, result.stderr
    settings = json.loads(result.stdout)["settings"]
    assert {name: entry["from"] for name, entry in settings.items()} == dict.fromkeys(CRAWL_ENV, "default")
    assert {name: entry["value"] for name, entry in settings.items()} == {
        name: getattr(CrawlSettings(), name) for name in CRAWL_ENV
    }
    assert {r.headers["user-agent"] for r in site.seen()} == {DEFAULT_USER_AGENT}


def test_each_level_beats_the_ones_below_it(kb: Path, site: CrawlSite, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(kb, "[crawl]\n" + "".join(f"{name} = {level[0]}\n" for name, level in LEVELS.items()))
    # The environment gives delay, concurrency and the user agent; flags give concurrency and timeout.
    for name in ("delay", "concurrency", "user_agent"):
        monkeypatch.setenv(CRAWL_ENV[name], LEVELS[name][1])
    result = _crawl(kb, "--concurrency", "32", "--timeout", "60")
    assert result.exit_code == 0, result.stderr
    settings = json.loads(result.stdout)["settings"]
    assert settings["concurrency"] == {"value": 32, "from": "flag"}  # flag > environment > file
    assert settings["timeout"] == {"value": 60.0, "from": "flag"}  # flag > file
    assert settings["delay"] == {"value": 3.5, "from": "environment"}  # environment > file
    assert settings["user_agent"] == {"value": "env-agent/2.0", "from": "environment"}
    assert settings["per_host"] == {"value": 1, "from": "smkb.toml"}  # file > default
    assert {r.headers["user-agent"] for r in site.seen()} == {"env-agent/2.0"}


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("[crawl]\nspeed = 3\n", "speed"),
        ("[fetch]\ndelay = 3\n", "fetch"),
        ('[crawl]\nconcurrency = "4"\n', "concurrency"),
        ("[crawl]\nper_host = 9\n", "per_host"),
        ("[crawl]\ndelay = -1\n", "delay"),
        ('[crawl]\nuser_agent = ""\n', "user_agent"),
        ("[crawl\ndelay = 2\n", "line 1"),
    ],
    ids=["unknown-key", "unknown-table", "wrong-type", "out-of-range", "negative", "empty-agent", "broken-toml"],
)
def test_a_bad_file_is_a_usage_error_and_nothing_is_crawled(
    kb: Path, site: CrawlSite, content: str, named: str
) -> None:
    path = _write(kb, content)
    result = _crawl(kb)
    assert result.exit_code == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and message.startswith("error: ")
    assert str(path) in message and named in message
    assert site.seen() == []


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("SMKB_CRAWL_CONCURRENCY", "lots", "whole number from 1 to 64"),
        ("SMKB_CRAWL_CONCURRENCY", "4.5", "whole number from 1 to 64"),
        ("SMKB_CRAWL_PER_HOST", "0", "whole number from 1 to 8"),
        ("SMKB_CRAWL_DELAY", "-0.5", "0 or more"),
        ("SMKB_CRAWL_DELAY", "inf", "0 or more"),
        ("SMKB_CRAWL_TIMEOUT", "0.5", "1 or more"),
        ("SMKB_USER_AGENT", "two\nlines", "printable ASCII"),
    ],
)
def test_a_bad_variable_is_a_usage_error_naming_it(
    kb: Path, site: CrawlSite, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = _crawl(kb)
    assert result.exit_code == 2 and result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and variable in message and allowed in message
    assert site.seen() == []


def test_a_flag_out_of_range_is_still_refused(tmp_path: Path) -> None:
    assert smkb("crawl", "--concurrency", "65", kb=tmp_path).exit_code == 2
    assert smkb("crawl", "--delay", "-1", kb=tmp_path).exit_code == 2


def test_help_names_the_default_the_file_and_the_variable() -> None:
    text = " ".join(smkb("crawl", "--help").stdout.split())
    defaults = CrawlSettings()
    for name, flag in FLAGS.items():
        assert flag in text
        assert f"[default: {getattr(defaults, name)}; smkb.toml [crawl] {name}; {CRAWL_ENV[name]}]" in text


# ----- through the library --------------------------------------------------------------------------------


def test_the_crawl_options_take_the_file(tmp_path: Path) -> None:
    _write(tmp_path, TEAM_FILE)
    with KnowledgeBase.open(tmp_path) as opened:
        options = opened.crawl_options(max_pages=5)
        flagged = opened.crawl_options(delay=0.25)
    assert (options.delay, options.concurrency, options.per_host, options.max_pages) == (2.0, 4, 1, 5)
    assert (options.fetch.timeout, options.fetch.user_agent) == (30.0, TEAM_AGENT)
    assert flagged.delay == 0.25 and flagged.concurrency == 4


@pytest.mark.parametrize("name", list(LEVELS))
def test_each_setting_resolves_level_by_level(tmp_path: Path, name: str) -> None:
    from_file, env_text, from_env, from_flag = LEVELS[name]
    path = _write(tmp_path, f"[crawl]\n{name} = {from_file}\n")
    env = {CRAWL_ENV[name]: env_text}
    file_value = read_settings_file(path)[name]

    def resolved(flags: dict, environ: dict, settings_path: Path = path) -> tuple[object, str]:
        settings = resolve_crawl_settings(settings_path, flags, environ)
        return getattr(settings, name), settings.origins[name]

    assert resolved({name: from_flag}, env) == (from_flag, "flag")
    assert resolved({name: None}, env) == (from_env, "environment")
    assert resolved({}, {}) == (file_value, "smkb.toml")
    assert resolved({}, {}, tmp_path / "absent.toml") == (getattr(CrawlSettings(), name), "default")
    assert resolved({}, {CRAWL_ENV[name]: "  "}) == (file_value, "smkb.toml")  # a blank variable is unset


def test_an_agent_set_outright_in_the_config_beats_the_file(tmp_path: Path) -> None:
    _write(tmp_path, TEAM_FILE)
    assert Config(tmp_path).crawl_settings(environ={}).user_agent == TEAM_AGENT
    given = Config(tmp_path, user_agent="caller/1.0").crawl_settings(environ={})
    assert (given.user_agent, given.origins["user_agent"]) == ("caller/1.0", "flag")
    # resolve() folds the variable into the config; it still counts as the environment, above the file.
    from_env = Config(tmp_path, user_agent="env/1.0").crawl_settings(environ={"SMKB_USER_AGENT": "env/1.0"})
    assert (from_env.user_agent, from_env.origins["user_agent"]) == ("env/1.0", "environment")


def test_an_empty_file_or_table_gives_the_defaults(tmp_path: Path) -> None:
    for text in ("", "# nothing yet\n", "[crawl]\n"):
        path = _write(tmp_path, text)
        assert resolve_crawl_settings(path, {}, {}) == CrawlSettings()


@pytest.mark.parametrize(
    ("content", "named", "allowed"),
    [
        ("delay = 2\n", "delay", "belongs in the [crawl] table"),
        ("[crawl]\ndelay = 2\n[extra]\n", "'extra'", "one [crawl] table"),
        ("crawl = 3\n", "crawl", "must be a table"),
        ("[crawl]\nconcurrency = 4.0\n", "[crawl] concurrency", "whole number from 1 to 64"),
        ("[crawl]\nper_host = true\n", "[crawl] per_host", "whole number from 1 to 8"),
        ("[crawl]\nconcurrency = 0\n", "[crawl] concurrency", "whole number from 1 to 64"),
        ("[crawl]\ntimeout = 0.5\n", "[crawl] timeout", "1 or more"),
        ("[crawl]\ndelay = nan\n", "[crawl] delay", "0 or more"),
        ("[crawl]\ndelay = 1970-01-01\n", "[crawl] delay", "0 or more"),
        ('[crawl]\nuser_agent = "a\\nb"\n', "[crawl] user_agent", "printable ASCII"),
        ("[crawl]\nuser_agent = 3\n", "[crawl] user_agent", "printable ASCII"),
        ("[crawl]\ndelay = 1\ndelay = 2\n", "not valid TOML", "line 3"),
    ],
)
def test_every_mistake_names_the_file_the_key_and_what_is_allowed(
    tmp_path: Path, content: str, named: str, allowed: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(UsageError) as raised:
        resolve_crawl_settings(path, {}, {})
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert named in message and allowed in message


def test_a_file_that_is_not_text_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "smkb.toml"
    path.write_bytes(b'[crawl]\nuser_agent = "\xff"\n')
    with pytest.raises(UsageError, match="not UTF-8"):
        read_settings_file(path)
    path.unlink()
    path.mkdir()
    with pytest.raises(UsageError, match="cannot read it"):
        read_settings_file(path)
