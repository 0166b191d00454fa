"""The seed's script as the training page shows it runs, with the page's values, on real digits.

It downloads full MNIST, so the page shows it as text (tests/test_code_blocks.py runs only
Python blocks, offline). Here it runs as is, with torchvision's datasets.MNIST swapped for the
bundled digits, and prints the LRs that torch's schedulers predict.
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import pytest
import torch
from torch.utils.data import TensorDataset
from torchvision import datasets

from steplr_viz.config import SCHEDULERS, TrainConfig
from steplr_viz.schedules.choices import predicted_lr_curve
from steplr_viz.training.data import FULL_TRAIN_SIZE, load_mnist
from steplr_viz.training.seed_script import SEED_OUTPUT, data_note, seed_script

SEED_TEXT_PATH = "/work/shared/seed/000_3e4c41e5e1be9b82.txt"
EPOCH_LINE = re.compile(r"^Epoch (\d+), Loss: (\d+\.\d{4}), LR: (\d+\.\d{6})$")
ACCURACY_LINE = re.compile(r"^Test Accuracy: (\d+\.\d{2})%$")


def bundled_mnist(root, train=True, download=False, transform=None):
    """torchvision's MNIST for the script: the bundled digits as (1, 28, 28) images in [0, 1]."""
    data = load_mnist("bundled")
    x, y = (data.train_x, data.train_y) if train else (data.test_x, data.test_y)
    return TensorDataset(x.view(-1, 1, 28, 28), y)


def run_script(config: TrainConfig, monkeypatch) -> list[str]:
    monkeypatch.setattr(datasets, "MNIST", bundled_mnist)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(seed_script(config), "<seed script>", "exec"), {})  # noqa: S102
    return out.getvalue().splitlines()


def test_the_seeds_settings_give_the_seeds_program_back():
    """With the seed's values the script is the seed's own, but for the seed line and blanks."""
    path = pathlib.Path(SEED_TEXT_PATH)
    if not path.exists():
        pytest.skip("the seed's text is not on this machine")
    seed_code = path.read_text().split("```python\n")[1].split("```")[0]
    strip = lambda text: [ln.rstrip() for ln in text.splitlines() if ln.strip()]  # noqa: E731
    ours = [ln for ln in strip(seed_script(TrainConfig())) if "manual_seed" not in ln]
    assert ours == strip(seed_code)
    assert SEED_OUTPUT in path.read_text().replace("   ", "")


def test_the_script_runs_one_epoch_on_the_bundled_digits(monkeypatch):
    lines = run_script(TrainConfig(epochs=1), monkeypatch)
    assert len(lines) == 2
    epoch, acc = EPOCH_LINE.match(lines[0]), ACCURACY_LINE.match(lines[1])
    assert epoch and epoch.group(1) == "1" and epoch.group(3) == "0.001000"
    assert 50.0 < float(acc.group(1)) <= 100.0  # it learned: chance is 10 %


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_every_scheduler_prints_the_lrs_torch_predicts(scheduler, monkeypatch):
    """Big batches keep it quick; the printed LR per epoch is the page's predicted curve."""
    config = TrainConfig(
        scheduler=scheduler, epochs=3, batch_size=1024, step_size=1, gamma=0.5, milestones=(2,)
    )
    lines = run_script(config, monkeypatch)
    printed = [float(m.group(3)) for m in map(EPOCH_LINE.match, lines) if m]
    assert len(printed) == 3
    if scheduler == "plateau":  # its decays depend on the test loss: only the first is known
        assert printed[0] == pytest.approx(0.001, abs=5e-7)
        return
    expected = predicted_lr_curve(config)
    assert printed == pytest.approx([float(f"{lr:.6f}") for lr in expected], abs=5e-7)


def test_stepped_per_batch_the_script_steps_in_the_batch_loop(monkeypatch):
    config = TrainConfig(epochs=1, batch_size=1024, step_size=2, scheduler_step="batch")
    assert "optimizer.step()\n        scheduler.step()  # after each batch" in seed_script(config)
    lines = run_script(config, monkeypatch)
    batches = -(-load_mnist("bundled").n_train // 1024)  # 4 batches: 2 decays
    assert float(EPOCH_LINE.match(lines[0]).group(3)) == pytest.approx(
        0.001 * 0.1 ** (batches // 2), abs=5e-7
    )


def test_sgd_and_values_are_filled_in():
    text = seed_script(TrainConfig(optimizer="sgd", lr=0.05, batch_size=128, epochs=7, seed=3))
    assert "optim.SGD(model.parameters(), lr=0.05, momentum=0.9)" in text
    assert "batch_size=128, shuffle=True" in text and "epochs = 7" in text
    assert "torch.manual_seed(3)" in text


def test_the_data_note_says_how_many_digits_and_how_to_compare():
    n = load_mnist("bundled").n_train
    note = data_note(n, full_present=False)
    assert f"{n:,}" in note and f"{FULL_TRAIN_SIZE:,}" in note and "download" in note
    assert "pick Data → full" in data_note(n, full_present=True)


def test_the_data_note_says_what_the_seed_says_of_its_output_and_no_cause():
    """The seed calls its output an example that may vary: the note says so, and names no
    cause for 94.50 % (nothing says how the seed measured it)."""
    seed_text = pathlib.Path(SEED_TEXT_PATH)
    if seed_text.exists():
        assert "Actual values may vary" in seed_text.read_text()
    n = load_mnist("bundled").n_train
    note = data_note(n, full_present=False)
    assert "94.50 %" in note and "an example" in note and "may vary" in note
    assert "because" not in note and "ends lower" not in note
    steps_full, steps_here = -(-FULL_TRAIN_SIZE // 64), -(-n // 64)  # len(DataLoader), seed's 64
    assert f"about {FULL_TRAIN_SIZE / n:.0f}× fewer optimizer steps" in note
    assert round(steps_full / steps_here) == round(FULL_TRAIN_SIZE / n)


@pytest.mark.parametrize("scheduler_step", ["epoch", "batch"])
def test_the_cosine_comment_says_torch_reaches_0_only_after_the_last_step(scheduler_step):
    config = TrainConfig(scheduler="cosine", epochs=5, scheduler_step=scheduler_step)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=config.lr)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    used = []
    for _ in range(config.epochs):
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        cosine.step()
    assert used[-1] > 0 and optimizer.param_groups[0]["lr"] == pytest.approx(0, abs=1e-18)
    line = next(ln for ln in seed_script(config).splitlines() if "CosineAnnealingLR(" in ln)
    unit = "epoch" if scheduler_step == "epoch" else "batch"
    assert f"0 only after the last step, the last {unit} still trains above 0" in line
    assert "down to 0 at the end" not in line


@pytest.mark.parametrize(("warm", "said"), [(1, "1 epoch"), (3, "3 epochs")])
def test_the_warm_up_comment_says_the_shift(warm, said):
    text = seed_script(TrainConfig(scheduler="warmup_steplr", warmup_epochs=warm))
    assert f"StepLR from step 0 after the warm-up: its decays {said} later" in text


def test_the_plateau_comment_counts_as_torch_does():
    """patience = 1: torch cuts after 2 epochs in a row that do not beat the best by 0.01 %."""
    config = TrainConfig(scheduler="plateau", patience=1, gamma=0.5)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    lrs = []
    for loss in (1.0, 0.99995, 0.99995, 0.99995):  # 0.005 % better: not better enough
        plateau.step(loss)
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs == [1.0, 1.0, 0.5, 0.5]  # cut at the end of the 2nd such epoch
    line = next(ln for ln in seed_script(config).splitlines() if "ReduceLROnPlateau(" in ln)
    assert "# × 0.5 after 2 epochs in a row not beating the best test loss by 0.01 %" in line
