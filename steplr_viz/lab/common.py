"""What every lab simulation shares: a fresh optimizer + StepLR, the epoch loop, caches, checks."""

from __future__ import annotations

import functools
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import torch
from torch.optim import lr_scheduler

from steplr_viz.schedules.lr_holder import LrHolder
from steplr_viz.validation import check_base_lr, check_gamma, check_int, check_step_size

# Longest horizon the lab simulates: enough to see many decays, small enough to stay instant.
LAB_MAX_EPOCHS = 500

# warnings.catch_warnings swaps process-wide state; Streamlit runs sessions in threads.
WARNINGS_LOCK = threading.Lock()


def new_optimizer(base_lr: float) -> torch.optim.Optimizer:
    """A real torch optimizer at η₀ whose step() updates nothing: schedulers only use its LR.

    A scheduler reads and writes nothing but param_groups, so the LRs equal those of an SGD
    optimizer bit for bit (tests/test_lab.py compares with SGD runs), at a sixth of the cost:
    SGD's step runs torch's profiler hooks, ~6x the scheduler's own work per epoch.
    """
    return LrHolder(base_lr)


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """The LR the optimizer's next step() uses."""
    return float(optimizer.param_groups[0]["lr"])


def fresh_step_lr(
    base_lr: float, gamma: float, step_size: int, **kwargs
) -> tuple[torch.optim.Optimizer, lr_scheduler.StepLR]:
    """A new optimizer at η₀ and a StepLR on it (kwargs such as last_epoch go to StepLR)."""
    optimizer = new_optimizer(base_lr)
    return optimizer, lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma, **kwargs)


def run_epochs(optimizer, scheduler, epochs: int, loss: tuple[float, ...] = ()) -> list[float]:
    """The LR the optimizer uses in each epoch, in the right order (optimizer, then scheduler).

    With `loss`, the scheduler is stepped on that epoch's loss (ReduceLROnPlateau's signature).
    """
    lrs = []
    for epoch in range(epochs):
        lrs.append(current_lr(optimizer))
        optimizer.step()
        if loss:
            scheduler.step(loss[epoch])
        else:
            scheduler.step()
    return lrs


def step_lr_curve(base_lr: float, gamma: float, step_size: int, epochs: int) -> list[float]:
    """A fresh StepLR run for `epochs` epochs: the LR of each."""
    return run_epochs(*fresh_step_lr(base_lr, gamma, step_size), epochs)


def closed_form(base_lr: float, gamma: float, step_size: int, steps: int) -> tuple[float, ...]:
    """η₀·γ^⌊t/s⌋ for t = 0 .. steps-1 in Python floats: torch's _get_closed_form_lr exactly."""
    # Never np.power: its SIMD kernels are not correctly rounded on every CPU (AVX-512).
    powers = [base_lr * gamma**k for k in range((steps - 1) // step_size + 1)]
    return tuple(powers[t // step_size] for t in range(steps))


def check_schedule(base_lr, gamma, step_size) -> tuple[float, float, int]:
    """η₀, γ and s validated as the explorer validates them."""
    return check_base_lr(base_lr), check_gamma(gamma), check_step_size(step_size)


def check_horizon(epochs, low: int = 1) -> int:
    """A horizon of `low` .. LAB_MAX_EPOCHS epochs."""
    return check_int("epochs", epochs, low=low, high=LAB_MAX_EPOCHS)


def format_lr(value: float) -> str:
    """A learning rate as a student would write it: up to 6 significant figures."""
    return f"{value:.6g}"


def read_only(array: np.ndarray) -> np.ndarray:
    """The array itself, made read-only (it is shared through a cache)."""
    array.setflags(write=False)
    return array


# --------------------------------------------------------------------------- warnings

# Where torch's scheduler warnings are attributed: lr_scheduler.py itself, or (stacklevel=2, as
# for the wrong-order warning) the lab's line that called the scheduler.
_LAB_DIR = os.path.realpath(os.path.dirname(__file__))


def _from_scheduler(caught: warnings.WarningMessage) -> bool:
    """True for a UserWarning attributed to torch's lr_scheduler or to the lab's calls of it."""
    if not issubclass(caught.category, UserWarning):
        return False
    where = os.path.realpath(caught.filename)
    return where == os.path.realpath(lr_scheduler.__file__) or os.path.dirname(where) == _LAB_DIR


@contextmanager
def scheduler_warnings() -> Iterator[list[str]]:
    """Collect the distinct scheduler warnings raised inside, in the order torch emitted them."""
    messages: list[str] = []
    with WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield messages
        finally:
            # The capture is process-wide: another thread's warning may land in it; leave it out.
            messages.extend(dict.fromkeys(str(w.message) for w in caught if _from_scheduler(w)))


class _Uncached(Exception):
    """Carries a result out of an lru_cache'd call: lru_cache never stores a call that raised."""

    def __init__(self, result) -> None:
        super().__init__()
        self.result = result


def cache_if(keep: Callable[[object], bool], maxsize: int):
    """lru_cache(maxsize) that stores a result only when keep(result) is true."""

    def decorate(compute):
        @lru_cache(maxsize=maxsize)
        def cached(*args):
            result = compute(*args)
            if not keep(result):
                raise _Uncached(result)
            return result

        @functools.wraps(compute)
        def call(*args):
            try:
                return cached(*args)
            except _Uncached as skipped:
                return skipped.result

        call.cache_info, call.cache_clear = cached.cache_info, cached.cache_clear
        return call

    return decorate
