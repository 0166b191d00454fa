"""The code blocks the lab shows, built from the lab's settings: each runs as is, offline."""

from __future__ import annotations

from steplr_viz.lab import common
from steplr_viz.validation import check_int


def resume_code(base_lr: float, gamma: float, step_size: int, resume_at: int) -> str:
    """Save a checkpoint after `resume_at` epochs, then resume it the reliable way."""
    base_lr, gamma, step_size = common.check_schedule(base_lr, gamma, step_size)
    resume_at = check_int("resume_at", resume_at, low=1, high=common.LAB_MAX_EPOCHS)
    build = f"""\
model = torch.nn.Linear(28 * 28, 10)  # your model
optimizer = torch.optim.SGD(model.parameters(), lr={base_lr!r})
scheduler = StepLR(optimizer, step_size={step_size}, gamma={gamma!r})"""
    return f"""\
import torch
from torch.optim.lr_scheduler import StepLR

{build}
for epoch in range({resume_at}):
    optimizer.step()  # your epoch of training goes here
    scheduler.step()
checkpoint = {{
    "model": model.state_dict(),
    "optimizer": optimizer.state_dict(),
    "scheduler": scheduler.state_dict(),
}}
torch.save(checkpoint, "checkpoint.pt")

# ... later, in a new process: build everything afresh, then load all three states.
{build}
checkpoint = torch.load("checkpoint.pt")
model.load_state_dict(checkpoint["model"])
optimizer.load_state_dict(checkpoint["optimizer"])
scheduler.load_state_dict(checkpoint["scheduler"])
print("epoch", scheduler.last_epoch, "trains with lr", optimizer.param_groups[0]["lr"])
"""


def code_blocks(base_lr: float, gamma: float, step_size: int, resume_at: int) -> dict[str, str]:
    """Every code block the lab page shows for these settings, by name."""
    return {"resume": resume_code(base_lr, gamma, step_size, resume_at)}
