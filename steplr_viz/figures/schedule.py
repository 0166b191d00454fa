"""The StepLR staircase: closed form, PyTorch's recorded curve, decay points and pinned curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from steplr_viz.figures.style import (
    CLOSED_FORM,
    DECAY,
    SERIES,
    TORCH,
    layout,
    lr_yaxis,
    new_figure,
    vertical_line,
)

HOVER = "epoch %{x}<br>LR %{y:.6g}<extra>%{fullData.name}</extra>"
# Trace names; the explorer's drag preview (ui/staircase_preview.js) finds the traces by them.
CLOSED_NAME = "closed form η₀·γ^⌊t/s⌋"
TORCH_NAME = "PyTorch StepLR"
DECAY_NAME = "decay (× γ)"


@dataclass(frozen=True)
class PinnedCurve:
    """A curve a student pinned to compare against, labelled by its parameters."""

    base_lr: float
    gamma: float
    step_size: int
    lrs: tuple[float, ...]

    @property
    def label(self) -> str:
        return f"pinned η₀={self.base_lr:g}, γ={self.gamma:g}, s={self.step_size}"


def decay_trace(epochs: list[int], lrs: list[float]) -> dict:
    """The markers where the LR is multiplied by γ."""
    return {
        "type": "scatter",
        "x": epochs,
        "y": lrs,
        "name": DECAY_NAME,
        "mode": "markers",
        "marker": {"size": 9, "color": DECAY, "line": {"width": 1.5, "color": "white"}},
        "hovertemplate": "decay at epoch %{x}<br>LR → %{y:.6g}<extra></extra>",
    }


def staircase_figure(
    closed_form: np.ndarray,
    *,
    torch_curve: np.ndarray | None = None,
    decay_epochs: Sequence[int] = (),
    pinned: Sequence[PinnedCurve] = (),
    log_y: bool = False,
    highlight_epoch: int | None = None,
) -> go.Figure:
    """Plot η_t for t = 0..len-1 as a step line; overlays are optional traces."""
    # Plain lists, not numpy arrays: plotly turns each array into a typed-array spec through
    # narwhals (~0.1 ms apiece, six per chart, on every slider move); floats still round-trip.
    epochs = list(range(len(closed_form)))
    closed = np.asarray(closed_form)
    traces = [
        {
            "type": "scatter",
            "x": list(range(len(pin.lrs))),
            "y": list(pin.lrs),
            "name": pin.label,
            "mode": "lines",
            "line": {"shape": "hv", "width": 2, "color": SERIES[(i + 1) % len(SERIES)]},
            "opacity": 0.35,
            "hovertemplate": HOVER,
        }
        for i, pin in enumerate(pinned)
    ]
    traces.append(
        {
            "type": "scatter",
            "x": epochs,
            "y": closed.tolist(),
            "name": CLOSED_NAME,
            "mode": "lines",
            "line": {"shape": "hv", "width": 3, "color": CLOSED_FORM},
            "hovertemplate": HOVER,
        }
    )
    if torch_curve is not None:
        traces.append(
            {
                "type": "scatter",
                "x": epochs,
                "y": np.asarray(torch_curve).tolist(),
                "name": TORCH_NAME,
                "mode": "lines",
                "line": {"shape": "hv", "width": 2, "color": TORCH, "dash": "dot"},
                "hovertemplate": HOVER,
            }
        )
    if len(decay_epochs):
        decays = np.asarray(decay_epochs)
        traces.append(decay_trace(decays.tolist(), closed[decays].tolist()))
    shapes = []
    if highlight_epoch is not None and 0 <= highlight_epoch < len(closed_form):
        shapes.append(vertical_line(highlight_epoch, color=TORCH))
    return new_figure(
        traces,
        layout(
            height=420,
            xaxis={"title": {"text": "epoch t"}, "rangemode": "tozero"},
            # Linear: from zero, so each step visibly takes the same fraction γ of the last.
            yaxis={**lr_yaxis(log_y=log_y), **({} if log_y else {"rangemode": "tozero"})},
            hovermode="closest",
            shapes=shapes,
        ),
    )
