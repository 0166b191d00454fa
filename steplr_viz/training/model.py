"""The seed's model: one fully connected layer from 28x28 pixels to 10 classes."""

from __future__ import annotations

import io

import torch
import torch.nn as nn


class SimpleNet(nn.Module):
    """Exactly the seed's SimpleNet: Linear(784, 10) on the flattened image."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(28 * 28, 10)  # Input: 28x28 pixels, Output: 10 classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Flatten to (N, 784) and return the 10 logits."""
        x = x.view(-1, 28 * 28)
        return self.fc(x)


def state_dict_bytes(state: dict[str, torch.Tensor]) -> bytes:
    """A state_dict as the bytes torch.save writes (a few tens of KB for SimpleNet)."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu().clone() for k, v in state.items()}, buffer)
    return buffer.getvalue()


def load_snippet(file_name: str) -> str:
    """Python that loads a downloaded state_dict into the seed's SimpleNet: three lines after it."""
    return f"""\
import torch
from torch import nn


class SimpleNet(nn.Module):  # the seed's model, as its script defines it
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(28 * 28, 10)

    def forward(self, x):
        return self.fc(x.view(-1, 28 * 28))


model = SimpleNet()
model.load_state_dict(torch.load({file_name!r}))
model.eval()
"""
