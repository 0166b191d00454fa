"""The landscape heatmap: valid Plotly, one value and count per cell, frames never colour alone."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from steplr_viz.classroom import sweeps
from steplr_viz.classroom.sweeps import SweepSpec
from steplr_viz.figures.sweep import BEST_NAME, LANDSCAPE_TRACE, MINE_NAME, landscape_figure

SPEC = SweepSpec("gamma", (0.1, 0.5, 1.0), "step_size", (1, 2))


def _table():
    rows = pd.DataFrame(
        [(0, "r0", "finished", 80.0, 81.0), (0, "r1", "finished", 90.0, 90.0),
         (4, "r2", "finished", 95.0, 96.0), (5, "r3", "running", math.nan, math.nan)],
        columns=["cell", "run_id", "status", "final_acc", "best_acc"],
    )  # fmt: skip
    return sweeps.landscape(SPEC, rows)


def test_the_landscape_is_valid_plotly_with_a_value_and_counts_per_cell():
    table = _table()
    fig = landscape_figure(SPEC, table, best=sweeps.best_cell(table), mine=5, predictions=[0] * 6)
    go.Figure(fig.to_dict())  # validates every property
    heat = next(t for t in fig.data if t.name == LANDSCAPE_TRACE)
    assert heat.z[0][0] == 85.0 and heat.z[1][1] == 95.0 and heat.z[1][2] is None
    assert heat.text[0][0].startswith("85.0%<br>2 finished")
    assert heat.text[1][2] == "no result yet<br>0 finished, 1 to come"
    assert list(fig.layout.xaxis.ticktext) == ["γ = 0.1", "γ = 0.5", "γ = 1"]
    assert list(fig.layout.yaxis.ticktext) == ["s = 1", "s = 2"]
    frames = {s.name: (s.x0, s.y0) for s in fig.layout.shapes}
    assert frames == {BEST_NAME: (0.5, 0.5), MINE_NAME: (1.5, 0.5)}
    assert {a.text for a in fig.layout.annotations} == {
        f"<b>{BEST_NAME}</b>",
        f"<b>{MINE_NAME}</b>",
    }


def test_an_empty_landscape_draws_without_frames():
    table = sweeps.landscape(SPEC, pd.DataFrame(columns=["cell", "run_id", "status"]))
    fig = landscape_figure(SPEC, table, "best_acc")
    go.Figure(fig.to_dict())
    assert not fig.layout.shapes
