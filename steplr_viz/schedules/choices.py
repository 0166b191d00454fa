"""The LR schedules a run may use: real torch.optim.lr_scheduler objects and their predicted curves.

Every choice is a torch scheduler built from a TrainConfig and stepped as the seed steps StepLR:
once per epoch after the batch loop (or after each optimizer step when scheduler_step is
"batch"); ReduceLROnPlateau is stepped on the epoch's test loss.
"""

from __future__ import annotations

import inspect
from functools import lru_cache

import numpy as np
import torch
from torch.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

from steplr_viz.config import SCHEDULERS, TrainConfig
from steplr_viz.schedules.lr_holder import LrHolder
from steplr_viz.schedules.steplr import decay_epochs
from steplr_viz.validation import check_milestones

# What each choice is, in torch's words (for labels and help texts).
SCHEDULER_NAMES = {
    "steplr": "StepLR",
    "constant": "ConstantLR (factor 1)",
    "multistep": "MultiStepLR",
    "exponential": "ExponentialLR",
    "cosine": "CosineAnnealingLR",
    "plateau": "ReduceLROnPlateau",
    "warmup_steplr": "LinearLR warm-up + StepLR (SequentialLR)",
}
# LinearLR's own default: the warm-up starts at η₀/3 and reaches η₀ after warmup_epochs.
WARMUP_START_FACTOR = 1.0 / 3.0
PLATEAU_NOTE = (
    "ReduceLROnPlateau decays only when the test loss stops improving, so no decay is known in "
    "advance: the predicted curve is η₀ until the run shows a plateau."
)


def _plateau_threshold() -> tuple[float, str]:
    """torch's default improvement threshold and its mode, read off ReduceLROnPlateau's signature.

    Not off an instance: building any torch optimizer imports torch._dynamo (~2 s), which a
    process that only reads this text (a CLI's --help, a page's import) should not pay.
    """
    defaults = inspect.signature(ReduceLROnPlateau.__init__).parameters
    return float(defaults["threshold"].default), str(defaults["threshold_mode"].default)


PLATEAU_THRESHOLD, PLATEAU_THRESHOLD_MODE = _plateau_threshold()
PLATEAU_PATIENCE_HELP = (
    "ReduceLROnPlateau multiplies the LR by γ at the end of the (patience + 1)-th epoch in a "
    "row whose test loss does not beat the best so far by more than "
    f"{PLATEAU_THRESHOLD:.2%} of it (torch's threshold={PLATEAU_THRESHOLD:g}, "
    f"threshold_mode='{PLATEAU_THRESHOLD_MODE}'); then it counts again from 0."
)

__all__ = [
    "PLATEAU_NOTE",
    "PLATEAU_PATIENCE_HELP",
    "SCHEDULER_NAMES",
    "WARMUP_START_FACTOR",
    "format_milestones",
    "make_scheduler",
    "parse_milestones",
    "prediction_note",
    "warmup_decays",
    "warmup_note",
    "predicted_lr_curve",
    "step_epoch",
]


def parse_milestones(text: str) -> tuple[int, ...]:
    """MultiStepLR's milestones from text such as "2, 4" (ValueError naming the rule)."""
    parts = [p.strip() for p in str(text).split(",")]
    # ASCII digits only: Python's int() would also read "１０".
    if len(text) > 200 or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError("milestones must be whole numbers separated by commas, such as 2, 4")
    return check_milestones([int(p) for p in parts])


def format_milestones(milestones: tuple[int, ...]) -> str:
    """The text parse_milestones reads back: "2, 4"."""
    return ", ".join(str(m) for m in milestones)


def make_scheduler(
    config: TrainConfig, optimizer: torch.optim.Optimizer, batches_per_epoch: int = 1
) -> LRScheduler:
    """The torch scheduler the config names, on this optimizer.

    Counts (step_size, milestones, warm-up, cosine's T_max) are in scheduler steps: epochs for
    the seed's per-epoch stepping, optimizer steps when stepped per batch (then cosine's T_max is
    the run's epochs · batches_per_epoch, so it reaches its minimum at the end of the run).
    """
    c = config
    if c.scheduler == "constant":
        return ConstantLR(optimizer, factor=1.0, total_iters=0)
    if c.scheduler == "multistep":
        return MultiStepLR(optimizer, milestones=list(c.milestones), gamma=c.gamma)
    if c.scheduler == "exponential":
        return ExponentialLR(optimizer, gamma=c.gamma)
    if c.scheduler == "cosine":
        per_batch = c.scheduler_step == "batch"
        return CosineAnnealingLR(
            optimizer, T_max=c.epochs * (batches_per_epoch if per_batch else 1)
        )
    if c.scheduler == "plateau":
        return ReduceLROnPlateau(optimizer, mode="min", factor=c.gamma, patience=c.patience)
    if c.scheduler == "warmup_steplr":
        warmup = LinearLR(optimizer, start_factor=WARMUP_START_FACTOR, total_iters=c.warmup_epochs)
        decay = StepLR(optimizer, step_size=c.step_size, gamma=c.gamma)
        return SequentialLR(optimizer, [warmup, decay], milestones=[c.warmup_epochs])
    if c.scheduler == "steplr":
        return StepLR(optimizer, step_size=c.step_size, gamma=c.gamma)
    raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}; got {c.scheduler!r}")


def step_epoch(scheduler: LRScheduler, test_loss: float) -> None:
    """The end-of-epoch step: ReduceLROnPlateau watches the test loss, the others count epochs."""
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(test_loss)
    else:
        scheduler.step()


def prediction_note(config: TrainConfig) -> str | None:
    """What a predicted curve cannot show (plateau) or hides (a warm-up's shift), else None."""
    if config.scheduler == "plateau":
        return PLATEAU_NOTE
    if config.scheduler == "warmup_steplr":
        return warmup_note(config)
    return None


WARMUP_DECAYS_SHOWN = 3  # decay positions a warm-up note lists


def warmup_decays(config: TrainConfig, count: int = WARMUP_DECAYS_SHOWN) -> tuple[list, list]:
    """StepLR's first `count` decays (scheduler steps t, from 0) with this warm-up and without.

    Read off torch's own SequentialLR curve: at the milestone SequentialLR starts StepLR at its
    step 0, so every decay comes warmup_epochs steps later than StepLR alone would take it.
    """
    horizon = config.warmup_epochs + (count + 1) * config.step_size
    alone = decay_epochs(config.step_size, horizon, config.gamma)[:count]
    per_step = TrainConfig.from_dict({**config.to_dict(), "scheduler_step": "epoch"})
    curve = predicted_lr_curve(per_step, epochs=horizon)
    warm = config.warmup_epochs
    shifted = [t for t in range(warm + 1, horizon) if curve[t] < curve[t - 1]][:count]
    return shifted, alone


def warmup_note(config: TrainConfig) -> str:
    """A warm-up in words: LinearLR from η₀/3 to η₀, then StepLR with its decays moved later."""
    w = config.warmup_epochs
    per_batch = config.scheduler_step == "batch"
    unit = "batches" if per_batch else "epochs"
    span = f"{w} {unit}" if w != 1 else f"1 {unit[:-2] if per_batch else unit[:-1]}"
    ramp = (
        f"LinearLR warms up from η₀/3 at t = 0 to η₀ at t = {w}; then SequentialLR starts "
        "StepLR at its own step 0"
    )
    counted = (
        "t counts scheduler steps from 0: step t trains batch t + 1"
        if per_batch
        else "t counts epochs from 0: the printout's “Epoch t + 1”"
    )
    shifted, alone = warmup_decays(config)
    if not alone:
        return f"{ramp}, and with γ = 1 StepLR never changes the LR after that."
    listed = ", ".join(str(t) for t in shifted)
    before = ", ".join(str(t) for t in alone)
    return (
        f"{ramp}, so StepLR's decays come {span} later than without the warm-up: at "
        f"t = {listed}, … instead of {before}, … ({counted})."
    )


def predicted_lr_curve(
    config: TrainConfig,
    epochs: int | None = None,
    batches_per_epoch: int = 1,
    test_losses: tuple[float, ...] | None = None,
) -> np.ndarray:
    """The LR each epoch (or, stepped per batch, each optimizer step) uses, from real torch.

    Recorded from the config's torch scheduler on a parameter-free optimizer, stepped as the
    trainer steps it. For plateau, pass the run's per-epoch test losses to replay its decays;
    without them the curve is η₀ throughout (see prediction_note).
    """
    epochs = config.epochs if epochs is None else epochs
    per_batch = config.scheduler_step == "batch"
    losses = None if test_losses is None else tuple(float(x) for x in test_losses)
    key = (
        config.scheduler,
        float(config.lr),
        float(config.gamma),
        int(config.step_size),
        tuple(config.milestones),
        int(config.warmup_epochs),
        int(config.patience),
        int(epochs),
        int(batches_per_epoch),
        per_batch,
        losses,
    )
    # Cached: a page draws the curve on every rerun.
    return np.array(_curve(key, config.epochs))


@lru_cache(maxsize=256)
def _curve(key: tuple, config_epochs: int) -> tuple[float, ...]:

    scheduler_name, lr, gamma, step_size, milestones, warmup, patience = key[:7]
    epochs, batches_per_epoch, per_batch, losses = key[7:]
    config = TrainConfig(
        scheduler=scheduler_name,
        lr=lr,
        gamma=gamma,
        step_size=step_size,
        milestones=milestones,
        warmup_epochs=warmup,
        patience=patience,
        epochs=config_epochs,
        scheduler_step="batch" if per_batch else "epoch",
    )
    optimizer = LrHolder(lr)
    scheduler = make_scheduler(config, optimizer, batches_per_epoch)
    group = optimizer.param_groups[0]
    lrs: list[float] = []
    for epoch in range(epochs):
        for _ in range(batches_per_epoch if per_batch else 1):
            lrs.append(float(group["lr"]))
            optimizer.step()  # the right order: optimizer first, then the scheduler
            if per_batch:
                scheduler.step()
        if not per_batch:
            if isinstance(scheduler, ReduceLROnPlateau):
                if losses is None or epoch >= len(losses):
                    continue  # no decay known in advance
                scheduler.step(losses[epoch])
            else:
                scheduler.step()
    return tuple(lrs)
