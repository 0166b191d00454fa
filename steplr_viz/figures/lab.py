"""Figures for the StepLR lab: each takes a simulation result from steplr_viz.lab, plotly only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from steplr_viz.figures import style
from steplr_viz.figures.style import CLOSED_FORM, DECAY, MUTED, SERIES, TORCH, new_figure
from steplr_viz.lab import (
    CallOrder,
    Comparison,
    LrReadings,
    Precision,
    Resume,
    Stepping,
    batch_number,
)

HOVER = "epoch %{x}<br>LR %{y:.6g}<extra>%{fullData.name}</extra>"
STEP_HOVER = "step %{x}<br>LR %{y:.6g}<extra>%{fullData.name}</extra>"

# Trace names are part of the contract: the page's tests look curves up by them.
RIGHT_ORDER = "optimizer.step() then scheduler.step()"
WRONG_ORDER = "scheduler.step() first (wrong)"
PER_EPOCH = "scheduler.step() once per epoch"
PER_BATCH = "scheduler.step() every batch"
GET_LAST_LR = "get_last_lr()"
PARAM_GROUP = 'optimizer.param_groups[0]["lr"]'
GET_LR = "get_lr() outside step()"
ONE_GAMMA_TOO_MANY = "get_lr(): one γ too many"
UNINTERRUPTED = "uninterrupted run"
RESUMED = "resumed from state_dict()"
RESTARTED = "restarted without state_dict()"
ULPS = "ulps apart"
LOSS = "scripted loss"
STAIRCASES = ("StepLR", "MultiStepLR", "ReduceLROnPlateau")


def _figure(traces: list[dict], layout: dict, shapes: Sequence[dict] = ()) -> go.Figure:
    """A figure from trace dicts and a layout dict, without plotly's per-property validation."""
    if shapes:
        layout = {**layout, "shapes": list(shapes)}
    return new_figure(traces, layout)


def _layout(
    *,
    log_y: bool | None,
    x_title: str = "epoch t",
    height: int = 380,
    y_title: str | None = None,
) -> dict:
    """The shared layout; a learning-rate y axis unless log_y is None (then y_title)."""
    xaxis = {"title": {"text": x_title}, "rangemode": "tozero"}
    if log_y is None:
        yaxis = {"title": {"text": y_title}, "rangemode": "tozero"}
        return style.layout(height=height, xaxis=xaxis, yaxis=yaxis)
    return style.layout(
        height=height, xaxis=xaxis, yaxis=style.lr_yaxis(log_y=log_y), hovermode="closest"
    )


def _vline(x: float) -> dict:
    return style.vertical_line(x, dash="dot")


def _line(x, y, name: str, color: str, *, shape: str = "hv", width: float = 3, **line) -> dict:
    return {
        "type": "scatter",
        "x": np.asarray(x),
        "y": np.asarray(y, dtype=float),
        "name": name,
        "mode": "lines",
        "line": {"shape": shape, "width": width, "color": color, **line},
        "hovertemplate": HOVER,
    }


def call_order_figure(
    result: CallOrder, *, highlight_epoch: int | None = None, log_y: bool = False
) -> go.Figure:
    """The LR each optimizer.step() used, with the right and the wrong call order."""
    epochs = np.arange(len(result.right))
    traces = [
        _line(epochs, result.right, RIGHT_ORDER, TORCH),
        _line(epochs, result.wrong, WRONG_ORDER, CLOSED_FORM, width=2, dash="dash"),
    ]
    shapes = []
    if highlight_epoch is not None and 0 <= highlight_epoch < len(epochs):
        shapes.append(_vline(highlight_epoch))
    return _figure(traces, _layout(log_y=log_y), shapes)


def stepping_figure(result: Stepping, *, log_y: bool = True) -> go.Figure:
    """Per-epoch against per-batch stepping, on an epoch axis (batches as fractions of it)."""
    n = result.batches_per_epoch
    # The per-epoch LR holds for the whole epoch: repeat the last value at the right edge.
    per_epoch = np.append(result.per_epoch, result.per_epoch[-1])
    batches = np.arange(len(result.per_batch))
    per_batch = _line(batches / n, result.per_batch, PER_BATCH, CLOSED_FORM, width=2)
    per_batch["customdata"] = [batch_number(i) for i in batches]  # counted from 1, as the text
    per_batch["hovertemplate"] = (
        "batch %{customdata} (from 1)<br>LR %{y:.6g}<extra>%{fullData.name}</extra>"
    )
    traces = [_line(np.arange(len(per_epoch)), per_epoch, PER_EPOCH, TORCH), per_batch]
    return _figure(traces, _layout(log_y=log_y, x_title="epoch (a batch is 1/len(loader) of one)"))


def readings_figure(result: LrReadings, *, log_y: bool = False) -> go.Figure:
    """The three LR accessors step by step; markers where get_lr() applies one γ too many."""
    steps = np.arange(len(result.get_last_lr))
    last = _line(steps, result.get_last_lr, GET_LAST_LR, TORCH)
    group = {
        "type": "scatter",
        "x": steps,
        "y": np.asarray(result.param_group_lr),
        "name": PARAM_GROUP,
        "mode": "markers",
        "marker": {"size": 8, "color": SERIES[1], "symbol": "circle-open", "line": {"width": 2}},
        "hovertemplate": STEP_HOVER,
    }
    get_lr = {
        "type": "scatter",
        "x": steps,
        "y": np.asarray(result.get_lr),
        "name": GET_LR,
        "mode": "lines+markers",
        "line": {"width": 1, "color": CLOSED_FORM, "dash": "dot"},
        "marker": {"size": 5, "color": CLOSED_FORM},
        "hovertemplate": STEP_HOVER,
    }
    last["hovertemplate"] = STEP_HOVER
    traces = [last, group, get_lr]
    extra = np.flatnonzero(result.one_gamma_too_many)
    if extra.size:
        traces.append(
            {
                "type": "scatter",
                "x": extra,
                "y": np.asarray(result.get_lr)[extra],
                "name": ONE_GAMMA_TOO_MANY,
                "mode": "markers",
                "marker": {"size": 14, "color": DECAY, "symbol": "x"},
                "hovertemplate": "step %{x}: get_lr() = %{y:.6g}<extra></extra>",
            }
        )
    return _figure(traces, _layout(log_y=log_y, x_title="scheduler steps taken (last_epoch)"))


def precision_figure(result: Precision) -> go.Figure:
    """How many ulps torch's chainable LR is from the closed form, step by step."""
    ulps = result.ulps
    steps = np.flatnonzero(ulps >= 0)  # underflowed steps have no meaningful ulps
    trace = {
        "type": "scatter",
        "x": steps,
        "y": ulps[steps],
        "customdata": result.relative_errors[steps],
        "name": ULPS,
        "mode": "markers",
        "marker": {"size": 4, "color": TORCH, "opacity": 0.7},
        "hovertemplate": "step %{x}<br>%{y} ulps<br>relative error %{customdata:.2e}"
        "<extra></extra>",
    }
    layout = _layout(
        log_y=None, x_title="step t", height=340, y_title="ulps between chainable and closed form"
    )
    return _figure([trace], layout)


def resume_figure(result: Resume, *, log_y: bool = False) -> go.Figure:
    """The uninterrupted curve, the state_dict resume and the naive restart from epoch k."""
    k = result.resume_at
    later = np.arange(k, len(result.uninterrupted))
    traces = [
        _line(np.arange(len(result.uninterrupted)), result.uninterrupted, UNINTERRUPTED, MUTED),
        _line(later, result.resumed, RESUMED, TORCH, width=2, dash="dash"),
        _line(later, result.restarted, RESTARTED, CLOSED_FORM, width=2, dash="dot"),
    ]
    return _figure(traces, _layout(log_y=log_y), [_vline(k)])


def comparison_figure(
    result: Comparison, *, show: Sequence[str] | None = None, log_y: bool = False
) -> go.Figure:
    """Several torch schedulers with the same η₀ and horizon on one axis."""
    traces = [
        _line(
            np.arange(len(lrs)),
            lrs,
            name,
            SERIES[i % len(SERIES)],
            shape="hv" if name in STAIRCASES else "linear",
            width=4 if name == "StepLR" else 2,
            # MultiStepLR at multiples of s lies exactly on StepLR: dashes keep both visible.
            dash="dash" if name == "MultiStepLR" else "solid",
        )
        for i, (name, lrs) in enumerate(result.curves)
        if show is None or name in show
    ]
    return _figure(traces, _layout(log_y=log_y, height=420))


def loss_figure(result: Comparison) -> go.Figure:
    """The scripted loss that drives ReduceLROnPlateau, with the plateau's start marked."""
    trace = _line(np.arange(len(result.loss)), result.loss, LOSS, SERIES[4], shape="linear")
    trace["hovertemplate"] = "epoch %{x}<br>loss %{y:.4f}<extra></extra>"
    layout = _layout(log_y=None, height=220, y_title="loss")
    layout["showlegend"] = False
    return _figure([trace], layout, [_vline(result.plateau_at)])
