"""A whole class in Chromium: many students at once, a full class, a server killed mid-run.

Each student is a browser context of its own (its own cookies, so its own Streamlit session).
The runs folder is read with a RunStore in this process: it marks runs interrupted only when
their owning process is dead, so reading never disturbs the server's live runs.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from steplr_viz.store.runs import RUN_ID_RE, RunStore

from . import harness
from .conftest import VIEWPORT
from .harness import (
    APP_IDLE_TIMEOUT_MS,
    SCREENSHOTS,
    StreamlitServer,
    assert_no_exception,
    open_page,
    open_pages,
    save_screenshot,
    wait_app_idle,
    write_full_mnist_stand_in,
)

pytestmark = pytest.mark.e2e

STUDENTS = 10
# Two trainers and room in the queue for everyone else: all ten must be taken.
CLASS_CAPS = {"STEPLR_VIZ_MAX_TRAINERS": "2", "STEPLR_VIZ_MAX_QUEUE": str(STUDENTS - 2)}
# One trainer, one place in the queue: a paused run and one waiting run fill the class.
FULL_CAPS = {"STEPLR_VIZ_MAX_TRAINERS": "1", "STEPLR_VIZ_MAX_QUEUE": "1"}
SHORT = "train_epochs=1&train_batch_size=512"  # one epoch of the bundled digits
# The longest run the page offers, on a stand-in for full MNIST (harness): minutes, where the
# bundled digits would take seconds. Time enough to hold the only trainer.
LONG = "train_epochs=30&train_batch_size=16&train_data_source=full"
# The same run on the bundled digits: its first epoch is stored after 250 batches, and 29 more
# (thousands of batches, seconds) are still to come when a poll of the store sees it: time
# enough to kill the server mid-run, without writing and loading 60,000 stand-in digits.
LONG_BUNDLED = "train_epochs=30&train_batch_size=16"
PAGE = "Live_training"
# Browser waits: generous, because this box may be busy; each is still a bound, not a sleep.
SLOW_MS = APP_IDLE_TIMEOUT_MS * 4
DEADLINE_S = 240.0  # bounds every wait; runs take seconds, the bound only stops a hung test
POLL_S = 0.25
RUN_ID = RUN_ID_RE  # new ids and old 12-hex ones
FULL_ALERT = '[data-testid="stAlertContentError"]'
INFO_ALERT = '[data-testid="stAlertContentInfo"]'
WARNING_ALERT = '[data-testid="stAlertContentWarning"]'


# --- helpers ------------------------------------------------------------------------------------


class HealthProbe(threading.Thread):
    """GET /_stcore/health on loopback every POLL_S until stopped (or a bounded time)."""

    def __init__(self, base_url: str, max_s: float = 2 * DEADLINE_S + 120) -> None:
        super().__init__(name="health-probe", daemon=True)
        host = urlparse(base_url).hostname
        assert host in {"127.0.0.1", "localhost", "::1"}, f"not loopback: {base_url}"
        self.url = f"{base_url}/_stcore/health"
        self.max_s = max_s
        self.answers: list[str] = []  # "ok", or what came back instead
        self._halt = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.max_s
        while not self._halt.is_set() and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=30) as resp:
                    body = resp.read().decode(errors="replace").strip()
                    self.answers.append(body if resp.status == 200 else f"{resp.status} {body}")
            except (urllib.error.URLError, OSError) as err:
                self.answers.append(f"no answer: {err!r}")
            self._halt.wait(POLL_S)

    def stop(self) -> list[str]:
        self._halt.set()
        self.join(timeout=60)
        return self.answers


class StoreWatch(threading.Thread):
    """Reads the server's runs folder every POLL_S: the most runs holding a trainer at once,
    and every status each run was seen in."""

    def __init__(self, store: RunStore) -> None:
        super().__init__(name="store-watch", daemon=True)
        self.store = store
        self.most_holding = 0  # running + paused: the runs that hold a trainer slot
        self.seen: dict[str, set[str]] = {}
        self.errors: list[str] = []
        self._halt = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 2 * DEADLINE_S + 120
        while not self._halt.is_set() and time.monotonic() < deadline:
            try:
                runs = self.store.list_runs()
            except Exception as err:  # a failed read is a finding, not a crash of the thread
                self.errors.append(repr(err))
            else:
                holding = int(runs["status"].isin(["running", "paused"]).sum())
                self.most_holding = max(self.most_holding, holding)
                for run_id, status in zip(runs["run_id"], runs["status"], strict=True):
                    self.seen.setdefault(run_id, set()).add(status)
            self._halt.wait(POLL_S)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=60)


@pytest.fixture
def new_student(browser: Any) -> Iterator[Callable[[], Any]]:
    """Open a fresh browser context (a student of their own) per call; all closed at the end."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(SLOW_MS)  # 2 cores, a dozen pages
        contexts.append(context)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def wait_until(check: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    """Poll check() until it returns something truthy; fail naming `what` at the deadline."""
    return harness.wait_until(check, what, deadline_s=deadline_s, poll_s=POLL_S)


def watched_run(page: Any) -> str | None:
    """The run id the page's address carries (the page watches that run)."""
    # Read from the page itself: page.url is only refreshed while playwright is being called.
    values = parse_qs(urlparse(page.evaluate("() => location.href")).query).get("run", [])
    return values[0] if values and RUN_ID.match(values[0]) else None


def press(page: Any, key: str) -> None:
    """Click the keyed button once it is enabled."""
    button = page.locator(f".st-key-{key} button")
    button.wait_for(state="visible")
    wait_until(button.is_enabled, f"{key} to be enabled", deadline_s=60)
    button.click()


def start_run(page: Any) -> str:
    """Press Start and return the id of the run the page then watches."""
    press(page, "train_start")
    return wait_until(lambda: watched_run(page), "the page to watch its new run")


def heading_shows(
    page: Any, status: str, server: StreamlitServer | None = None, deadline_s: float = DEADLINE_S
) -> str:
    """Wait until the run panel's heading shows this status; returns the heading.

    If it never does, the failure says what the page showed instead (headings, exceptions,
    stale elements, the status widget), with a picture of it and the server's thread stacks.
    """
    heading = page.locator('[data-testid="stMain"] h2', has_text=" · run ").filter(has_text=status)
    try:
        heading.first.wait_for(state="visible", timeout=deadline_s * 1000)
    except Exception as err:
        shown = page.locator('[data-testid="stMain"] h2').all_inner_texts()
        state = harness.page_state(page)
        picture = save_screenshot(page, SCREENSHOTS, f"classroom-no-{status}-heading")
        stacks = server.thread_stacks() if server is not None else "<no server given>"
        raise AssertionError(
            f"no heading says {status!r} after {deadline_s:.0f} s; the page's headings: {shown}; "
            f"exceptions: {harness.exception_texts(page)}; page state: {state}; "
            f"picture: {picture}; the server's threads:\n{stacks}"
        ) from err
    return heading.first.inner_text()


def open_quickly(page: Any, url: str) -> None:
    """Open a page and wait for its script run; charts may still be drawing (2 busy cores)."""
    page.goto(url, wait_until="domcontentloaded")
    wait_app_idle(page, SLOW_MS)


def open_together(visits: list[tuple[Any, str]]) -> None:
    """Open several pages at once (as a class does), then wait for each one's script run."""
    open_pages(visits, SLOW_MS, rendered=False)


def runs_table_text(page: Any) -> str:
    """The runs table's cells (Streamlit's grid keeps an accessible table in the page)."""
    cells = page.locator('[data-testid="stDataFrame"] table td')
    return " ".join(cells.all_inner_texts())


# --- a whole class at once ----------------------------------------------------------------------


@pytest.mark.timeout(600)  # a dozen pages and a server on 2 cores; every wait is bounded
def test_a_class_trains_at_once_and_loses_nothing(server_factory, new_student):
    server: StreamlitServer = server_factory("app.py", extra_env=CLASS_CAPS)
    health = HealthProbe(server.url)
    health.start()
    watch: StoreWatch | None = None
    try:
        # The class opens the page first, all at once as a class does (a page load fetches
        # megabytes of script: the browser and the server overlap the ten) ...
        pages = [new_student() for _ in range(STUDENTS)]
        open_together([(page, server.page_url(PAGE, SHORT)) for page in pages])
        watch = StoreWatch(RunStore(server.runs_dir))
        watch.start()
        # ... then everyone presses Start, one right after the other, and each page then
        # watches its own new run.
        for page in pages:
            press(page, "train_start")
        students = [
            (page, wait_until(lambda page=page: watched_run(page), "a page to watch its new run"))
            for page in pages
        ]
        assert len({run_id for _, run_id in students}) == STUDENTS

        # Every run finishes (some after waiting in the queue), in the store and on its page.
        store = RunStore(server.runs_dir)

        def all_finished() -> bool:
            runs = store.list_runs().set_index("run_id")
            return all(runs.at[r, "status"] == "finished" for _, r in students)

        wait_until(all_finished, "every student's run to finish")
        for page, run_id in students:
            assert run_id in heading_shows(page, "finished", server)
            assert_no_exception(page)
        save_screenshot(students[-1][0], SCREENSHOTS, "classroom-student-finished")
    finally:
        answers = health.stop()
        if watch is not None:
            watch.stop()

    # /_stcore/health answered ok every time, all along.
    assert answers, "the health probe never ran"
    assert set(answers) == {"ok"}, [a for a in answers if a != "ok"][:5]
    # Never more runs on trainers than the cap; the store was readable throughout.
    assert watch.most_holding <= 2, watch.most_holding
    assert not watch.errors, watch.errors[:3]
    # Nothing lost: ten runs, each finished with its one epoch, and no other status on the way
    # than queued and running.
    runs = RunStore(server.runs_dir).list_runs().set_index("run_id")
    assert sorted(runs.index) == sorted(run_id for _, run_id in students)
    for _, run_id in students:
        row = runs.loc[run_id]
        assert (row["status"], row["epochs"], row["batch_size"], row["epochs_done"]) == (
            "finished",
            1,
            512,
            1,
        )
        assert row["final_acc"] > 50  # it learned
        assert watch.seen[run_id] <= {"queued", "running", "finished"}, watch.seen[run_id]
    assert RunStore(server.runs_dir).integrity_ok()


def test_a_full_class_queues_then_says_so_plainly(server_factory, new_student):
    """One trainer, one place in the queue: the second student waits, the third is told."""
    server: StreamlitServer = server_factory("app.py", extra_env=FULL_CAPS)
    write_full_mnist_stand_in(server.data_dir)
    teacher, waiting, late = new_student(), new_student(), new_student()
    open_together(
        [
            (teacher, server.page_url(PAGE, LONG)),
            (waiting, server.page_url(PAGE, LONG)),
            (late, server.page_url(PAGE, SHORT)),
        ]
    )

    # The teacher's long run holds the only trainer, paused: the class must wait for it.
    blocker = start_run(teacher)
    press(teacher, "train_pause")  # enabled once the page has seen the run start
    heading_shows(teacher, "paused", server)
    # The whole page follows the run's status: the button now offers Resume.
    from playwright.sync_api import expect

    expect(teacher.locator(".st-key-train_pause button")).to_have_text(re.compile("Resume"))

    queued = start_run(waiting)
    waiting.locator(INFO_ALERT, has_text="place 1 in the queue").wait_for(state="visible")
    heading_shows(waiting, "queued", server)
    assert waiting.locator(".st-key-train_pause button").is_disabled()  # nothing to pause yet

    press(late, "train_start")
    full = late.locator(FULL_ALERT, has_text="The class is full")
    full.wait_for(state="visible")
    assert "1 run is training and 1 waiting" in full.inner_text()
    assert "Try again shortly" in full.inner_text()
    assert watched_run(late) is None  # no run was made for it
    assert_no_exception(late)
    save_screenshot(late, SCREENSHOTS, "classroom-class-full")

    # The teacher stops the long run; the waiting run starts by itself, and its student can
    # pause it: the page follows the run from queued to running without a refresh.
    press(teacher, "train_stop")
    heading_shows(teacher, "stopped", server)
    heading_shows(waiting, "running", server)
    press(waiting, "train_pause")
    heading_shows(waiting, "paused", server)
    press(waiting, "train_stop")
    heading_shows(waiting, "stopped", server)
    assert_no_exception(waiting)
    runs = RunStore(server.runs_dir).list_runs().set_index("run_id")
    assert sorted(runs.index) == sorted([blocker, queued])
    assert set(runs["status"]) == {"stopped"}


# --- kill -9 mid-run ----------------------------------------------------------------------------


def test_kill_9_mid_run_keeps_finished_runs_and_marks_the_running_one(server_factory, new_student):
    server: StreamlitServer = server_factory("app.py")
    page = new_student()

    open_page(page, server.page_url(PAGE, SHORT), SLOW_MS)
    finished_id = start_run(page)
    heading_shows(page, "finished", server)
    before = RunStore(server.runs_dir).get_run(finished_id)
    assert before.status == "finished" and len(before.epochs) == 1

    open_page(page, server.page_url(PAGE, LONG_BUNDLED), SLOW_MS)
    running_id = start_run(page)
    store = RunStore(server.runs_dir)

    def epoch_recorded() -> bool:
        record = store.get_run(running_id)
        return record.status == "running" and len(record.epochs) >= 1

    wait_until(epoch_recorded, "the long run to record an epoch while running")
    assert store.get_run(running_id).status == "running"  # a reader never marks a live run

    server.kill()  # SIGKILL, as a crash or a pulled plug would
    assert not server.running
    server.start()  # same port, same runs folder

    # The page, served by the new process, shows the run as interrupted, without an exception.
    open_page(page, server.page_url(PAGE, f"run={running_id}"), SLOW_MS)
    heading = heading_shows(page, "interrupted", server)
    assert running_id in heading
    warning = page.locator(WARNING_ALERT, has_text="The server stopped while this run")
    warning.wait_for(state="visible")
    # The runs table lists both (the grid fills its cells once it has drawn).
    wait_until(
        lambda: {"interrupted", "finished"} <= set(runs_table_text(page).split()),
        "the runs table to list the interrupted and the finished run",
        deadline_s=60,
    )
    table = runs_table_text(page)
    assert running_id in table and finished_id in table, table
    assert_no_exception(page)
    save_screenshot(page, SCREENSHOTS, "classroom-after-kill-9")

    after = RunStore(server.runs_dir)
    assert after.integrity_ok()
    kept = after.get_run(finished_id)
    assert kept.status == "finished"
    pd.testing.assert_frame_equal(kept.epochs, before.epochs)
    pd.testing.assert_frame_equal(kept.batches, before.batches)
    interrupted = after.get_run(running_id)
    assert interrupted.status == "interrupted"
    assert len(interrupted.epochs) >= 1  # what it learned before the kill is kept
    assert "interrupted" in (interrupted.error or "")
    assert list(after.list_runs()["status"]).count("interrupted") == 1


# --- links and XSRF in the real browser ---------------------------------------------------------


@pytest.fixture
def page(tab: Any) -> Any:
    """The worker's reused tab (conftest `tab`), cookies and storage cleared: the test's own
    load starts a new session, which is given a new XSRF cookie."""
    return tab


def test_a_junk_link_shows_the_defaults_and_a_warning(app_server, page):
    """Fullwidth digits that Streamlit itself would take: the page drops them and warns."""
    page.set_default_timeout(SLOW_MS)  # the shared server's first page imports torch
    open_page(page, app_server.page_url("", "epochs=%EF%BC%91%EF%BC%90&t=abc&gamma=nan"), SLOW_MS)
    warning = page.locator(WARNING_ALERT, has_text="could not be used")
    warning.wait_for(state="visible")
    for key in ("epochs", "t", "gamma"):
        assert key in warning.inner_text()
    assert page.locator(".st-key-epochs input").input_value() == "40"  # the default horizon
    address = page.evaluate("() => location.href")
    assert not parse_qs(urlparse(address).query), address  # the junk left the address
    assert_no_exception(page)


def test_the_server_hands_out_an_xsrf_token(app_server, page):
    page.set_default_timeout(SLOW_MS)
    open_page(page, app_server.page_url(PAGE), SLOW_MS)
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert "_streamlit_xsrf" in names, names
