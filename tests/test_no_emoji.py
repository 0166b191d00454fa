"""No emoji in the UI: Material icons instead, which Streamlit ships as a font of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apptest_pages import REPO
from tests.emoji import emoji_in

UI_CODE = sorted(
    [REPO / "app.py", *(REPO / "pages").glob("*.py"), *(REPO / "ui").glob("*.py"),
     *(REPO / "steplr_viz").rglob("*.py")]
)  # fmt: skip


def test_the_check_finds_emoji_but_not_text_symbols():
    assert emoji_in("⏸️ Pause 🟢 ✅") and len(emoji_in("⏸️ Pause 🟢 ✅")) == 4
    assert emoji_in("η₀ · γ^⌊t/s⌋ ✓ ✗ → ≤ 1 %") == []


@pytest.mark.parametrize("path", UI_CODE, ids=lambda p: str(p.relative_to(REPO)))
def test_no_emoji_in_what_the_pages_show(path: Path):
    found = [
        f"line {number}: {emoji_in(line)}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if emoji_in(line)
    ]
    assert not found, found
