"""The engine stays free of Streamlit, so the CLI and the trainer run without a UI."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import steplr_viz

ROOT = Path(__file__).resolve().parents[1]


def engine_modules() -> list[str]:
    """Every module under steplr_viz/, by import name."""
    return [info.name for info in pkgutil.walk_packages(steplr_viz.__path__, prefix="steplr_viz.")]


def test_the_engine_has_the_modules_the_pages_use():
    names = engine_modules()
    for expected in (
        "steplr_viz.schedules.steplr",
        "steplr_viz.training.trainer",
        "steplr_viz.store.runs",
        "steplr_viz.classroom.guided_path",
        "steplr_viz.cli.train",
        "steplr_viz.train",  # `python -m steplr_viz.train` keeps working
    ):
        assert expected in names


def test_the_engine_is_a_few_rooms_not_a_heap_of_modules():
    """At most 6 modules at the top; the rest live in subpackages named for what they hold."""
    top = sorted(
        p.name
        for p in (ROOT / "steplr_viz").glob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    )
    assert len(top) <= 6, top
    rooms = {p.parent.name for p in (ROOT / "steplr_viz").glob("*/__init__.py")}
    assert {"schedules", "training", "store", "classroom", "cli", "lab", "figures"} <= rooms


def _import_graph() -> dict[str, set[str]]:
    """Engine module -> the engine modules it imports (anywhere in its body), read from the AST."""
    root = ROOT / "steplr_viz"
    mods = {}
    for p in root.rglob("*.py"):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = p
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for n in names:
                while n and n not in mods:
                    n = n.rsplit(".", 1)[0] if "." in n else ""
                # A package's __init__ only documents its room: importing through it is no edge.
                if n and n != m and mods[n].name != "__init__.py":
                    graph[m].add(n)
    return graph


def test_no_import_cycle_between_engine_modules():
    graph = _import_graph()
    assert "steplr_viz.config" in graph["steplr_viz.schedules.choices"]  # the graph sees imports
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_package_inits_only_document_their_room():
    """Empty __init__s keep the rooms independent: importing one module loads no other room."""
    for init in (ROOT / "steplr_viz").glob("*/__init__.py"):
        if init.parent.name == "lab":
            continue  # the lab's __init__ is its public face (the pages import it whole)
        tree = ast.parse(init.read_text())
        assert not [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)], init


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_importing_every_engine_module_never_imports_streamlit():
    # A fresh interpreter: this test process has streamlit loaded by the page tests.
    code = (
        "import importlib, sys\n"
        f"for name in {engine_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_every_page_is_an_outline_over_its_sections():
    """At most ~120 lines and one function: the sections live in ui/, the numbers in the engine."""
    pages = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    assert len(pages) >= 3
    for page in pages:
        text = page.read_text()
        assert len(text.splitlines()) <= 120, page.name
        assert text.count("\ndef ") == 1, f"{page.name}: sections belong in ui/"
