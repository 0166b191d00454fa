"""Checks for user-facing numbers: each raises ValueError naming the parameter and its range."""

from __future__ import annotations

import math
import numbers
from typing import Any

# Upper bounds that keep a page or a run responsive; a class cannot ask for more.
MAX_EPOCHS = 10_000
MAX_STEP_SIZE = 100_000


def _is_real(value: Any) -> bool:
    # bool is an int subclass: True must not pass as 1.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_float(
    name: str,
    value: Any,
    *,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return `value` as a float if it is a finite real in the interval, else raise ValueError."""
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    allowed = f"a finite number in {left}{low:g}, {high:g}{right}"
    if not _is_real(value):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def check_int(name: str, value: Any, *, low: int, high: int) -> int:
    """Return `value` as an int if it is a whole number in [low, high], else raise ValueError."""
    allowed = f"an integer in [{low}, {high}]"
    # Accept numpy integers and whole floats such as 10.0, never bools or 10.5.
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) != int(value):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def check_base_lr(base_lr: Any) -> float:
    """The initial learning rate η₀: finite and > 0 (at most 10, beyond any sane LR)."""
    return check_float("base_lr", base_lr, low=0.0, high=10.0, low_open=True)


def check_gamma(gamma: Any) -> float:
    """The decay factor γ: finite and in (0, 1]."""
    return check_float("gamma", gamma, low=0.0, high=1.0, low_open=True)


def check_step_size(step_size: Any) -> int:
    """The decay period s: an integer >= 1."""
    return check_int("step_size", step_size, low=1, high=MAX_STEP_SIZE)


def check_epochs(epochs: Any) -> int:
    """The horizon: an integer number of epochs in [1, MAX_EPOCHS]."""
    return check_int("epochs", epochs, low=1, high=MAX_EPOCHS)
