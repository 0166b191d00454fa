"""Readable by every student: a dark system setting gets the dark theme, and axe-core finds no
serious or critical WCAG violation on any page, light or dark, on a laptop or a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ui import code_blocks
from ui import lab as lab_ui

from . import harness
from .axe import LAB_PAGE, PAGES, THEMES, WIDTHS, axe_unavailable_reason, blocking, run_axe

pytestmark = pytest.mark.e2e

LOAD_TIMEOUT_MS = 120_000  # bounds a page load on a loaded machine; it asserts nothing
POLLING_PAGE_REST_MS = 3_000  # present mode polls: the 8 steps once took 135 s under load, not 12
STEP_COUNT = 8  # the presenter's steps (steplr_viz.classroom.guided_path.STEP_COUNT)


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def luminance(css: str) -> float:
    """WCAG 2 relative luminance of a CSS rgb() colour."""
    channels = [c / 255 for c in _rgb(css)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def themed(request: pytest.FixtureRequest) -> tuple[Any, str]:
    """(page, theme): a page whose system colour scheme and screen are the test's (theme, width).

    The page is the worker's reused tab for that screen (conftest `tab`, or `phone_tab` with
    touch): the test's own load gives a new document and Streamlit session, painted from the
    first frame in the colour scheme set here, as a fresh context would be. A scan of both
    themes loads in this one and switches to the other (`scan_both_themes`)."""
    theme, width = request.param
    page = request.getfixturevalue("phone_tab" if width == "phone" else "tab")
    assert page.viewport_size == WIDTHS[width]
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.emulate_media(color_scheme=theme)
    return page, theme


def colours(page: Any) -> dict[str, str]:
    """The app's background, its title's colour, and the first chart's background and tick text."""
    return page.evaluate(
        """() => {
      const style = (sel, prop) => {
        const el = document.querySelector(sel);
        return el ? getComputedStyle(el)[prop] : null;
      };
      return {
        background: style('[data-testid="stApp"]', 'backgroundColor'),
        title: style('[data-testid="stMain"] h1', 'color'),
        chart: style('.js-plotly-plot .main-svg', 'backgroundColor'),
        ticks: style('.js-plotly-plot .xtick text', 'fill'),
      };
    }"""
    )


def shows_theme(page: Any, theme: str) -> bool:
    """Whether the page's background is the theme's: dark, or light."""
    level = luminance(colours(page)["background"])
    return level < 0.05 if theme == "dark" else level > 0.9


def assert_theme(page: Any, theme: str) -> None:
    """The page shows the theme the system asks for: a dark or a light background."""
    assert shows_theme(page, theme), f"not the {theme} theme: {colours(page)['background']}"


def assert_axe_clean(page: Any, where: str) -> None:
    found = blocking(run_axe(page))
    assert not found, f"axe-core on {where}:\n" + "\n".join(str(v) for v in found)


def other(theme: str) -> str:
    return THEMES[1 - THEMES.index(theme)]


def show_theme(page: Any, theme: str, rest_ms: int = 10_000) -> None:
    """Switch the system's colour scheme and wait until the page is at rest in that theme.

    Streamlit's automatic theme follows the media change live, charts included: what a switch
    paints equals a fresh load's, element by element, but for a header's divider line, which
    keeps the first theme's grey (a line with no text, which axe-core does not check). A switch
    costs Chromium under 1 CPU-s, a page load several.
    """
    page.emulate_media(color_scheme=theme)
    harness.wait_until(
        lambda: shows_theme(page, theme),
        f"the page to show the {theme} theme",
        deadline_s=LOAD_TIMEOUT_MS / 1000,
        poll_s=0.05,
    )
    harness.wait_rendered(page, LOAD_TIMEOUT_MS)
    harness.settle(page, rest_ms)


def scan_both_themes(page: Any, first: str, where: str, rest_ms: int = 10_000) -> str:
    """Scan the page in the theme it was painted in, switch to the other and scan again; fail
    with every violation of both scans. Returns the theme the page is left in."""
    found: list[str] = []
    for theme in (first, other(first)):
        if theme != first:
            show_theme(page, theme, rest_ms)
        assert_theme(page, theme)  # each scan is of the theme it names
        found += [f"{where} ({theme}): {v}" for v in blocking(run_axe(page))]
    assert not found, "axe-core found:\n" + "\n".join(found)
    return other(first)


@pytest.fixture(autouse=True)
def _require_axe() -> None:
    reason = axe_unavailable_reason()
    if reason:  # conftest turns this skip into a failure in CI
        pytest.skip(reason)


@pytest.mark.parametrize("themed", [(t, "desktop") for t in THEMES], indirect=True, ids=THEMES)
def test_the_app_follows_the_systems_light_or_dark_setting(themed: Any, app_server: Any) -> None:
    page, theme = themed
    harness.open_page(page, app_server.page_url(""), LOAD_TIMEOUT_MS)
    assert_theme(page, theme)
    seen = colours(page)
    assert contrast(seen["title"], seen["background"]) >= 7, seen
    # The chart is drawn on the page's own background with the theme's text colour.
    assert _rgb(seen["chart"]) == _rgb(seen["background"]) or seen["chart"].endswith(", 0)"), seen
    assert contrast(seen["ticks"], seen["background"]) >= 3, seen


# Each page at each width is loaded once and scanned in both themes. The theme it is first
# painted in alternates with the width, so every page is also loaded afresh in each theme.
FIRST_THEME = {"desktop": "light", "phone": "dark"}
CASES = [
    pytest.param((FIRST_THEME[width], width), path, query, id=f"{name.replace(' ', '_')}-{width}")
    for name, path, query in PAGES
    for width in WIDTHS
]


@pytest.mark.parametrize(("themed", "path", "query"), CASES, indirect=["themed"])
def test_axe_finds_no_serious_violation_in_either_theme(
    themed: Any, app_server: Any, path: str, query: str
) -> None:
    page, first = themed
    harness.open_page(page, app_server.page_url(path, query), LOAD_TIMEOUT_MS)
    harness.settle(page)
    scan_both_themes(page, first, f"/{path}?{query}")


@pytest.mark.parametrize(
    "themed", [(FIRST_THEME[w], w) for w in WIDTHS], indirect=True, ids=list(WIDTHS)
)
def test_axe_finds_no_serious_violation_in_any_lab_section_in_either_theme(
    themed: Any, app_server: Any
) -> None:
    # The lab builds only its open tab: a student's clicks open each section in turn.
    page, theme = themed
    harness.open_page(page, app_server.page_url(LAB_PAGE, ""), LOAD_TIMEOUT_MS)
    for label, header in zip(lab_ui.TABS, lab_ui.SECTIONS, strict=True):
        page.get_by_role("tab", name=label, exact=True).click()
        page.locator('[data-testid="stMain"] h2').filter(has_text=header).wait_for(state="visible")
        harness.wait_app_idle(page, LOAD_TIMEOUT_MS)
        harness.wait_rendered(page, LOAD_TIMEOUT_MS)
        harness.settle(page)
        # Scanned in the theme it shows, then in the other, which the next section starts in.
        theme = scan_both_themes(page, theme, f"the lab's {label} section")


@pytest.mark.parametrize("themed", [("light", "desktop")], indirect=True, ids=["desktop"])
def test_axe_finds_no_serious_violation_on_any_presenter_step_in_either_theme(
    themed: Any, app_server: Any
) -> None:
    page, theme = themed
    harness.open_page(page, app_server.page_url("Present", "present=true"), LOAD_TIMEOUT_MS)
    assert_theme(page, theme)
    for step in range(1, STEP_COUNT + 1):
        heading = page.locator('[data-testid="stMain"] h2').filter(has_text=f"{step} · ")
        heading.first.wait_for(state="visible")
        harness.wait_app_idle(page, LOAD_TIMEOUT_MS)
        harness.wait_rendered(page, LOAD_TIMEOUT_MS)
        # Its class's fragments poll every second: on a busy machine the page may not rest for
        # long, and stale elements keep full opacity for the scan, so the wait is short.
        harness.settle(page, POLLING_PAGE_REST_MS)
        # Scanned in the theme it shows, then in the other, which the next step starts in.
        theme = scan_both_themes(page, theme, f"presenter step {step}", POLLING_PAGE_REST_MS)
        if step < STEP_COUNT:
            page.locator(".st-key-present_next button").click()


@pytest.fixture(scope="module")
def runs_server(server_factory: Any) -> Any:
    """A server of this module's own, so the runs it starts stay apart from other tests'."""
    return server_factory("app.py")


RUN_QUERY = "train_epochs=1&train_batch_size=512"
RUN_HEADING = '[data-testid="stMain"] h2'


def finish_a_run(page: Any) -> None:
    """Start a run on the training page and wait until it has finished and drawn its pictures."""
    page.locator(".st-key-train_start button").click()
    page.locator(RUN_HEADING, has_text=" · run ").filter(has_text="finished").first.wait_for(
        state="visible"
    )
    page.locator(".st-key-train_digits .js-plotly-plot").wait_for(state="visible")


@pytest.mark.parametrize("theme", THEMES)
def test_axe_finds_no_serious_violation_beside_a_finished_run(
    shared_page: Any, runs_server: Any, theme: str
) -> None:
    # The run panel (progress, charts, the epoch log, the pictures) and the runs table appear
    # only once there is a run. One run, trained once on a page both cases share, is scanned
    # in each theme (a live switch paints as a fresh load does: see show_theme).
    url = runs_server.page_url("Live_training", RUN_QUERY)
    page = shared_page(url, theme=theme, variant="a finished run", prepare=finish_a_run)
    page.locator(RUN_HEADING, has_text=" · run ").filter(has_text="finished").first.wait_for(
        state="visible"
    )
    page.locator(".st-key-train_digits .js-plotly-plot").wait_for(state="visible")
    assert_theme(page, theme)  # shared_page gave it at rest in this theme
    assert_axe_clean(page, f"the training page after a finished run ({theme})")


# Code is built only when a student opens it (ui/code_blocks.py): scan it open, where a block
# wider than a phone scrolls sideways and must take the keyboard's focus.
# (url path, query, expander key): the lab's code is in its Resuming tab.
CODE_EXPANDERS = [
    ("Live_training", "", code_blocks.SEED_SCRIPT),
    (LAB_PAGE, f"{lab_ui.SECTION_KEY}=Resuming", code_blocks.LAB_RESUME),
]
CODE_CASES = [
    pytest.param((FIRST_THEME[width], width), path, query, key, id=f"{path}-{width}")
    for path, query, key in CODE_EXPANDERS
    for width in WIDTHS
]


@pytest.mark.parametrize(("themed", "path", "query", "key"), CODE_CASES, indirect=["themed"])
def test_axe_finds_no_serious_violation_in_opened_code_in_either_theme(
    themed: Any, app_server: Any, path: str, query: str, key: str
) -> None:
    page, first = themed
    harness.open_page(page, app_server.page_url(path, query), LOAD_TIMEOUT_MS)
    assert page.locator('[data-testid="stCode"]').count() == 0  # off the first paint
    page.locator(f".st-key-{key} summary").click()
    page.locator(f'.st-key-{key} [data-testid="stCode"]').first.wait_for(state="visible")
    harness.wait_app_idle(page, LOAD_TIMEOUT_MS)
    harness.wait_rendered(page, LOAD_TIMEOUT_MS)
    harness.settle(page)
    scan_both_themes(page, first, f"/{path} with its code open")
