"""get_lr() against get_last_lr() and the optimizer's LR, read after each scheduler step."""

from __future__ import annotations

from dataclasses import dataclass

from steplr_viz.lab import common
from steplr_viz.validation import check_int

MAX_TABLE_STEPS = 200


@dataclass(frozen=True)
class LrReadings:
    """Step by step: get_lr() called outside step(), get_last_lr(), the optimizer's LR."""

    get_lr: tuple[float, ...]
    get_last_lr: tuple[float, ...]
    param_group_lr: tuple[float, ...]
    closed_form: tuple[float, ...]
    warnings: tuple[str, ...]

    @property
    def one_gamma_too_many(self) -> tuple[bool, ...]:
        """Steps where get_lr() multiplies by γ an LR that already has this decay's γ."""
        return tuple(a != b for a, b in zip(self.get_lr, self.get_last_lr, strict=True))


def lr_readings(base_lr: float, gamma: float, step_size: int, steps: int) -> LrReadings:
    """Read the three LR accessors after each of `steps` scheduler steps (0 = before any)."""
    base_lr, gamma, step_size = common.check_schedule(base_lr, gamma, step_size)
    steps = check_int("steps", steps, low=1, high=MAX_TABLE_STEPS)
    return _lr_readings(base_lr, gamma, step_size, steps)


@common.cache_if(lambda result: bool(result.warnings), maxsize=64)  # as order._call_order
def _lr_readings(base_lr: float, gamma: float, step_size: int, steps: int) -> LrReadings:
    optimizer, scheduler = common.fresh_step_lr(base_lr, gamma, step_size)
    get_lr, last, group = [], [], []
    with common.scheduler_warnings() as caught:
        for _ in range(steps):
            last.append(float(scheduler.get_last_lr()[0]))
            group.append(common.current_lr(optimizer))
            # get_lr() is the scheduler's internal "next LR" rule; read outside step() it is
            # chainable: at a decay boundary it multiplies the already-decayed LR by γ again.
            get_lr.append(float(scheduler.get_lr()[0]))
            optimizer.step()
            scheduler.step()
    closed = common.closed_form(base_lr, gamma, step_size, steps)
    return LrReadings(tuple(get_lr), tuple(last), tuple(group), closed, tuple(caught))
