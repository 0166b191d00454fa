"""The live training page's figures, built once per state of a run and shared (no Streamlit).

A live page redraws every second, but what it draws only changes when the run has new points
(its charts) or ends an epoch (its pictures); each is built once for that state and then reused,
so a paused or queued run's poll builds nothing (see steplr_viz.caching on sharing them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from steplr_viz.figures import training as figs
from steplr_viz.store.caching import LatestPerRun, SharedCache
from steplr_viz.training.run_plan import predicted_label, predicted_lrs

if TYPE_CHECKING:
    from steplr_viz.figures.training import RunCharts, RunPictures
    from steplr_viz.store.run_view import RunView

__all__ = ["RUN_CHARTS", "RUN_PICTURES", "view_charts", "view_pictures"]

# Live runs' charts, one entry per watched run (see RUN_TABLES in steplr_viz.run_view).
RUN_CHARTS: LatestPerRun = LatestPerRun(maxsize=64)

# Live runs' pictures (weights, digits, confusion matrix), one entry per run and epoch: a class
# of a few dozen students watching their own runs keeps every watched run's entry in here.
RUN_PICTURES: SharedCache = SharedCache(maxsize=64)


def view_pictures(view: RunView, test_x: np.ndarray, test_y: np.ndarray) -> RunPictures:
    """A run's pictures, built once per finished epoch and shared by every poll and session.

    The weights and predictions change only when an epoch ends, so (run, epochs done, ended)
    names them; test_x and test_y are the digits its predictions are for. The caller checks
    that the view has weights and predictions.
    """

    def build() -> RunPictures:
        return figs.run_pictures(
            view.weights, view.test_predictions, test_x, test_y, ended=view.ended
        )

    return RUN_PICTURES.get((view.run_id, len(view.epochs), view.ended), build)


def _plateau_losses(view: RunView) -> tuple[float, ...] | None:
    """A plateau run's test losses so far: its prediction replays the decays they caused."""
    if view.config.scheduler != "plateau":
        return None
    return tuple(view.epochs["test_loss"].tolist())


def view_charts(view: RunView, batches_per_epoch: int) -> RunCharts:
    """A run's live charts, built once per state of its points and shared by every poll."""

    def build() -> RunCharts:
        b, e = view.batches, view.epochs
        return figs.run_charts(
            b["step"].to_numpy(),
            b["loss"].to_numpy(),
            b["lr"].to_numpy(),
            predicted_lrs(view.config, batches_per_epoch, _plateau_losses(view)),
            {name: e[name].to_numpy() for name in ("epoch", "test_acc", "test_loss", "train_loss")},
            predicted_name=predicted_label(view.config),
        )

    return RUN_CHARTS.get(view.run_id, (view.points_state, batches_per_epoch), build)
