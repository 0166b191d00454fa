"""Checks for user-facing numbers: each raises ValueError naming the parameter and its range."""

from __future__ import annotations

import math
import numbers
import random
import re
import secrets
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


MAX_MILESTONES = 50

# Ids that reach a file (run and experiment ids): 12 characters, a first one that is a letter
# but no hex digit, then Crockford's lowercase base 32 (no i, l, o, u). No CSV reader or
# spreadsheet takes such an id for a number, as it could take an old 12-hex id ("123456789012",
# "1234e5678901"); those old ids stay valid wherever an id is checked.
ID_LEN = 12
ID_FIRST = "ghjkmnpqrstvwxyz"
ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ID_RE = re.compile(rf"^(?:[0-9a-f]{{{ID_LEN}}}|[{ID_FIRST}][{ID_ALPHABET}]{{{ID_LEN - 1}}})$")
ID_WORDS = "12 lowercase letters and digits"
EXPERIMENT_ID_LEN = ID_LEN  # an experiment id is made like a run id


def new_id(rng: random.Random | None = None) -> str:
    """A fresh random id (59 bits) that starts with a letter; `rng` only for tests."""
    choice = secrets.choice if rng is None else rng.choice
    return choice(ID_FIRST) + "".join(choice(ID_ALPHABET) for _ in range(ID_LEN - 1))


def is_id(text: Any) -> bool:
    """True for a run or experiment id: a new one, or an old one of 12 lowercase hex digits."""
    return isinstance(text, str) and ID_RE.fullmatch(text) is not None


def reads_as_number(text: str) -> bool:
    """Whether a CSV reader could take this text for a number ("0123", "1e5", "inf", "nan")."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_milestones(milestones: Any) -> tuple[int, ...]:
    """MultiStepLR's milestones: 1 to MAX_MILESTONES strictly increasing integers >= 1."""
    allowed = f"1 to {MAX_MILESTONES} strictly increasing integers in [1, {MAX_STEP_SIZE}]"
    if isinstance(milestones, str | bytes) or not hasattr(milestones, "__iter__"):
        raise ValueError(f"milestones must be {allowed}, got {milestones!r}")
    values = list(milestones)
    if not 1 <= len(values) <= MAX_MILESTONES:
        raise ValueError(f"milestones must be {allowed}, got {milestones!r}")
    out = tuple(check_int("milestones", v, low=1, high=MAX_STEP_SIZE) for v in values)
    if any(b <= a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(f"milestones must be {allowed}, got {milestones!r}")
    return out


def check_experiment_id(experiment: Any) -> str:
    """An experiment id: "" (no experiment; None means the same) or an id (see ID_RE)."""
    if experiment is None:
        return ""
    if experiment != "" and not is_id(experiment):
        shown = repr(experiment)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ValueError(f'experiment must be "" or an id of {ID_WORDS}, got {shown}')
    return experiment
