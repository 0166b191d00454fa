"""An arrow key on a slider redraws the staircase in the page at once, before its rerun's figure."""

from __future__ import annotations

from typing import Any

import pytest

from steplr_viz.schedules.steplr import step_lr

from .harness import assert_no_exception, plot_selector
from .test_drag_preview_browser import PREVIEW
from .test_explorer_browser import (
    CHART,
    SEED,
    displayed_settings,
    open_explorer,
    shows_closed_form,
    wait_for_traces,
)

pytestmark = pytest.mark.e2e

# Records every distinct closed form the chart shows, with whether it is the in-page preview,
# at each change of the chart's drawing (a mutation), so no state between two polls is missed.
_RECORD_JS = """(sel) => {
  window.__shown = [];
  let last = null;
  const note = () => {
    const el = document.querySelector(sel);
    const t = el && el._fullData && el._fullData.find((d) => (d.name || '').startsWith('closed'));
    if (!t) return;
    const meta = (el.layout || {}).meta || null;
    const key = `${meta}|${Array.from(t.y).join(',')}`;
    if (key === last) return;
    last = key;
    window.__shown.push({meta, y: Array.from(t.y)});
  };
  note();
  new MutationObserver(note).observe(document.querySelector('[data-testid="stMain"]'), {
    subtree: true, attributes: true, childList: true,
  });
}"""


def curve(base_lr: float, gamma: float, step_size: int, epochs: int) -> list[float]:
    return [step_lr(base_lr, gamma, step_size, t) for t in range(epochs)]


@pytest.mark.parametrize(
    ("key", "index", "step"),
    [("gamma", 1, 0.01), ("epochs", 3, 1)],  # γ moves the line in place, the horizon the axes
    ids=["gamma", "horizon"],
)
def test_an_arrow_key_draws_the_new_staircase_before_the_rerun_does(
    page: Any, app_server: Any, key: str, index: int, step: float
) -> None:
    open_explorer(page, app_server)
    page.evaluate(_RECORD_JS, plot_selector(CHART))
    page.locator(f".st-key-{key} input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    moved = list(SEED)
    moved[index] = round(moved[index] + step, 2)
    # The rerun's figure (PyTorch's curve included) arrives in the end, as without the preview.
    wait_for_traces(page, shows_closed_form(*moved), f"the server's staircase for {moved}")
    assert displayed_settings(page) == tuple(moved)

    shown = page.evaluate("() => window.__shown")
    new = curve(*moved)
    first_new = next(i for i, s in enumerate(shown) if s["y"] == new)
    # The first picture of the new staircase is the page's own preview, bit for bit ...
    assert shown[first_new]["meta"] == PREVIEW, shown[first_new]["meta"]
    # ... drawn over the seed's staircase, and the server's figure replaces it.
    assert all(s["y"] == curve(*SEED) for s in shown[:first_new])
    assert shown[-1]["meta"] is None and shown[-1]["y"] == new
    assert_no_exception(page)
