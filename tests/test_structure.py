"""The code's shape, held to what docs/architecture.md promises: no module of the package imports
another in a circle, each stays under 400 lines, and no function in the engine and its stages
is more complex than radon's cyclomatic complexity 15."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from radon.complexity import cc_visit

PACKAGE = Path(__file__).resolve().parent.parent / "desktop_uploader"
ENGINE = ["engine", "jobs", "runs", "stages", "spooling", "waiting", "journal", "events"]


def imports_of(module: str) -> set[str]:
    """The desktop_uploader modules ``module`` imports, at the top or inside a function."""
    tree = ast.parse((PACKAGE / f"{module.replace('.', '/')}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("desktop_uploader."):
                rel = name.removeprefix("desktop_uploader.")
                if (PACKAGE / f"{rel.replace('.', '/')}.py").exists():
                    found.add(rel)
                elif (PACKAGE / rel.replace(".", "/") / "__init__.py").exists():
                    found.add(f"{rel}.__init__")
    return found


def every_module() -> list[str]:
    """Every module of the package by its dotted name under it (``gui.main_window``)."""
    return sorted(
        p.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        for p in PACKAGE.rglob("*.py")
    )


def test_the_engine_imports_no_one_in_a_circle():
    graph: dict[str, set[str]] = {}
    todo = list(ENGINE)
    while todo:
        m = todo.pop()
        if m in graph:
            continue
        graph[m] = imports_of(m)
        todo += [n for n in graph[m] if n not in graph]

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for n in graph.get(start, ()):
            if n == goal or (n not in seen and reaches(n, goal, seen | {n})):
                return True
        return False

    circles = [m for m in ENGINE if reaches(m, m, {m})]
    assert circles == [], f"modules in an import circle: {circles}"
    assert "engine" not in set().union(*(graph[m] for m in ENGINE if m != "engine"))


@pytest.mark.parametrize("module", ENGINE)
def test_engine_modules_are_small_and_simple(module):
    source = (PACKAGE / f"{module}.py").read_text()
    assert len(source.splitlines()) < 400, f"{module}.py has 400 lines or more"
    complex_ = [(b.name, b.complexity) for b in cc_visit(source) if b.complexity > 15]
    assert complex_ == [], f"{module}.py: cyclomatic complexity above 15: {complex_}"


def test_no_module_of_the_package_imports_another_in_a_circle():
    """Imports inside functions count too: a lazy import hides a circle, it does not end it.
    A package's ``__init__`` handing on its modules' names is the one tie allowed (Python
    resolves it), so the edges from an ``__init__`` to its own package's modules are left out."""
    graph = {m: imports_of(m) for m in every_module()}
    for m, targets in graph.items():
        if m.endswith("__init__"):
            package = m.removesuffix("__init__")
            graph[m] = {t for t in targets if not t.startswith(package)}
    circles = []
    for start in graph:
        seen, todo = set(), list(graph[start])
        while todo:
            n = todo.pop()
            if n == start:
                circles.append(start)
                break
            if n not in seen:
                seen.add(n)
                todo += graph.get(n, ())
    assert circles == [], f"modules in an import circle: {circles}"


@pytest.mark.parametrize("module", every_module())
def test_every_module_stays_under_400_lines(module):
    lines = len((PACKAGE / f"{module.replace('.', '/')}.py").read_text().splitlines())
    assert lines < 400, f"{module}.py has {lines} lines: split it along a seam"


@pytest.mark.parametrize("path", sorted((PACKAGE / "pipeline").glob("*.py")), ids=lambda p: p.stem)
def test_stages_are_simple(path):
    source = path.read_text()
    complex_ = [(b.name, b.complexity) for b in cc_visit(source) if b.complexity > 15]
    assert complex_ == [], f"pipeline/{path.name}: cyclomatic complexity above 15: {complex_}"
