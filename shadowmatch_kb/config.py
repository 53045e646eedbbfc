"""Settings of one run: flags beat environment variables, which beat the KB's ``smkb.toml``, which beats defaults.

``smkb.toml`` sits at the root of a knowledge base (beside ``corpus/``) and holds only the crawl settings a
team deploys with, in a ``[crawl]`` table. It is read when something is fetched, not when the KB opens, so a
mistake in it stops a crawl with a clear error and never stops a search.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.store.pg import is_postgres_url, shown_url

__all__ = [
    "CRAWL_ENV",
    "ENV",
    "SETTINGS_FILE",
    "Config",
    "CrawlSettings",
    "read_settings_file",
    "resolve_crawl_settings",
    "working_folder",
]

# Environment variables users can set instead of flags.
ENV = {
    "kb": "SMKB_KB",
    "kb_older": "SHADOWMATCH_KB",  # the first name of SMKB_KB, still read
    "workdir": "SMKB_WORKDIR",
    "model": "SMKB_MODEL",
    "index": "SMKB_INDEX",
    "chroma_url": "SMKB_CHROMA_URL",
    "chroma_collection": "SMKB_CHROMA_COLLECTION",
    "user_agent": "SMKB_USER_AGENT",
    "lock_timeout": "SMKB_LOCK_TIMEOUT",
}

DEFAULT_USER_AGENT = "shadowmatch_kb/0.1 (+https://github.com/shadowmatch/shadowmatch_kb)"

SETTINGS_FILE = "smkb.toml"

# The variable of each crawl setting (the user agent's is the one ``Config.resolve`` has always read).
CRAWL_ENV = {
    "delay": "SMKB_CRAWL_DELAY",
    "concurrency": "SMKB_CRAWL_CONCURRENCY",
    "per_host": "SMKB_CRAWL_PER_HOST",
    "timeout": "SMKB_CRAWL_TIMEOUT",
    "user_agent": ENV["user_agent"],
}


@dataclass(frozen=True)
class CrawlSettings:
    """How politely a crawl fetches; ``origins`` says where each setting came from.

    An origin is ``flag``, ``environment``, ``smkb.toml`` or ``default``.
    """

    delay: float = 1.0  # seconds between request starts to one host (robots.txt may ask for more)
    concurrency: int = 8  # requests in flight at once, over all hosts
    per_host: int = 2  # requests in flight at once to one host
    timeout: float = 20.0  # seconds before a request gives up
    user_agent: str = DEFAULT_USER_AGENT
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Each setting's value and origin, for a JSON report."""
        return {name: {"value": getattr(self, name), "from": self.origins.get(name, "default")} for name in CRAWL_ENV}


@dataclass(frozen=True)
class _Rule:
    """What one crawl setting accepts: the same bounds as its command-line flag."""

    kind: type  # int, float or str
    allowed: str  # for the error message
    low: float | None = None
    high: float | None = None

    def check(self, value: object, where: str) -> Any:
        """``value`` as the setting's type, or a UsageError naming ``where`` and what is allowed."""
        if self.kind is str:
            # A header value: one line of printable ASCII (httpx refuses anything else when it sends it).
            if isinstance(value, str) and value.strip() and value.isascii() and value.isprintable():
                return value
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            if (self.kind is float or isinstance(value, int)) and self._in_range(value):
                return self.kind(value)
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise UsageError(f"{where} must be {self.allowed}, not {shown}")

    def _in_range(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


_RULES = {
    "delay": _Rule(float, "a number of seconds, 0 or more", low=0.0),
    "concurrency": _Rule(int, "a whole number from 1 to 64", low=1, high=64),
    "per_host": _Rule(int, "a whole number from 1 to 8", low=1, high=8),
    "timeout": _Rule(float, "a number of seconds, 1 or more", low=1.0),
    "user_agent": _Rule(str, "a non-empty line of printable ASCII"),
}


def read_settings_file(path: Path) -> dict[str, Any]:
    """The checked ``[crawl]`` settings of a ``smkb.toml``; {} when there is no such file."""
    import tomllib

    known = ", ".join(_RULES)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text, as TOML must be") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {' '.join(str(exc).split())}") from None
    for name in document:
        if name in _RULES:
            raise UsageError(f"{path}: {name} belongs in the [crawl] table, under a line [crawl] above it")
        if name != "crawl":
            raise UsageError(f"{path}: unknown table or key {name!r}; the file holds one [crawl] table ({known})")
    table = document.get("crawl", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: crawl must be a table, written [crawl] on a line of its own, with {known}")
    settings = {}
    for key, value in table.items():
        if key not in _RULES:
            raise UsageError(f"{path}: unknown key {key!r} in [crawl]; the keys are {known}")
        settings[key] = _RULES[key].check(value, f"{path}: [crawl] {key}")
    return settings


def resolve_crawl_settings(
    settings_path: Path, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> CrawlSettings:
    """Each crawl setting from its flag (when not None), else its variable, else ``settings_path``, else the default."""
    flags = flags or {}
    unknown = set(flags) - set(_RULES)
    if unknown:
        raise TypeError(f"unknown crawl settings: {', '.join(sorted(unknown))}")
    env = os.environ if environ is None else environ
    from_file = read_settings_file(settings_path)  # always, so a mistake in it never waits for the day it counts
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name, rule in _RULES.items():
        variable = CRAWL_ENV[name]
        if flags.get(name) is not None:
            values[name], origins[name] = rule.check(flags[name], name), "flag"
        elif env.get(variable, "").strip():
            values[name], origins[name] = _from_variable(rule, variable, env[variable]), "environment"
        elif name in from_file:
            values[name], origins[name] = from_file[name], SETTINGS_FILE
        else:
            origins[name] = "default"
    return CrawlSettings(**values, origins=origins)


def _from_variable(rule: _Rule, variable: str, text: str) -> Any:
    if rule.kind is str:
        return rule.check(text, variable)
    try:
        value = rule.kind(text.strip())
    except ValueError:
        raise UsageError(f"{variable} must be {rule.allowed}, not {text!r}") from None
    return rule.check(value, variable)


def working_folder(record_url: str) -> Path:
    """This machine's working folder for a knowledge base in Postgres: one per database, in the user's cache."""
    # postgres:// and postgresql:// name the same database.
    digest = hashlib.sha256(shown_url(record_url).replace("postgres://", "postgresql://", 1).encode()).hexdigest()[:16]
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "shadowmatch_kb" / f"kb-{digest}"


@dataclass(frozen=True)
class Config:
    """Where the knowledge base lives and which backends it uses.

    ``model`` None means: the model that built the existing index, else the bundled default.
    ``index_kind`` is ``flat`` (the exact local default) or ``chroma``; a ``chroma_url``
    implies ``chroma`` through a server.
    """

    kb_dir: Path
    model: str | None = None
    # A knowledge base in Postgres (``postgresql://…``): its record and vectors live there, and ``kb_dir`` is this
    # machine's working folder for it (model exports and caches, crawl sources, aliases, settings, local locks).
    record_url: str | None = None
    index_kind: str = "flat"
    chroma_url: str | None = None
    # Collections on a Chroma server are named from this prefix; None: from the knowledge base's own identity.
    chroma_collection: str | None = None
    # The agent a caller or SMKB_USER_AGENT gave; the default lets the KB's smkb.toml choose (see crawl_settings).
    user_agent: str = DEFAULT_USER_AGENT
    lock_timeout: float = 600.0

    @classmethod
    def resolve(
        cls,
        kb_dir: str | Path | None = None,
        *,
        model: str | None = None,
        index_kind: str | None = None,
        chroma_url: str | None = None,
    ) -> Config:
        """Combine flags with the environment and the defaults."""
        env = os.environ
        location = kb_dir or env.get(ENV["kb"]) or env.get(ENV["kb_older"]) or Path.cwd()
        record_url = str(location) if is_postgres_url(str(location)) else None
        url = chroma_url or env.get(ENV["chroma_url"]) or None
        kind = index_kind or env.get(ENV["index"]) or ("chroma" if url else "pgvector" if record_url else "flat")
        if record_url and (kind != "pgvector" or url):
            raise ValueError(
                "a knowledge base in Postgres keeps its vectors there too (pgvector):"
                " leave out --index and --chroma-url"
            )
        if not record_url and kind not in ("flat", "chroma"):
            raise ValueError(f"unknown index kind {kind!r}: use flat or chroma")
        directory = (env.get(ENV["workdir"]) or working_folder(record_url)) if record_url else location
        return cls(
            kb_dir=Path(directory).expanduser().resolve(),
            record_url=record_url,
            model=model or env.get(ENV["model"]) or None,
            index_kind=kind,
            chroma_url=url,
            chroma_collection=env.get(ENV["chroma_collection"]) or None,
            user_agent=env.get(ENV["user_agent"]) or DEFAULT_USER_AGENT,
            lock_timeout=float(env.get(ENV["lock_timeout"]) or 600.0),
        )

    def crawl_settings(
        self, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> CrawlSettings:
        """The crawl settings of this KB: flags (None: not given) > environment > ``smkb.toml`` > defaults."""
        env = os.environ if environ is None else environ
        given = dict(flags or {})
        # resolve() has folded SMKB_USER_AGENT into user_agent, and the variable is read again below in its
        # place; any other agent than that and the default was set by the caller outright, as a flag is.
        if given.get("user_agent") is None and self.user_agent not in (DEFAULT_USER_AGENT, env.get(ENV["user_agent"])):
            given["user_agent"] = self.user_agent
        return resolve_crawl_settings(self.settings_path, given, env)

    @property
    def kb_label(self) -> str:
        """The knowledge base as it may be shown to people: its folder, or its Postgres URL without a password."""
        return shown_url(self.record_url) if self.record_url else str(self.kb_dir)

    @property
    def settings_path(self) -> Path:
        """The KB's own settings file (it need not exist)."""
        return self.kb_dir / SETTINGS_FILE

    @property
    def corpus_dir(self) -> Path:
        """The record: losing it loses work."""
        return self.kb_dir / "corpus"

    @property
    def indexes_dir(self) -> Path:
        """Derived data, rebuilt by ``smkb reindex``."""
        return self.kb_dir / "indexes"

    @property
    def store_path(self) -> Path:
        """The SQLite file of the record."""
        return self.corpus_dir / "kb.sqlite"
