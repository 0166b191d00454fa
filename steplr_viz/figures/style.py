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


def layout(*, title: str | None = None, height: int = 380, **extra) -> dict:
    """The shared layout as a dict: compact margins, legend on top, one font."""
    return {
        # An empty template: Streamlit's theme styles the chart in the browser, while plotly's
        # default template would be deep-copied and sent with every rerun (~10 ms, 6 KB a chart).
        "template": {},
        "title": {"text": title, "x": 0.0, "xanchor": "left"} if title else None,
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 80 if title else 40, "b": 10},
        "font": {"family": FONT, "size": 13},
        # Top left: the top right is where Plotly's toolbar appears on hover.
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        "hoverlabel": {"font": {"family": FONT}},
        **extra,
    }


def lr_yaxis(*, log_y: bool) -> dict:
    """Y axis for learning rates: log scale on request, since LRs span decades."""
    return {
        "title": {"text": "learning rate"},
        "type": "log" if log_y else "linear",
        "exponentformat": "power" if log_y else "none",
    }


def new_figure(data: list[dict] | None = None, layout: dict | None = None) -> go.Figure:
    """A figure from trace and layout dicts that skips plotly's per-property validation.

    Validation costs most of a rerun (a figure in ~2 ms instead of ~30 ms);
    tests/test_figures.py validates every builder's output instead, so a typo still fails a test.
    """
    return go.Figure(data=data, layout=layout, _validate=False)


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 380) -> go.Figure:
    """Apply the shared layout to an existing figure."""
    fig.update_layout(layout(title=title, height=height))
    return fig


def lr_axis(fig: go.Figure, *, log_y: bool, **kwargs) -> go.Figure:
    """Give an existing figure the learning-rate y axis."""
    fig.update_yaxes(**lr_yaxis(log_y=log_y), **kwargs)
    return fig


def vertical_line(x: float, *, color: str = MUTED, dash: str = "dash", width: float = 1) -> dict:
    """A full-height vertical line as a layout shape (cheaper than fig.add_vline)."""
    return {
        "type": "line",
        "x0": x,
        "x1": x,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "paper",
        "line": {"color": color, "width": width, "dash": dash},
    }
