"""Figure builders: valid Plotly (they skip validation when built) and the right numbers."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from steplr_viz.figures import schedule as schedule_figs
from steplr_viz.figures import training as figs
from steplr_viz.schedules import steplr as schedule
from tests.plotly_data import expand_staircase


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


def _reference_smooth(values: np.ndarray, weight: float = 0.9) -> np.ndarray:
    """smooth() as first written, on numpy scalars: the faster one must equal it bit for bit."""
    values = np.asarray(values, dtype=float)
    out = np.empty_like(values)
    avg = 0.0
    for i, v in enumerate(values):
        avg = weight * avg + (1 - weight) * v
        out[i] = avg / (1 - weight ** (i + 1))
    return out


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


@pytest.mark.parametrize("weight", [0.0, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("n", [0, 1, 2, 3000])
def test_smooth_gives_the_same_numbers_as_the_plain_loop(n, weight):
    values = np.random.default_rng(n).normal(2.0, 1.5, size=n)
    np.testing.assert_array_equal(figs.smooth(values, weight), _reference_smooth(values, weight))


@pytest.mark.parametrize(
    ("per_batch", "step_size", "epochs", "bpe"),
    [(False, 2, 5, 63), (False, 5, 30, 250), (True, 7, 3, 10), (False, 100, 3, 4), (True, 1, 2, 3)],
)
def test_the_predicted_staircase_is_sent_as_corners_that_draw_every_step(
    per_batch, step_size, epochs, bpe
):
    lrs = schedule.lr_per_step(0.001, 0.5, step_size, epochs, bpe, per_batch=per_batch)
    steps = np.arange(1, len(lrs) + 1)
    fig = figs.lr_figure(steps[:10], lrs[:10], steps, lrs)
    predicted, used = fig.data
    assert predicted.line.shape == "hv"
    # Only the first step, the steps where the LR changes, and the last step ...
    changes = 1 + np.flatnonzero(np.diff(lrs))
    assert list(predicted.x) == sorted({1, *(changes + 1).tolist(), len(lrs)})
    # ... which an "hv" line draws as the very same staircase, step for step.
    x, y = expand_staircase(predicted.x, predicted.y)
    np.testing.assert_array_equal(x, steps)
    np.testing.assert_array_equal(y, lrs)
    # The LR used is sent the same way, and draws each of its batches' LR.
    assert used.line.shape == "hv"
    x, y = expand_staircase(used.x, used.y)
    np.testing.assert_array_equal(x, steps[:10])
    np.testing.assert_array_equal(y, lrs[:10])


def test_a_batch_whose_lr_strays_is_a_corner_of_the_lr_used():
    steps, lrs = np.arange(1, 1001), np.full(1000, 0.1)
    lrs[500] = 0.2  # one batch off the staircase: it must still be drawn
    fig = figs.lr_figure(steps, lrs, steps, np.full(1000, 0.1))
    used = fig.data[1]
    assert list(used.x) == [1, 501, 502, 1000]
    x, y = expand_staircase(used.x, used.y)
    np.testing.assert_array_equal(x, steps)
    np.testing.assert_array_equal(y, lrs)


@pytest.mark.parametrize("n", [0, 1, 5, figs.MAX_LOSS_POINTS, figs.MAX_LOSS_POINTS + 1, 112_500])
def test_the_loss_chart_draws_a_long_run_from_its_envelope(n):
    """Up to MAX_LOSS_POINTS every batch is drawn; beyond, a subset of the run's own points
    that keeps its first and last batch, its extremes, and each run of points' lowest and
    highest: the picture a chart a thousand pixels wide can show."""
    rng = np.random.default_rng(n)
    steps = np.arange(1, n + 1)
    losses = 2.3 * np.exp(-steps / 3000) + rng.gamma(2.0, 0.05, size=n)
    raw, smoothed = figs.loss_figure(steps, losses, np.full(n, 0.1)).data
    x, y = np.asarray(raw.x, dtype=int), np.asarray(raw.y, dtype=float)
    if n <= figs.MAX_LOSS_POINTS:
        np.testing.assert_array_equal(x, steps)
        np.testing.assert_array_equal(y, losses)
    else:
        assert len(x) <= figs.MAX_LOSS_POINTS + 2 and np.all(np.diff(x) > 0)
        np.testing.assert_array_equal(y, losses[x - 1])  # every point drawn is a batch's own
        assert x[0] == 1 and x[-1] == n
        assert y.min() == losses.min() and y.max() == losses.max()
        # No stretch of the run hides a spike: each 1/200 of it has its extremes drawn.
        for chunk in np.array_split(np.arange(n), 200):
            inside = (x - 1 >= chunk[0]) & (x - 1 <= chunk[-1])
            drawn = y[inside]
            assert drawn.size and drawn.max() >= np.percentile(losses[chunk], 99)
    # The smoothed line is the full run's, taken at the same steps.
    np.testing.assert_array_equal(np.asarray(smoothed.x, dtype=int), x)
    np.testing.assert_array_equal(np.asarray(smoothed.y, dtype=float), figs.smooth(losses)[x - 1])


def test_staircase_corners_of_short_and_flat_lines():
    for n in range(3):
        x, y = figs.staircase_corners(np.arange(n), np.ones(n))
        assert x.tolist() == list(range(n)) and y.tolist() == [1.0] * n
    x, y = figs.staircase_corners(np.arange(1, 101), np.full(100, 0.1))
    assert x.tolist() == [1, 100] and y.tolist() == [0.1, 0.1]


def test_run_pictures_are_the_single_figures_and_the_confusion_only_at_the_end():
    rng = np.random.default_rng(1)
    weights, images = rng.normal(size=(10, 784)), rng.random((300, 784))
    labels = rng.integers(0, 10, 300)
    predictions = np.where(rng.random(300) < 0.8, labels, (labels + 1) % 10)
    live = figs.run_pictures(weights, predictions, images, labels, ended=False)
    assert live.confusion is None
    shown = figs.digits_to_show(labels, predictions)
    assert len(shown) == figs.DIGITS_SHOWN
    assert (predictions[shown[:8]] != labels[shown[:8]]).all()  # mistakes first
    expected = figs.digits_figure(images[shown], predictions[shown], labels[shown], cols=4)
    assert live.digits.to_json() == expected.to_json()
    assert live.weights.to_json() == figs.weights_figure(weights).to_json()
    ended = figs.run_pictures(weights, predictions, images, labels, ended=True)
    assert ended.confusion.to_json() == figs.confusion_figure(labels, predictions).to_json()


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


def test_experiment_figures_are_valid_plotly_and_mark_the_decays():
    import pandas as pd

    from steplr_viz.classroom import experiments
    from steplr_viz.figures import experiments as exp_figs

    rows = [
        (
            "gamma=0.1",
            seed,
            "r",
            e,
            1.0 / e,
            1e-3 * 0.1 ** ((e - 1) // 2),
            0.5 / e,
            80 + e + seed,
            1.0,
        )
        for seed in (0, 1)
        for e in (1, 2, 3)
    ]
    points = pd.DataFrame(rows, columns=experiments.POINT_COLUMNS)
    points["arm"] = pd.Categorical(points["arm"])
    band = experiments.bands(points)
    decays = experiments.arm_decays(band)
    assert decays == {"gamma=0.1": [3]}
    fig = exp_figs.band_figure(band, "test_acc", title="t", y_title="%", decays=decays)
    validated(fig)
    assert [s.x0 for s in fig.layout.shapes] == [2.5]
    mean = next(t for t in fig.data if t.name == "gamma=0.1")
    assert list(mean.y) == [81.5, 82.5, 83.5]
    steps = np.arange(1, 7)
    validated(exp_figs.arm_lr_figure([("gamma=0.1", steps, np.repeat([1e-3, 1e-4], 3))]))


def test_the_per_batch_hover_counts_batches_from_1_as_the_texts_do():
    """Torch stepped per batch on the seed's schedule: the LR is 0.0 from the 643rd batch; the
    hover names that batch 643, as the lab's table and the presenter's step 4 do."""
    import torch

    from steplr_viz import lab
    from steplr_viz.figures import lab as lab_figures

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
    used = []
    for _ in range(938):
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    fig = lab_figures.stepping_figure(lab.per_batch_stepping(0.001, 0.1, 2, 2, 938))
    per_batch = next(t for t in fig.data if t.name == lab_figures.PER_BATCH)
    numbers = list(per_batch.customdata)
    assert numbers[0] == 1 and "(from 1)" in per_batch.hovertemplate
    first_zero = used.index(0.0)
    assert numbers[first_zero] == 643 and per_batch.y[first_zero] == 0.0
