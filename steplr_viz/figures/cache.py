"""A small process-wide cache of finished figures, shared by every session (no Streamlit here).

A live page redraws every second, but some of its figures only change when an epoch ends; each
is built once per key and then reused. A cached figure is handed to many sessions at once, so
it must never be mutated after it is built: st.plotly_chart only reads it (it serialises a
deep copy, `figure.to_dict()`), and nothing in the pages changes a figure after building it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from steplr_viz.data import load_mnist
from steplr_viz.figures import training as figs

if TYPE_CHECKING:
    from steplr_viz.figures.training import RunPictures
    from steplr_viz.run_view import RunView

T = TypeVar("T")

__all__ = ["FigureCache", "RUN_PICTURES", "view_pictures"]


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
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
            return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


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
