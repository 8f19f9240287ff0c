"""modeld's import graph: no cycle, and the parts stay in their layers (issue 12).

The graph is read from the source with `ast`, never by importing it. The
rules, kept simple on purpose:

- Every import of a modeld module counts, wherever it stands: at module
  level, inside a function or a class, under ``if TYPE_CHECKING``. An import
  moved into a function to dodge a cycle is still that cycle.
- ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to
  ``a.b``; relative imports are resolved first.
- Importing ``a.b.c`` also runs the ``__init__`` of ``a`` and ``a.b``, so the
  edge goes to those packages too, except the importer's own packages: they
  ran before the importer did.
"""

from __future__ import annotations

import ast
from pathlib import Path

import modeld

ROOT = Path(modeld.__file__).parent


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def enclosing_packages(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def imported_modules(name: str, source: str, is_package: bool, modules: set[str]) -> set[str]:
    """The modeld modules `name` imports anywhere in `source`, with the packages that run."""
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                targets.add(submodule if submodule in modules else origin)
    targets = {t for t in targets if t == "modeld" or t.startswith("modeld.")}
    own = enclosing_packages(name) | ({name} if is_package else set())
    edges = set(targets)
    for target in targets:
        edges |= {p for p in enclosing_packages(target) if p not in own}
    edges.discard(name)
    return edges


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = {module_name(path, root): path for path in root.rglob("*.py")}
    names = set(files)
    return {
        name: imported_modules(name, path.read_text(), path.name == "__init__.py", names) & names
        for name, path in files.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (an iterative depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        pending = [iter(sorted(graph[start]))]
        state[start] = "open"
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[path.pop()] = "done"
                pending.pop()
            elif state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = "open"
                path.append(nxt)
                pending.append(iter(sorted(graph[nxt])))
    return None


def part(module: str) -> str:
    """'modeld.ingest.formats.gguf' → 'ingest'; 'modeld.config' → 'config'."""
    return module.split(".")[1] if "." in module else ""


def imports_between(graph: dict[str, set[str]], source: str, target: str) -> list[str]:
    return sorted(
        f"{module} -> {imported}"
        for module, imported in graph.items()
        if part(module) == source
        for imported in imported
        if part(imported) == target
    )


GRAPH = import_graph()


def test_the_graph_builder_sees_every_kind_of_import(tmp_path):
    package = tmp_path / "modeld"
    (package / "a").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a" / "__init__.py").write_text("")
    (package / "a" / "one.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from modeld.b import Thing\n"
        "def f():\n    from . import two\n"
    )
    (package / "a" / "two.py").write_text("")
    (package / "b.py").write_text("class C:\n    def m(self):\n        import modeld.a.one\n")
    graph = import_graph(package)
    assert graph["modeld.a.one"] == {"modeld.b", "modeld.a.two"}
    # modeld.a's __init__ runs before modeld.a.one: an edge to it as well
    assert graph["modeld.b"] == {"modeld.a", "modeld.a.one"}
    assert find_cycle(graph) in (
        ["modeld.a.one", "modeld.b", "modeld.a.one"],
        ["modeld.b", "modeld.a.one", "modeld.b"],
    )


def test_the_graph_covers_modeld():
    assert {"modeld.vocab.naming", "modeld.ingest.planner", "modeld.library.index"} <= set(GRAPH)
    assert "modeld.vocab.filenames" in GRAPH["modeld.ingest.planner"]


def test_there_is_no_import_cycle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_vocab_imports_nothing_else_from_modeld():
    outside = sorted(
        f"{module} -> {imported}"
        for module, imported in GRAPH.items()
        if part(module) == "vocab"
        for imported in imported
        if part(imported) not in ("vocab", "", "errors")
    )
    assert outside == []


def test_the_base_error_imports_nothing_from_modeld():
    # every package's errors (vocab's Malformed too) subclass modeld.errors.ModeldError
    assert GRAPH["modeld.errors"] == set()


def test_library_sits_below_ingest_links_hub_and_watch():
    for upper in ("ingest", "links", "hub", "watch", "queues", "daemon", "control", "cli"):
        assert imports_between(GRAPH, "library", upper) == []


def test_links_and_watch_do_not_import_ingest_or_each_other():
    for source, target in [
        ("links", "ingest"),
        ("links", "hub"),
        ("links", "watch"),
        ("watch", "ingest"),
        ("watch", "library"),
        ("watch", "links"),
        ("watch", "hub"),
        ("watch", "queues"),
        ("ingest", "links"),
        ("ingest", "hub"),
        ("ingest", "watch"),
        ("hub", "links"),
        ("hub", "watch"),
    ]:
        assert imports_between(GRAPH, source, target) == []


# The hub reaches into ingest only through two of its operations: it re-reads a
# model's header with `formats.sniff`, and files a fetched preview through the
# importer's attach step (with its journal), so that preview is crash-safe like
# one the user dropped. The vocabulary it shares with ingest comes from vocab.
HUB_USES_FROM_INGEST = {
    "modeld.ingest",
    "modeld.ingest.formats",
    "modeld.ingest.attach",
    "modeld.ingest.journal",
}


def test_the_hub_uses_only_ingests_public_operations():
    used = {
        imported
        for module, imports in GRAPH.items()
        if part(module) == "hub"
        for imported in imports
        if part(imported) == "ingest"
    }
    assert used <= HUB_USES_FROM_INGEST, sorted(used - HUB_USES_FROM_INGEST)
