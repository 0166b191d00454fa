"""The Live training page in Chromium: a run's charts grow, pause, resume, stop, survive a reload.

Each test starts its own run on the session's app server; the server's runs folder (a temporary
one) is read with a RunStore in this process as the record of what the trainer did. Waits are
bounded polls on the page's state; a "poll" is one finished script run of the page, counted in
the page from Streamlit's script-state attribute, so "it stopped growing" is judged over a few
of the page's own redraws rather than over a stretch of wall-clock time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from steplr_viz.schedules.steplr import torch_lr_curve
from steplr_viz.store.run_view import RunView
from steplr_viz.store.runs import RUN_ID_RE, RunStore
from steplr_viz.training.data import load_mnist

from ..plotly_data import expand_staircase
from . import harness
from .conftest import VIEWPORT
from .harness import (
    SCREENSHOTS,
    assert_no_exception,
    open_page,
    plot_traces,
    save_screenshot,
    scroll_into_view,
    trace_named,
    wait_app_idle,
    wait_rendered,
)

pytestmark = pytest.mark.e2e

PAGE = "Live_training"
LOSS, LR, EPOCH, PREDICTED = (
    "train_loss_chart",
    "train_lr_chart",
    "train_epoch_chart",
    "train_predicted",
)
BATCH = 16  # the bundled 4,000 training digits in 250 batches: seconds per epoch on 2 cores
# The longest run the page offers: 7,500 batches, some 10-40 s here with a page watching it
# (a shorter one can end before a loaded page's polls have drawn it twice). Its LR halves every
# five epochs, so the staircase has six steps to compare.
STAIRCASE = {"base_lr": 0.001, "gamma": 0.5, "step_size": 5, "epochs": 30}
STAIRCASE_QUERY = (
    f"train_epochs={STAIRCASE['epochs']}&train_batch_size={BATCH}"
    f"&train_gamma={STAIRCASE['gamma']}&train_step_size={STAIRCASE['step_size']}"
)
LONG_EPOCHS = 30  # the same length with the page's default schedule
LONG_QUERY = f"train_epochs={LONG_EPOCHS}&train_batch_size={BATCH}"
DEADLINE_S = 180.0  # bounds every wait; runs take seconds, the bound only stops a hung test
POLL_S = 0.2
QUIET_POLLS = 3  # page redraws over which a paused run's chart must not move
RUN_ID = RUN_ID_RE  # new ids and old 12-hex ones
LIVE = {"queued", "running", "paused"}

# Counts the page's finished script runs (full reruns and the run panel's polls alike).
_COUNT_POLLS_JS = """() => {
  if (window.__polls !== undefined) return;
  window.__polls = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.dataset.testScriptState === 'notRunning') window.__polls += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""

# True between two of the live page's polls: no element marked stale, these charts drawn.
_QUIET_JS = """(keys) => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app.dataset.testScriptState === 'notRunning'
    && !document.querySelector('[data-stale="true"]')
    && keys.every((k) => {
      const el = document.querySelector(`.st-key-${k} .js-plotly-plot`);
      return el && el._fullData && el.querySelector('.main-svg .scatterlayer, .main-svg image');
    });
}"""

# How far the named trace of a keyed chart reaches: its last x, the number of batches (or
# epochs) it draws, as they count from 1. Not its point count: a long run's loss is drawn from
# its envelope. Read from the chart on show: while a poll redraws, Streamlit keeps the previous
# chart in the page as well, hidden and marked data-retained, and the first match can be that.
_POINTS_JS = """([key, name]) => {
  const sel = `.st-key-${key}:not([data-retained="true"]) .js-plotly-plot`;
  const el = document.querySelector(sel);
  if (!el || !el._fullData) return 0;
  const trace = el._fullData.find((t) => (t.name || '').startsWith(name));
  return trace && trace.x && trace.x.length ? Number(trace.x[trace.x.length - 1]) : 0;
}"""


# --- helpers ------------------------------------------------------------------------------------


def wait_until(check: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    """Poll check() until it returns something truthy; fail naming `what` at the deadline."""
    return harness.wait_until(check, what, deadline_s=deadline_s, poll_s=POLL_S)


def batches_per_epoch() -> int:
    """Batches in one epoch of the bundled digits at BATCH (the last one may be short)."""
    return -(-load_mnist("bundled").n_train // BATCH)


def watched_run(page: Any) -> str | None:
    """The run id the page's address carries (the page watches that run)."""
    # Read from the page: playwright's page.url only catches up with Streamlit's
    # history.replaceState when some other call lets its event loop run.
    values = parse_qs(urlparse(address(page)).query).get("run", [])
    return values[0] if values and RUN_ID.match(values[0]) else None


def address(page: Any) -> str:
    """The page's address as the browser shows it now."""
    return page.evaluate("() => location.href")


def heading(page: Any) -> str:
    """The run panel's heading (status · config · run id), or "" while there is none."""
    found = page.locator('[data-testid="stMain"] h2', has_text=" · run ").all_inner_texts()
    return found[0] if found else ""


def heading_shows(page: Any, status: str, run_id: str) -> str:
    """Wait until the heading shows this status for this run; returns the heading."""
    last = ""

    def shows() -> str:
        nonlocal last
        last = heading(page)
        return last if status in last and run_id in last else ""

    try:
        return wait_until(shows, f"the heading to show run {run_id} {status}")
    except AssertionError as err:
        state = harness.page_state(page)  # stale elements, status widget, dialog, address
        raise AssertionError(f"{err}; it shows {last!r}; page state: {state}") from None


def button(page: Any, key: str) -> Any:
    return page.locator(f".st-key-{key} button")


def press(page: Any, key: str) -> None:
    """Click the keyed button once it is enabled."""
    wait_until(button(page, key).is_enabled, f"{key} to be enabled")
    button(page, key).click()


def plotted_batches(page: Any) -> int:
    """How many batches the loss chart draws now (0 before it has any data)."""
    return page.evaluate(_POINTS_JS, [LOSS, "loss per batch"])


def plotted_epochs(page: Any) -> int:
    """How many epochs the epoch chart plots now."""
    return page.evaluate(_POINTS_JS, [EPOCH, "test accuracy"])


def wait_more_batches(page: Any, than: int) -> int:
    """Wait until the loss chart plots more than `than` batches; return how many."""
    page.wait_for_function(
        f"([key, name, n]) => ({_POINTS_JS})([key, name]) > n",
        arg=[LOSS, "loss per batch", than],
        timeout=DEADLINE_S * 1000,
    )
    return plotted_batches(page)


def count_polls(page: Any) -> None:
    """Start counting the page's finished script runs (again after a reload)."""
    page.evaluate(_COUNT_POLLS_JS)


def wait_polls(page: Any, n: int) -> None:
    """Wait until the page has finished n more script runs."""
    target = page.evaluate("() => window.__polls") + n
    page.wait_for_function(
        "(t) => window.__polls >= t", arg=target, timeout=DEADLINE_S * 1000, polling=100
    )


def screenshot_between_polls(page: Any, name: str, charts: list[str]) -> Path | None:
    """A picture of the viewport taken between two polls, so no chart is stale or half drawn.

    Not the full page: growing the viewport for a full-page picture redraws every chart, and
    a live page's charts were caught blank or faded that way.
    """
    with contextlib.suppress(Exception):  # a page too busy for a quiet moment is still shot
        page.wait_for_function(_QUIET_JS, arg=charts, polling=50, timeout=5_000)
    return save_screenshot(page, SCREENSHOTS, name, full_page=False)


def screenshot_mid_run(page: Any) -> None:
    """Pictures of a live run: the top of the page, then the pictures further down (once the
    run has finished an epoch: they are its weights and predictions)."""
    assert screenshot_between_polls(page, "training-mid-run", [LOSS, LR]) is not None
    if not page.get_by_text("What the model sees").count():
        return
    scroll_into_view(page.get_by_text("What the model sees"))
    pictures = ["train_weights", "train_digits"]
    assert screenshot_between_polls(page, "training-mid-run-pictures", pictures) is not None
    scroll_into_view(page.locator('[data-testid="stMain"] h1'))


def stored(server: Any, run_id: str) -> RunView:
    record = RunStore(server.runs_dir).get_run(run_id)
    assert record is not None, f"run {run_id} is not in the store"
    return record


@pytest.fixture
def page(tab: Any) -> Any:
    """The worker's reused tab (conftest `tab`): each test loads its page afresh in it, as a new
    student (its storage cleared: a new browser id)."""
    return tab


@pytest.fixture
def runs(app_server: Any, browser: Any) -> Iterator[list[str]]:
    """The runs a test starts; any still live at the end is stopped, so none holds a trainer."""
    started: list[str] = []
    yield started
    store = RunStore(app_server.runs_dir)
    for run_id in started:
        record = store.get_run(run_id)
        if record is None or record.status not in LIVE:
            continue
        context = browser.new_context(viewport=VIEWPORT)
        try:
            with contextlib.suppress(Exception):  # best effort: the test has failed already
                page = context.new_page()
                open_page(page, app_server.page_url(PAGE, f"run={run_id}"))
                press(page, "train_stop")
                heading_shows(page, "stopped", run_id)
        finally:
            context.close()


def stop_or_finish(page: Any, run_id: str) -> str:
    """Press Stop; return the status the run ended with: stopped, or finished if it got there
    first (a 30-epoch run lasts seconds on a quiet machine, a page's click takes a poll)."""
    with contextlib.suppress(Exception):  # disabled already: the run has just finished
        button(page, "train_stop").click(timeout=5_000)
    heading_text = wait_until(
        lambda: (lambda h: h if run_id in h and ("stopped" in h or "finished" in h) else "")(
            heading(page)
        ),
        f"run {run_id} to end after Stop",
    )
    return "stopped" if "stopped" in heading_text else "finished"


def open_training(page: Any, server: Any, query: str) -> None:
    open_page(page, server.page_url(PAGE, query))
    button(page, "train_start").wait_for(state="visible")
    assert_no_exception(page)


def hold_after_first_batches(page: Any, server: Any, run_id: str) -> None:
    """Press Pause once the store has the run's first batches (written every 200), and wait
    until the page shows it paused.

    Not before: a fresh server's first run loads its data first, and a Pause that lands
    before batch 1 holds a run with nothing to plot. Not later: the whole run lasts seconds
    here, and a loaded page's first redraw once came at epoch 19 of 30.
    """
    wait_until(lambda: len(stored(server, run_id).batches), "the run's first stored batches")
    press(page, "train_pause")
    heading_shows(page, "paused", run_id)


def start_run(page: Any, runs: list[str]) -> str:
    """Press Start; return the new run's id once the page shows it running."""
    assert watched_run(page) is None
    press(page, "train_start")
    run_id = wait_until(lambda: watched_run(page), "the page to watch its new run")
    runs.append(run_id)
    heading_shows(page, "running", run_id)
    return run_id


# --- 0. a click is never lost: Start, then at once another control ------------------------------

# Start, then a click on another control in the same moment: the server gets the second rerun
# request while it runs the page for Start (a student who presses Start and then picks an
# option; or the browser reporting its id just after a page loads).
_START_THEN_PICK_JS = """(option) => {
  document.querySelector('.st-key-train_start button').click();
  const labels = [...document.querySelectorAll('.st-key-train_optimizer label')];
  labels.find((label) => label.innerText.trim() === option).click();
}"""
START_THEN_PICK_TRIES = 3  # the old page lost Start, or the run it began, in 3 to 7 of 16 tries


def test_start_then_at_once_another_click_still_starts_the_run_and_shows_it(
    page: Any, app_server: Any, runs: list[str]
) -> None:
    store = RunStore(app_server.runs_dir)
    for _ in range(START_THEN_PICK_TRIES):
        open_training(page, app_server, "train_epochs=1&train_batch_size=512")
        before = set(store.list_runs()["run_id"])
        page.evaluate(_START_THEN_PICK_JS, "sgd")
        run_id = wait_until(lambda: watched_run(page), "the page to watch the run Start began")
        runs.append(run_id)
        heading_shows(page, " · run ", run_id)
        started = set(store.list_runs()["run_id"]) - before
        assert started == {run_id}, f"one run started and shown, not {started}"


# --- 1. the charts grow while it trains and end on the predicted schedule ------------------------


def test_charts_gain_points_while_training_and_end_on_the_schedule(
    page: Any, app_server: Any, runs: list[str]
) -> None:
    bpe = batches_per_epoch()
    total = STAIRCASE["epochs"] * bpe
    oracle = np.repeat(torch_lr_curve(**STAIRCASE), bpe)  # torch's StepLR, once per batch
    open_training(page, app_server, STAIRCASE_QUERY)
    # Before Start the page draws the schedule the run will follow: a step line sent as its
    # corners (first step, each decay, last step), the same staircase as one point per batch.
    before = trace_named(plot_traces(page, PREDICTED), "predicted")
    before_x, before_y = expand_staircase(before["x"], before["y"])
    np.testing.assert_array_equal(before_x, np.arange(1, total + 1))
    np.testing.assert_allclose(before_y, oracle, rtol=1e-12, atol=0)

    run_id = start_run(page, runs)
    # Every state with 0 < n < total batches was drawn mid-run; collect them until it ends.
    mid_run: list[int] = []
    deadline = time.monotonic() + DEADLINE_S
    while "finished" not in heading(page):
        n = plotted_batches(page)
        if 0 < n < total and (not mid_run or n != mid_run[-1]):
            mid_run.append(n)
        assert_no_exception(page)
        assert time.monotonic() < deadline, f"run did not finish; seen {mid_run}"
        time.sleep(POLL_S)
    assert len(set(mid_run)) >= 2, f"fewer than two states seen before the end: {mid_run}"
    assert mid_run == sorted(mid_run), f"the loss chart lost points mid-run: {mid_run}"
    heading_shows(page, "finished", run_id)

    # The last draw: every batch, drawn from what the trainer stored.
    wait_until(lambda: plotted_batches(page) == total, f"{total} batches in the loss chart")
    record = wait_until(
        lambda: (lambda r: r if r.status == "finished" and len(r.batches) == total else None)(
            stored(app_server, run_id)
        ),
        "the store to hold the finished run",
    )
    # 7,500 batches are drawn from their envelope: stored points only, from the first batch to
    # the last, the run's lowest and highest loss among them.
    loss = trace_named(plot_traces(page, LOSS), "loss per batch")
    x, y = np.asarray(loss["x"], dtype=int), np.asarray(loss["y"], dtype=float)
    stored_loss = record.batches["loss"].to_numpy()
    np.testing.assert_array_equal(record.batches["step"], np.arange(1, total + 1))
    assert x[0] == 1 and x[-1] == total and np.all(np.diff(x) > 0)
    np.testing.assert_allclose(y, stored_loss[x - 1], rtol=1e-12, atol=0)
    assert y.min() == stored_loss.min() and y.max() == stored_loss.max()

    # The LR the optimizer used lies on the predicted staircase, which is torch's StepLR: both
    # are sent as corners, and drawn they give every batch's LR.
    lr_traces = plot_traces(page, LR)
    used, predicted = trace_named(lr_traces, "LR used"), trace_named(lr_traces, "predicted")
    used_x, used_y = expand_staircase(used["x"], used["y"])
    np.testing.assert_array_equal(used_x, np.arange(1, total + 1))
    predicted_x, predicted_y = expand_staircase(predicted["x"], predicted["y"])
    np.testing.assert_array_equal(predicted_x, used_x)
    np.testing.assert_allclose(used_y, predicted_y, rtol=1e-12, atol=0)
    np.testing.assert_allclose(used_y, oracle, rtol=1e-12, atol=0)
    np.testing.assert_allclose(used_y, record.batches["lr"], rtol=1e-12, atol=0)
    assert len(np.unique(used_y)) == 6  # halved after epochs 5, 10, 15, 20 and 25

    # One point per epoch for accuracy and both losses, equal to the stored epochs.
    epoch_traces = plot_traces(page, EPOCH)
    for name, column in (
        ("test accuracy", "test_acc"),
        ("test loss", "test_loss"),
        ("train loss", "train_loss"),
    ):
        trace = trace_named(epoch_traces, name)
        np.testing.assert_array_equal(trace["x"], np.arange(1, STAIRCASE["epochs"] + 1))
        np.testing.assert_allclose(trace["y"], record.epochs[column], rtol=1e-12, atol=0)
    wait_until(button(page, "train_start").is_enabled, "Start enabled once the run ends")
    assert_no_exception(page)


# --- 2. pause holds the charts still; resume carries on to the end ------------------------------


def test_pause_holds_the_run_and_resume_finishes_it(
    page: Any, app_server: Any, runs: list[str]
) -> None:
    total = LONG_EPOCHS * batches_per_epoch()
    open_training(page, app_server, LONG_QUERY)
    count_polls(page)
    run_id = start_run(page, runs)
    hold_after_first_batches(page, app_server, run_id)
    # The run panel shows it first; the buttons follow in the page's next full run.
    wait_until(
        lambda: button(page, "train_pause").inner_text().endswith("Resume"), "Pause -> Resume"
    )

    # Over a few of the page's redraws nothing is added: the trainer waits at a batch boundary.
    wait_polls(page, 2)  # the redraw that showed "paused" may have drawn the chart before it
    held = plotted_batches(page)
    wait_polls(page, QUIET_POLLS)
    assert plotted_batches(page) == held, "the loss chart kept growing while paused"
    assert "paused" in heading(page)
    assert 0 < held < total
    assert stored(app_server, run_id).status == "paused"
    assert_no_exception(page)
    screenshot_mid_run(page)

    press(page, "train_pause")  # now labelled Resume
    wait_more_batches(page, held)
    heading_shows(page, "finished", run_id)
    wait_until(lambda: plotted_batches(page) == total, f"all {total} batches after resuming")
    record = stored(app_server, run_id)
    assert record.status == "finished"
    # The pause lost no batch and repeated none.
    np.testing.assert_array_equal(record.batches["step"], np.arange(1, total + 1))
    assert_no_exception(page)
    assert screenshot_between_polls(page, "training-finished", [LOSS, LR, EPOCH]) is not None


# --- 3. stop ends the run and frees Start ---------------------------------------------------------


def test_stop_ends_the_run_and_start_is_enabled_again(
    page: Any, app_server: Any, runs: list[str]
) -> None:
    open_training(page, app_server, LONG_QUERY)
    run_id = start_run(page, runs)
    assert not button(page, "train_start").is_enabled()  # one run at a time per tab
    wait_more_batches(page, 0)
    press(page, "train_stop")
    heading_shows(page, "stopped", run_id)
    wait_until(button(page, "train_start").is_enabled, "Start to be enabled after Stop")
    assert not button(page, "train_pause").is_enabled()
    assert not button(page, "train_stop").is_enabled()

    record = stored(app_server, run_id)
    assert record.status == "stopped"
    kept = len(record.batches)
    assert 0 < kept < LONG_EPOCHS * batches_per_epoch()
    # The page's last draw is the stopped run as stored.
    wait_until(lambda: plotted_batches(page) == kept, f"the {kept} stored batches in the chart")
    assert_no_exception(page)


# --- 4. a reload and a second tab find the run still live ----------------------------------------


def test_reload_mid_run_keeps_the_run_and_it_keeps_moving(
    page: Any, app_server: Any, runs: list[str]
) -> None:
    """Held at its first batches (a whole run lasts seconds here, a reload several), so nothing
    races the run's end: the reloaded page finds it where it was, and then watches it move again."""
    total = LONG_EPOCHS * batches_per_epoch()
    open_training(page, app_server, LONG_QUERY)
    run_id = start_run(page, runs)
    hold_after_first_batches(page, app_server, run_id)
    held = wait_until(lambda: plotted_batches(page), "the paused run's batches")
    assert held < total

    page.reload(wait_until="domcontentloaded")
    wait_app_idle(page)
    wait_rendered(page)
    assert watched_run(page) == run_id, f"the reload lost the run: {address(page)}"
    heading_shows(page, "paused", run_id)
    assert not button(page, "train_start").is_enabled()  # the reloaded page knows it is live
    shown = wait_until(lambda: plotted_batches(page), "the reloaded page's batches")
    assert held <= shown < total, f"held at {held}, the reloaded page shows {shown} of {total}"

    # The reloaded page still controls the run: Resume, and its points keep being added.
    press(page, "train_pause")
    wait_more_batches(page, held)
    assert_no_exception(page)
    ended = stop_or_finish(page, run_id)
    assert stored(app_server, run_id).status == ended
    assert_no_exception(page)


def test_a_second_tab_watches_and_controls_the_same_run(
    page: Any, app_server: Any, runs: list[str]
) -> None:
    """No step races the run's end: it is held while the second tab loads, and every check
    after the resume holds whether the run is still going or has just finished."""
    total = LONG_EPOCHS * batches_per_epoch()
    open_training(page, app_server, LONG_QUERY)
    run_id = start_run(page, runs)
    # Held at its first batches: a whole run lasts seconds here, a page load several.
    hold_after_first_batches(page, app_server, run_id)

    tab = page.context.new_page()
    open_page(tab, address(page))
    assert watched_run(tab) == run_id
    heading_shows(tab, "paused", run_id)
    held = wait_until(
        lambda: (lambda a, b: a if a == b and a > 0 else 0)(
            plotted_batches(page), plotted_batches(tab)
        ),
        "both tabs to plot the paused run's batches alike",
    )
    assert held < total
    assert button(tab, "train_pause").inner_text().endswith("Resume")

    # Resumed from the second tab: both tabs see it move.
    press(tab, "train_pause")
    wait_more_batches(tab, held)
    wait_more_batches(page, held)
    assert_no_exception(tab)

    # Ended from the second tab; the first sees the same end (the same run, not a copy).
    ended = stop_or_finish(tab, run_id)
    heading_shows(page, ended, run_id)
    wait_until(button(page, "train_start").is_enabled, "Start enabled in the first tab")
    assert stored(app_server, run_id).status == ended
    assert_no_exception(page)
    assert_no_exception(tab)
