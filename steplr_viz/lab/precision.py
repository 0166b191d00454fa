"""Closed form against chainable: torch's repeated multiplication, compared bit by bit."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from steplr_viz.lab import common
from steplr_viz.validation import check_int

MAX_PRECISION_STEPS = 20_000


@dataclass(frozen=True)
class Precision:
    """Closed form η₀·γ^⌊t/s⌋ against torch's chainable StepLR (repeated multiplication)."""

    closed_form: tuple[float, ...]  # Python float power: torch's own closed form
    chainable: tuple[float, ...]
    step_size: int

    # The arrays are computed on first access and kept (cached_property writes the instance
    # __dict__ directly, which a frozen dataclass without slots allows); read-only, like the
    # tuples, since the instance itself is shared through the lru_cache.

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        closed, chain = np.asarray(self.closed_form), np.asarray(self.chainable)
        # Relative error and ulps mean nothing once a value has underflowed: leave those out.
        tiny = np.finfo(float).tiny
        comparable = (closed >= tiny) & (chain >= tiny)
        return common.read_only(closed), common.read_only(chain), common.read_only(comparable)

    @property
    def compared(self) -> int:
        """Steps whose two values are both normal floats (not underflowed)."""
        return int(self._arrays[2].sum())

    @cached_property
    def relative_errors(self) -> np.ndarray:
        """|chainable − closed| / closed per step (NaN where a value underflowed)."""
        closed, chain, ok = self._arrays
        with np.errstate(divide="ignore", invalid="ignore"):
            return common.read_only(np.where(ok, np.abs(chain - closed) / closed, np.nan))

    @cached_property
    def ulps(self) -> np.ndarray:
        """Distance in units in the last place per step (-1 where a value underflowed)."""
        closed, chain, ok = self._arrays
        # Positive float64s order like their int64 bit patterns: the difference counts ulps.
        gap = np.abs(chain.view(np.int64) - closed.view(np.int64))
        return common.read_only(np.where(ok, gap, -1))

    def first_differing(self, count: int) -> list[int]:
        """The first `count` steps whose two values differ in any bit."""
        return np.flatnonzero(self.ulps > 0)[:count].tolist()

    def first_differing_decays(self) -> int | None:
        """Decays taken (⌊t/s⌋) at the first step that differs; None if none differs."""
        first = self.first_differing(1)
        return first[0] // self.step_size if first else None

    @property
    def differing(self) -> int:
        """Steps whose two values differ in any bit."""
        return int((self.ulps > 0).sum())

    @property
    def max_relative_error(self) -> float:
        errors = self.relative_errors
        return float(np.nanmax(errors)) if np.isfinite(errors).any() else 0.0

    @property
    def max_ulps(self) -> int:
        return int(self.ulps.max(initial=0))


def closed_vs_chainable(base_lr: float, gamma: float, step_size: int, steps: int) -> Precision:
    """Torch's StepLR over `steps` steps against the closed form at each step."""
    base_lr, gamma, step_size = common.check_schedule(base_lr, gamma, step_size)
    steps = check_int("steps", steps, low=1, high=MAX_PRECISION_STEPS)
    return _closed_vs_chainable(base_lr, gamma, step_size, steps)


@lru_cache(maxsize=16)  # up to 2 x 20,000 floats each
def _closed_vs_chainable(base_lr: float, gamma: float, step_size: int, steps: int) -> Precision:
    chain = common.step_lr_curve(base_lr, gamma, step_size, steps)
    closed = common.closed_form(base_lr, gamma, step_size, steps)
    return Precision(closed, tuple(chain), step_size)
