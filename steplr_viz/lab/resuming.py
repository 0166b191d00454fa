"""Resuming at epoch k: what last_epoch, initial_lr and the two state_dicts each give back."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache

from torch.optim import lr_scheduler

from steplr_viz.lab import common
from steplr_viz.validation import check_int

MAX_BOUNDARY_CASES = 3  # decay boundaries shown in the table, next to the chosen k


@dataclass(frozen=True)
class ResumeCase:
    """Epochs k .. end after stopping at k, resumed each way torch allows."""

    resume_at: int
    uninterrupted: tuple[float, ...]  # the run that never stopped, epochs k .. end
    state_dicts: tuple[float, ...]  # optimizer.load_state_dict + scheduler.load_state_dict
    last_epoch: tuple[float, ...]  # optimizer.load_state_dict + StepLR(..., last_epoch=k-1)
    initial_lr_by_hand: tuple[float, ...]  # fresh optimizer, initial_lr set, last_epoch=k-1

    def exact(self, way: str) -> bool:
        """True when resuming this way gives the uninterrupted LRs bit for bit."""
        return getattr(self, way) == self.uninterrupted


RESUME_WAYS = ("state_dicts", "last_epoch", "initial_lr_by_hand")


@dataclass(frozen=True)
class Resume:
    """Resuming at epoch k: the KeyError, curves with and without state_dict(), and the traps."""

    resume_at: int
    key_error: str  # str(KeyError) quotes its message; this is the message itself
    uninterrupted: tuple[float, ...]
    resumed: tuple[float, ...]  # epochs resume_at .. end after loading both state_dicts
    restarted: tuple[float, ...]  # the same epochs with a fresh scheduler (the naive restart)
    cases: tuple[ResumeCase, ...]  # k = resume_at and the first decay boundaries, in order

    @property
    def identical(self) -> bool:
        """True when the resumed curve equals the uninterrupted one bit for bit."""
        return self.resumed == self.uninterrupted[self.resume_at :]


def resume(base_lr: float, gamma: float, step_size: int, epochs: int, resume_at: int) -> Resume:
    """Stop after `resume_at` epochs, then resume each way and record what each does."""
    base_lr, gamma, step_size = common.check_schedule(base_lr, gamma, step_size)
    epochs = common.check_horizon(epochs, low=2)
    resume_at = check_int("resume_at", resume_at, low=1, high=epochs - 1)
    return _resume(base_lr, gamma, step_size, epochs, resume_at)


def key_error_text(base_lr: float, gamma: float, step_size: int, last_epoch: int) -> str:
    """The KeyError torch raises for StepLR(..., last_epoch) on an optimizer without initial_lr."""
    try:
        common.fresh_step_lr(base_lr, gamma, step_size, last_epoch=last_epoch)
    except KeyError as err:
        return str(err.args[0]) if err.args else ""
    return ""  # a future torch may stop raising; the page then says so


def _case(base_lr, gamma, step_size, k: int, saved, uninterrupted: list[float]) -> ResumeCase:
    """Resume from the checkpoint `saved` (optimizer and scheduler state after k epochs)."""
    rest = len(uninterrupted) - k
    optimizer, scheduler = common.fresh_step_lr(base_lr, gamma, step_size)
    optimizer.load_state_dict(copy.deepcopy(saved[0]))
    scheduler.load_state_dict(copy.deepcopy(saved[1]))
    state_dicts = common.run_epochs(optimizer, scheduler, rest)
    # The optimizer's state carries initial_lr, so last_epoch is accepted: the constructor's
    # own step() then applies γ once more if k is a decay boundary.
    optimizer = common.new_optimizer(base_lr)
    optimizer.load_state_dict(copy.deepcopy(saved[0]))
    scheduler = lr_scheduler.StepLR(optimizer, step_size, gamma, last_epoch=k - 1)
    last_epoch = common.run_epochs(optimizer, scheduler, rest)
    # initial_lr typed in by hand silences the KeyError, but the optimizer still starts at η₀.
    optimizer = common.new_optimizer(base_lr)
    optimizer.param_groups[0]["initial_lr"] = base_lr
    scheduler = lr_scheduler.StepLR(optimizer, step_size, gamma, last_epoch=k - 1)
    by_hand = common.run_epochs(optimizer, scheduler, rest)
    return ResumeCase(
        k, tuple(uninterrupted[k:]), tuple(state_dicts), tuple(last_epoch), tuple(by_hand)
    )


def case_epochs(step_size: int, epochs: int, resume_at: int) -> list[int]:
    """The chosen k, and the first decay boundaries within the horizon, in order."""
    boundaries = range(step_size, epochs, step_size)[:MAX_BOUNDARY_CASES]
    return sorted({resume_at, *boundaries})


@lru_cache(maxsize=64)
def _resume(base_lr: float, gamma: float, step_size: int, epochs: int, resume_at: int) -> Resume:
    wanted = case_epochs(step_size, epochs, resume_at)
    optimizer, scheduler = common.fresh_step_lr(base_lr, gamma, step_size)
    uninterrupted, checkpoints = [], {}
    for epoch in range(epochs):
        if epoch in wanted:
            # What a checkpoint holds (deep copies, as torch.save/torch.load would give back).
            checkpoints[epoch] = copy.deepcopy((optimizer.state_dict(), scheduler.state_dict()))
        uninterrupted.extend(common.run_epochs(optimizer, scheduler, 1))
    cases = tuple(
        _case(base_lr, gamma, step_size, k, checkpoints[k], uninterrupted) for k in wanted
    )
    chosen = next(case for case in cases if case.resume_at == resume_at)
    return Resume(
        resume_at=resume_at,
        key_error=key_error_text(base_lr, gamma, step_size, resume_at - 1),
        uninterrupted=tuple(uninterrupted),
        resumed=chosen.state_dicts,
        restarted=tuple(common.step_lr_curve(base_lr, gamma, step_size, epochs - resume_at)),
        cases=cases,
    )
