"""Other schedules on the same axes: MultiStepLR, ExponentialLR, cosine and plateau by StepLR."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from torch.optim import lr_scheduler

from steplr_viz.lab import common
from steplr_viz.validation import check_int

SCHEDULES = ("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau")


@dataclass(frozen=True)
class Comparison:
    """Per-epoch LRs of several torch schedulers with the same η₀ and horizon."""

    curves: tuple[tuple[str, tuple[float, ...]], ...]  # (scheduler name, LRs) pairs
    loss: tuple[float, ...]  # the scripted loss fed to ReduceLROnPlateau
    milestones: tuple[int, ...]
    exponential_gamma: float
    plateau_at: int
    gamma: float
    plateau_eps: float | None  # ReduceLROnPlateau's eps as torch set it (None: not run, γ = 1)
    cosine_after_horizon: float  # CosineAnnealingLR(T_max = epochs) one epoch after the last

    def curve(self, name: str) -> tuple[float, ...]:
        return dict(self.curves)[name]

    def plateau_held_by_eps(self) -> bool:
        """True when eps keeps ReduceLROnPlateau's last LR above where StepLR ends."""
        if self.plateau_eps is None:
            return False
        last = self.curve("ReduceLROnPlateau")[-1]
        # Torch's rule: a cut from η to γ·η happens only if it changes η by more than eps.
        held = last - last * self.gamma <= self.plateau_eps
        return held and self.curve("StepLR")[-1] < last

    def decay_points(self) -> np.ndarray:
        """StepLR's decay epochs within the horizon whose LR has not underflowed."""
        step = np.asarray(self.curve("StepLR"))
        points = np.asarray(self.milestones, dtype=int)
        # Past float underflow both are 0 (or subnormal): a relative gap means nothing there.
        return points[step[points] >= np.finfo(float).tiny]

    def decay_point_gap(self) -> float | None:
        """Largest relative gap between ExponentialLR and StepLR at StepLR's decay points.

        None when there is no decay point to compare (s >= the horizon, or all underflowed).
        """
        points = self.decay_points()
        if not points.size:
            return None
        step, expo = np.asarray(self.curve("StepLR")), np.asarray(self.curve("ExponentialLR"))
        return float(np.max(np.abs(expo[points] - step[points]) / step[points]))


def scripted_loss(epochs: int, plateau_at: int) -> tuple[float, ...]:
    """A loss that falls steadily until `plateau_at`, then stays flat: ReduceLROnPlateau's case."""
    epochs = common.check_horizon(epochs)
    plateau_at = check_int("plateau_at", plateau_at, low=1, high=epochs)
    # A straight fall: every epoch before the plateau improves by more than 0.1% of the loss, far
    # above ReduceLROnPlateau's default threshold (0.01%), so the plateau starts where we say.
    floor, start = 0.2, 2.3  # 2.3 ≈ ln 10, a 10-class cross-entropy at chance
    return tuple(
        floor + (start - floor) * (1 - min(t, plateau_at) / plateau_at) for t in range(epochs)
    )


def compare_schedules(
    base_lr: float, gamma: float, step_size: int, epochs: int, plateau_at: int
) -> Comparison:
    """StepLR, MultiStepLR, ExponentialLR(γ^(1/s)), CosineAnnealingLR and ReduceLROnPlateau."""
    base_lr, gamma, step_size = common.check_schedule(base_lr, gamma, step_size)
    epochs = common.check_horizon(epochs)
    plateau_at = check_int("plateau_at", plateau_at, low=1, high=epochs)
    return _compare_schedules(base_lr, gamma, step_size, epochs, plateau_at)


@lru_cache(maxsize=64)
def _compare_schedules(
    base_lr: float, gamma: float, step_size: int, epochs: int, plateau_at: int
) -> Comparison:
    milestones = tuple(range(step_size, epochs, step_size))
    exponential_gamma = gamma ** (1 / step_size)
    makers = {
        "StepLR": lambda o: lr_scheduler.StepLR(o, step_size=step_size, gamma=gamma),
        "MultiStepLR": lambda o: lr_scheduler.MultiStepLR(o, list(milestones), gamma=gamma),
        "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, gamma=exponential_gamma),
        "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=epochs),
    }
    curves = {}
    for name, make in makers.items():
        optimizer = common.new_optimizer(base_lr)
        # One epoch past the horizon: where cosine annealing reaches its minimum (T_max).
        curves[name] = tuple(common.run_epochs(optimizer, make(optimizer), epochs + 1))
    cosine_after = curves["CosineAnnealingLR"][-1]
    curves = {name: lrs[:epochs] for name, lrs in curves.items()}
    loss = scripted_loss(epochs, plateau_at)
    eps = None
    if gamma < 1.0:  # ReduceLROnPlateau refuses factor >= 1
        optimizer = common.new_optimizer(base_lr)
        # patience s − 1: once the loss is flat it cuts by γ every s epochs, StepLR's rhythm.
        plateau = lr_scheduler.ReduceLROnPlateau(optimizer, factor=gamma, patience=step_size - 1)
        curves["ReduceLROnPlateau"] = tuple(common.run_epochs(optimizer, plateau, epochs, loss))
        eps = float(plateau.eps)
    return Comparison(
        tuple(curves.items()),
        loss,
        milestones,
        exponential_gamma,
        plateau_at,
        gamma,
        plateau_eps=eps,
        cosine_after_horizon=cosine_after,
    )
