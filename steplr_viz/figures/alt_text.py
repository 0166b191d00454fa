"""A chart's text alternative, read off the figure: what it plots, never the moving numbers.

Streamlit remounts a chart whose alt text changes, so the text names the chart's title, axes
and curves (which change only with what is drawn), not values that move with every slider.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

_KIND = {"scatter": "line", "scattergl": "line", "bar": "bars", "heatmap": "image"}


def _text(value: Any) -> str:
    value = value.get("text") if isinstance(value, dict) else getattr(value, "text", value)
    return str(value).strip() if value else ""


def _axis(layout: go.Layout, name: str) -> str:
    axis = getattr(layout, name, None)
    title = _text(getattr(axis, "title", None)) if axis is not None else ""
    scale = " (log scale)" if axis is not None and getattr(axis, "type", None) == "log" else ""
    return f"{title}{scale}" if title else ""


def describe(fig: go.Figure, subject: str = "") -> str:
    """One or two sentences: the chart's subject or title, its axes, and its named curves."""
    layout = fig.layout
    lead = subject or _text(layout.title) or "Chart"
    parts = [lead.rstrip(".") + "."]
    x, y = _axis(layout, "xaxis"), _axis(layout, "yaxis")
    if x and y:
        parts.append(f"{y[:1].upper()}{y[1:]} against {x}.")
    shown = []
    for trace in fig.data:
        name = _text(getattr(trace, "name", None))
        if not name or getattr(trace, "showlegend", True) is False:
            continue
        kind = _KIND.get(trace.type, trace.type)
        if getattr(trace, "mode", None) == "markers":
            kind = "points"
        shown.append(f"{name} ({kind})")
    if shown:
        parts.append("Shows: " + "; ".join(dict.fromkeys(shown)) + ".")
    return " ".join(parts)
