"""shadowmatch_kb: an offline knowledge base and signal tracker on how AI changes work.

The public entry point is ``KnowledgeBase`` (in ``shadowmatch_kb.kb``); it is imported lazily so
that ``import shadowmatch_kb`` and ``smkb --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["KnowledgeBase", "__version__"]

if TYPE_CHECKING:
    from shadowmatch_kb.kb import KnowledgeBase


def __getattr__(name: str) -> Any:
    if name == "KnowledgeBase":
        from shadowmatch_kb.kb import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(name)
