"""The code stays readable: modules of one job, functions that fit on a screen.

A module over MODULE_LINES lines says why at its top (a line of its docstring starting
"Longer than"); a function over FUNCTION_LINES lines is split. The package imports
without a loop.
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

MODULE_LINES = 400
FUNCTION_LINES = 80
CODE = [
    path
    for folder in ("src/grassroots", "dags", "bench")
    for path in sorted((REPO_ROOT / folder).rglob("*.py"))
]


def _long_functions(path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}"
        f" ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > FUNCTION_LINES
    ]


def test_no_function_is_longer_than_a_screen():
    assert [f for path in CODE for f in _long_functions(path)] == []


def test_a_long_module_says_why():
    unexplained = []
    for path in CODE:
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines <= MODULE_LINES:
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if "Longer than" not in docstring:
            unexplained.append(f"{path.relative_to(REPO_ROOT)} ({lines} lines)")
    assert unexplained == []


def _module_name(path) -> str:
    parts = path.relative_to(REPO_ROOT / "src").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_at_top(path, known: set[str]) -> set[str]:
    """The package's modules a module imports when it is imported (imports inside
    functions run later and cannot make a loop at import time)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def test_no_import_loop():
    package = [path for path in CODE if path.is_relative_to(REPO_ROOT / "src")]
    known = {_module_name(path) for path in package}
    graph = {_module_name(path): _imports_at_top(path, known) for path in package}
    loops = []

    def visit(module: str, trail: list[str]) -> None:
        for imported in sorted(graph[module]):
            if imported in trail:
                loops.append(" -> ".join([*trail[trail.index(imported) :], imported]))
            elif imported not in done:
                visit(imported, [*trail, imported])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert loops == []
