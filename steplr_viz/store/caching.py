"""Process-wide caches of built values (figures, tables), shared by every session and poll.

A cached value is handed to many sessions at once, so it must never be mutated after it is
built: st.plotly_chart only reads a figure (it serialises a deep copy), and nothing in the pages
changes a figure or a run's table after building it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["SharedCache", "LatestPerRun"]


class SharedCache(Generic[T]):
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


class LatestPerRun(SharedCache[tuple[Hashable, T]]):
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
        value = build()  # outside the lock, as in SharedCache
        with self._lock:
            self.builds += 1
            self._store(run_id, (state, value))
        return value
