"""Every page of the app renders in Chromium: a heading, and no Streamlit exception.

Pages are found in pages/ at collection time, so a page added later is covered without edits.
Each test loads its page afresh in the worker's reused tab (conftest `tab`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.emoji import emoji_in

from .harness import (
    SCREENSHOTS,
    assert_no_exception,
    open_page,
    page_files,
    page_url_path,
    save_screenshot,
)

pytestmark = pytest.mark.e2e

# The main script (url path "") and then each file in pages/, in Streamlit's order.
PAGES = [pytest.param("", id="app.py")] + [
    pytest.param(page_url_path(path), id=path.name) for path in page_files()
]


@pytest.fixture
def page(tab: Any) -> Any:
    """The worker's reused tab (conftest `tab`): each test loads its page afresh in it."""
    return tab


@pytest.mark.parametrize("url_path", PAGES)
def test_page_renders_a_heading_and_no_exception(page: Any, app_server: Any, url_path: str) -> None:
    open_page(page, app_server.page_url(url_path))
    # An unknown url path falls back to the main page with a dialog: make sure we are on ours.
    assert page.get_by_text("Page not found").count() == 0, f"no page at /{url_path}"
    assert urlparse(page.url).path.strip("/") == url_path, f"/{url_path} went to {page.url}"
    current = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    if current.count():  # only a multipage app has the navigation
        href = current.first.get_attribute("href").rstrip("/")
        assert href == app_server.page_url(url_path).rstrip("/")
    headings = page.locator('[data-testid="stMain"] [data-testid="stHeading"]')
    assert headings.count() >= 1, "no heading in the page"
    assert headings.first.inner_text().strip(), "the first heading is empty"
    assert_no_exception(page)
    save_screenshot(page, SCREENSHOTS, f"page-{url_path or 'explorer'}")


@pytest.mark.parametrize("url_path", PAGES)
def test_icons_are_material_symbols_and_no_emoji_is_drawn(
    page: Any, app_server: Any, url_path: str
) -> None:
    # Without an emoji font (a fresh Debian Chromium has none) an emoji is an empty box;
    # Streamlit ships the Material Symbols font itself, so its icons always draw.
    open_page(page, app_server.page_url(url_path))
    text = page.evaluate("document.body.innerText")
    assert emoji_in(text) == [], emoji_in(text)
    icons = page.locator('[data-testid="stIconMaterial"]')
    assert icons.count() >= 1, "no Material icon on the page"
    family = icons.first.evaluate("e => getComputedStyle(e).fontFamily")
    assert "Material Symbols" in family, family
    loaded = page.evaluate(
        "document.fonts.ready.then(() => document.fonts.check('24px \"Material Symbols Rounded\"'))"
    )
    assert loaded, "the Material Symbols font did not load"
