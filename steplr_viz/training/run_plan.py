"""What a training config implies before and around its run: its data, batches, planned LRs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from steplr_viz.config import TrainConfig
from steplr_viz.schedules import steplr as schedule
from steplr_viz.schedules.choices import SCHEDULER_NAMES, predicted_lr_curve, prediction_note
from steplr_viz.store.run_view import RunView
from steplr_viz.training.data import FULL_TRAIN_SIZE, DataError, full_data_present, load_mnist


def needs_download(config: TrainConfig) -> bool:
    """The config asks for full MNIST and its files are not in the data folder."""
    return config.data_source == "full" and not full_data_present()


def data_problem(config: TrainConfig) -> str | None:
    """Why this config's data cannot be used, in plain words; None when it can."""
    if not needs_download(config):
        return None
    try:
        load_mnist("full")
    except DataError as err:
        return str(err)
    return None


def config_batches_per_epoch(config: TrainConfig) -> int:
    """Batches in one epoch of this config's data (full MNIST's count if it is not here yet)."""
    try:
        n_train = load_mnist(config.data_source).n_train
    except DataError:
        n_train = FULL_TRAIN_SIZE  # full MNIST's count; the error itself shows on Start
    return schedule.batches_per_epoch(n_train, config.batch_size)


def run_batches_per_epoch(view: RunView) -> int:
    """Batches per epoch of a run: as its trainer counted them, else from its config's data."""
    return view.batches_per_epoch or config_batches_per_epoch(view.config)


def predicted_lrs(
    config: TrainConfig, batches_per_epoch: int, test_losses: tuple[float, ...] | None = None
) -> np.ndarray:
    """The LR each optimizer step of this run should use (StepLR by the closed form).

    `test_losses`, a run's per-epoch test losses so far, let ReduceLROnPlateau's prediction
    replay the decays the run has shown.
    """
    per_batch = config.scheduler_step == "batch"
    if config.scheduler != "steplr":  # the other schedules: recorded from torch itself
        curve = predicted_lr_curve(
            config, batches_per_epoch=batches_per_epoch, test_losses=test_losses
        )
        return curve if per_batch else np.repeat(curve, batches_per_epoch)
    return schedule.lr_per_step(
        config.lr,
        config.gamma,
        config.step_size,
        config.epochs,
        batches_per_epoch,
        per_batch=per_batch,
    )


@dataclass(frozen=True)
class SchedulePlan:
    """The schedule a config will follow: per optimizer step, and per epoch t = 0, 1, ..."""

    batches_per_epoch: int
    steps: np.ndarray  # optimizer steps 1 .. epochs * batches_per_epoch
    lrs: np.ndarray  # the LR each of those steps uses
    epoch_lrs: np.ndarray  # η_t for t = 0 .. epochs - 1 (the seed's "Epoch t + 1")


def schedule_plan(config: TrainConfig) -> SchedulePlan:
    """What the predicted chart and its caption show before Start."""
    bpe = config_batches_per_epoch(config)
    lrs = predicted_lrs(config, bpe)
    if config.scheduler == "steplr":
        epoch_lrs = schedule.lr_curve(config.lr, config.gamma, config.step_size, config.epochs)
    else:
        epoch_lrs = lrs[::bpe]  # the LR each epoch starts with
    return SchedulePlan(
        batches_per_epoch=bpe,
        steps=np.arange(1, len(lrs) + 1),
        lrs=lrs,
        epoch_lrs=epoch_lrs,
    )


def predicted_label(config: TrainConfig) -> str:
    """The predicted curve's name in a legend: the formula for StepLR, else torch's scheduler."""
    if config.scheduler == "steplr":
        return "predicted η₀·γ^⌊t/s⌋"
    return f"predicted ({SCHEDULER_NAMES[config.scheduler]})"


def plan_caption(config: TrainConfig, plan: SchedulePlan, shown_epochs: int = 8) -> str:
    """The words under the predicted chart: batches per epoch and the LR of each epoch."""
    bpe = plan.batches_per_epoch
    note = prediction_note(config)
    tail = f" {note}" if note else ""
    if config.scheduler_step == "batch" and config.scheduler == "steplr":
        return (
            f"{bpe} batches per epoch, and step_size = {config.step_size} now counts batches: "
            f"the LR is multiplied by {config.gamma:g} every {config.step_size} batches."
        )
    name = SCHEDULER_NAMES[config.scheduler]
    if config.scheduler_step == "batch":
        return f"{bpe} batches per epoch; {name} steps after each batch.{tail}"
    shown = plan.epoch_lrs[:shown_epochs]
    per_epoch = ", ".join(f"Epoch {t + 1} (t = {t}): {lr:g}" for t, lr in enumerate(shown))
    more = " …" if len(plan.epoch_lrs) > len(shown) else ""
    return f"{bpe} batches per epoch. {name}: LR {per_epoch}{more}.{tail}"


def evaluation_digits(config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """The test digits and labels this config's run is evaluated on."""
    data = load_mnist(config.data_source)
    return data.test_x.numpy(), data.test_y.numpy()
