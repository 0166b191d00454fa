"""Every Python code block a page shows runs as is, offline, with torch."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from tests.apptest_pages import REPO, open_page
from ui import code_blocks

PAGES = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]


def _python_blocks(page: Path) -> list[str]:
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    # Code is built only when a student opens it (ui/code_blocks.py, the explorer's code tab):
    # open every such place, as a student would, before reading the blocks.
    for key in code_blocks.KEYS:
        at.session_state[key] = True
    at.session_state["export_tab"] = "PyTorch code"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return [c.value for c in at.code if c.language == "python"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_python_code_block_runs(page: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a block may write files (the lab's resume saves a checkpoint)
    for index, block in enumerate(_python_blocks(page)):
        with contextlib.redirect_stdout(io.StringIO()):
            # Our own pages' code, run as a student would paste it.
            exec(compile(block, f"<{page.name} block {index}>", "exec"), {})  # noqa: S102
