"""The per-seed differences chart: one dot per seed and pair, the mean with its interval."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from steplr_viz.classroom.paired import paired_comparison
from steplr_viz.figures.experiments import paired_figure


def test_one_dot_per_seed_and_the_mean_with_its_95_interval():
    three = paired_comparison("a", {0: 91.0, 1: 92.0, 2: 95.0}, "b", {0: 90.0, 1: 90.0, 2: 90.0})
    one = paired_comparison("a", {0: 91.0}, "c", {0: 93.0})
    fig = go.Figure(paired_figure([three, one]).to_dict())  # validated by Plotly
    dots = [t for t in fig.data if t.name == "one seed"]
    means = [t for t in fig.data if t.name == "mean, 95 % interval"]
    assert [list(t.x) for t in dots] == [[1.0, 2.0, 5.0], [-2.0]]
    assert [list(t.customdata) for t in dots] == [[0, 1, 2], [0]]  # the seed of each dot
    assert [t.y[0] for t in dots] == ["a − b", "a − c"]
    assert means[0].x[0] == pytest.approx(8 / 3)
    assert means[0].error_x.array[0] == pytest.approx(three.high - three.mean)
    assert means[0].error_x.arrayminus[0] == pytest.approx(three.mean - three.low)
    assert means[1].error_x.array is None  # one seed: no interval to draw
    assert [s.x0 for s in fig.layout.shapes] == [0.0]  # "no difference"
    assert sum(bool(t.showlegend) for t in fig.data) == 2
