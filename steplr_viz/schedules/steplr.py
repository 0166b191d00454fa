"""StepLR math: the closed form, PyTorch's own curve, and the facts a page shows about them.

The seed's worked example, kept identical in the page text and in tests/test_schedule.py:

>>> [step_lr(0.1, 0.5, 10, t) for t in (0, 9, 10, 19, 20, 30)]
[0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

from steplr_viz.validation import (
    check_base_lr,
    check_epochs,
    check_gamma,
    check_int,
    check_step_size,
)

# The seed's example: η₀ = 0.1, γ = 0.5, s = 10, shown over 40 epochs.
SEED_EXAMPLE = {"base_lr": 0.1, "gamma": 0.5, "step_size": 10, "epochs": 40}

# The LR is "low" once it is at most this fraction of η₀.
LOW_FRACTION = 0.01
# Relative slack when comparing γ^k with LOW_FRACTION, so float rounding (0.1 ** 2 is
# 0.010000000000000002) does not move an exact 1 % one decay later.
LOW_TOLERANCE = 1e-12


def lr_choices(low_exp: int = -5, high_exp: int = 0) -> list[float]:
    """A log-spaced 1-2-5 series of learning rates, 1e-5 .. 1 by default."""
    values = [float(f"{m}e{e}") for e in range(low_exp, high_exp) for m in (1, 2, 5)]
    return [*values, float(f"1e{high_exp}")]


def step_lr(base_lr: float, gamma: float, step_size: int, epoch):
    """η_t = η₀ · γ^⌊t/s⌋ for an int epoch (a float back) or a numpy array of epochs."""
    base_lr, gamma, step_size = _check_schedule(base_lr, gamma, step_size)
    if isinstance(epoch, np.ndarray):
        if epoch.dtype.kind not in "iu" or (epoch.size and epoch.min() < 0):
            raise ValueError("epoch must hold integers >= 0")
        decays = epoch // step_size
        if not decays.size:
            return np.zeros(0)
        # One Python power per decay count, gathered per epoch; the product is IEEE-exact in
        # numpy too. np.power is not: its SIMD kernels are not correctly rounded on every CPU.
        return base_lr * gamma_powers(gamma, int(decays.max()))[decays]
    epoch = check_int("epoch", epoch, low=0, high=2**62)
    # The same expression as torch's StepLR._get_closed_form_lr, so the two agree bit for bit.
    return base_lr * gamma ** (epoch // step_size)


def gamma_powers(gamma: float, max_decays: int) -> np.ndarray:
    """γ^k for k = 0 .. max_decays, each as Python's float power (torch's closed form) computes it.

    On AVX-512 CPUs np.power(0.9, 12) gives 0.28242953648100005 while 0.9 ** 12 gives
    0.2824295364810001: only Python's power is what torch's StepLR uses.
    """
    gamma = check_gamma(gamma)
    max_decays = check_int("max_decays", max_decays, low=0, high=2**62)
    return _gamma_powers(gamma, max_decays)


@lru_cache(maxsize=64)
def _gamma_powers(gamma: float, max_decays: int) -> np.ndarray:
    powers = []
    for k in range(max_decays + 1):
        power = gamma**k
        powers.append(power)
        if power == 0.0:  # underflowed: every later power is 0.0 too
            powers.extend([0.0] * (max_decays - k))
            break
    array = np.array(powers, dtype=np.float64)
    array.flags.writeable = False  # cached and shared between sessions
    return array


def lr_curve(base_lr: float, gamma: float, step_size: int, epochs: int) -> np.ndarray:
    """The closed-form LR for epochs 0 .. epochs-1 as a float64 array."""
    epochs = check_epochs(epochs)
    return step_lr(base_lr, gamma, step_size, np.arange(epochs))


def batches_per_epoch(n_samples: int, batch_size: int) -> int:
    """len(DataLoader) for n_samples at this batch size: the last batch may be short."""
    n_samples = check_int("n_samples", n_samples, low=1, high=10**9)
    batch_size = check_int("batch_size", batch_size, low=1, high=10**6)
    return -(-n_samples // batch_size)


def lr_per_step(
    base_lr: float,
    gamma: float,
    step_size: int,
    epochs: int,
    batches_per_epoch: int,
    *,
    per_batch: bool = False,
) -> np.ndarray:
    """The LR each optimizer step uses, steps 1 .. epochs·batches_per_epoch.

    Stepped per epoch (the seed) the LR holds for a whole epoch; stepped per batch, `step_size`
    counts batches and the same formula runs on the step index.
    """
    epochs = check_epochs(epochs)
    batches_per_epoch = check_int("batches_per_epoch", batches_per_epoch, low=1, high=10**7)
    steps = np.arange(epochs * batches_per_epoch)
    counter = steps if per_batch else steps // batches_per_epoch
    return step_lr(base_lr, gamma, step_size, counter)


def torch_lr_curve(base_lr: float, gamma: float, step_size: int, epochs: int) -> np.ndarray:
    """The LR for epochs 0 .. epochs-1 recorded from a real torch StepLR (the oracle)."""
    base_lr, gamma, step_size = _check_schedule(base_lr, gamma, step_size)
    epochs = check_epochs(epochs)
    # Cached: the page overlays it on every rerun and the simulation is the slow part.
    return np.array(_torch_lr_curve(base_lr, gamma, step_size, epochs))


@lru_cache(maxsize=256)
def _torch_lr_curve(base_lr: float, gamma: float, step_size: int, epochs: int) -> tuple:
    # Imported here: the closed form above needs no torch (steplr_viz/schedules/torch_import.py).
    import torch

    from steplr_viz.schedules.lr_holder import LrHolder

    optimizer = LrHolder(base_lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    lrs = []
    # No warnings filter here: the right call order warns of nothing, and changing the
    # process-wide filters from a page's thread would hide the lab's captured warnings.
    for _ in range(epochs):
        lrs.append(scheduler.get_last_lr()[0])
        optimizer.step()  # the right order: optimizer first, then the scheduler
        scheduler.step()
    return tuple(lrs)


def decay_epochs(step_size: int, epochs: int, gamma: float | None = None) -> list[int]:
    """The epochs (within 0 .. epochs-1) at which the LR is multiplied by γ; none when γ = 1."""
    step_size = check_step_size(step_size)
    epochs = check_epochs(epochs)
    if gamma is not None and check_gamma(gamma) == 1.0:
        return []  # multiplying by 1 changes nothing: no decay to count or mark
    return list(range(step_size, epochs, step_size))


def decay_table(base_lr: float, gamma: float, step_size: int, epochs: int) -> pd.DataFrame:
    """Epoch ranges and their LR in the seed's form: 'epoch 0–9: 0.1', 'epoch 10–19: 0.05', ..."""
    base_lr, gamma, step_size = _check_schedule(base_lr, gamma, step_size)
    epochs = check_epochs(epochs)
    firsts = np.arange(0, epochs, step_size)
    lasts = np.minimum(firsts + step_size, epochs) - 1
    decays = firsts // step_size
    lrs = step_lr(base_lr, gamma, step_size, firsts)
    ranges = [f"{a}–{b}" if a != b else f"{a}" for a, b in zip(firsts, lasts, strict=True)]
    return pd.DataFrame(
        {
            "epochs": ranges,
            "first_epoch": firsts,
            "last_epoch": lasts,
            "decays": decays,
            "lr": lrs,
            "seed_form": [f"epoch {r}: {lr:.6g}" for r, lr in zip(ranges, lrs, strict=True)],
        }
    )


def epochs_until_low(gamma: float, step_size: int, fraction: float = LOW_FRACTION) -> int | None:
    """The first epoch whose LR is at most `fraction` of η₀; None ("never") when γ = 1.

    "At most" as in exact arithmetic: γ = 0.1 reaches 1 % after two decays, although
    0.1 ** 2 is 0.010000000000000002 in floats. Powers within LOW_TOLERANCE of the fraction count.
    """
    gamma = check_gamma(gamma)
    step_size = check_step_size(step_size)
    if gamma == 1.0:
        return None
    limit = fraction * (1 + LOW_TOLERANCE)
    # Smallest k with γ^k <= fraction; the log guess is corrected against the real powers.
    k = max(0, math.floor(math.log(fraction) / math.log(gamma)))
    while k > 0 and gamma ** (k - 1) <= limit:
        k -= 1
    while gamma**k > limit:
        k += 1
    return k * step_size


def schedule_facts(base_lr: float, gamma: float, step_size: int, epochs: int) -> dict:
    """Derived facts for a schedule: decays in the horizon, final LR, the epoch it reaches 1%."""
    base_lr, gamma, step_size = _check_schedule(base_lr, gamma, step_size)
    epochs = check_epochs(epochs)
    return {
        "decays": len(decay_epochs(step_size, epochs, gamma)),
        "final_lr": step_lr(base_lr, gamma, step_size, epochs - 1),
        "epochs_until_low": epochs_until_low(gamma, step_size),
    }


def schedule_notes(gamma: float, step_size: int, epochs: int) -> list[str]:
    """Sentences for the cases where the chart alone would mislead: no decay, or one off-chart."""
    gamma = check_gamma(gamma)
    step_size = check_step_size(step_size)
    epochs = check_epochs(epochs)
    last = epochs - 1
    if gamma == 1.0:
        return [
            'γ = 1: every "decay" multiplies by 1, so the LR never changes and no decay is marked.'
        ]
    notes = []
    if step_size > last:
        notes.append(
            f"The first decay comes at epoch {step_size}, after the last epoch shown ({last}): "
            "within this horizon the LR stays η₀. Widen the horizon to see it."
        )
    low = epochs_until_low(gamma, step_size)
    if low is not None and low > last:
        notes.append(
            f"The LR reaches {LOW_FRACTION:.0%} of η₀ at epoch {low}, beyond the last epoch "
            f"shown ({last})."
        )
    return notes


def pytorch_snippet(base_lr: float, gamma: float, step_size: int, epochs: int) -> str:
    """PyTorch code that reproduces this schedule in a training loop, in the right call order.

    It runs as shown, offline: a stand-in loader of random digits takes the place of MNIST's
    DataLoader (the comment says what to put there). It prints the LR each epoch trains with.
    """
    base_lr, gamma, step_size = _check_schedule(base_lr, gamma, step_size)
    epochs = check_epochs(epochs)
    return f"""\
import torch
from torch.optim.lr_scheduler import StepLR

torch.manual_seed(0)
# A stand-in for MNIST: 4 batches of 64 random 28x28 images. In real training use the seed's
# DataLoader(datasets.MNIST("./data", train=True, download=True,
#                           transform=transforms.ToTensor()), batch_size=64, shuffle=True)
train_loader = [(torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))) for _ in range(4)]

model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10))
optimizer = torch.optim.Adam(model.parameters(), lr={base_lr!r})
scheduler = StepLR(optimizer, step_size={step_size}, gamma={gamma!r})

for epoch in range({epochs}):  # epoch is t in the formula, counted from 0
    print(epoch, optimizer.param_groups[0]["lr"])  # the LR this epoch trains with
    for data, target in train_loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(data), target)
        loss.backward()
        optimizer.step()       # first the optimizer ...
    scheduler.step()           # ... then the scheduler, once per epoch
"""


def _check_schedule(base_lr, gamma, step_size) -> tuple[float, float, int]:
    return check_base_lr(base_lr), check_gamma(gamma), check_step_size(step_size)
