"""The explorer's staircase follows a dragged slider: a components-v2 script redraws it in the page.

Streamlit sends a slider's value on release only, so without this the chart stands still while
a student drags γ and then jumps. The script (staircase_preview.js: the closed form and the
drawing) runs in the page itself, not in an iframe, so it reads the sliders' values as they move
and redraws the page's own Plotly chart with `Plotly.react` on each animation frame. The sliders
stay Streamlit's, the source of truth: the keyboard, screen readers and the URL binding work as
before, and on release the rerun replaces the preview with the server's figure.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import streamlit as st

from steplr_viz.figures.schedule import CLOSED_NAME, DECAY_NAME, TORCH_NAME, decay_trace
from ui.schedule_controls import LR_CHOICES

JS_PATH = Path(__file__).with_name("staircase_preview.js")
COMPONENT = "steplr_viz.staircase_preview"


@lru_cache(maxsize=1)
def _mount():
    # Registered once per process; the component has no HTML of its own to style.
    return st.components.v2.component(
        COMPONENT, js=JS_PATH.read_text(encoding="utf-8"), isolate_styles=False
    )


def follow_drag(
    chart_key: str,
    controls: dict[str, str],
    base_lr: float,
    gamma: float,
    step_size: int,
    epochs: int,
) -> None:
    """Let the chart keyed `chart_key` follow the sliders keyed in `controls` while dragged.

    `controls` maps baseLr, gamma, stepSize and epochs to widget keys; the values are the ones
    this run drew, so the script can tell a drag from the chart the server sent.
    """
    _mount()(
        key=f"{chart_key}_drag_preview",
        data={
            "chart": chart_key,
            "controls": controls,
            "lrOptions": LR_CHOICES,
            "values": {
                "baseLr": base_lr,
                "gamma": gamma,
                "stepSize": step_size,
                "epochs": epochs,
            },
            "names": {"closed": CLOSED_NAME, "torch": TORCH_NAME, "decay": DECAY_NAME},
            "decayTrace": decay_trace([], []),
        },
    )
