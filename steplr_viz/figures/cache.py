"""Small process-wide caches of built figures and tables, shared by every session (no Streamlit).

A live page redraws every second, but what it draws only changes when the run has new points
(its charts and tables) or ends an epoch (its pictures); each is built once for that state and
then reused, so a paused or queued run's poll builds nothing. A cached figure or table is handed
to many sessions at once, so it must never be mutated after it is built: st.plotly_chart only
reads a figure (it serialises a deep copy, `figure.to_dict()`), and nothing in the pages changes
a figure or a run's table after building it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from steplr_viz.data import load_mnist
from steplr_viz.figures import training as figs
from steplr_viz.run_view import RunView, predicted_lrs, snapshot_state, snapshot_tables

if TYPE_CHECKING:
    from steplr_viz.figures.training import RunCharts, RunPictures
    from steplr_viz.trainer import Snapshot

T = TypeVar("T")

__all__ = [
    "FigureCache",
    "LatestPerRun",
    "RUN_CHARTS",
    "RUN_PICTURES",
    "RUN_TABLES",
    "snapshot_view",
    "view_charts",
    "view_pictures",
]


class FigureCache(Generic[T]):
    """A thread-safe least-recently-used map from a key to a built value, at most maxsize."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # how many times a value had to be built (a miss)

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value cached under key, else build() it, cache it and return it."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        # Built outside the lock, so one slow build holds up no other session; if two sessions
        # build the same key at once, both results are equal and the first one stored is kept.
        value = build()
        with self._lock:
            self.builds += 1
            value = self._items.setdefault(key, value)
            self._store(key, value)
            return value

    def _store(self, key: Hashable, value: T) -> None:
        """Put value under key as the most recently used; drop the least recent beyond maxsize.

        Call with the lock held.
        """
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class LatestPerRun(FigureCache[tuple[Hashable, T]]):
    """Per run, the value built for its latest state: reused until the state changes.

    One entry per run (at most maxsize runs, least recently used out first), not one per state:
    a live run's earlier states are never drawn again, and its tables and charts grow with it.
    """

    def get(self, run_id: str, state: Hashable, build: Callable[[], T]) -> T:  # type: ignore[override]
        """The value built for this run in this state, else build() it and keep it instead."""
        with self._lock:
            entry = self._items.get(run_id)
            if entry is not None and entry[0] == state:
                self._items.move_to_end(run_id)
                return entry[1]
        value = build()  # outside the lock, as in FigureCache
        with self._lock:
            self.builds += 1
            self._store(run_id, (state, value))
        return value


# Live runs' tables and charts, one entry per watched run: a class of a few dozen students keeps
# each one's run in here. The largest run the page allows (30 epochs of 3,750 batches) holds a
# few MB in each.
RUN_TABLES: LatestPerRun = LatestPerRun(maxsize=64)
RUN_CHARTS: LatestPerRun = LatestPerRun(maxsize=64)

# Live runs' pictures (weights, digits, confusion matrix), one entry per run and epoch: a class
# of a few dozen students watching their own runs keeps every watched run's entry in here.
RUN_PICTURES: FigureCache = FigureCache(maxsize=64)


def view_pictures(view: RunView) -> RunPictures:
    """A run's pictures, built once per finished epoch and shared by every poll and session.

    The weights and predictions change only when an epoch ends, so (run, epochs done, ended)
    names them. The caller checks that the view has weights and predictions.
    """

    def build() -> RunPictures:
        data = load_mnist(view.config.data_source)
        return figs.run_pictures(
            view.weights,
            view.test_predictions,
            data.test_x.numpy(),
            data.test_y.numpy(),
            ended=view.ended,
        )

    return RUN_PICTURES.get((view.run_id, len(view.epochs), view.ended), build)


def snapshot_view(run_id: str, snap: Snapshot) -> RunView:
    """A live run's view; its tables are built again only when the run has new points."""
    tables = RUN_TABLES.get(run_id, snapshot_state(snap), lambda: snapshot_tables(snap))
    return RunView.from_snapshot(run_id, snap, tables=tables)


def view_charts(view: RunView, batches_per_epoch: int) -> RunCharts:
    """A run's live charts, built once per state of its points and shared by every poll."""

    def build() -> RunCharts:
        b, e = view.batches, view.epochs
        return figs.run_charts(
            b["step"].to_numpy(),
            b["loss"].to_numpy(),
            b["lr"].to_numpy(),
            predicted_lrs(view.config, batches_per_epoch),
            {name: e[name].to_numpy() for name in ("epoch", "test_acc", "test_loss", "train_loss")},
        )

    return RUN_CHARTS.get(view.run_id, (view.points_state, batches_per_epoch), build)
