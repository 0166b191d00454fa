"""SharedCache: built once per key, least recently used out first, safe across threads."""

from __future__ import annotations

import threading

import pytest

from steplr_viz.figures.cache import RUN_PICTURES
from steplr_viz.store.caching import SharedCache


def test_a_key_is_built_once_and_the_same_value_comes_back():
    cache: SharedCache[list[int]] = SharedCache(maxsize=4)
    calls = []

    def build() -> list[int]:
        calls.append(1)
        return [len(calls)]

    first = cache.get(("run", 1, False), build)
    assert cache.get(("run", 1, False), build) is first
    assert len(calls) == 1 and cache.builds == 1
    assert cache.get(("run", 2, False), build) == [2]  # a new epoch is a new key
    assert cache.builds == 2


def test_the_least_recently_used_entry_goes_first():
    cache: SharedCache[str] = SharedCache(maxsize=2)
    cache.get("a", lambda: "A")
    cache.get("b", lambda: "B")
    cache.get("a", lambda: "never built")  # "a" is now the most recent
    cache.get("c", lambda: "C")
    assert "a" in cache and "c" in cache and "b" not in cache
    assert len(cache) == 2
    assert cache.get("b", lambda: "B again") == "B again"


def test_sessions_building_one_key_at_once_all_get_the_stored_value():
    cache: SharedCache[object] = SharedCache(maxsize=8)
    barrier = threading.Barrier(6, timeout=30)
    got: list[object] = []

    def session() -> None:
        def build() -> object:
            barrier.wait()  # everyone misses before anyone stores
            return object()

        got.append(cache.get("key", build))

    threads = [threading.Thread(target=session, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(got) == 6 and all(g is got[0] for g in got)
    assert len(cache) == 1


def test_bounds():
    with pytest.raises(ValueError):
        SharedCache(maxsize=0)
    assert RUN_PICTURES.maxsize >= 30  # a class's worth of watched runs
