"""StepLR inside real PyTorch: the pitfalls and comparisons the lab page teaches.

Every number here comes from running torch's schedulers at call time; nothing is typed in.
Each simulation is cached (lru_cache on validated, hashable arguments; a warning capture that
came back empty is not kept) and returns frozen dataclasses of tuples (and read-only arrays),
so a page rerun costs a dictionary lookup and no caller can mutate a cached result.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import threading
import warnings
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

import numpy as np
import torch
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader

from steplr_viz import data, schedule
from steplr_viz.validation import (
    check_base_lr,
    check_float,
    check_gamma,
    check_int,
    check_step_size,
)

# Longest horizon the lab simulates: enough to see many decays, small enough to stay instant.
LAB_MAX_EPOCHS = 500
# The seed's loader: DataLoader(datasets.MNIST(train=True), batch_size=64, shuffle=True).
SEED_BATCH_SIZE = 64
MNIST_TRAIN_SIZE = 60_000  # len(torchvision.datasets.MNIST(train=True)): the full training split
MAX_BATCH_EPOCHS = 10
MAX_PRECISION_STEPS = 20_000
MAX_TABLE_STEPS = 200

# warnings.catch_warnings swaps process-wide state; Streamlit runs sessions in threads.
_WARNINGS_LOCK = threading.Lock()


# --------------------------------------------------------------------------- helpers


def _optimizer(base_lr: float) -> torch.optim.Optimizer:
    """A one-parameter SGD optimizer: the scheduler only ever reads and writes its param_groups."""
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)


def _lr(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


def _run(optimizer, scheduler, epochs: int, loss: tuple[float, ...] = ()) -> list[float]:
    """The LR the optimizer uses in each epoch, in the right order (optimizer, then scheduler).

    With `loss`, the scheduler is stepped on that epoch's loss (ReduceLROnPlateau's signature).
    """
    lrs = []
    for epoch in range(epochs):
        lrs.append(_lr(optimizer))
        optimizer.step()
        if loss:
            scheduler.step(loss[epoch])
        else:
            scheduler.step()
    return lrs


def _check_horizon(epochs, low: int = 1) -> int:
    return check_int("epochs", epochs, low=low, high=LAB_MAX_EPOCHS)


# Where torch's scheduler warnings are attributed: lr_scheduler.py itself, or (stacklevel=2, as
# for the wrong-order warning) the line here that called the scheduler.
_SCHEDULER_WARNING_FILES = frozenset(
    os.path.realpath(path) for path in (lr_scheduler.__file__, __file__)
)


def _from_scheduler(caught: warnings.WarningMessage) -> bool:
    """True for a UserWarning attributed to torch's lr_scheduler or to this module's calls of it."""
    return issubclass(caught.category, UserWarning) and (
        os.path.realpath(caught.filename) in _SCHEDULER_WARNING_FILES
    )


def _messages(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    """Distinct scheduler warning texts in the order torch emitted them."""
    # The capture is process-wide: another thread's warning may land in it too; leave it out.
    return tuple(dict.fromkeys(str(w.message) for w in caught if _from_scheduler(w)))


class _Uncached(Exception):
    """Carries a result out of an lru_cache'd call: lru_cache never stores a call that raised."""

    def __init__(self, result) -> None:
        super().__init__()
        self.result = result


def _cache_if(keep, maxsize: int):
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


# --------------------------------------------------------------------------- 1. call order


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


def call_order(base_lr: float, gamma: float, step_size: int, epochs: int) -> CallOrder:
    """Run StepLR with both call orders and record the LR each optimizer.step() saw."""
    return _call_order(*_check(base_lr, gamma, step_size), _check_horizon(epochs))


# An empty capture means another thread's warnings filter got in the way (or a torch that no
# longer warns): keep no such result, so the next call captures again.
@_cache_if(lambda result: bool(result.wrong_warnings), maxsize=64)
def _call_order(base_lr: float, gamma: float, step_size: int, epochs: int) -> CallOrder:
    with _WARNINGS_LOCK:
        with warnings.catch_warnings(record=True) as caught_wrong:
            warnings.simplefilter("always")
            optimizer = _optimizer(base_lr)
            scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
            wrong = []
            for _ in range(epochs):
                scheduler.step()  # the mistake: the schedule moves before any training happened
                wrong.append(_lr(optimizer))
                optimizer.step()
        with warnings.catch_warnings(record=True) as caught_right:
            warnings.simplefilter("always")
            optimizer = _optimizer(base_lr)
            scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
            right = _run(optimizer, scheduler, epochs)
    return CallOrder(
        wrong=tuple(wrong),
        right=tuple(right),
        wrong_warnings=_messages(caught_wrong),
        right_warnings=_messages(caught_right),
    )


# --------------------------------------------------------------------------- 2. per batch


def batches_per_epoch(n_samples: int, batch_size: int = SEED_BATCH_SIZE) -> int:
    """len(DataLoader) for n_samples at this batch size (drop_last=False, as in the seed)."""
    n_samples = check_int("n_samples", n_samples, low=1, high=10**9)
    batch_size = check_int("batch_size", batch_size, low=1, high=10**6)
    return _batches_per_epoch(n_samples, batch_size)


@lru_cache(maxsize=16)
def _batches_per_epoch(n_samples: int, batch_size: int) -> int:
    # A range is a sized dataset: torch computes the count exactly as for MNIST.
    return len(DataLoader(range(n_samples), batch_size=batch_size))


@lru_cache(maxsize=1)
def bundled_train_size() -> int | None:
    """Training digits in the bundled MNIST subset (None if that data cannot be read)."""
    # Counted from the split itself: a fraction of a second, once per process.
    try:
        return data.load_mnist("bundled").n_train
    except data.DataError:
        return None  # the lab still teaches with full MNIST's count; the data page explains


def loaders() -> dict[str, tuple[str, int]]:
    """The training sets to compare: label and number of training digits."""
    found = {"full": ("full MNIST, the seed's loader", MNIST_TRAIN_SIZE)}
    bundled = bundled_train_size()
    if bundled is not None:
        found["bundled"] = ("bundled subset", bundled)
    return found


@dataclass(frozen=True)
class Stepping:
    """StepLR stepped once per epoch against once per batch, with the same step_size."""

    batches_per_epoch: int
    per_epoch: tuple[float, ...]  # LR of each epoch (constant within the epoch)
    per_batch: tuple[float, ...]  # LR of each batch, epochs * batches_per_epoch values
    low_fraction: float

    def first_low_batch(self) -> int | None:
        """First global batch whose per-batch LR is below low_fraction · η₀."""
        return _first_below(self.per_batch, self.low_fraction * self.per_batch[0])

    def first_low_epoch(self) -> int | None:
        """First epoch whose per-epoch LR is below low_fraction · η₀."""
        return _first_below(self.per_epoch, self.low_fraction * self.per_epoch[0])

    def first_zero_batch(self) -> int | None:
        """First global batch at which the per-batch LR underflowed to exactly 0.0."""
        zeros = np.flatnonzero(np.asarray(self.per_batch) == 0.0)
        return int(zeros[0]) if zeros.size else None

    def start_of_epoch(self, epoch: int) -> tuple[float, float]:
        """(per-epoch LR, per-batch LR) at the first batch of `epoch`."""
        return self.per_epoch[epoch], self.per_batch[epoch * self.batches_per_epoch]


def _first_below(values: tuple[float, ...], threshold: float) -> int | None:
    below = np.flatnonzero(np.asarray(values) < threshold)
    return int(below[0]) if below.size else None


def per_batch_stepping(
    base_lr: float, gamma: float, step_size: int, epochs: int, n_batches: int
) -> Stepping:
    """Simulate both stepping habits for `epochs` epochs of `n_batches` batches each."""
    base_lr, gamma, step_size = _check(base_lr, gamma, step_size)
    epochs = check_int("epochs", epochs, low=2, high=MAX_BATCH_EPOCHS)
    n_batches = check_int("n_batches", n_batches, low=1, high=10_000)
    return _per_batch_stepping(base_lr, gamma, step_size, epochs, n_batches)


@lru_cache(maxsize=32)  # up to 2 x 9,380 floats each
def _per_batch_stepping(
    base_lr: float, gamma: float, step_size: int, epochs: int, n_batches: int
) -> Stepping:
    optimizer = _optimizer(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    per_epoch = []
    for _ in range(epochs):
        per_epoch.append(_lr(optimizer))
        for _ in range(n_batches):
            optimizer.step()
        scheduler.step()  # the seed's placement: once, after the epoch
    optimizer = _optimizer(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    per_batch = _run(optimizer, scheduler, epochs * n_batches)  # scheduler.step() every batch
    return Stepping(n_batches, tuple(per_epoch), tuple(per_batch), schedule.LOW_FRACTION)


# --------------------------------------------------------------------------- 3. get_lr


@dataclass(frozen=True)
class LrReadings:
    """Step by step: get_lr() called outside step(), get_last_lr(), the optimizer's LR."""

    get_lr: tuple[float, ...]
    get_last_lr: tuple[float, ...]
    param_group_lr: tuple[float, ...]
    closed_form: tuple[float, ...]
    warnings: tuple[str, ...]

    @property
    def doubled(self) -> tuple[bool, ...]:
        """Steps where get_lr() applies γ on top of an LR that already has it."""
        return tuple(a != b for a, b in zip(self.get_lr, self.get_last_lr, strict=True))


def lr_readings(base_lr: float, gamma: float, step_size: int, steps: int) -> LrReadings:
    """Read the three LR accessors after each of `steps` scheduler steps (0 = before any)."""
    base_lr, gamma, step_size = _check(base_lr, gamma, step_size)
    steps = check_int("steps", steps, low=1, high=MAX_TABLE_STEPS)
    return _lr_readings(base_lr, gamma, step_size, steps)


@_cache_if(lambda result: bool(result.warnings), maxsize=64)  # as _call_order
def _lr_readings(base_lr: float, gamma: float, step_size: int, steps: int) -> LrReadings:
    optimizer = _optimizer(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    get_lr, last, group = [], [], []
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            last.append(float(scheduler.get_last_lr()[0]))
            group.append(_lr(optimizer))
            # get_lr() is the scheduler's internal "next LR" rule; read outside step() it is
            # chainable: at a decay boundary it multiplies the already-decayed LR by γ again.
            get_lr.append(float(scheduler.get_lr()[0]))
            optimizer.step()
            scheduler.step()
    closed = [schedule.step_lr(base_lr, gamma, step_size, t) for t in range(steps)]
    return LrReadings(tuple(get_lr), tuple(last), tuple(group), tuple(closed), _messages(caught))


# --------------------------------------------------------------------------- 4. precision


@dataclass(frozen=True)
class Precision:
    """Closed form η₀·γ^⌊t/s⌋ against torch's chainable StepLR (repeated multiplication)."""

    closed_form: tuple[float, ...]
    chainable: tuple[float, ...]

    # The arrays are computed on first access and kept (cached_property writes the instance
    # __dict__ directly, which a frozen dataclass without slots allows); read-only, like the
    # tuples, since the instance itself is shared through the lru_cache.

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        closed, chain = np.asarray(self.closed_form), np.asarray(self.chainable)
        # Relative error and ulps mean nothing once a value has underflowed: leave those out.
        tiny = np.finfo(float).tiny
        comparable = (closed >= tiny) & (chain >= tiny)
        return _read_only(closed), _read_only(chain), _read_only(comparable)

    @property
    def compared(self) -> int:
        """Steps whose two values are both normal floats (not underflowed)."""
        return int(self._arrays[2].sum())

    @cached_property
    def relative_errors(self) -> np.ndarray:
        """|chainable − closed| / closed per step (NaN where a value underflowed)."""
        closed, chain, ok = self._arrays
        with np.errstate(divide="ignore", invalid="ignore"):
            return _read_only(np.where(ok, np.abs(chain - closed) / closed, np.nan))

    @cached_property
    def ulps(self) -> np.ndarray:
        """Distance in units in the last place per step (-1 where a value underflowed)."""
        closed, chain, ok = self._arrays
        # Positive float64s order like their int64 bit patterns: the difference counts ulps.
        gap = np.abs(chain.view(np.int64) - closed.view(np.int64))
        return _read_only(np.where(ok, gap, -1))

    def first_differing(self, count: int) -> list[int]:
        """The first `count` steps whose two values differ in any bit."""
        return np.flatnonzero(self.ulps > 0)[:count].tolist()

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


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def closed_vs_chainable(base_lr: float, gamma: float, step_size: int, steps: int) -> Precision:
    """Torch's StepLR over `steps` steps against the closed form at each step."""
    base_lr, gamma, step_size = _check(base_lr, gamma, step_size)
    steps = check_int("steps", steps, low=1, high=MAX_PRECISION_STEPS)
    return _closed_vs_chainable(base_lr, gamma, step_size, steps)


@lru_cache(maxsize=16)  # up to 2 x 20,000 floats each
def _closed_vs_chainable(base_lr: float, gamma: float, step_size: int, steps: int) -> Precision:
    optimizer = _optimizer(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    chain = _run(optimizer, scheduler, steps)
    closed = schedule.step_lr(base_lr, gamma, step_size, np.arange(steps))
    return Precision(tuple(closed.tolist()), tuple(chain))


# --------------------------------------------------------------------------- 5. resuming


@dataclass(frozen=True)
class Resume:
    """Resuming at epoch k: the KeyError, and curves with and without state_dict()."""

    resume_at: int
    key_error: str  # str(KeyError) quotes its message; this is the message itself
    uninterrupted: tuple[float, ...]
    resumed: tuple[float, ...]  # epochs resume_at .. end after loading both state_dicts
    restarted: tuple[float, ...]  # the same epochs with a fresh scheduler (the naive restart)

    @property
    def identical(self) -> bool:
        """True when the resumed curve equals the uninterrupted one bit for bit."""
        return self.resumed == self.uninterrupted[self.resume_at :]


def resume(base_lr: float, gamma: float, step_size: int, epochs: int, resume_at: int) -> Resume:
    """Stop after `resume_at` epochs, then resume three ways and record what each does."""
    base_lr, gamma, step_size = _check(base_lr, gamma, step_size)
    epochs = _check_horizon(epochs, low=2)
    resume_at = check_int("resume_at", resume_at, low=1, high=epochs - 1)
    return _resume(base_lr, gamma, step_size, epochs, resume_at)


def key_error_text(base_lr: float, gamma: float, step_size: int, last_epoch: int) -> str:
    """The KeyError torch raises for StepLR(..., last_epoch) on an optimizer without initial_lr."""
    optimizer = _optimizer(base_lr)
    try:
        lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma, last_epoch=last_epoch)
    except KeyError as err:
        return str(err.args[0]) if err.args else ""
    return ""  # a future torch may stop raising; the page then says so


@lru_cache(maxsize=64)
def _resume(base_lr: float, gamma: float, step_size: int, epochs: int, resume_at: int) -> Resume:
    optimizer = _optimizer(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    uninterrupted = _run(optimizer, scheduler, epochs)

    optimizer = _optimizer(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    _run(optimizer, scheduler, resume_at)
    # What a checkpoint holds (deep copies, as torch.save/torch.load would give back).
    saved = copy.deepcopy((optimizer.state_dict(), scheduler.state_dict()))

    optimizer = _optimizer(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    optimizer.load_state_dict(saved[0])
    scheduler.load_state_dict(saved[1])
    resumed = _run(optimizer, scheduler, epochs - resume_at)

    optimizer = _optimizer(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    restarted = _run(optimizer, scheduler, epochs - resume_at)
    return Resume(
        resume_at=resume_at,
        key_error=key_error_text(base_lr, gamma, step_size, resume_at - 1),
        uninterrupted=tuple(uninterrupted),
        resumed=tuple(resumed),
        restarted=tuple(restarted),
    )


# --------------------------------------------------------------------------- 6. other schedules

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

    def decay_point_gap(self) -> float:
        """Largest relative gap between ExponentialLR and StepLR at StepLR's decay points."""
        step, expo = np.asarray(self.curve("StepLR")), np.asarray(self.curve("ExponentialLR"))
        points = np.asarray(self.milestones, dtype=int)
        # Past float underflow both are 0 (or subnormal): a relative gap means nothing there.
        points = points[step[points] >= np.finfo(float).tiny]
        if not points.size:
            return 0.0
        return float(np.max(np.abs(expo[points] - step[points]) / step[points]))


def scripted_loss(epochs: int, plateau_at: int) -> tuple[float, ...]:
    """A loss that falls steadily until `plateau_at`, then stays flat: ReduceLROnPlateau's case."""
    epochs = _check_horizon(epochs)
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
    base_lr, gamma, step_size = _check(base_lr, gamma, step_size)
    epochs = _check_horizon(epochs)
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
    curves = []
    for name, make in makers.items():
        optimizer = _optimizer(base_lr)
        curves.append((name, tuple(_run(optimizer, make(optimizer), epochs))))
    loss = scripted_loss(epochs, plateau_at)
    eps = None
    if gamma < 1.0:  # ReduceLROnPlateau refuses factor >= 1
        optimizer = _optimizer(base_lr)
        # patience s − 1: once the loss is flat it cuts by γ every s epochs, StepLR's rhythm.
        plateau = lr_scheduler.ReduceLROnPlateau(optimizer, factor=gamma, patience=step_size - 1)
        curves.append(("ReduceLROnPlateau", tuple(_run(optimizer, plateau, epochs, loss))))
        eps = float(plateau.eps)
    return Comparison(
        tuple(curves), loss, milestones, exponential_gamma, plateau_at, gamma, plateau_eps=eps
    )


# --------------------------------------------------------------------------- 7. quiz

QUIZ_BASE_LRS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.01, 0.001)
QUIZ_GAMMAS = (0.1, 0.2, 0.25, 0.5, 0.8, 0.9)
QUIZ_MAX_DECAYS = 4
QUIZ_REL_TOL = 1e-3
QUIZ_SIG_FIGS = 3
QUIZ_RULE = (
    "Decimals and scientific notation (1.25e-4) both work, and rounding is allowed: an answer "
    f"counts as right within {QUIZ_REL_TOL:.1%} of torch's value, or as that value rounded to "
    f"{QUIZ_SIG_FIGS} significant figures."
)


class Question(NamedTuple):
    """A quiz question: what is η_t for these η₀, γ, s? The answer is torch's StepLR value."""

    base_lr: float
    gamma: float
    step_size: int
    epoch: int
    answer: float


def make_question(rng) -> Question:
    """A random (η₀, γ, s, t, answer) from `rng` (a random.Random); 0 to 4 decays deep."""
    base_lr = rng.choice(QUIZ_BASE_LRS)
    gamma = rng.choice(QUIZ_GAMMAS)
    step_size = rng.randint(2, 12)
    epoch = rng.randint(0, QUIZ_MAX_DECAYS) * step_size + rng.randint(0, step_size - 1)
    answer = float(schedule.torch_lr_curve(base_lr, gamma, step_size, epoch + 1)[epoch])
    return Question(base_lr, gamma, step_size, epoch, answer)


def check_answer(given, answer: float) -> bool:
    """True if `given` is within QUIZ_REL_TOL of `answer` or is it rounded to 3 sig. figures."""
    try:
        given = check_float("answer", given, low=-math.inf, high=math.inf)
    except ValueError:
        return False  # no answer, text, NaN or inf is never right
    if math.isclose(given, answer, rel_tol=QUIZ_REL_TOL, abs_tol=0.0):
        return True
    rounded = float(f"{answer:.{QUIZ_SIG_FIGS}g}")
    return math.isclose(given, rounded, rel_tol=1e-9, abs_tol=0.0)


def explain(question: Question) -> str:
    """The worked answer through ⌊t/s⌋, in plain text."""
    base_lr, gamma, s, t, answer = question
    k = t // s
    decays = "no decay yet" if k == 0 else f"{k} decay{'s' if k > 1 else ''}"
    return (
        f"⌊t/s⌋ = ⌊{t}/{s}⌋ = {k} ({decays}), so "
        f"η_{t} = {base_lr:g} × {gamma:g}^{k} = {format_lr(answer)}."
    )


def format_lr(value: float) -> str:
    """A learning rate as a student would write it: up to 6 significant figures."""
    return f"{value:.6g}"


def _check(base_lr, gamma, step_size) -> tuple[float, float, int]:
    return check_base_lr(base_lr), check_gamma(gamma), check_step_size(step_size)
