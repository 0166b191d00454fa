"""The seed's program with a config's values filled in, its output example, what is known of it.

The text is the seed's script line for line; only the values a page can set change (lr, batch
size, epochs, optimizer, scheduler and where it steps), plus a torch.manual_seed line for the
page's random seed. It downloads full MNIST through torchvision, as the seed's does.
"""

from __future__ import annotations

from steplr_viz.config import TrainConfig
from steplr_viz.schedules.choices import WARMUP_START_FACTOR
from steplr_viz.training.data import FULL_TRAIN_SIZE

# The seed's own "Output Example", verbatim. The seed says no more of it than "Actual values
# may vary due to random initialization": not how it was measured, so nothing here says why.
SEED_OUTPUT = """\
Epoch 1, Loss: 0.4321, LR: 0.001000
Test Accuracy: 92.50%
Epoch 2, Loss: 0.2876, LR: 0.001000
Test Accuracy: 93.80%
Epoch 3, Loss: 0.2345, LR: 0.000100
Test Accuracy: 94.20%
Epoch 4, Loss: 0.2234, LR: 0.000100
Test Accuracy: 94.30%
Epoch 5, Loss: 0.2109, LR: 0.000010
Test Accuracy: 94.50%"""
SEED_FINAL_ACCURACY = 94.50  # the last line above

__all__ = ["SEED_FINAL_ACCURACY", "SEED_OUTPUT", "data_note", "seed_script"]

# The seed's print line, kept whole (longer than this module's lines may be).
_PRINT_EPOCH = (
    "    print(f'Epoch {epoch}, Loss: {total_loss / len(train_loader):.4f}, "
    """LR: {optimizer.param_groups[0]["lr"]:.6f}')"""
)
_SCHEDULER_CLASSES = {
    "steplr": ["StepLR"],
    "constant": ["ConstantLR"],
    "multistep": ["MultiStepLR"],
    "exponential": ["ExponentialLR"],
    "cosine": ["CosineAnnealingLR"],
    "plateau": ["ReduceLROnPlateau"],
    "warmup_steplr": ["LinearLR", "SequentialLR", "StepLR"],
}


def _optimizer_line(c: TrainConfig) -> str:
    if c.optimizer == "sgd":
        return f"optimizer = optim.SGD(model.parameters(), lr={c.lr!r}, momentum={c.momentum!r})"
    return f"optimizer = optim.Adam(model.parameters(), lr={c.lr!r})"


def _scheduler_line(c: TrainConfig) -> str:
    per_batch = c.scheduler_step == "batch"
    unit = "batches" if per_batch else "epochs"
    one = "batch" if per_batch else "epoch"
    if c.scheduler == "constant":
        return "scheduler = ConstantLR(optimizer, factor=1.0, total_iters=0)  # the LR stays"
    if c.scheduler == "multistep":
        return (
            f"scheduler = MultiStepLR(optimizer, milestones={list(c.milestones)}, "
            f"gamma={c.gamma!r})  # learning rate × {c.gamma:g} at each milestone ({unit})"
        )
    if c.scheduler == "exponential":
        return f"scheduler = ExponentialLR(optimizer, gamma={c.gamma!r})  # × {c.gamma:g} each step"
    if c.scheduler == "cosine":
        t_max = f"{c.epochs} * len(train_loader)" if per_batch else str(c.epochs)
        return (
            f"scheduler = CosineAnnealingLR(optimizer, T_max={t_max})  "
            f"# half a cosine: 0 only after the last step, the last {one} "
            "still trains above 0"
        )
    if c.scheduler == "plateau":
        return (
            f"scheduler = ReduceLROnPlateau(optimizer, mode='min', factor={c.gamma!r}, "
            f"patience={c.patience})  # × {c.gamma:g} after {c.patience + 1} "
            f"epoch{'s' if c.patience else ''} in a row "
            "not beating the best test loss by 0.01 %"
        )
    step = f"StepLR(optimizer, step_size={c.step_size}, gamma={c.gamma!r})"
    if c.scheduler == "warmup_steplr":
        start = "1 / 3" if WARMUP_START_FACTOR == 1 / 3 else repr(WARMUP_START_FACTOR)
        return (
            f"warmup = LinearLR(optimizer, start_factor={start}, total_iters={c.warmup_epochs})\n"
            f"scheduler = SequentialLR(optimizer, [warmup, {step}], "
            f"milestones=[{c.warmup_epochs}])  # StepLR from step 0 after the warm-up: "
            f"its decays {c.warmup_epochs} {unit if c.warmup_epochs != 1 else one} later"
        )
    return f"scheduler = {step}  # Every {c.step_size} {unit}, learning rate × {c.gamma:g}"


def seed_script(config: TrainConfig) -> str:
    """The seed's program for this config: runs as is where MNIST can be downloaded."""
    c = TrainConfig.from_dict(config.to_dict()).validated()
    per_batch = c.scheduler_step == "batch"
    plateau = c.scheduler == "plateau"
    classes = ", ".join(_SCHEDULER_CLASSES[c.scheduler])
    batch_step = "\n        scheduler.step()  # after each batch" if per_batch else ""
    loss_sum = "\n            test_loss += criterion(output, target).item() * target.size(0)"
    test_loss_lines = (
        ("\n    test_loss = 0.0", loss_sum, "\n    return test_loss / total")
        if plateau
        else ("", "", "")
    )
    if plateau:
        loop_tail = "\n    scheduler.step(test())  # Update learning rate on the test loss"
        loop_test = ""
    elif per_batch:
        loop_tail, loop_test = "", "\n    test()"
    else:
        loop_tail, loop_test = "\n    scheduler.step()  # Update learning rate", "\n    test()"
    return f"""\
import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import datasets, transforms
from torch.utils.data import DataLoader
from torch.optim.lr_scheduler import {classes}

torch.manual_seed({c.seed})  # the page's random seed

# Step 1: Define a simple fully connected neural network
class SimpleNet(nn.Module):
    def __init__(self):
        super(SimpleNet, self).__init__()
        self.fc = nn.Linear(28 * 28, 10)  # Input: 28x28 pixels, Output: 10 classes

    def forward(self, x):
        x = x.view(-1, 28 * 28)  # Flatten input
        x = self.fc(x)
        return x

# Step 2: Load MNIST dataset
transform = transforms.ToTensor()
train_dataset = datasets.MNIST(root='./data', train=True, download=True, transform=transform)
test_dataset = datasets.MNIST(root='./data', train=False, transform=transform)
train_loader = DataLoader(train_dataset, batch_size={c.batch_size}, shuffle=True)
test_loader = DataLoader(test_dataset, batch_size=64)

# Step 3: Initialize model, loss function, optimizer, and scheduler
model = SimpleNet()
criterion = nn.CrossEntropyLoss()
{_optimizer_line(c)}
{_scheduler_line(c)}

# Step 4: Training function
def train(epoch):
    model.train()
    total_loss = 0
    for data, target in train_loader:
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step(){batch_step}
        total_loss += loss.item()
{_PRINT_EPOCH}

# Step 5: Test function
def test():
    model.eval()
    correct = 0
    total = 0{test_loss_lines[0]}
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data){test_loss_lines[1]}
            _, predicted = torch.max(output.data, 1)
            total += target.size(0)
            correct += (predicted == target).sum().item()
    accuracy = 100. * correct / total
    print(f'Test Accuracy: {{accuracy:.2f}}%'){test_loss_lines[2]}

# Step 6: Training loop
epochs = {c.epochs}
for epoch in range(1, epochs + 1):
    train(epoch){loop_test}{loop_tail}
"""


def data_note(n_train_here: int, full_present: bool) -> str:
    """What is known about the seed's sample output next to this page's runs, and how to compare."""
    ratio = FULL_TRAIN_SIZE / n_train_here
    compare = (
        "Full MNIST's files are in the data folder: pick Data → full in the sidebar to train on "
        "the same 60,000 digits as the script and compare."
        if full_present
        else "To compare, download full MNIST (Data → full in the sidebar; about 12 MB) and "
        "train on the same 60,000 digits as the script."
    )
    return (
        f"The seed calls its output (final accuracy {SEED_FINAL_ACCURACY:.2f} %) an example and "
        "says actual values may vary; it does not say how it was measured. Its script trains on "
        f"full MNIST's {FULL_TRAIN_SIZE:,} training digits; the bundled digits this page uses "
        f"offline hold {n_train_here:,}, about {ratio:.0f}× fewer, so each epoch here takes "
        f"about {ratio:.0f}× fewer optimizer steps. {compare}"
    )
