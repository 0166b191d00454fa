"""The explorer's staircase follows a slider while the mouse drags it (ui/staircase_preview.js)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from steplr_viz.schedules.steplr import decay_epochs, step_lr
from ui.drag_preview import JS_PATH

from .harness import (
    assert_no_exception,
    plot_layout,
    plot_selector,
    plot_traces,
    slider_track,
    trace_named,
)
from .test_explorer_browser import (
    CHART,
    CLOSED,
    SEED,
    TORCH,
    displayed_settings,
    open_explorer,
    shows_closed_form,
    wait_for_traces,
)

PREVIEW = "drag preview"  # the layout.meta the script puts on a figure it drew


@pytest.fixture
def page(tab: Any) -> Any:
    """The worker's reused tab (conftest `tab`): each test loads its page afresh in it."""
    return tab


# Imports the script as Streamlit does (an ES module from a blob) and runs its closed form.
_CLOSED_FORM_JS = """async ([source, settings]) => {
  const url = URL.createObjectURL(new Blob([source], {type: 'text/javascript'}));
  const {stepLr, lrCurve} = await import(url);
  return settings.map(([b, g, s, n]) => ({
    curve: lrCurve(b, g, s, n),
    points: Array.from({length: n}, (_, t) => stepLr(b, g, s, t)),
  }));
}"""

# The closed form's line as drawn (its SVG path), to see the picture move, not only the data.
_LINE_JS = """([sel, name]) => {
  for (const g of document.querySelectorAll(`${sel} .scatterlayer .trace`)) {
    const cd = g.__data__;
    const line = g.querySelector('path.js-line');
    if (cd && cd[0] && cd[0].trace.name === name && line) return line.getAttribute('d');
  }
  return null;
}"""

SCRIPT_RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'


def press_and_drag(page: Any, key: str, start: float, end: float, steps: int = 6) -> None:
    """Press the mouse on a slider's track at fraction `start`, move it to `end`; keep it down."""
    box = slider_track(page, key)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(box["x"] + box["width"] * (start + (end - start) * i / steps), y)


def test_the_scripts_closed_form_equals_python_float_power(page: Any) -> None:
    settings = [
        (0.1, 0.5, 10, 40),  # the seed's example
        (0.1, 0.9, 1, 1000),
        (0.02, 0.99, 3, 2000),
        (0.5, 0.37, 7, 300),
        (1.0, 1.0, 100, 50),
        (1e-05, 0.01, 1, 400),  # down through the subnormals to zero
    ]
    results = page.evaluate(_CLOSED_FORM_JS, [JS_PATH.read_text(encoding="utf-8"), settings])
    for (base_lr, gamma, step_size, epochs), got in zip(settings, results, strict=True):
        expected = [step_lr(base_lr, gamma, step_size, t) for t in range(epochs)]
        # Bit for bit: V8's Math.pow and Python's float power agree on these.
        assert got["curve"] == expected, (base_lr, gamma, step_size)
        assert got["points"] == expected, (base_lr, gamma, step_size)


def vertices(path: str) -> list[float]:
    """The numbers of an SVG path such as M0,15.55H11.33V15.55…, in order."""
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", path)]


def shows_preview(page: Any, base_lr: float, gamma: float, step_size: int, epochs: int) -> Any:
    """A check that the chart is the script's preview of these values, bit for bit."""

    def check(traces: list) -> None:
        assert plot_layout(page, CHART, "meta") == PREVIEW, "not the drag preview"
        closed = trace_named(traces, CLOSED)
        assert closed["x"] == list(range(epochs))
        assert closed["y"] == [step_lr(base_lr, gamma, step_size, t) for t in range(epochs)]
        decays = decay_epochs(step_size, epochs, gamma)
        marked = [t for t in traces if (t["name"] or "").startswith("decay")]
        assert [t["x"] for t in marked] == ([decays] if decays else [])

    return check


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("gamma", 0.5, 0.8),
        ("gamma", 0.5, 1.0),  # γ = 1: no decay to mark
        ("lr0", 0.75, 0.45),
        ("step_size", 0.1, 0.3),
        ("epochs", 0.0, 0.02),
    ],
)
def test_dragging_a_slider_redraws_the_chart_before_release(
    page: Any, app_server: Any, key: str, start: float, end: float
) -> None:
    open_explorer(page, app_server)
    line_args = [plot_selector(CHART), trace_named(plot_traces(page, CHART), CLOSED)["name"]]
    line = page.evaluate(_LINE_JS, line_args)
    press_and_drag(page, key, start, end)
    dragged = displayed_settings(page)  # the mouse is still down: these stay put
    assert dragged != SEED
    wait_for_traces(page, shows_preview(page, *dragged), f"the preview of {dragged}")
    preview_line = page.evaluate(_LINE_JS, line_args)
    assert preview_line not in (None, line)  # the picture moved too
    assert page.locator(SCRIPT_RUNNING).count() == 0  # drawn in the page, no rerun yet
    page.mouse.up()
    # On release the server's figure replaces the preview, PyTorch's curve included.
    wait_for_traces(page, shows_closed_form(*displayed_settings(page)), "the server's staircase")
    assert plot_layout(page, CHART, "meta") != PREVIEW
    if displayed_settings(page) == dragged:  # released where the preview was drawn
        # Plotly draws the server's line where the preview drew it, to its 0.01 px.
        server_line = page.evaluate(_LINE_JS, line_args)
        np.testing.assert_allclose(vertices(preview_line), vertices(server_line), atol=0.011)
    assert_no_exception(page)


def test_a_drag_keeps_pins_and_the_log_axis(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server, "log_y=true")
    base_lr, seed_gamma, step_size, _ = SEED
    pinned_name = f"pinned η₀={base_lr:g}, γ={seed_gamma:g}, s={step_size}"
    page.locator(".st-key-pin button").click()
    wait_for_traces(page, lambda traces: trace_named(traces, pinned_name), "the pinned trace")
    pinned = trace_named(plot_traces(page, CHART), pinned_name)["y"]
    press_and_drag(page, "gamma", 0.5, 0.2)
    dragged = displayed_settings(page)
    traces = wait_for_traces(page, shows_preview(page, *dragged), f"the preview of {dragged}")
    assert trace_named(traces, pinned_name)["y"] == pinned
    assert plot_layout(page, CHART, "yaxis.type") == "log"
    page.mouse.up()
    wait_for_traces(page, shows_closed_form(*displayed_settings(page)), "the server's staircase")
    assert trace_named(plot_traces(page, CHART), pinned_name)["y"] == pinned
    assert_no_exception(page)


_COUNT_RUNS_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__runs = 0;
  new MutationObserver(() => {
    if (app.dataset.testScriptState === 'running') window.__runs += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""

_TORCH_SHOWN_JS = """([sel, name]) => {
  const el = document.querySelector(sel);
  const t = el && el._fullData && el._fullData.find((d) => d.name === name);
  return !!t && t.visible === true && (el.layout || {}).meta === undefined;
}"""


def test_a_drag_back_to_the_start_puts_the_servers_chart_back(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server)
    page.evaluate(_COUNT_RUNS_JS)
    thumb = page.locator(".st-key-gamma [role=group] > [data-orientation] > div[style*='left']")
    box = thumb.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y, steps=3)
    dragged = displayed_settings(page)
    wait_for_traces(page, shows_preview(page, *dragged), f"the preview of {dragged}")
    page.mouse.move(x, y, steps=3)
    assert displayed_settings(page) == SEED
    page.mouse.up()
    # No rerun comes for an unchanged value: the script puts the server's figure back itself.
    page.wait_for_function(_TORCH_SHOWN_JS, arg=[plot_selector(CHART), TORCH], polling="raf")
    shows_closed_form(*SEED)(plot_traces(page, CHART))
    assert page.evaluate("() => window.__runs") == 0
    assert_no_exception(page)


def test_each_slider_is_named_and_moves_one_step_per_arrow_key(page: Any, app_server: Any) -> None:
    open_explorer(page, app_server)
    settings = list(SEED)
    for i, name in enumerate(["η₀", "γ", "s", "horizon"]):
        slider = page.get_by_role("slider", name=re.compile(rf"(^|\W){name}(\W|$)", re.I))
        slider.focus()
        page.keyboard.press("ArrowRight")
        # One step: η₀'s next option up the 1-2-5 series (0.1 -> 0.2), γ + 0.01, s + 1, + 1 epoch.
        settings[i] = 0.2 if i == 0 else round(settings[i] + (0.01 if i == 1 else 1), 2)
        wait_for_traces(page, shows_closed_form(*settings), f"the staircase after {name} moved")
        assert displayed_settings(page) == tuple(settings)
    assert_no_exception(page)
