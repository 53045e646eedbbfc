"""The package's layering, read from its imports: no cycle, no import that runs upward, no module too long.

The layers are those of the README's map of the code: foundations (shapes, errors, store, embedders, index,
fetching, text) know nothing of the stages; stages (extract ... trends) receive their parts and never import
the composer or the interfaces; the composer (``kb.py`` with the backends, the write pipeline and the health
checks it delegates to) composes; the interfaces (``cli/``, ``web/``) talk to the composer, the shapes, the
errors and the renderers only. Every import counts: at module level, inside functions, and those made only
for type checking (a type-only import is still a dependency a reader has to follow).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "shadowmatch_kb"
NAME = "shadowmatch_kb"
MAX_LINES = 500

FOUNDATIONS = {"model", "errors", "config", "progress", "text", "formats", "store", "embed", "index", "fetch"}
STAGES = {"extract", "ingest", "crawl", "enrich", "occupations", "search", "brief", "trends", "signal_clusters"}
COMPOSER = {"kb", "backends", "pipeline", "health", "migrate", "tracker"}
INTERFACES = {"cli", "web", "__main__"}
# What the interfaces may import besides themselves: the composer's face, the shapes, and the renderers.
INTERFACE_ALLOWED = {
    NAME,  # the package's __version__
    f"{NAME}.kb",
    f"{NAME}.model",
    f"{NAME}.errors",
    f"{NAME}.progress",
    f"{NAME}.text.dates",
    f"{NAME}.brief.render",
    f"{NAME}.formats.inert",
    f"{NAME}.formats.signals_post",
    f"{NAME}.trends.plot",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules that ``name`` imports (a ``from package import module`` names the module)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                targets.add(full if full in MODULES else target)
        elif isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
    return {t for t in targets if t == NAME or t.startswith(NAME + ".")}


GRAPH = {name: _imports(name, path) - {name} for name, path in MODULES.items()}


def _layer(module: str) -> str:
    if module == NAME:
        return "root"
    top = module.split(".")[1]
    for layer, members in (
        ("foundation", FOUNDATIONS),
        ("stage", STAGES),
        ("composer", COMPOSER),
        ("interface", INTERFACES),
    ):
        if top in members:
            return layer
    raise AssertionError(f"{module} is in no layer: add its package to tests/test_layering.py and the README map")


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_no_import_cycle() -> None:
    assert _cycles() == []


def test_foundations_import_only_foundations() -> None:
    upward = sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        if _layer(m) == "foundation"
        for t in targets
        if _layer(t) != "foundation"
    )
    assert upward == []


def test_stages_never_import_the_composer_or_the_interfaces() -> None:
    upward = sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        if _layer(m) == "stage"
        for t in targets
        if _layer(t) in ("composer", "interface", "root")
    )
    assert upward == []


def test_nothing_below_the_interfaces_imports_them() -> None:
    inward = sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        if _layer(m) not in ("interface", "root")
        for t in targets
        if _layer(t) == "interface"
    )
    assert inward == []


@pytest.mark.parametrize("interface", ["cli", "web"])
def test_interfaces_talk_to_the_knowledge_base_shapes_and_renderers_only(interface: str) -> None:
    own = f"{NAME}.{interface}"
    reached = defaultdict(list)
    for module, targets in GRAPH.items():
        if module == own or module.startswith(own + "."):
            for target in targets - INTERFACE_ALLOWED:
                # `smkb serve` starts the web page: an interface may start another.
                if _layer(target) != "interface":
                    reached[target].append(module)
    assert dict(reached) == {}


def test_no_module_is_over_the_line_limit() -> None:
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_checker_sees_a_planted_upward_import(tmp_path) -> None:
    """The reader itself: an upward import written into a module's source is found."""
    planted = tmp_path / "planted.py"
    planted.write_text("from shadowmatch_kb.kb import KnowledgeBase\nfrom . import sqlite\n", encoding="utf-8")
    assert _imports("shadowmatch_kb.store.planted", planted) == {"shadowmatch_kb.kb", "shadowmatch_kb.store.sqlite"}
