"""The engine's shape, held to what docs/architecture.md promises: its modules import no one in a
circle, each stays under 400 lines, and no function in the engine and its stages is more
complex than radon's cyclomatic complexity 15."""

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
    return found


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


# Still above 15, to be split (issue 16): the decoder worker's loop, which the platform seam
# (resource limits per OS) is rewriting.
NOT_YET = {("decoder", "worker_main")}


@pytest.mark.parametrize("path", sorted((PACKAGE / "pipeline").glob("*.py")), ids=lambda p: p.stem)
def test_stages_are_simple(path):
    source = path.read_text()
    complex_ = [
        (b.name, b.complexity)
        for b in cc_visit(source)
        if b.complexity > 15 and (path.stem, b.name) not in NOT_YET
    ]
    assert complex_ == [], f"pipeline/{path.name}: cyclomatic complexity above 15: {complex_}"
