"""One read-only view of a run, live (from a trainer) or stored (what the run store returns)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter

import numpy as np
import pandas as pd

from steplr_viz.config import TrainConfig
from steplr_viz.store.caching import LatestPerRun
from steplr_viz.training.metrics import (
    BATCH_COLUMNS,
    EPOCH_COLUMNS,
    FINISHED,
    INT_COLUMNS,
    TERMINAL_STATUSES,
    EpochPoint,
    Snapshot,
)

# How often a page redraws a live run (queued, running or paused): once a second, as the issue
# asks, whatever the status, so a queued run that starts or a resumed one shows at once. A poll
# that finds nothing new is cheap: the tables and charts are built once per state of the run
# (RUN_TABLES here, steplr_viz.figures.cache) and every later poll reuses them.
POLL_SECONDS = 1.0

# Live runs' tables, one entry per watched run: a class of a few dozen students keeps each one's
# run in here. The largest run the page allows (30 epochs of 3,750 batches) holds a few MB.
RUN_TABLES: LatestPerRun = LatestPerRun(maxsize=64)


def points_frame(points: Sequence[object], columns: list[str]) -> pd.DataFrame:
    """A table of dataclass points, one row each, one column per field named.

    Built column by column from the points' attributes: a live page builds a run's table on
    every poll, and this is 3x faster than a frame from row tuples at tens of thousands of rows.
    """
    n = len(points)
    return pd.DataFrame(
        {
            name: np.fromiter(
                map(attrgetter(name), points), np.int64 if name in INT_COLUMNS else float, n
            )
            for name in columns
        },
        columns=columns,
    )


def poll_seconds(status: str, poll: float = POLL_SECONDS) -> float | None:
    """Seconds between redraws of a run with this status; None once it has ended (no polling)."""
    return None if status in TERMINAL_STATUSES else poll


def snapshot_tables(snap: Snapshot) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A snapshot's batch and epoch points as tables (BATCH_COLUMNS, EPOCH_COLUMNS)."""
    return points_frame(snap.batches, BATCH_COLUMNS), points_frame(snap.epochs, EPOCH_COLUMNS)


def snapshot_state(snap: Snapshot) -> tuple:
    """What names a snapshot's points: counts and last points (a run only appends points)."""
    return len(snap.batches), len(snap.epochs), snap.batches[-1:], snap.epochs[-1:]


@dataclass(frozen=True)
class RunView:
    """What a page draws for one run: config, status, progress and the metric tables."""

    run_id: str
    config: TrainConfig
    status: str
    error: str | None
    batches: pd.DataFrame  # BATCH_COLUMNS
    epochs: pd.DataFrame  # EPOCH_COLUMNS
    epoch: int = 0
    batch_in_epoch: int = 0
    batches_per_epoch: int = 0
    total_batches: int = 0
    samples_per_sec: float = 0.0
    elapsed: float = 0.0
    progress: float = 0.0
    weights: np.ndarray | None = field(default=None, compare=False)
    test_predictions: np.ndarray | None = field(default=None, compare=False)
    # Known for a stored run (aware UTC datetimes); None while the time has not come.
    created: datetime | None = None
    started: datetime | None = None
    finished: datetime | None = None
    started_by: str | None = None  # the browser that started the run, where the store knows it

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def final_acc(self) -> float | None:
        """Test accuracy (percent) after the last finished epoch, None before the first."""
        return None if self.epochs.empty else float(self.epochs["test_acc"].iloc[-1])

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far; None until there is a pace to go by."""
        if self.ended or self.progress <= 0 or self.elapsed <= 0:
            return None
        return self.elapsed * (1 - self.progress) / self.progress

    @property
    def points_state(self) -> tuple:
        """What names the tables' content: row counts and last rows (a run only appends)."""
        b, e = self.batches, self.epochs
        last_batch = tuple(b.iloc[-1].tolist()) if len(b) else ()
        last_epoch = tuple(e.iloc[-1].tolist()) if len(e) else ()
        return len(b), len(e), last_batch, last_epoch

    @classmethod
    def from_snapshot(
        cls,
        run_id: str,
        snap: Snapshot,
        tables: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    ) -> RunView:
        """A view of a live (or just ended) run; `tables` are its points if already built."""
        batches, epochs = snapshot_tables(snap) if tables is None else tables
        return cls(
            run_id=run_id,
            config=snap.config,
            status=snap.status,
            error=snap.error,
            batches=batches,
            epochs=epochs,
            epoch=snap.epoch,
            batch_in_epoch=snap.batch_in_epoch,
            batches_per_epoch=snap.batches_per_epoch,
            total_batches=snap.total_batches,
            samples_per_sec=snap.samples_per_sec,
            elapsed=snap.elapsed,
            progress=snap.progress,
            weights=snap.weights,
            test_predictions=snap.test_predictions,
        )

    @classmethod
    def stored(cls, config: TrainConfig, status: str, epochs: pd.DataFrame, **fields) -> RunView:
        """A view of a stored run (no weights or predictions: the store keeps numbers only).

        `fields` are the rest as stored: run_id, error, batches, started_by and the times. A
        live run trained by another app server is drawn from here too: its progress counts the
        stored batches once an epoch has shown how many batches an epoch has.
        """
        done = len(epochs)
        batches = fields.get("batches")
        progress = 1.0 if status == FINISHED else done / config.epochs
        epoch, in_epoch, per_epoch = done, 0, 0
        if status not in TERMINAL_STATUSES and batches is not None and len(batches):
            batch_epochs = batches["epoch"]
            epoch = int(batch_epochs.iloc[-1])
            in_epoch = int((batch_epochs == epoch).sum())
            if done:
                per_epoch = int((batch_epochs == int(epochs["epoch"].iloc[0])).sum())
                progress = min(1.0, len(batches) / (per_epoch * config.epochs))
        return cls(
            config=config,
            status=status,
            epochs=epochs,
            epoch=epoch,
            batch_in_epoch=in_epoch,
            batches_per_epoch=per_epoch,
            total_batches=per_epoch * config.epochs,
            elapsed=float(epochs["seconds"].sum()) if done else 0.0,
            progress=progress,
            **fields,
        )

    @property
    def loss_this_epoch(self) -> float:
        """Mean loss of the last batch's epoch so far; NaN before the first batch."""
        b = self.batches
        if not len(b):
            return float("nan")
        return float(b.loc[b["epoch"] == b["epoch"].iloc[-1], "loss"].mean())

    @property
    def previous_epoch_loss(self) -> float:
        """Mean training loss of the epoch before the last batch's epoch; NaN if there is none."""
        if not len(self.batches):
            return float("nan")
        before = self.epochs[self.epochs["epoch"] == self.batches["epoch"].iloc[-1] - 1]
        return float(before["train_loss"].iloc[0]) if len(before) else float("nan")

    @property
    def epoch_log(self) -> str:
        """The seed script's printout of the finished epochs, line for line."""
        return "\n".join(
            EpochPoint(**row).seed_lines() for row in self.epochs[EPOCH_COLUMNS].to_dict("records")
        )


def snapshot_view(run_id: str, snap: Snapshot) -> RunView:
    """A live run's view; its tables are built again only when the run has new points."""
    tables = RUN_TABLES.get(run_id, snapshot_state(snap), lambda: snapshot_tables(snap))
    return RunView.from_snapshot(run_id, snap, tables=tables)


def run_label(config: TrainConfig) -> str:
    """How a run is named in legends: the hyperparameters a class compares."""
    return f"lr={config.lr:g}, γ={config.gamma:g}, s={config.step_size}"


def run_labels(runs: Sequence[tuple[str, TrainConfig]]) -> list[str]:
    """Legend labels for (run id, config) pairs drawn together, no two alike.

    Each is run_label; runs that share one also name the settings that tell them apart
    (optimizer, seed, ...), and runs alike in every setting their short run ids.
    """
    labels = [run_label(config) for _, config in runs]
    labels = _disambiguate(labels, [config for _, config in runs], _differing_settings)
    return _disambiguate(labels, [run_id for run_id, _ in runs], lambda ids, i: [f"#{ids[i][:6]}"])


def _disambiguate(
    labels: list[str], items: list, extra: Callable[[list, int], list[str]]
) -> list[str]:
    """Each label that several items share, with extra(those items, this one's place) added."""
    out = []
    for i, label in enumerate(labels):
        group = [j for j, other in enumerate(labels) if other == label]
        if len(group) == 1:
            out.append(label)
        else:
            out.append(", ".join([label, *extra([items[j] for j in group], group.index(i))]))
    return out


def _differing_settings(configs: list[TrainConfig], i: int) -> list[str]:
    """The settings in which configs[i] differs from the others, as name=value."""
    names = [f.name for f in fields(TrainConfig)]
    return [
        f"{name}={getattr(configs[i], name)}"
        for name in names
        if len({getattr(c, name) for c in configs}) > 1
    ]
