"""Figure builders: valid Plotly (they skip validation when built) and the right numbers."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from steplr_viz import schedule
from steplr_viz.figures import schedule as schedule_figs
from steplr_viz.figures import training as figs


def validated(fig: go.Figure) -> go.Figure:
    """Rebuild with Plotly's validation on: a misspelt property raises here."""
    return go.Figure(fig.to_dict())


def _all_figures() -> list[go.Figure]:
    rng = np.random.default_rng(0)
    steps = np.arange(1, 201)
    lrs = schedule.lr_per_step(0.001, 0.1, 2, 5, 40)
    pin = schedule_figs.PinnedCurve(0.1, 0.9, 5, tuple(schedule.lr_curve(0.1, 0.9, 5, 40)))
    labels = rng.integers(0, 10, 64)
    return [
        schedule_figs.staircase_figure(
            schedule.lr_curve(0.1, 0.5, 10, 40),
            torch_curve=schedule.torch_lr_curve(0.1, 0.5, 10, 40),
            decay_epochs=schedule.decay_epochs(10, 40),
            pinned=[pin],
            log_y=True,
            highlight_epoch=25,
        ),
        figs.loss_figure(steps, rng.random(200), lrs),
        figs.lr_figure(steps, lrs, steps, lrs),
        figs.epoch_metrics_figure(np.arange(1, 6), rng.random(5), rng.random(5), rng.random(5)),
        figs.weights_figure(rng.normal(size=(10, 784))),
        figs.digits_figure(rng.random((16, 784)), labels[:16], np.roll(labels[:16], 1), cols=4),
        figs.confusion_figure(labels, np.roll(labels, 1)),
        figs.compare_figure(
            [figs.RunCurve("a", np.arange(5), rng.random(5))], title="t", x_title="x", y_title="y"
        ),
    ]


@pytest.mark.parametrize("index", range(8))
def test_every_figure_is_valid_plotly(index):
    validated(_all_figures()[index])


def test_staircase_traces_hold_the_curves_and_the_decays():
    lrs = schedule.lr_curve(0.1, 0.5, 10, 40)
    fig = schedule_figs.staircase_figure(lrs, decay_epochs=[10, 20, 30], log_y=True)
    closed, decays = fig.data
    assert closed.line.shape == "hv"
    np.testing.assert_array_equal(closed.y, lrs)
    np.testing.assert_array_equal(decays.x, [10, 20, 30])
    np.testing.assert_array_equal(decays.y, [0.05, 0.025, 0.0125])
    assert fig.layout.yaxis.type == "log"


def test_smooth_is_a_bias_corrected_moving_average():
    assert figs.smooth(np.array([2.0, 2.0, 2.0])).tolist() == pytest.approx([2.0, 2.0, 2.0])
    # The first value is kept as is; later ones move towards the new level.
    out = figs.smooth(np.array([1.0, 3.0]), weight=0.5)
    # avg = 0.5 * 0.5 + 0.5 * 3 = 1.75, corrected by 1 - 0.5**2: 7/3.
    assert out.tolist() == pytest.approx([1.0, 7 / 3])


def test_change_points_mark_where_the_lr_decays():
    steps = np.arange(1, 7)
    lrs = np.array([1.0, 1.0, 0.1, 0.1, 0.01, 0.01])
    assert figs.change_points(steps, lrs).tolist() == [3, 5]
    loss = figs.loss_figure(steps, np.ones(6), lrs)
    assert [shape.x0 for shape in loss.layout.shapes] == [3, 5]


def test_tile_places_each_image_in_its_cell():
    images = np.stack([np.full(784, float(i)) for i in range(3)])
    grid = figs.tile(images, cols=2)
    step = figs.SIDE + figs.GAP
    assert grid.shape == (2 * step - figs.GAP, 2 * step - figs.GAP)
    assert grid[0, 0] == 0 and grid[0, step] == 1 and grid[step, 0] == 2
    assert np.isnan(grid[step, step])  # the fourth cell is empty
    assert np.isnan(grid[0, figs.SIDE])  # gaps are blank


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = figs.confusion_matrix(np.array([0, 0, 1, 9]), np.array([0, 1, 1, 0]))
    assert matrix.sum() == 4
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 1 and matrix[9, 0] == 1


def test_digits_frame_only_the_mistakes():
    fig = figs.digits_figure(np.zeros((4, 784)), np.array([1, 2, 3, 4]), np.array([1, 0, 3, 0]))
    assert len(fig.layout.shapes) == 2
    texts = [a.text for a in fig.layout.annotations]
    assert texts == ["1 ✓", "2 (true 0)", "3 ✓", "4 (true 0)"]
