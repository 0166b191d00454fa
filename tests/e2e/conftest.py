"""Fixtures for the real-browser tests: one Streamlit server per session, Chromium, a page per test.

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
