"""run_plan: what a config implies before its run (batches, data, planned LRs), torch as oracle."""

from __future__ import annotations

import pytest
import torch

from steplr_viz.config import TrainConfig
from steplr_viz.schedules import steplr as schedule
from steplr_viz.training import run_plan
from steplr_viz.training.data import load_mnist


@pytest.mark.parametrize("n", [1, 63, 64, 65, 4_000, 60_000])
@pytest.mark.parametrize("batch_size", [1, 16, 64, 1024])
def test_batches_per_epoch_is_len_of_the_seeds_dataloader(n: int, batch_size: int) -> None:
    loader = torch.utils.data.DataLoader(range(n), batch_size=batch_size)  # drop_last=False
    assert schedule.batches_per_epoch(n, batch_size) == len(loader)


def test_batches_per_epoch_rejects_an_empty_batch() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        schedule.batches_per_epoch(100, 0)


@pytest.fixture
def no_full_data(tmp_path, monkeypatch):
    """A data folder without full MNIST."""
    monkeypatch.setenv("STEPLR_VIZ_DATA_DIR", str(tmp_path / "empty"))
    return tmp_path / "empty"


def test_the_bundled_data_is_there_and_counts_its_batches() -> None:
    config = TrainConfig()  # the seed's batch of 64 on the bundled digits
    assert not run_plan.needs_download(config) and run_plan.data_problem(config) is None
    n_train = load_mnist("bundled").n_train
    assert run_plan.config_batches_per_epoch(config) == -(-n_train // 64)


def test_missing_full_data_is_said_and_counted_as_full_mnist(no_full_data) -> None:
    config = TrainConfig(data_source="full", batch_size=64)
    assert run_plan.needs_download(config)
    problem = run_plan.data_problem(config)
    assert problem and str(no_full_data) in problem
    assert run_plan.config_batches_per_epoch(config) == 938  # len(DataLoader(60,000, 64))
    assert not run_plan.needs_download(TrainConfig(data_source="auto"))  # falls back itself


@pytest.mark.parametrize("scheduler_step", ["epoch", "batch"])
def test_the_plan_is_the_lr_each_step_will_use(scheduler_step: str) -> None:
    config = TrainConfig(lr=0.1, gamma=0.9, step_size=2, epochs=7, batch_size=512,
                         scheduler_step=scheduler_step)  # fmt: skip
    plan = run_plan.schedule_plan(config)
    bpe = plan.batches_per_epoch
    assert bpe == run_plan.config_batches_per_epoch(config)
    assert plan.steps.tolist() == list(range(1, 7 * bpe + 1))
    # Python's float power, as torch's closed form computes it (never numpy's).
    per_batch = scheduler_step == "batch"
    steps = plan.steps.tolist()  # Python ints: 0.9 ** np.int64(k) would be numpy's power
    expected = [0.1 * 0.9 ** ((s - 1 if per_batch else (s - 1) // bpe) // 2) for s in steps]
    assert plan.lrs.tolist() == expected
    assert plan.epoch_lrs.tolist() == [0.1 * 0.9 ** (t // 2) for t in range(7)]


def test_the_evaluation_digits_are_the_configs_test_set() -> None:
    images, labels = run_plan.evaluation_digits(TrainConfig())
    data = load_mnist("bundled")
    assert images.shape == (data.n_test, 784) and labels.tolist() == data.test_y.tolist()


def test_a_plateau_runs_prediction_replays_the_decays_its_losses_caused() -> None:
    """Torch's ReduceLROnPlateau fed the same losses is the oracle."""
    config = TrainConfig(scheduler="plateau", gamma=0.5, patience=0, epochs=4)
    losses = (1.0, 0.9, 0.95, 0.97)  # no improvement after epoch 2: decays for epochs 4 and 5
    before = run_plan.predicted_lrs(config, 2)
    assert before.tolist() == [0.001] * 8  # nothing known in advance
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=0.001)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    expected = []
    for loss in losses:
        expected += [optimizer.param_groups[0]["lr"]] * 2
        plateau.step(loss)
    assert run_plan.predicted_lrs(config, 2, losses).tolist() == expected
    assert expected[-1] < expected[0]
    assert run_plan.predicted_label(config) == "predicted (ReduceLROnPlateau)"


def test_the_caption_names_other_schedules_and_their_lrs() -> None:
    config = TrainConfig(scheduler="exponential", gamma=0.5, epochs=3)
    caption = run_plan.plan_caption(config, run_plan.schedule_plan(config))
    assert "ExponentialLR: LR Epoch 1 (t = 0): 0.001, Epoch 2 (t = 1): 0.0005" in caption
