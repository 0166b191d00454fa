"""Per epoch or per batch: the same step_size counted in batches instead of epochs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from steplr_viz.lab import common
from steplr_viz.schedules import steplr as schedule
from steplr_viz.training import data
from steplr_viz.validation import check_int

# The seed's loader: DataLoader(datasets.MNIST(train=True), batch_size=64, shuffle=True).
SEED_BATCH_SIZE = 64
MNIST_TRAIN_SIZE = data.FULL_TRAIN_SIZE  # the seed's loader reads the full training split
MAX_BATCH_EPOCHS = 10


def batch_number(index: int) -> int:
    """A batch as every page names it: counted from 1 (index 0 is batch 1), as the training
    page's step axis and the seed's "Epoch 1" count; epochs in the formula stay t, from 0."""
    return int(index) + 1


def batches_per_epoch(n_samples: int, batch_size: int = SEED_BATCH_SIZE) -> int:
    """len(DataLoader) for n_samples at the seed's batch size (drop_last=False, as in the seed)."""
    return schedule.batches_per_epoch(n_samples, batch_size)


@lru_cache(maxsize=1)
def bundled_train_size() -> int | None:
    """Training digits in the bundled MNIST subset (None if that data cannot be read)."""
    # Counted from the split itself: a fraction of a second, once per process.
    try:
        return data.load_mnist("bundled").n_train
    except data.DataError:
        return None  # the lab still teaches with full MNIST's count; the data page explains


def loaders() -> dict[str, tuple[str, int]]:
    """The training sets to compare: label and number of training digits."""
    found = {"full": ("full MNIST, the seed's loader", MNIST_TRAIN_SIZE)}
    bundled = bundled_train_size()
    if bundled is not None:
        found["bundled"] = ("bundled subset", bundled)
    return found


@dataclass(frozen=True)
class Stepping:
    """StepLR stepped once per epoch against once per batch, with the same step_size."""

    batches_per_epoch: int
    per_epoch: tuple[float, ...]  # LR of each epoch (constant within the epoch)
    per_batch: tuple[float, ...]  # LR of each batch, epochs * batches_per_epoch values
    low_fraction: float

    def first_low_batch(self) -> int | None:
        """First global batch (from 0) whose per-batch LR is at most low_fraction · η₀."""
        return _first_at_most(self.per_batch, self.low_fraction * self.per_batch[0])

    def first_low_epoch(self) -> int | None:
        """First epoch t whose per-epoch LR is at most low_fraction · η₀."""
        return _first_at_most(self.per_epoch, self.low_fraction * self.per_epoch[0])

    def first_zero_batch(self) -> int | None:
        """First global batch at which the per-batch LR underflowed to exactly 0.0."""
        zeros = np.flatnonzero(np.asarray(self.per_batch) == 0.0)
        return int(zeros[0]) if zeros.size else None

    def start_of_epoch(self, epoch: int) -> tuple[float, float]:
        """(per-epoch LR, per-batch LR) at the first batch of `epoch`."""
        return self.per_epoch[epoch], self.per_batch[epoch * self.batches_per_epoch]


def _first_at_most(values: tuple[float, ...], threshold: float) -> int | None:
    """ "At most" as the explorer counts it: exact arithmetic's 1 % (0.1 · 0.1 of η₀) is 1 %,
    whichever way torch's chained multiplications rounded it."""
    at_most = np.flatnonzero(np.asarray(values) <= threshold * (1 + schedule.LOW_TOLERANCE))
    return int(at_most[0]) if at_most.size else None


def per_batch_stepping(
    base_lr: float, gamma: float, step_size: int, epochs: int, n_batches: int
) -> Stepping:
    """Simulate both stepping habits for `epochs` epochs of `n_batches` batches each."""
    base_lr, gamma, step_size = common.check_schedule(base_lr, gamma, step_size)
    epochs = check_int("epochs", epochs, low=2, high=MAX_BATCH_EPOCHS)
    n_batches = check_int("n_batches", n_batches, low=1, high=10_000)
    return _per_batch_stepping(base_lr, gamma, step_size, epochs, n_batches)


@lru_cache(maxsize=32)  # up to 2 x 9,380 floats each
def _per_batch_stepping(
    base_lr: float, gamma: float, step_size: int, epochs: int, n_batches: int
) -> Stepping:
    optimizer, scheduler = common.fresh_step_lr(base_lr, gamma, step_size)
    per_epoch = []
    for _ in range(epochs):
        per_epoch.append(common.current_lr(optimizer))
        for _ in range(n_batches):
            optimizer.step()
        scheduler.step()  # the seed's placement: once, after the epoch
    # scheduler.step() after every batch:
    per_batch = common.step_lr_curve(base_lr, gamma, step_size, epochs * n_batches)
    return Stepping(n_batches, tuple(per_epoch), tuple(per_batch), schedule.LOW_FRACTION)
