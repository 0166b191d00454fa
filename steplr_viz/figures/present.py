"""Figures for the presenter page, and the one place that makes any figure projector-sized."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from steplr_viz.figures import style
from steplr_viz.figures.style import BLUISH_GREEN, CLOSED_FORM, MUTED, SERIES, new_figure

# Read from the back of a room at 1280×720: big type, thick lines, large markers.
PROJECTOR_FONT_SIZE = 22
PROJECTOR_MIN_LINE_WIDTH = 5
PROJECTOR_LINE_SCALE = 2.0
PROJECTOR_MARKER_SCALE = 1.8
PROJECTOR_HEIGHT = 460

ANSWER_COLOR = MUTED
TRUE_COLOR = BLUISH_GREEN  # from the palette: 3:1 on both themes, apart from grey for all
ANSWERS_TRACE = "answers"


def for_projector(fig: go.Figure, *, height: int = PROJECTOR_HEIGHT) -> go.Figure:
    """Scale a figure's type, lines and markers for a projector (in place; returns it)."""
    fig.update_layout(
        font={"size": PROJECTOR_FONT_SIZE},
        legend={"font": {"size": PROJECTOR_FONT_SIZE - 2}},
        height=height,
        hoverlabel={"font": {"size": PROJECTOR_FONT_SIZE}},
    )
    # Streamlit's theme sets tick and axis-title sizes of its own: name them explicitly.
    axis_fonts = {
        "tickfont": {"size": PROJECTOR_FONT_SIZE - 4},
        "title": {"font": {"size": PROJECTOR_FONT_SIZE}},
    }
    fig.update_xaxes(**axis_fonts)
    fig.update_yaxes(**axis_fonts)
    for trace in fig.data:
        line = getattr(trace, "line", None)
        if line is not None and trace.type == "scatter":
            width = line.width if line.width is not None else 2
            line.width = max(PROJECTOR_MIN_LINE_WIDTH, width * PROJECTOR_LINE_SCALE)
        marker = getattr(trace, "marker", None)
        if marker is not None and trace.type == "scatter" and marker.size is not None:
            marker.size = marker.size * PROJECTOR_MARKER_SCALE
    return fig


def answers_figure(
    choices: Sequence[str], counts: Sequence[int], truth: int | None, *, reveal: bool
) -> go.Figure:
    """The class's answers per choice as bars; the true choice coloured once revealed."""
    shown = reveal and truth is not None
    colors = [TRUE_COLOR if shown and i == truth else ANSWER_COLOR for i in range(len(choices))]
    labels = [f"✓ {c}" if shown and i == truth else c for i, c in enumerate(choices)]
    top = max(counts, default=0)
    trace = {
        "type": "bar",
        "name": ANSWERS_TRACE,
        "x": labels,
        "y": list(counts),
        "marker": {"color": colors},
        "text": [str(n) for n in counts],
        "textposition": "outside",
        "hovertemplate": "%{x}: %{y} answers<extra></extra>",
        "cliponaxis": False,
    }
    layout = style.layout(
        height=320,
        showlegend=False,
        xaxis={"type": "category", "title": {"text": None}},
        # Whole answers only, with head room for the count above the tallest bar.
        yaxis={
            "title": {"text": "answers"},
            "range": [0, max(top, 1) * 1.25],
            "dtick": 1 if top < 8 else None,
        },
        bargap=0.3,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},  # no legend or title to make room for
    )
    return new_figure([trace], layout)


def curves_figure(
    curves: Sequence[tuple[str, Sequence[float]]], *, highlight: str | None = None
) -> go.Figure:
    """Learning-rate curves by epoch, one trace each; `highlight` drawn thicker."""
    traces = [
        {
            "type": "scatter",
            "x": list(range(len(lrs))),
            "y": list(lrs),
            "name": name,
            "mode": "lines",
            "line": {
                "color": CLOSED_FORM if name == highlight else SERIES[(i + 1) % len(SERIES)],
                "width": 4 if name == highlight else 2,
                "shape": "hv" if "Step" in name or "Plateau" in name else "linear",
            },
            "hovertemplate": "epoch %{x}<br>LR %{y:.6g}<extra>%{fullData.name}</extra>",
        }
        for i, (name, lrs) in enumerate(curves)
    ]
    layout = style.layout(
        height=420,
        xaxis={"title": {"text": "epoch t"}, "rangemode": "tozero"},
        yaxis={**style.lr_yaxis(log_y=False), "rangemode": "tozero"},
        hovermode="closest",
    )
    return new_figure(traces, layout)


def accuracy_figure(runs: Sequence[tuple[str, Sequence[int], Sequence[float]]]) -> go.Figure:
    """Test accuracy (%) per epoch for each (label, epochs, accuracies) run."""
    traces = [
        {
            "type": "scatter",
            "x": list(epochs),
            "y": list(accs),
            "name": label,
            "mode": "lines+markers",
            "line": {"color": SERIES[i % len(SERIES)], "width": 3},
            "marker": {"size": 8},
            "hovertemplate": "epoch %{x}<br>%{y:.2f} %<extra>%{fullData.name}</extra>",
        }
        for i, (label, epochs, accs) in enumerate(runs)
    ]
    layout = style.layout(
        height=380,
        xaxis={"title": {"text": "epoch"}, "dtick": 1},
        yaxis={"title": {"text": "test accuracy (%)"}},
        hovermode="closest",
    )
    return new_figure(traces, layout)
