"""A real torch optimizer that holds only the LR: what the schedulers step when we record a curve.

Its own module so that steplr.py's closed form runs without torch: the explorer paints its first
chart before torch (seconds to import on a cold start) is loaded.
"""

from __future__ import annotations

import torch


class LrHolder(torch.optim.Optimizer):
    """A real torch optimizer that only holds the LR: StepLR reads and writes nothing else.

    Recording through SGD gives the same curve bit for bit (tests/test_schedule.py checks it)
    but costs ~8x more: SGD's step runs torch's profiler hooks on every call, ~1.5 ms for a
    40-epoch curve, paid on every slider move to a new γ.
    """

    def __init__(self, lr: float) -> None:
        super().__init__([torch.zeros(1)], {"lr": lr})

    def step(self, closure: None = None) -> None:
        """Nothing to update: the training loop's step, without the parameters."""

    step.hooked = True  # torch wraps an optimizer's step in profiler hooks unless marked so
