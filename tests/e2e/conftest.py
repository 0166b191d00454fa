"""Fixtures for the real-browser tests: one Streamlit server per session, Chromium, a page per test.

`page` is a new browser context per test. `tab` / `phone_tab` reuse one tab per module, left as
new before each test (the test loads its page itself: a new document and Streamlit session), at
a quarter of a new context's CPU. `shared_page` shares a page brought into a costly state (a
finished run) between tests that only look at it.

Where Chromium or playwright is missing a local run skips these tests with the reason; with CI
set (CI=true, as CI services do) that is a failure instead, and so is any other skip in here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import harness

HERE = Path(__file__).resolve().parent
SCREENSHOTS = harness.SCREENSHOTS
VIEWPORT = {"width": 1400, "height": 900}
SHARED_PAGE_TIMEOUT_MS = 120_000  # bounds a page load on a loaded 2-core machine; no assertion
FAILED = pytest.StashKey[bool]()


def in_ci() -> bool:
    """True when the CI environment variable says so (CI=true, CI=1, ...)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test in this folder is a browser test, including modules added later.
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    # In CI a browser test that did not run is a failure: a green run must mean it ran.
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"e2e test skipped in CI, which counts as a failure: {report.longrepr}"
    if report.failed:
        item.stash[FAILED] = True  # the page fixture keeps a screenshot of what went wrong


def _require_browser() -> None:
    reason = harness.browser_unavailable_reason()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., harness.StreamlitServer]]:
    """Start `streamlit run <script>` servers; all are torn down at the end of the session.

    A test that kills or restarts a server gets its own from here, e.g.
    `server = server_factory(); server.kill(); server.start()` keeps port, runs and data folders.
    With start=False the server is made but not started (harness.start_servers starts several
    at once).
    """
    servers: list[harness.StreamlitServer] = []

    def start(
        script: str = "app.py", *, start: bool = True, **kwargs: object
    ) -> harness.StreamlitServer:
        root = tmp_path_factory.mktemp("server")
        server = harness.StreamlitServer(
            script=script,
            runs_dir=kwargs.pop("runs_dir", root / "runs"),
            data_dir=kwargs.pop("data_dir", root / "data"),
            log_path=root / "server.log",
            **kwargs,
        )
        servers.append(server)
        return server.start() if start else server

    try:
        yield start
    finally:
        harness.stop_servers(servers)  # at once: each stop is mostly a wait


@pytest.fixture(scope="session")
def app_server(server_factory: Callable[..., harness.StreamlitServer]) -> harness.StreamlitServer:
    """The app (app.py and its pages), shared by every test that only reads and clicks."""
    _require_browser()  # no server is started for tests that cannot run
    return server_factory("app.py")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium, launched once per session through playwright."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = harness.launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser context (own cookies, session, downloads) and page for each test."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(harness.APP_IDLE_TIMEOUT_MS)
    pg = context.new_page()
    try:
        yield pg
    finally:
        try:
            if request.node.stash.get(FAILED, False):
                # The page as the failing test left it, for whoever reads the failure.
                harness.save_screenshot(pg, SCREENSHOTS, f"FAILED-{request.node.name}")
        finally:
            context.close()


@pytest.fixture(scope="module")
def shared_pages(browser: object) -> Iterator[harness.SharedPages]:
    """Pages loaded once per module for the tests that only look at them (harness.SharedPages)."""
    pages = harness.SharedPages(browser, timeout_ms=SHARED_PAGE_TIMEOUT_MS)
    try:
        yield pages
    finally:
        pages.close()


@pytest.fixture
def shared_page(
    shared_pages: harness.SharedPages, request: pytest.FixtureRequest
) -> Iterator[Callable[..., object]]:
    """`shared_page(url, screen=, theme=, ...)`: a loaded page shared with the module's other
    tests that only look. A failing test's pages are photographed and closed, so the next test
    loads them afresh instead of inheriting whatever state the failure left."""
    first = len(shared_pages.handed_out)
    yield shared_pages.get
    if request.node.stash.get(FAILED, False):
        for key in dict.fromkeys(shared_pages.handed_out[first:]):
            page = shared_pages.page(key)
            if page is not None:
                harness.save_screenshot(page, SCREENSHOTS, f"FAILED-{request.node.name}")
            shared_pages.discard(key)


@pytest.fixture(scope="session")
def _worker_tabs(browser: object) -> Iterator[dict[str, object]]:
    """One browser context per screen for the reused tabs of every module on this worker.

    Session-wide, not per module: each context's first load costs 2.5 to 4 of a reused tab's
    (benchmarks/bench_page_loads.py), and harness.forget leaves the tab as a new one.
    """
    made: dict[str, object] = {}
    try:
        yield made
    finally:
        for context in made.values():
            context.close()


def _reused_tab(
    browser: object, made: dict, screen: str, request: pytest.FixtureRequest
) -> Iterator[object]:
    phone = screen == "phone"
    viewport = harness.PHONE_VIEWPORT if phone else VIEWPORT
    page = None
    context = made.get(screen)
    if context is not None:
        page = context.pages[0] if context.pages else context.new_page()
        try:
            harness.forget(page)
            page.set_viewport_size(viewport)  # what an earlier test may have changed, as new
            page.set_default_timeout(harness.APP_IDLE_TIMEOUT_MS)
        except Exception:  # a tab that cannot be cleared is not reused: a new context instead
            made.pop(screen).close()
            page = None
    if page is None:
        context = browser.new_context(
            viewport=viewport,
            is_mobile=phone,
            has_touch=phone,
            accept_downloads=True,
        )
        context.set_default_timeout(harness.APP_IDLE_TIMEOUT_MS)
        made[screen] = context
        page = context.new_page()
    try:
        yield page
    finally:
        if request.node.stash.get(FAILED, False):
            try:
                harness.save_screenshot(page, SCREENSHOTS, f"FAILED-{request.node.name}")
            finally:
                made.pop(screen).close()  # the next test starts in a new context
        else:
            for other in page.context.pages:  # a second tab the test opened polls no longer
                if other != page:
                    other.close()


@pytest.fixture
def tab(browser: object, _worker_tabs: dict, request: pytest.FixtureRequest) -> Iterator[object]:
    """A desktop page for a test that loads its page itself (and may then change it).

    The browser tab is the worker's, left as a new one would be (harness.forget: about:blank,
    storage and cookies cleared): the test's own load gives it a new document and a new
    Streamlit session, as a fresh context would, at about a quarter of the CPU (the tab's
    renderer process and its compiled scripts are reused; a new context starts a renderer and
    compiles Streamlit's and Plotly's scripts again, ~4-7 CPU-s a load against ~1-3 in a reused
    tab: benchmarks/bench_page_loads.py). A failing test's context is closed, so the next test
    starts in a new one.
    """
    yield from _reused_tab(browser, _worker_tabs, "desktop", request)


@pytest.fixture
def phone_tab(
    browser: object, _worker_tabs: dict, request: pytest.FixtureRequest
) -> Iterator[object]:
    """Like `tab`, on a 390×844 phone with touch (is_mobile, has_touch)."""
    yield from _reused_tab(browser, _worker_tabs, "phone", request)
