"""Call order: StepLR stepped before the optimizer moves the schedule one epoch early."""

from __future__ import annotations

from dataclasses import dataclass

from steplr_viz.lab import common


@dataclass(frozen=True)
class CallOrder:
    """LRs the optimizer used per epoch with each call order, and what torch warned."""

    wrong: tuple[float, ...]  # scheduler.step() before optimizer.step()
    right: tuple[float, ...]  # optimizer.step() before scheduler.step()
    wrong_warnings: tuple[str, ...]
    right_warnings: tuple[str, ...]

    @property
    def warning(self) -> str:
        """The warning torch emits for the wrong order ('' if it emitted none)."""
        return self.wrong_warnings[0] if self.wrong_warnings else ""

    def first_difference(self) -> int | None:
        """The first epoch the two orders train with different LRs (None: none in the horizon)."""
        pairs = zip(self.wrong, self.right, strict=True)
        return next((t for t, (wrong, right) in enumerate(pairs) if wrong != right), None)


def call_order(base_lr: float, gamma: float, step_size: int, epochs: int) -> CallOrder:
    """Run StepLR with both call orders and record the LR each optimizer.step() saw."""
    schedule = common.check_schedule(base_lr, gamma, step_size)
    return _call_order(*schedule, common.check_horizon(epochs))


# An empty capture means another thread's warnings filter got in the way (or a torch that no
# longer warns): keep no such result, so the next call captures again.
@common.cache_if(lambda result: bool(result.wrong_warnings), maxsize=64)
def _call_order(base_lr: float, gamma: float, step_size: int, epochs: int) -> CallOrder:
    with common.scheduler_warnings() as wrong_warnings:
        optimizer, scheduler = common.fresh_step_lr(base_lr, gamma, step_size)
        wrong = []
        for _ in range(epochs):
            scheduler.step()  # the mistake: the schedule moves before any training happened
            wrong.append(common.current_lr(optimizer))
            optimizer.step()
    with common.scheduler_warnings() as right_warnings:
        right = common.run_epochs(*common.fresh_step_lr(base_lr, gamma, step_size), epochs)
    return CallOrder(tuple(wrong), tuple(right), tuple(wrong_warnings), tuple(right_warnings))
