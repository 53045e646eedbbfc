"""Settings of one run: flags beat environment variables, which beat defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Config", "ENV"]

# Environment variables users can set instead of flags.
ENV = {
    "kb": "SHADOWMATCH_KB",
    "model": "SMKB_MODEL",
    "index": "SMKB_INDEX",
    "chroma_url": "SMKB_CHROMA_URL",
    "chroma_collection": "SMKB_CHROMA_COLLECTION",
    "user_agent": "SMKB_USER_AGENT",
    "lock_timeout": "SMKB_LOCK_TIMEOUT",
}

DEFAULT_USER_AGENT = "shadowmatch_kb/0.1 (+https://github.com/shadowmatch/shadowmatch_kb)"


@dataclass(frozen=True)
class Config:
    """Where the knowledge base lives and which backends it uses.

    ``model`` None means: the model that built the existing index, else the bundled default.
    ``index_kind`` is ``flat`` (the exact local default) or ``chroma``; a ``chroma_url``
    implies ``chroma`` through a server.
    """

    kb_dir: Path
    model: str | None = None
    index_kind: str = "flat"
    chroma_url: str | None = None
    # Collections on a Chroma server are named from this prefix; None: from the knowledge base's own identity.
    chroma_collection: str | None = None
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
        directory = kb_dir or env.get(ENV["kb"]) or Path.cwd()
        url = chroma_url or env.get(ENV["chroma_url"]) or None
        kind = index_kind or env.get(ENV["index"]) or ("chroma" if url else "flat")
        if kind not in ("flat", "chroma"):
            raise ValueError(f"unknown index kind {kind!r}: use flat or chroma")
        return cls(
            kb_dir=Path(directory).expanduser().resolve(),
            model=model or env.get(ENV["model"]) or None,
            index_kind=kind,
            chroma_url=url,
            chroma_collection=env.get(ENV["chroma_collection"]) or None,
            user_agent=env.get(ENV["user_agent"]) or DEFAULT_USER_AGENT,
            lock_timeout=float(env.get(ENV["lock_timeout"]) or 600.0),
        )

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
