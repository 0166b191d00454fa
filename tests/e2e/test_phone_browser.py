"""On a phone (390 px wide): every page fits without sideways scrolling, a slider moves the
chart, and a run starts. Waits are on what the page shows. Each test loads its page afresh in
the worker's reused phone tab (conftest `phone_tab`)."""

from __future__ import annotations

from typing import Any

import pytest

from . import harness
from .harness import assert_no_exception, open_page, page_files, page_url_path, plot_traces

pytestmark = pytest.mark.e2e

PHONE = harness.PHONE_VIEWPORT
DEADLINE_S = 120.0  # bounds each wait; it only stops a hung test
PAGES = [pytest.param("", id="app.py")] + [
    pytest.param(page_url_path(path), id=path.name) for path in page_files()
]
# Widest scrollable box on the page against its visible width: > 0 means sideways scrolling.
_OVERFLOW_JS = """() => {
  const scrollers = '[data-testid="stMain"], [data-testid="stAppViewContainer"]';
  const boxes = [document.scrollingElement, ...document.querySelectorAll(scrollers)];
  return Math.max(...boxes.filter(Boolean).map(b => b.scrollWidth - b.clientWidth));
}"""


@pytest.fixture
def phone(phone_tab: Any) -> Any:
    """A phone-sized page with touch, as a student's phone opens the app: the worker's reused
    tab (conftest `phone_tab`), in which each test loads its page afresh."""
    return phone_tab


def overflow_px(page: Any) -> int:
    return page.evaluate(_OVERFLOW_JS)


def assert_within_screen(page: Any, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, (selector, box)


def open_sidebar(page: Any, then_shown: str) -> None:
    """Open the sidebar and wait until `then_shown` has slid fully onto the screen."""
    page.locator('[data-testid="stExpandSidebarButton"]').click()
    page.locator('[data-testid="stSidebar"][data-collapsed="false"]').wait_for()

    def on_screen() -> bool:
        box = page.locator(then_shown).first.bounding_box()
        return box is not None and box["x"] >= 0  # the sidebar slides in from the left

    harness.wait_until(on_screen, f"{then_shown} on screen", deadline_s=DEADLINE_S)


@pytest.mark.parametrize("url_path", PAGES)
def test_every_page_fits_a_phone_without_sideways_scrolling(
    phone: Any, app_server: Any, url_path: str
) -> None:
    open_page(phone, app_server.page_url(url_path))
    assert_no_exception(phone)
    assert overflow_px(phone) <= 0


def test_a_slider_moves_the_chart_on_a_phone(phone: Any, app_server: Any) -> None:
    open_page(phone, app_server.page_url(""))
    before = harness.trace_named(plot_traces(phone, "staircase"), "closed form")["y"]
    open_sidebar(phone, ".st-key-gamma input[type=range]")
    assert_within_screen(phone, ".st-key-gamma input[type=range]")
    phone.locator(".st-key-gamma input[type=range]").focus()
    phone.keyboard.press("ArrowLeft")
    harness.wait_until(
        lambda: harness.trace_named(plot_traces(phone, "staircase"), "closed form")["y"] != before,
        "the staircase to follow γ",
        deadline_s=DEADLINE_S,
    )
    assert overflow_px(phone) <= 0


def test_a_run_starts_on_a_phone(phone: Any, app_server: Any) -> None:
    open_page(phone, app_server.page_url("Live_training", "train_epochs=1&train_batch_size=512"))
    start = ".st-key-train_start button"
    assert_within_screen(phone, start)
    assert overflow_px(phone) <= 0
    phone.locator(start).click()
    heading = phone.locator('[data-testid="stMain"] h2').filter(has_text=" · run ")
    harness.wait_until(
        lambda: (
            heading.count() > 0
            and any(s in heading.first.inner_text() for s in ("queued", "running", "finished"))
        ),
        "the run's heading",
        deadline_s=DEADLINE_S,
    )
    assert_within_screen(phone, ".st-key-train_stop button")
    assert_within_screen(phone, '[data-testid="stMain"] h2:has-text(" · run ")')
    assert overflow_px(phone) <= 0
