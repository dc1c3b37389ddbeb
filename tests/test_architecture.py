"""Dependencies point inward: the domain imports nothing but the standard library and itself,
the pipeline never reaches for web, settings or concrete provider clients, and no module of
wagate imports itself round a circle. (`lint-imports` checks the layer contracts in
pyproject.toml; these are the rules it cannot state.)"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "wagate"

# The one library the domain uses beside the standard library: phone-number metadata, pure
# functions with no I/O (ARCHITECTURE.md chose it for the phone recognizer). Anything else
# a domain module imports from outside the standard library fails the test below.
PURE_LIBRARIES = {"privacy/phones.py": {"phonenumbers"}}

# Import cycles tolerated for now: each entry is the set of modules of one cycle (none left
# since the cli/ package replaced the cli*.py modules). Delete an entry once its cycle is gone
# (the test below says so).
KNOWN_CYCLES: tuple[frozenset[str], ...] = ()


def _modules(package: Path) -> list[Path]:
    """Every module under `package`, in subpackages too (domain/privacy/ included)."""
    return sorted(package.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _most_specific(name: str, known: set[str]) -> str | None:
    """The module a dotted name points at: `a.b.C` may be a class in module `a.b`."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _imported_modules(importer: str, path: Path, known: set[str]) -> set[str]:
    """The wagate modules `path` imports anywhere in it (inside functions and TYPE_CHECKING
    blocks too: a lazy import is still a dependency). `from package import name` is an edge
    to `package.name` when that is a module, else to `package`."""
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            names.extend(f"{base}.{alias.name}" for alias in node.names)
    found = {_most_specific(name, known) for name in names}
    return {name for name in found if name is not None and name != importer}


def import_graph(root: Path = SRC) -> dict[str, set[str]]:
    """Module → the wagate modules it imports, read from the source (nothing is imported)."""
    paths = {_module_name(path, root): path for path in _modules(root)}
    known = set(paths)
    return {name: _imported_modules(name, path, known) for name, path in paths.items()}


def cycles(graph: Mapping[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("path", _modules(SRC / "domain"), ids=lambda p: str(p.relative_to(SRC)))
def test_domain_modules_import_only_the_standard_library(path: Path) -> None:
    foreign = {
        name
        for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("wagate.domain")
        and name != "__future__"
    }
    assert foreign == PURE_LIBRARIES.get(str(path.relative_to(SRC / "domain")), set())


def test_the_walk_reaches_subpackages() -> None:
    assert SRC / "domain" / "privacy" / "nik.py" in _modules(SRC / "domain")


@pytest.mark.parametrize("path", _modules(SRC / "pipeline"), ids=lambda p: str(p.relative_to(SRC)))
def test_pipeline_modules_do_not_import_edges_or_adapters(path: Path) -> None:
    forbidden = (
        "wagate.web",
        "wagate.settings",
        "wagate.wiring",
        "wagate.cli",
        "wagate.providers.meta",
        "wagate.providers.fonnte",
        "fastapi",
        "httpx",
        "psycopg",
        "sqlalchemy",
        "wagate.storage",
        "wagate.jobs",
        "wagate.notify",
        "aiosmtplib",
    )
    assert {name for name in _imports(path) if name.startswith(forbidden)} == set()


def test_no_import_cycle_among_wagate_modules() -> None:
    found = set(cycles(import_graph()))
    assert found - set(KNOWN_CYCLES) == set(), "modules that import each other round a circle"
    gone = set(KNOWN_CYCLES) - found
    assert gone == set(), "these cycles are gone: delete them from KNOWN_CYCLES"


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle(tmp_path: Path) -> None:
    root = tmp_path / "wagate"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "a.py").write_text("from wagate.sub.b import thing\n")
    (root / "sub" / "b.py").write_text("def f():\n    from ..c import other\n")
    (root / "c.py").write_text("from wagate import a\n")
    (root / "d.py").write_text("import wagate.a\nfrom wagate.sub import b, missing\n")
    graph = import_graph(root)
    assert graph["wagate.sub.b"] == {"wagate.c"}
    assert graph["wagate.d"] == {"wagate.a", "wagate.sub.b", "wagate.sub"}
    assert cycles(graph) == [frozenset({"wagate.a", "wagate.sub.b", "wagate.c"})]
