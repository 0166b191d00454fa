"""The class sweep's landscape: a heatmap of accuracy over the grid, with counts per cell."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from steplr_viz.classroom.sweeps import METRICS, SYMBOLS, SweepSpec, value_label
from steplr_viz.figures.style import BLUE, DARK_VERMILLION, layout, new_figure

LANDSCAPE_TRACE = "landscape"
BEST_NAME, MINE_NAME = "best cell", "your cell"
# A sequential scale light to dark blue (one hue: readable for every colour vision), so the
# best cell's frame in dark vermillion stands apart from every cell colour.
COLORSCALE = [[0.0, "#F2F7FB"], [0.5, "#7FB2D8"], [1.0, "#08457E"]]


def _axis_labels(spec: SweepSpec) -> tuple[list[str], list[str]]:
    xs = [f"{SYMBOLS[spec.x]} = {value_label(spec.x, v)}" for v in spec.x_values]
    ys = [f"{SYMBOLS[spec.y]} = {value_label(spec.y, v)}" for v in spec.y_values]
    return xs, ys


def cell_text(row: pd.Series, metric: str, predictions: int | None = None) -> str:
    """What a cell reads: its accuracy, and how many runs finished, run and wait."""
    value = row[metric]
    lines = [f"{value:.1f}%" if not math.isnan(value) else "no result yet"]
    count = f"{int(row['finished'])} finished"
    waiting = int(row["given"]) - int(row["finished"])
    if waiting > 0:
        count += f", {waiting} to come"
    lines.append(count)
    if predictions:
        lines.append(f"{predictions} predicted")
    return "<br>".join(lines)


def _frame(spec: SweepSpec, cell: int, name: str, color: str, dash: str) -> dict:
    row, col = divmod(cell, len(spec.x_values))
    return {
        "type": "rect",
        "xref": "x",
        "yref": "y",
        "x0": col - 0.5,
        "x1": col + 0.5,
        "y0": row - 0.5,
        "y1": row + 0.5,
        "line": {"color": color, "width": 5, "dash": dash},
        "name": name,
    }


def landscape_figure(
    spec: SweepSpec,
    table: pd.DataFrame,
    metric: str = "final_acc",
    *,
    best: int | None = None,
    mine: int | None = None,
    predictions: Sequence[int] | None = None,
    height: int = 420,
) -> go.Figure:
    """The grid as a heatmap of `metric` (mean over finished runs), text with counts per cell.

    `best` frames the best cell (solid, labelled), `mine` the viewer's own (dashed, labelled):
    never colour alone. `predictions` (one count per cell) adds how many predicted each cell.
    """
    xs, ys = _axis_labels(spec)
    n_x = len(spec.x_values)
    z: list[list[float | None]] = [[None] * n_x for _ in ys]
    text: list[list[str]] = [[""] * n_x for _ in ys]
    for _, row in table.iterrows():
        r, c = divmod(int(row["cell"]), n_x)
        value = row[metric]
        z[r][c] = None if math.isnan(value) else round(float(value), 2)
        counted = predictions[int(row["cell"])] if predictions is not None else None
        text[r][c] = cell_text(row, metric, counted)
    heatmap = {
        "type": "heatmap",
        "name": LANDSCAPE_TRACE,
        "x": list(range(n_x)),
        "y": list(range(len(ys))),
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "hovertemplate": "%{text}<extra></extra>",
        "colorscale": COLORSCALE,
        "zmin": 0 if all(v is None for r in z for v in r) else None,
        "colorbar": {"title": {"text": "%"}, "thickness": 14},
        "xgap": 3,
        "ygap": 3,
    }
    shapes, notes = [], []
    frames = ((mine, MINE_NAME, BLUE, "dash"), (best, BEST_NAME, DARK_VERMILLION, "solid"))
    for cell, name, color, dash in frames:
        if cell is None:
            continue
        shapes.append(_frame(spec, cell, name, color, dash))
        row, col = divmod(cell, n_x)
        # On the frame's edge (the best cell's top, your cell's bottom): never over the counts.
        notes.append(
            {
                "x": col,
                "y": row - 0.5 if name == BEST_NAME else row + 0.5,
                "xref": "x",
                "yref": "y",
                "text": f"<b>{name}</b>",
                "showarrow": False,
                "yanchor": "middle",
                "font": {"color": color},
                "bgcolor": "rgba(255,255,255,0.9)",
            }
        )
    fig_layout = layout(title=None, height=height)
    fig_layout.update(
        xaxis={
            "tickvals": list(range(n_x)),
            "ticktext": xs,
            "side": "top",
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={
            "tickvals": list(range(len(ys))),
            "ticktext": ys,
            "autorange": "reversed",
            "showgrid": False,
            "zeroline": False,
        },
        shapes=shapes,
        annotations=notes,
        meta={"metric": METRICS[metric]},
    )
    return new_figure([heatmap], fig_layout)


__all__ = ["BEST_NAME", "LANDSCAPE_TRACE", "MINE_NAME", "cell_text", "landscape_figure"]
