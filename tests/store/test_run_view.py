"""RunView: a live run's tables hold the trainer's points; polling; labels; cached drawing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from steplr_viz.config import TrainConfig
from steplr_viz.figures.cache import RUN_CHARTS, view_charts
from steplr_viz.store.caching import LatestPerRun
from steplr_viz.store.run_view import (
    POLL_SECONDS,
    RUN_TABLES,
    RunView,
    poll_seconds,
    run_labels,
    snapshot_view,
)
from steplr_viz.store.runs import InMemoryRunStore
from steplr_viz.training.metrics import (
    ALL_STATUSES,
    BATCH_COLUMNS,
    EPOCH_COLUMNS,
    PAUSED,
    QUEUED,
    RUNNING,
    TERMINAL_STATUSES,
    BatchPoint,
    EpochPoint,
)
from steplr_viz.training.trainer import Trainer
from tests.plotly_data import expand_staircase


@pytest.fixture(scope="module")
def snapshot():
    """A real run's final snapshot: two bundled epochs in 16 batches."""
    return Trainer(TrainConfig(epochs=2, batch_size=512)).run()


def rows(points, columns) -> pd.DataFrame:
    """The plain way: one tuple per point."""
    return pd.DataFrame([tuple(getattr(p, c) for c in columns) for p in points], columns=columns)


def test_the_tables_equal_the_trainers_points(snapshot):
    view = RunView.from_snapshot("0123456789ab", snapshot)
    assert len(view.batches) == 16 and len(view.epochs) == 2
    pd.testing.assert_frame_equal(view.batches, rows(snapshot.batches, BATCH_COLUMNS))
    pd.testing.assert_frame_equal(view.epochs, rows(snapshot.epochs, EPOCH_COLUMNS))
    assert view.batches["step"].tolist() == list(range(1, 17))
    np.testing.assert_array_equal(view.batches["lr"], [b.lr for b in snapshot.batches])


def test_a_run_with_no_points_yet_has_empty_tables_with_the_columns(snapshot):
    empty = dataclasses.replace(snapshot, batches=(), epochs=())
    view = RunView.from_snapshot("0123456789ab", empty)
    assert list(view.batches.columns) == BATCH_COLUMNS and len(view.batches) == 0
    assert list(view.epochs.columns) == EPOCH_COLUMNS and len(view.epochs) == 0


@pytest.mark.parametrize("status", [QUEUED, RUNNING, PAUSED])
def test_a_live_run_polls_at_least_once_a_second(status):
    assert poll_seconds(status) == POLL_SECONDS <= 1.0


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_an_ended_run_does_not_poll(status):
    assert poll_seconds(status) is None


def test_every_status_is_either_live_or_ended():
    assert {s for s in ALL_STATUSES if poll_seconds(s) is None} == TERMINAL_STATUSES


def test_distinct_runs_keep_their_plain_labels():
    runs = [("a" * 12, TrainConfig(lr=0.01)), ("b" * 12, TrainConfig(gamma=0.5))]
    assert run_labels(runs) == ["lr=0.01, γ=0.1, s=2", "lr=0.001, γ=0.5, s=2"]


def test_runs_sharing_lr_gamma_and_s_are_told_apart_by_what_differs():
    runs = [
        ("a" * 12, TrainConfig()),
        ("b" * 12, TrainConfig(optimizer="sgd")),
        ("c" * 12, TrainConfig(seed=7)),
        ("d" * 12, TrainConfig(lr=0.1)),  # no twin: its label stays plain
    ]
    assert run_labels(runs) == [
        "lr=0.001, γ=0.1, s=2, optimizer=adam, seed=0",
        "lr=0.001, γ=0.1, s=2, optimizer=sgd, seed=0",
        "lr=0.001, γ=0.1, s=2, optimizer=adam, seed=7",
        "lr=0.1, γ=0.1, s=2",
    ]


def test_runs_alike_in_every_setting_are_told_apart_by_their_ids():
    runs = [("0123456789ab", TrainConfig()), ("fedcba987654", TrainConfig())]
    assert run_labels(runs) == ["lr=0.001, γ=0.1, s=2, #012345", "lr=0.001, γ=0.1, s=2, #fedcba"]
    with_sgd = [*runs, ("aaaaaaaaaaaa", TrainConfig(optimizer="sgd"))]
    labels = run_labels(with_sgd)
    assert len(set(labels)) == 3 and labels[2] == "lr=0.001, γ=0.1, s=2, optimizer=sgd"


def test_a_poll_that_finds_nothing_new_builds_nothing(snapshot):
    """A paused (or queued) run's polls reuse its tables and charts; a new point rebuilds."""
    run_id = "00000000beef"
    paused = dataclasses.replace(snapshot, status=PAUSED, batches=snapshot.batches[:10])
    view = snapshot_view(run_id, paused)
    charts = view_charts(view, 8)
    tables, chart_builds = RUN_TABLES.builds, RUN_CHARTS.builds
    for _ in range(3):
        again = snapshot_view(run_id, dataclasses.replace(paused))  # a fresh copy, as a poll
        assert again.batches is view.batches and again.epochs is view.epochs
        assert view_charts(again, 8) is charts
    assert (RUN_TABLES.builds, RUN_CHARTS.builds) == (tables, chart_builds)
    resumed = dataclasses.replace(paused, status=RUNNING, batches=snapshot.batches[:11])
    view = snapshot_view(run_id, resumed)
    assert len(view.batches) == 11 and view_charts(view, 8) is not charts
    assert (RUN_TABLES.builds, RUN_CHARTS.builds) == (tables + 1, chart_builds + 1)


def test_the_cached_charts_draw_the_views_points(snapshot):
    view = snapshot_view("00000000cafe", snapshot)
    charts = view_charts(view, 8)
    loss, lr = charts.loss.data[0], charts.lr.data[1]
    np.testing.assert_array_equal(loss.x, view.batches["step"])
    np.testing.assert_array_equal(loss.y, view.batches["loss"])
    # The LR used is sent as its staircase's corners: drawn, one LR per batch.
    steps, lrs = expand_staircase(lr.x, lr.y)
    np.testing.assert_array_equal(steps, view.batches["step"])
    np.testing.assert_array_equal(lrs, [b.lr for b in snapshot.batches])
    np.testing.assert_array_equal(charts.epochs.data[0].y, view.epochs["test_acc"])


def test_latest_per_run_keeps_one_entry_per_run():
    cache: LatestPerRun[str] = LatestPerRun(maxsize=2)
    assert cache.get("a", 1, lambda: "a1") == "a1"
    assert cache.get("a", 1, lambda: pytest.fail("rebuilt an unchanged state")) == "a1"
    assert cache.get("a", 2, lambda: "a2") == "a2" and len(cache) == 1
    cache.get("b", 1, lambda: "b1")
    cache.get("c", 1, lambda: "c1")  # "a" was used least recently: it goes
    assert len(cache) == 2 and cache.get("a", 2, lambda: "again") == "again"
    assert cache.builds == 5


def test_a_stored_run_reads_as_the_live_one(snapshot):
    """One set of columns: the store's tables equal the trainer's, value and dtype."""
    store = InMemoryRunStore()
    run_id = store.create_run(snapshot.config)
    store.add_batches(run_id, snapshot.batches)
    for point in snapshot.epochs:
        store.add_epoch(run_id, point)
    stored = store.get_run(run_id)
    live = RunView.from_snapshot(run_id, snapshot)
    pd.testing.assert_frame_equal(stored.batches, live.batches)
    pd.testing.assert_frame_equal(stored.epochs, live.epochs)
    assert list(live.batches.columns) == [f.name for f in dataclasses.fields(BatchPoint)]
    assert list(live.epochs.columns) == [f.name for f in dataclasses.fields(EpochPoint)]
    assert stored.epoch_log == live.epoch_log


def test_this_and_the_previous_epochs_loss(snapshot):
    """Mid epoch 2: this epoch's mean so far, and epoch 1's mean as the trainer recorded it."""
    mid_epoch_2 = dataclasses.replace(snapshot, batches=snapshot.batches[:11], epochs=())
    view = RunView.from_snapshot("0123456789ab", mid_epoch_2)
    # Without epoch 1's point there is nothing to compare with.
    assert np.isnan(view.previous_epoch_loss)
    view = RunView.from_snapshot(
        "0123456789ab", dataclasses.replace(mid_epoch_2, epochs=snapshot.epochs[:1])
    )
    assert view.loss_this_epoch == pytest.approx(np.mean([b.loss for b in snapshot.batches[8:11]]))
    assert view.previous_epoch_loss == snapshot.epochs[0].train_loss
    first = RunView.from_snapshot(
        "0123456789ab", dataclasses.replace(snapshot, batches=(), epochs=())
    )
    assert np.isnan(first.loss_this_epoch) and np.isnan(first.previous_epoch_loss)


def test_the_epoch_log_is_the_seeds_printout(snapshot):
    view = RunView.from_snapshot("0123456789ab", snapshot)
    lines = view.epoch_log.splitlines()
    assert len(lines) == 4
    for point, (loss_line, acc_line) in zip(snapshot.epochs, [lines[:2], lines[2:]], strict=True):
        assert loss_line == (
            f"Epoch {point.epoch}, Loss: {point.train_loss:.4f}, LR: {point.lr:.6f}"
        )
        assert acc_line == f"Test Accuracy: {point.test_acc:.2f}%"
