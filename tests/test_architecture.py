"""The engine stays free of Streamlit, so the CLI and the trainer run without a UI."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import steplr_viz

ROOT = Path(__file__).resolve().parents[1]


def engine_modules() -> list[str]:
    """Every module under steplr_viz/, by import name."""
    return [info.name for info in pkgutil.walk_packages(steplr_viz.__path__, prefix="steplr_viz.")]


def test_the_engine_has_the_modules_the_pages_use():
    names = engine_modules()
    for expected in ("steplr_viz.schedule", "steplr_viz.trainer", "steplr_viz.train"):
        assert expected in names


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
