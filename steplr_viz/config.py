"""A run's settings, checked: TrainConfig and its choices (below the schedules and the trainer)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from steplr_viz.validation import (
    MAX_STEP_SIZE,
    check_experiment_id,
    check_float,
    check_gamma,
    check_int,
    check_milestones,
    check_step_size,
)

OPTIMIZERS = ("adam", "sgd")
SCHEDULER_STEPS = ("epoch", "batch")
DATA_SOURCES = ("bundled", "full", "auto")
MAX_TRAIN_EPOCHS = 100  # a live class run; the schedule pages allow longer horizons
MAX_BATCH_SIZE = 4096
MAX_SEED = 2**31 - 1
# The scheduler names a config accepts; schedules/choices.py builds each one.
SCHEDULERS = (
    "steplr",
    "constant",
    "multistep",
    "exponential",
    "cosine",
    "plateau",
    "warmup_steplr",
)

__all__ = [
    "DATA_SOURCES",
    "MAX_BATCH_SIZE",
    "MAX_SEED",
    "MAX_TRAIN_EPOCHS",
    "OPTIMIZERS",
    "SCHEDULERS",
    "SCHEDULER_STEPS",
    "TrainConfig",
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
    # Scheduler choice (steplr_viz/schedulers.py); counts are in scheduler steps (epochs).
    scheduler: str = "steplr"  # seed: StepLR | constant | multistep | exponential | cosine | ...
    milestones: tuple[int, ...] = (3,)  # MultiStepLR: the LR is multiplied by γ at these
    warmup_epochs: int = 1  # warmup_steplr: LinearLR η₀/3 -> η₀, then StepLR, its decays later
    patience: int = 1  # plateau: × γ after patience + 1 epochs not beating the best by 0.01 %
    experiment: str = ""  # id of the experiment the run belongs to; "" for a single run

    def __post_init__(self) -> None:
        # JSON gives the milestones back as a list: keep equality with the stored config.
        if isinstance(self.milestones, list):
            self.milestones = tuple(self.milestones)

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
        self.scheduler = _check_choice("scheduler", self.scheduler, SCHEDULERS)
        self.milestones = check_milestones(self.milestones)
        self.warmup_epochs = check_int(
            "warmup_epochs", self.warmup_epochs, low=1, high=MAX_STEP_SIZE
        )
        self.patience = check_int("patience", self.patience, low=0, high=MAX_STEP_SIZE)
        self.experiment = check_experiment_id(self.experiment)
        if self.scheduler == "plateau" and self.scheduler_step != "epoch":
            raise ValueError(
                "scheduler_step must be epoch for plateau: ReduceLROnPlateau steps on each "
                "epoch's test loss"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping, ignoring unknown keys (missing keys take the defaults)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
