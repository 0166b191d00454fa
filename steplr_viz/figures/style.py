"""One palette and layout for every chart, so the pages read as one product."""

from __future__ import annotations

import plotly.graph_objects as go

# One colour-blind-safe palette: Okabe & Ito's hues ("Color Universal Design", 2008). Where a
# hue is too light for Streamlit's light theme (orange, sky blue, yellow) it is darkened, hue
# kept, so every line and mark has WCAG contrast >= 3:1 on both themes' backgrounds
# (tests/test_palette.py checks it, and that the hues stay apart under colour-blindness).
VERMILLION = "#D55E00"
BLUE = "#0072B2"
BLUISH_GREEN = "#009E73"
ORANGE = "#AD6F00"  # Okabe-Ito orange #E69F00, darkened
REDDISH_PURPLE = "#CC79A7"
SKY_BLUE = "#3C8DC4"  # Okabe-Ito sky blue #56B4E9, darkened
OLIVE = "#8A7A00"  # Okabe-Ito yellow #F0E442, darkened
GREY = "#7F7F7F"
DARK_VERMILLION = "#C2410C"  # white text on it has 5.2:1: the primary colour and mistake badges
# Streamlit's primary colour (buttons with white labels, sliders, toggles) in each theme: on the
# dark backgrounds a touch lighter, still 4.5:1 for the white label and now 3:1 on every surface.
PRIMARY = {"light": DARK_VERMILLION, "dark": "#CF450D"}

# The app's backgrounds in its light and dark themes (.streamlit/config.toml sets them; the app
# follows the student's system setting). Charts have transparent backgrounds and take their text
# colours from Streamlit's theme, so every line and mark is drawn on one of these.
THEME_BACKGROUNDS = {"light": "#FFFFFF", "dark": "#171614"}

# Closed form, PyTorch's curve, and a qualitative set for compared runs.
CLOSED_FORM = VERMILLION
TORCH = BLUE
MUTED = GREY
DECAY = GREY  # dashed reference lines: apart from the curves by hue for every student
RIGHT = BLUE  # a correctly classified test digit
WRONG = DARK_VERMILLION  # a mistake (also framed and labelled: never colour alone)
# Colours that carry white text (badges; Streamlit's primary buttons): WCAG AA needs 4.5:1.
WHITE_TEXT_BACKGROUNDS = {
    "right": RIGHT,
    "wrong": WRONG,
    "primary": PRIMARY["light"],
    "primary on dark": PRIMARY["dark"],
}
# The first four stay apart under protanopia and deuteranopia too (ΔE >= 15). With 3:1 contrast
# required on both themes lightness cannot separate more: from the fifth on, legends tell apart.
SERIES = [VERMILLION, BLUE, BLUISH_GREEN, REDDISH_PURPLE, ORANGE, SKY_BLUE, OLIVE, GREY]
DISTINCT_SERIES = 4
# Every colour a chart draws lines or marks with.
PALETTE = {
    "vermillion": VERMILLION,
    "blue": BLUE,
    "bluish green": BLUISH_GREEN,
    "orange": ORANGE,
    "reddish purple": REDDISH_PURPLE,
    "sky blue": SKY_BLUE,
    "olive": OLIVE,
    "grey": GREY,
}

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
