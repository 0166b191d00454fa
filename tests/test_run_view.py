"""RunView: a live run's tables hold exactly the trainer's points, row for row."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from steplr_viz.run_view import BATCH_COLUMNS, EPOCH_COLUMNS, RunView
from steplr_viz.trainer import TrainConfig, Trainer


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
