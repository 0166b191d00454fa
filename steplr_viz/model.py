"""The seed's model: one fully connected layer from 28x28 pixels to 10 classes."""

from __future__ import annotations

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
