"""The schedule explorer (app.py) as a student drives it in Chromium."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from steplr_viz.schedules.steplr import SEED_EXAMPLE, lr_curve, torch_lr_curve

from .harness import (
    SCREENSHOTS,
    assert_no_exception,
    open_page,
    plot_layout,
    plot_selector,
    plot_traces,
    save_screenshot,
    trace_named,
)

pytestmark = pytest.mark.e2e

CHART = "staircase"
CLOSED = "closed form"
TORCH = "PyTorch StepLR"
SEED = (
    SEED_EXAMPLE["base_lr"],
    SEED_EXAMPLE["gamma"],
    SEED_EXAMPLE["step_size"],
    SEED_EXAMPLE["epochs"],
)
DEADLINE_S = 20.0


@pytest.fixture
def page(tab: Any) -> Any:
    """The worker's reused tab (conftest `tab`): each test loads its page afresh in it."""
    return tab


def open_explorer(page: Any, server: Any, query: str = "") -> None:
    """Open the explorer and wait until PyTorch's curve is drawn: on a cold server torch loads
    after the first paint and its arrival reruns the page, which a test must not mistake."""
    open_page(page, server.page_url(query=query))
    page.wait_for_selector(plot_selector(CHART))
    wait_for_traces(
        page, lambda traces: trace_named(traces, TORCH), "PyTorch's curve", deadline_s=120
    )
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')


def wait_for_traces(page: Any, check: Any, what: str, deadline_s: float = DEADLINE_S) -> list:
    """Poll the chart's plotted data until check(traces) passes; fail with the last error."""
    deadline = time.monotonic() + deadline_s
    while True:
        traces = plot_traces(page, CHART)
        try:
            assert traces is not None, "no Plotly data in the page yet"
            check(traces)
            return traces
        except AssertionError as err:
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not seen within {deadline_s:.0f}s: {err}") from err
        time.sleep(0.1)


def shows_closed_form(base_lr: float, gamma: float, step_size: int, epochs: int) -> Any:
    """A check that the plotted closed form is η₀·γ^⌊t/s⌋ for these values (and torch's too)."""

    def check(traces: list) -> None:
        closed = trace_named(traces, CLOSED)
        np.testing.assert_array_equal(closed["x"], np.arange(epochs))
        # Float64 typed arrays carry the values bit for bit; rtol only absorbs a slider value
        # that the browser rounded differently in its last bit.
        np.testing.assert_allclose(
            closed["y"], lr_curve(base_lr, gamma, step_size, epochs), rtol=1e-12, atol=0
        )
        np.testing.assert_allclose(
            trace_named(traces, TORCH)["y"],
            torch_lr_curve(base_lr, gamma, step_size, epochs),
            rtol=1e-12,
            atol=0,
        )

    return check


def slider_value(page: Any, key: str) -> float:
    """The value a keyed slider shows now, read from its range input."""
    return float(page.locator(f".st-key-{key} input[type=range]").input_value())


def displayed_settings(page: Any) -> tuple[float, float, int, int]:
    """η₀, γ, s and the horizon as the sidebar controls show them."""
    lr0 = page.locator(".st-key-lr0 input[type=range]").get_attribute("aria-valuetext")
    epochs = page.locator(".st-key-epochs input").input_value()
    return (
        float(lr0),
        slider_value(page, "gamma"),
        int(slider_value(page, "step_size")),
        int(epochs),
    )


def press_right(page: Any, key: str) -> float:
    """Move a keyed slider one step right with the keyboard; return the value it now shows."""
    before = slider_value(page, key)
    page.locator(f".st-key-{key} input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    after = slider_value(page, key)
    assert after > before, f"{key} did not move: {before} -> {after}"
    return after


def test_page_loads_with_the_seed_example(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server)
    assert "StepLR explorer" in page.locator("h1").first.inner_text()
    assert displayed_settings(page) == SEED
    traces = wait_for_traces(page, shows_closed_form(*SEED), "the seed's staircase")
    names = [t["name"] for t in traces]
    assert names[0].startswith(CLOSED) and TORCH in names
    assert plot_layout(page, CHART, "yaxis.type") == "linear"
    assert_no_exception(page)
    save_screenshot(page, SCREENSHOTS, "explorer")


def test_gamma_slider_moved_by_keyboard_redraws_the_closed_form(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server)
    gamma = press_right(page, "gamma")
    assert gamma == pytest.approx(SEED[1] + 0.01)
    base_lr, _, step_size, epochs = SEED
    wait_for_traces(
        page, shows_closed_form(base_lr, gamma, step_size, epochs), f"the staircase for γ={gamma}"
    )
    assert_no_exception(page)


def test_log_toggle_switches_the_y_axis_to_log(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server)
    assert plot_layout(page, CHART, "yaxis.type") == "linear"
    page.locator(".st-key-log_y label").click()
    deadline = time.monotonic() + DEADLINE_S
    while plot_layout(page, CHART, "yaxis.type") != "log":
        assert time.monotonic() < deadline, "the y axis did not turn log"
        time.sleep(0.1)
    # Only the axis changed, not what is plotted.
    shows_closed_form(*SEED)(plot_traces(page, CHART))
    assert_no_exception(page)


def test_pinned_curve_stays_beside_the_current_one(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server)
    base_lr, seed_gamma, step_size, epochs = SEED
    pinned_name = f"pinned η₀={base_lr:g}, γ={seed_gamma:g}, s={step_size}"
    page.locator(".st-key-pin button").click()
    wait_for_traces(page, lambda traces: trace_named(traces, pinned_name), "the pinned trace")
    gamma = press_right(page, "gamma")

    def both(traces: list) -> None:
        shows_closed_form(base_lr, gamma, step_size, epochs)(traces)
        pinned = trace_named(traces, pinned_name)
        np.testing.assert_array_equal(pinned["y"], lr_curve(*SEED))

    traces = wait_for_traces(page, both, "the pinned and the current curve")
    lines = [t["name"] for t in traces if t["mode"] == "lines"]
    assert lines == [pinned_name, trace_named(traces, CLOSED)["name"], TORCH]
    assert_no_exception(page)
    save_screenshot(page, SCREENSHOTS, "explorer-pinned")


def test_csv_download_holds_closed_form_and_pytorch(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server)
    page.get_by_role("tab", name="Download CSV").click()
    with page.expect_download() as info:
        page.locator(".st-key-download_csv button").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    frame = pd.read_csv(download.path())
    assert list(frame.columns) == ["epoch", "closed_form_lr", "pytorch_lr"]
    np.testing.assert_array_equal(frame["epoch"], np.arange(SEED[3]))
    # Written with 17 significant digits, so the floats come back exactly.
    np.testing.assert_array_equal(frame["closed_form_lr"], lr_curve(*SEED))
    np.testing.assert_array_equal(frame["pytorch_lr"], torch_lr_curve(*SEED))
    assert_no_exception(page)


def test_url_with_query_parameters_reproduces_the_view(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server, "lr0=0.02&gamma=0.9&step_size=5&epochs=60")
    assert displayed_settings(page) == (0.02, 0.9, 5, 60)
    wait_for_traces(page, shows_closed_form(0.02, 0.9, 5, 60), "the linked staircase")
    assert page.locator('[data-testid="stAlert"]').count() == 0
    assert_no_exception(page)


def test_junk_url_warns_and_shows_no_exception(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server, "gamma=abc&step_size=-5&lr0=1e999&epochs=1000000000")
    warning = page.locator('[data-testid="stAlert"]')
    assert warning.count() == 1
    text = warning.inner_text()
    for key in ("gamma", "step_size", "lr0", "epochs"):
        assert key in text
    assert "1e999" not in text and "abc" not in text  # the bad values are never echoed
    # The chart shows what the controls show: the values actually in use.
    wait_for_traces(page, shows_closed_form(*displayed_settings(page)), "a consistent staircase")
    assert_no_exception(page)
    save_screenshot(page, SCREENSHOTS, "explorer-junk-url")
