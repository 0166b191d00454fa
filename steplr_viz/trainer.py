"""Background trainer for the seed's SimpleNet with StepLR: config, statuses, metrics, thread."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from steplr_viz.validation import (
    MAX_STEP_SIZE,
    check_float,
    check_gamma,
    check_int,
    check_step_size,
)

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
ALL_STATUSES = (QUEUED, RUNNING, PAUSED, STOPPED, FINISHED, DIVERGED, FAILED, INTERRUPTED)

OPTIMIZERS = ("adam", "sgd")
SCHEDULER_STEPS = ("epoch", "batch")
DATA_SOURCES = ("bundled", "full", "auto")
MAX_TRAIN_EPOCHS = 100  # a live class run; the schedule pages allow longer horizons
MAX_BATCH_SIZE = 4096
MAX_SEED = 2**31 - 1

__all__ = [
    "ALL_STATUSES",
    "DATA_SOURCES",
    "DIVERGED",
    "FAILED",
    "FINISHED",
    "INTERRUPTED",
    "MAX_BATCH_SIZE",
    "MAX_SEED",
    "MAX_STEP_SIZE",
    "MAX_TRAIN_EPOCHS",
    "OPTIMIZERS",
    "PAUSED",
    "QUEUED",
    "RUNNING",
    "SCHEDULER_STEPS",
    "STOPPED",
    "TERMINAL_STATUSES",
    "BatchPoint",
    "EpochPoint",
    "RunMetrics",
    "Snapshot",
    "TrainConfig",
    "Trainer",
    "set_seed",
]


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return `value` if it is one of `choices`, else raise ValueError naming the field."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


@dataclass
class TrainConfig:
    """One training run's settings; the defaults are the seed script's."""

    optimizer: str = "adam"  # "adam" (seed) | "sgd" (with momentum)
    lr: float = 1e-3  # seed: optim.Adam(lr=0.001)
    momentum: float = 0.9  # SGD only
    step_size: int = 2  # seed: StepLR(step_size=2)
    gamma: float = 0.1  # seed: StepLR(gamma=0.1)
    epochs: int = 5  # seed: epochs = 5
    batch_size: int = 64  # seed: DataLoader(batch_size=64)
    seed: int = 0
    scheduler_step: str = "epoch"  # "epoch" (seed: after each epoch) | "batch"
    data_source: str = "bundled"  # "bundled" | "full" | "auto"

    def validated(self) -> TrainConfig:
        """Check every field (ValueError naming it), normalise numeric types, return self."""
        self.optimizer = _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        self.lr = check_float("lr", self.lr, low=0.0, high=10.0, low_open=True)
        self.momentum = check_float("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        self.step_size = check_step_size(self.step_size)
        self.gamma = check_gamma(self.gamma)
        self.epochs = check_int("epochs", self.epochs, low=1, high=MAX_TRAIN_EPOCHS)
        self.batch_size = check_int("batch_size", self.batch_size, low=1, high=MAX_BATCH_SIZE)
        self.seed = check_int("seed", self.seed, low=0, high=MAX_SEED)
        self.scheduler_step = _check_choice("scheduler_step", self.scheduler_step, SCHEDULER_STEPS)
        self.data_source = _check_choice("data_source", self.data_source, DATA_SOURCES)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping, ignoring unknown keys (missing keys take the defaults)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class BatchPoint:
    """One optimizer step: global 1-based step, 1-based epoch, loss, and the LR used."""

    step: int
    epoch: int
    loss: float
    lr: float


@dataclass(frozen=True)
class EpochPoint:
    """One finished epoch; test_acc in percent; lr is the LR used during the epoch."""

    epoch: int
    train_loss: float
    lr: float
    test_loss: float
    test_acc: float
    seconds: float


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
    samples_per_sec: float = 0.0
    elapsed: float = 0.0
    error: str | None = None
    weights: np.ndarray | None = field(default=None, compare=False)
    test_predictions: np.ndarray | None = field(default=None, compare=False)

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
    """Thread-safe store of a run's metrics; snapshot() returns a copy."""

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
        self.elapsed = 0.0
        self.weights: np.ndarray | None = None
        self.test_predictions: np.ndarray | None = None

    def snapshot(self) -> Snapshot:
        """A consistent copy of the current state."""
        with self._lock:
            sps = self.samples_seen / self.elapsed if self.elapsed > 0 else 0.0
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
                elapsed=self.elapsed,
                error=self.error,
                weights=None if self.weights is None else self.weights.copy(),
                test_predictions=(
                    None if self.test_predictions is None else self.test_predictions.copy()
                ),
            )


def set_seed(seed: int) -> None:
    """Seed torch, numpy and random for one run."""
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Trainer:
    """Trains SimpleNet in a background thread (filled in next)."""

    def __init__(self, config: TrainConfig, data: Any = None, run_id: str | None = None) -> None:
        self.config = config.validated()
        self.run_id = run_id
        self.metrics = RunMetrics(self.config)
