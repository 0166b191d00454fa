"""The StepLR lab in Chromium: one section per tab, the open one in the address, and a closed
section's controls where the student left them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from ui import lab as lab_ui

from .harness import assert_no_exception, open_page, wait_app_idle, wait_rendered

pytestmark = pytest.mark.e2e

RESUME_AT = "lab_resume_at"
SLIDER = f".st-key-{RESUME_AT} input[type=range]"
SECTION_HEADERS = '[data-testid="stMain"] h2'
SECTION_CODE = '[data-testid="stMain"] [data-testid="stMarkdownContainer"] code'


@pytest.fixture
def page(tab: Any) -> Any:
    """The worker's reused tab (conftest `tab`): the test loads its page afresh in it."""
    return tab


def open_tab(page: Any, label: str) -> None:
    """Click a section's tab and wait until its section is drawn."""
    page.get_by_role("tab", name=label, exact=True).click()
    header = lab_ui.SECTIONS[lab_ui.TABS.index(label)]
    page.locator(SECTION_HEADERS).filter(has_text=header).wait_for(state="visible")
    wait_app_idle(page)
    wait_rendered(page)


def shown_sections(page: Any) -> list[str]:
    """The section headers the page shows (one: the open tab's)."""
    texts = page.locator(SECTION_HEADERS).all_inner_texts()
    return [t.strip() for t in texts if t.strip() in lab_ui.SECTIONS]


def linked_section(page: Any) -> str | None:
    """The section the address names (none for the first, which is the default)."""
    query = parse_qs(urlparse(page.evaluate("() => location.href")).query)
    return query.get(lab_ui.SECTION_KEY, [None])[0]


def resume_at(page: Any) -> int:
    """The Resume-at slider's value as the page shows it."""
    return int(float(page.locator(SLIDER).input_value()))


def test_a_link_opens_a_section_and_its_controls_outlast_a_visit_to_another(
    page: Any, app_server: Any
) -> None:
    open_page(page, app_server.page_url("StepLR_lab", f"{lab_ui.SECTION_KEY}=Resuming"))
    assert shown_sections(page) == [lab_ui.SECTIONS[4]]  # only the open tab is built
    assert page.locator(".js-plotly-plot").count() == 1  # the Resuming section's one chart
    start = resume_at(page)

    page.locator(SLIDER).focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert resume_at(page) == start + 3
    # The server has the new value once the section's text names it (k − 1 in its call).
    page.locator(SECTION_CODE, has_text=f"last_epoch={start + 3 - 1})").first.wait_for()
    wait_app_idle(page)

    open_tab(page, "Call order")
    assert shown_sections(page) == [lab_ui.SECTIONS[0]]
    assert linked_section(page) is None  # the first section is the default: a clean address
    open_tab(page, "Resuming")
    assert linked_section(page) == "Resuming"
    assert resume_at(page) == start + 3  # the slider kept the student's value while closed

    page.reload(wait_until="domcontentloaded")  # the address alone reopens the section
    wait_app_idle(page)
    wait_rendered(page)
    assert shown_sections(page) == [lab_ui.SECTIONS[4]]
    assert_no_exception(page)
