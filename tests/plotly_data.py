"""Read plotted numbers back from a Plotly spec (plotly >= 6 sends arrays as typed base64)."""

from __future__ import annotations

import base64
import json

import numpy as np


def trace_array(value) -> np.ndarray:
    """A trace field as a numpy array, whether a plain list or a {"dtype", "bdata"} dict."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:  # plotly writes it as text, e.g. "10, 10"
            shape = value["shape"]
            shape = [int(n) for n in shape.split(",")] if isinstance(shape, str) else shape
            return array.reshape(shape)
        return array
    return np.asarray(value)


def chart_traces(at, index: int = 0) -> dict[str, dict]:
    """The traces of the index-th Plotly chart in an AppTest, by trace name."""
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    return {trace.get("name", f"trace{i}"): trace for i, trace in enumerate(spec["data"])}


def chart_layout(at, index: int = 0) -> dict:
    """The layout of the index-th Plotly chart in an AppTest."""
    return json.loads(at.get("plotly_chart")[index].proto.spec)["layout"]


def expand_staircase(x, y) -> tuple[np.ndarray, np.ndarray]:
    """A step line's ("hv") points back to one point per integer step from x[0] to x[-1].

    Each y holds from its x up to the next point's x, as Plotly draws shape "hv".
    """
    x, y = np.asarray(x).astype(int), np.asarray(y)
    assert np.all(np.diff(x) > 0), "a staircase's steps must increase"
    return np.arange(x[0], x[-1] + 1), np.repeat(y, np.diff(x, append=x[-1] + 1))
