"""Charts for an experiment: each arm's seeds as a band with the mean, its LRs, and the per-seed
differences between arms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from steplr_viz.classroom.paired import PairedComparison
from steplr_viz.figures.style import DECAY, SERIES, layout, new_figure, vertical_line
from steplr_viz.figures.training import RunCurve, compare_figure, staircase_corners

BAND_OPACITY = 0.18


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def decay_marks(decays: Mapping[str, Sequence[int]]) -> tuple[list[dict], list[dict]]:
    """Dashed lines between epoch e − 1 and e where an arm's LR fell, labelled with the arms."""
    at: dict[int, list[str]] = {}
    for arm, epochs in decays.items():
        for e in epochs:
            at.setdefault(int(e), []).append(arm)
    shapes = [vertical_line(e - 0.5, color=DECAY, width=1.5) for e in sorted(at)]
    notes = [
        {
            # Inside the plot, by the line's foot: above it sits the legend.
            "x": e - 0.5,
            "y": 0,
            "xref": "x",
            "yref": "paper",
            "xanchor": "left",
            "yanchor": "bottom",
            "align": "left",
            "showarrow": False,
            "text": "LR ↓<br>" + "<br>".join(arms),
            "font": {"size": 11, "color": DECAY},
        }
        for e, arms in sorted(at.items())
    ]
    return shapes, notes


def band_figure(
    band: pd.DataFrame,
    metric: str,
    *,
    title: str,
    y_title: str,
    decays: Mapping[str, Sequence[int]] | None = None,
) -> go.Figure:
    """Per arm of experiments.bands(): the seeds' min–max of `metric` shaded, the mean drawn."""
    traces = []
    for i, (arm, g) in enumerate(band.groupby("arm", observed=True, sort=False)):
        color = SERIES[i % len(SERIES)]
        x = g["epoch"].to_numpy()
        # The band: the max edge, then the min edge filled up to it ("tonexty").
        for edge, fill in (("max", {}), ("min", {"fill": "tonexty"})):
            traces.append(
                {
                    "type": "scatter",
                    "x": x,
                    "y": g[f"{metric}_{edge}"].to_numpy(),
                    "name": f"{arm} seeds' {edge}",
                    "mode": "lines",
                    "line": {"width": 0, "color": color},
                    "fillcolor": _rgba(color, BAND_OPACITY),
                    "showlegend": False,
                    "legendgroup": str(arm),
                    "hoverinfo": "skip",
                    **fill,
                }
            )
        traces += [
            {
                "type": "scatter",
                "x": x,
                "y": g[f"{metric}_mean"].to_numpy(),
                "name": str(arm),
                "mode": "lines+markers",
                "line": {"width": 3, "color": color},
                "marker": {"size": 7},
                "legendgroup": str(arm),
                "customdata": np.stack(
                    [g[f"{metric}_min"].to_numpy(), g[f"{metric}_max"].to_numpy()], axis=-1
                ),
                "hovertemplate": f"{arm}<br>epoch %{{x}}: mean %{{y:.4g}}"
                "<br>seeds %{customdata[0]:.4g} – %{customdata[1]:.4g}<extra></extra>",
            },
        ]
    shapes, notes = decay_marks(decays or {})
    return new_figure(
        traces,
        layout(
            title=title,
            height=340,
            xaxis={"title": {"text": "epoch"}, "dtick": 1},
            yaxis={"title": {"text": y_title}},
            shapes=shapes,
            annotations=notes,
            hovermode="closest",
        ),
    )


def arm_lr_figure(arms: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> go.Figure:
    """Each arm's LR per optimizer step (label, steps, lrs) as a step line, on a log axis."""
    curves = [RunCurve(label, *staircase_corners(steps, lrs)) for label, steps, lrs in arms]
    return compare_figure(
        curves,
        title="Learning rate per batch",
        x_title="batch (optimizer step)",
        y_title="learning rate",
        log_y=True,
        step=True,
    )


def paired_figure(comparisons: Sequence[PairedComparison]) -> go.Figure:
    """Per pair of arms (a row each), one dot per seed at its difference a − b, in points.

    The mean and its 95 % interval are drawn over the dots; the line at 0 is "no difference":
    an interval that crosses it could be noise.
    """
    rows = [f"{c.a} − {c.b}" for c in comparisons]
    traces = []
    for c, row in zip(comparisons, rows, strict=True):
        traces.append(
            {
                "type": "scatter",
                "x": list(c.differences),
                "y": [row] * c.n,
                "mode": "markers",
                "name": "one seed",
                "legendgroup": "seeds",
                "showlegend": row == rows[0],
                "marker": {"size": 11, "color": SERIES[1], "opacity": 0.75, "symbol": "circle"},
                "customdata": list(c.seeds),
                "hovertemplate": "seed %{customdata}: %{x:+.2f} points<extra></extra>",
            }
        )
        interval = (
            {
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [c.high - c.mean],
                    "arrayminus": [c.mean - c.low],
                    "thickness": 2.5,
                    "width": 10,
                    "color": SERIES[0],
                }
            }  # fmt: skip
            if c.low is not None
            else {}
        )
        traces.append(
            {
                "type": "scatter",
                "x": [c.mean],
                "y": [row],
                "mode": "markers",
                "name": "mean, 95 % interval",
                "legendgroup": "mean",
                "showlegend": row == rows[0],
                "marker": {"size": 14, "color": SERIES[0], "symbol": "diamond"},
                "hovertemplate": f"{row}: mean %{{x:+.2f}} points"
                + (
                    f"<br>95 % interval {c.low:+.2f} to {c.high:+.2f}"
                    if c.low is not None
                    else "<br>one seed: no interval"
                )
                + "<extra></extra>",
                **interval,
            }
        )
    return new_figure(
        traces,
        layout(
            title="Final test accuracy, paired by seed: the difference per seed",
            height=140 + 60 * max(1, len(rows)),
            xaxis={"title": {"text": "difference (percentage points)"}, "zeroline": False},
            yaxis={"autorange": "reversed", "type": "category"},
            shapes=[{**vertical_line(0.0, color=DECAY, width=1.5), "xref": "x"}],
            hovermode="closest",
        ),
    )
