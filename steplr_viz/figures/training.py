"""Charts for a training run: loss, the LR used against the prediction, accuracy, pictures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from steplr_viz.figures.style import (
    CLOSED_FORM,
    DECAY,
    MUTED,
    RIGHT,
    SERIES,
    TORCH,
    WRONG,
    layout,
    lr_yaxis,
    new_figure,
    vertical_line,
)

SIDE = 28  # MNIST digits are 28 x 28
GAP = 2  # pixels of blank between tiles
DIGITS_SHOWN = 16  # test digits in the run's pictures


def smooth(values: np.ndarray, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average with bias correction (TensorBoard's smoothing)."""
    values = np.asarray(values, dtype=float)
    # Plain Python floats (the same IEEE doubles, the same operations in the same order):
    # numpy scalars made this loop 3x slower, and it runs over every batch on each live poll.
    keep = 1 - weight
    avg = 0.0
    out = []
    for i, v in enumerate(values.tolist(), start=1):
        avg = weight * avg + keep * v
        out.append(avg / (1 - weight**i))
    return np.array(out, dtype=float)


def staircase_corners(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points a step line (shape "hv") needs to draw exactly the same staircase.

    The first point, each point whose y differs from the one before, and the last point: an
    "hv" line holds each y until the next point's x, so the points in between add nothing.
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(y) <= 2:
        return x, y
    keep = np.empty(len(y), dtype=bool)
    keep[0] = keep[-1] = True
    keep[1:-1] = y[1:-1] != y[:-2]
    return x[keep], y[keep]


# A live chart is under a thousand pixels wide: each poll sends and redraws at most this many
# loss points. A 30-epoch run on full MNIST has 112,500 batches; all of them, every second,
# kept a student's browser one core busy.
MAX_LOSS_POINTS = 2_000


def envelope(values: np.ndarray, max_points: int = MAX_LOSS_POINTS) -> np.ndarray:
    """Indices of the points that draw a long noisy line as it looks: all of them when there are
    at most `max_points`, else the first, the last, and the lowest and highest point of each of
    max_points // 2 equal runs, in order. Every point kept is one of the line's own."""
    values = np.asarray(values)
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    edges = np.linspace(0, n, max_points // 2 + 1).astype(int)
    keep = [0, n - 1]
    for start, stop in zip(edges[:-1], edges[1:], strict=True):
        run = values[start:stop]
        keep += [start + int(np.argmin(run)), start + int(np.argmax(run))]
    return np.unique(keep)


def change_points(x: np.ndarray, lr: np.ndarray) -> np.ndarray:
    """The x values at which the LR differs from the one before (where StepLR decayed)."""
    lr = np.asarray(lr)
    return np.asarray(x)[1:][np.diff(lr) != 0] if len(lr) > 1 else np.asarray([], dtype=int)


def loss_figure(steps: np.ndarray, losses: np.ndarray, lrs: np.ndarray) -> go.Figure:
    """Training loss per batch, raw (faint) and smoothed, with a line wherever the LR decayed.

    A long run is drawn from its envelope (`envelope`): the same picture from a few thousand
    of its points; the smoothed line is taken at the same steps.
    """
    steps, losses = np.asarray(steps), np.asarray(losses)
    smoothed = smooth(losses) if len(losses) else losses
    shown = envelope(losses)
    traces = [
        {
            "type": "scatter",
            "x": steps[shown],
            "y": losses[shown],
            "name": "loss per batch",
            "mode": "lines",
            "line": {"color": MUTED, "width": 1},
            "opacity": 0.45,
            "hovertemplate": "step %{x}<br>loss %{y:.4f}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": steps[shown],
            "y": smoothed[shown],
            "name": "smoothed",
            "mode": "lines",
            "line": {"color": CLOSED_FORM, "width": 2.5},
            "hovertemplate": "step %{x}<br>smoothed %{y:.4f}<extra></extra>",
        },
    ]
    shapes = [vertical_line(x, color=DECAY, width=1.5) for x in change_points(steps, lrs)]
    return new_figure(
        traces,
        layout(
            title="Training loss",
            height=320,
            xaxis={"title": {"text": "batch (optimizer step)"}},
            yaxis={"title": {"text": "cross-entropy"}, "rangemode": "tozero"},
            shapes=shapes,
        ),
    )


def lr_figure(
    steps: np.ndarray,
    lrs_used: np.ndarray,
    predicted_steps: np.ndarray,
    predicted_lrs: np.ndarray,
    *,
    log_y: bool = True,
    predicted_name: str = "predicted η₀·γ^⌊t/s⌋",
) -> go.Figure:
    """The LR the optimizer actually used at each batch, over the predicted staircase.

    Both are drawn from their corners only (`staircase_corners`): the same picture from a few
    points instead of one per batch. A batch whose LR strays from its neighbours' is a corner
    too, so the LR used still shows every such batch.
    """
    corner_steps, corner_lrs = staircase_corners(predicted_steps, predicted_lrs)
    used_steps, used_lrs = staircase_corners(steps, lrs_used)
    traces = [
        {
            "type": "scatter",
            "x": corner_steps,
            "y": corner_lrs,
            "name": predicted_name,
            "mode": "lines",
            "line": {"shape": "hv", "color": CLOSED_FORM, "width": 6},
            "opacity": 0.35,
            "hovertemplate": "step %{x}<br>predicted LR %{y:.6g}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": used_steps,
            "y": used_lrs,
            "name": "LR used (optimizer)",
            "mode": "lines",
            "line": {"shape": "hv", "color": TORCH, "width": 2},
            "hovertemplate": "step %{x}<br>LR used %{y:.6g}<extra></extra>",
        },
    ]
    return new_figure(
        traces,
        layout(
            title="Learning rate",
            height=320,
            xaxis={"title": {"text": "batch (optimizer step)"}},
            yaxis=lr_yaxis(log_y=log_y),
        ),
    )


def epoch_metrics_figure(
    epochs: np.ndarray, test_acc: np.ndarray, test_loss: np.ndarray, train_loss: np.ndarray
) -> go.Figure:
    """Test accuracy (left axis) and test and train loss (right axis) per epoch."""
    marker = {"size": 8}
    traces = [
        {
            "type": "scatter",
            "x": epochs,
            "y": test_acc,
            "name": "test accuracy (%)",
            "mode": "lines+markers",
            "line": {"color": SERIES[1], "width": 3},
            "marker": marker,
            "hovertemplate": "epoch %{x}<br>accuracy %{y:.2f}%<extra></extra>",
        },
        {
            "type": "scatter",
            "x": epochs,
            "y": test_loss,
            "name": "test loss",
            "mode": "lines+markers",
            "yaxis": "y2",
            "line": {"color": SERIES[2], "width": 2},
            "marker": marker,
            "hovertemplate": "epoch %{x}<br>test loss %{y:.4f}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": epochs,
            "y": train_loss,
            "name": "train loss",
            "mode": "lines+markers",
            "yaxis": "y2",
            "line": {"color": MUTED, "width": 2, "dash": "dot"},
            "marker": marker,
            "hovertemplate": "epoch %{x}<br>train loss %{y:.4f}<extra></extra>",
        },
    ]
    return new_figure(
        traces,
        layout(
            title="Accuracy and loss per epoch",
            height=320,
            xaxis={"title": {"text": "epoch"}, "dtick": 1},
            yaxis={"title": {"text": "test accuracy (%)"}},
            yaxis2={"title": {"text": "loss"}, "overlaying": "y", "side": "right"},
        ),
    )


@dataclass(frozen=True)
class RunCharts:
    """A run's live charts: loss per batch, LR used over the prediction, metrics per epoch."""

    loss: go.Figure
    lr: go.Figure
    epochs: go.Figure


def run_charts(
    steps: np.ndarray,
    losses: np.ndarray,
    lrs: np.ndarray,
    predicted_lrs: np.ndarray,
    epochs: dict[str, np.ndarray],
    predicted_name: str = "predicted η₀·γ^⌊t/s⌋",
) -> RunCharts:
    """The three live charts from a run's batch columns, its prediction and its epoch columns.

    `epochs` holds the per-epoch columns "epoch", "test_acc", "test_loss" and "train_loss".
    """
    return RunCharts(
        loss=loss_figure(steps, losses, lrs),
        lr=lr_figure(
            steps,
            lrs,
            np.arange(1, len(predicted_lrs) + 1),
            predicted_lrs,
            predicted_name=predicted_name,
        ),
        epochs=epoch_metrics_figure(
            epochs["epoch"], epochs["test_acc"], epochs["test_loss"], epochs["train_loss"]
        ),
    )


def tile(images: np.ndarray, cols: int) -> np.ndarray:
    """Tile (n, 784) images into one 2-D array, NaN in the gaps (drawn blank)."""
    n = len(images)
    rows = max(1, -(-n // cols))
    grid = np.full((rows * (SIDE + GAP) - GAP, cols * (SIDE + GAP) - GAP), np.nan)
    for i, image in enumerate(np.asarray(images, dtype=float).reshape(n, SIDE, SIDE)):
        r, c = divmod(i, cols)
        grid[
            r * (SIDE + GAP) : r * (SIDE + GAP) + SIDE, c * (SIDE + GAP) : c * (SIDE + GAP) + SIDE
        ] = image
    return grid


def _tile_origin(i: int, cols: int) -> tuple[int, int]:
    r, c = divmod(i, cols)
    return r * (SIDE + GAP), c * (SIDE + GAP)


def _image_layout(title: str, height: int, **extra) -> dict:
    """A layout for a heatmap drawn as a picture: no axes, square pixels, top row first."""
    return layout(
        title=title,
        height=height,
        xaxis={"visible": False, "constrain": "domain"},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
        **extra,
    )


def weights_figure(weights: np.ndarray) -> go.Figure:
    """The 10 learned templates of Linear(784, 10): red pixels vote for a digit, blue against."""
    weights = np.asarray(weights, dtype=float).reshape(10, SIDE * SIDE)
    grid = tile(weights, cols=5)
    limit = float(np.nanmax(np.abs(grid))) or 1.0
    annotations = []
    for digit in range(10):
        top, left = _tile_origin(digit, 5)
        annotations.append(
            {
                "x": left + 1,
                "y": top + 1,
                "text": f"<b>{digit}</b>",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"size": 14, "color": "#111"},
            }
        )
    heatmap = {
        "type": "heatmap",
        "z": grid,
        # Red votes for the digit, blue against, white is indifferent.
        "colorscale": [[0.0, "#2166AC"], [0.5, "#F7F7F7"], [1.0, "#B2182B"]],
        "zmid": 0.0,
        "zmin": -limit,
        "zmax": limit,
        "colorbar": {"title": {"text": "weight"}, "thickness": 12},
        "hovertemplate": "weight %{z:.3f}<extra></extra>",
    }
    return new_figure(
        [heatmap],
        _image_layout(
            "What each output unit learned (weights of Linear(784, 10))",
            360,
            annotations=annotations,
        ),
    )


def digits_figure(
    images: np.ndarray, predictions: np.ndarray, labels: np.ndarray, *, cols: int = 8
) -> go.Figure:
    """Test digits with predicted and true labels; mistakes framed in red."""
    images = np.asarray(images, dtype=float)
    grid = tile(images, cols=cols)
    annotations, shapes = [], []
    for i, (pred, true) in enumerate(zip(predictions, labels, strict=True)):
        top, left = _tile_origin(i, cols)
        wrong = int(pred) != int(true)
        annotations.append(
            {
                "x": left + 0.5,
                "y": top + 0.5,
                "text": f"{int(pred)} (true {int(true)})" if wrong else f"{int(pred)} ✓",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"size": 11, "color": "white"},
                "bgcolor": WRONG if wrong else RIGHT,
                "borderpad": 1,
            }
        )
        if wrong:
            shapes.append(
                {
                    "type": "rect",
                    "x0": left - 0.5,
                    "x1": left + SIDE - 0.5,
                    "y0": top - 0.5,
                    "y1": top + SIDE - 0.5,
                    "line": {"color": WRONG, "width": 3},
                }
            )
    heatmap = {
        "type": "heatmap",
        "z": grid,
        "colorscale": "Greys",
        "zmin": 0.0,
        "zmax": 1.0,
        "showscale": False,
        "hoverinfo": "skip",
    }
    rows = max(1, -(-len(images) // cols))
    return new_figure(
        [heatmap],
        _image_layout(
            "Test digits: prediction (true label)",
            90 + 110 * rows,
            annotations=annotations,
            shapes=shapes,
        ),
    )


def confusion_figure(labels: np.ndarray, predictions: np.ndarray) -> go.Figure:
    """The 10 x 10 confusion matrix of the test set: rows true digit, columns prediction."""
    matrix = confusion_matrix(labels, predictions)
    heatmap = {
        "type": "heatmap",
        "z": matrix,
        "x": [str(d) for d in range(10)],
        "y": [str(d) for d in range(10)],
        "colorscale": "Blues",
        "text": matrix,
        "texttemplate": "%{text}",
        "hovertemplate": "true %{y}, predicted %{x}: %{z}<extra></extra>",
        "showscale": False,
    }
    return new_figure(
        [heatmap],
        layout(
            title="Confusion matrix (test set)",
            height=420,
            xaxis={"title": {"text": "predicted"}, "type": "category", "side": "bottom"},
            yaxis={"title": {"text": "true"}, "type": "category", "autorange": "reversed"},
        ),
    )


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Counts[true, predicted] for the 10 digits."""
    counts = np.zeros((10, 10), dtype=int)
    np.add.at(counts, (np.asarray(labels, dtype=int), np.asarray(predictions, dtype=int)), 1)
    return counts


def digits_to_show(
    labels: np.ndarray, predictions: np.ndarray, shown: int = DIGITS_SHOWN
) -> np.ndarray:
    """A fixed sample of test digits with the model's mistakes first, so students see them."""
    order = np.random.default_rng(0).permutation(len(labels))[: shown * 8]
    wrong = order[predictions[order] != labels[order]]
    right = order[predictions[order] == labels[order]]
    return np.concatenate([wrong[: shown // 2], right])[:shown]


@dataclass(frozen=True)
class RunPictures:
    """A run's pictures after its latest epoch; they change only when an epoch ends."""

    weights: go.Figure
    digits: go.Figure
    confusion: go.Figure | None  # drawn once the run has ended


def run_pictures(
    weights: np.ndarray,
    predictions: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    ended: bool,
) -> RunPictures:
    """The weight templates, a sample of test digits and, at the end, the confusion matrix."""
    shown = digits_to_show(test_labels, predictions)
    return RunPictures(
        weights=weights_figure(weights),
        digits=digits_figure(test_images[shown], predictions[shown], test_labels[shown], cols=4),
        confusion=confusion_figure(test_labels, predictions) if ended else None,
    )


@dataclass(frozen=True)
class RunCurve:
    """One run's curve for a comparison chart, labelled by its hyperparameters."""

    label: str
    x: np.ndarray
    y: np.ndarray


def compare_figure(
    curves: Sequence[RunCurve],
    *,
    title: str,
    x_title: str,
    y_title: str,
    log_y: bool = False,
    step: bool = False,
) -> go.Figure:
    """Overlay several runs' curves, one colour each."""
    traces = [
        {
            "type": "scatter",
            "x": curve.x,
            "y": curve.y,
            "name": curve.label,
            "mode": "lines+markers" if len(curve.x) < 60 else "lines",
            "line": {
                "color": SERIES[i % len(SERIES)],
                "width": 2.5,
                **({"shape": "hv"} if step else {}),
            },
            "hovertemplate": f"{curve.label}<br>%{{x}}: %{{y:.4g}}<extra></extra>",
        }
        for i, curve in enumerate(curves)
    ]
    yaxis = lr_yaxis(log_y=log_y) if log_y else {"type": "linear"}
    yaxis["title"] = {"text": y_title}
    return new_figure(
        traces,
        layout(title=title, height=320, xaxis={"title": {"text": x_title}}, yaxis=yaxis),
    )
