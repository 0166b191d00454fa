"""One palette and layout for every chart, so the pages read as one product."""

from __future__ import annotations

import plotly.graph_objects as go

# Closed form, PyTorch's curve, and a qualitative set for compared runs.
CLOSED_FORM = "#E4572E"
TORCH = "#1D3557"
MUTED = "#8D99AE"
DECAY = "#F4A261"
SERIES = ["#E4572E", "#2A9D8F", "#1D3557", "#F4A261", "#8E44AD", "#76B041", "#D62828", "#457B9D"]

FONT = "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 380) -> go.Figure:
    """Apply the shared look: white template, compact margins, legend on top, unified hover."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.0, "xanchor": "left"} if title else None,
        height=height,
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
        font={"family": FONT, "size": 13},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        hoverlabel={"font": {"family": FONT}},
    )
    return fig


def lr_axis(fig: go.Figure, *, log_y: bool, **kwargs) -> go.Figure:
    """Y axis for learning rates: log scale on request, since LRs span decades."""
    fig.update_yaxes(
        title_text="learning rate",
        type="log" if log_y else "linear",
        exponentformat="power" if log_y else "none",
        **kwargs,
    )
    return fig
