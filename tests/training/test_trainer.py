"""The trainer: config, LR per epoch vs the schedule, pause/stop, determinism, failures."""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from steplr_viz.config import TrainConfig
from steplr_viz.schedules.steplr import lr_curve, step_lr, torch_lr_curve
from steplr_viz.training import trainer as trainer_mod
from steplr_viz.training.data import MnistData, load_mnist
from steplr_viz.training.metrics import (
    DIVERGED,
    FAILED,
    FINISHED,
    INTERRUPTED,
    PAUSED,
    QUEUED,
    RUNNING,
    STOPPED,
    TERMINAL_STATUSES,
    BatchPoint,
    EpochPoint,
    Snapshot,
)
from steplr_viz.training.model import SimpleNet
from steplr_viz.training.trainer import Trainer, set_seed

DEADLINE = 60.0  # seconds: generous bound for polling a thread; never an assertion on time


def wait_for(predicate: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    """Poll until predicate() is true or the deadline passes; return the last value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.002)
    return predicate()


@pytest.fixture(scope="module")
def bundled() -> MnistData:
    return load_mnist("bundled")


@pytest.fixture(scope="module")
def small(bundled: MnistData) -> MnistData:
    """256 train / 200 test digits of the bundled set: enough to train, quick to run."""
    return MnistData(
        train_x=bundled.train_x[:256].clone(),
        train_y=bundled.train_y[:256].clone(),
        test_x=bundled.test_x[:200].clone(),
        test_y=bundled.test_y[:200].clone(),
        source="bundled",
        description="test slice: 256 train / 200 test",
    )


@pytest.fixture
def make_trainer() -> Iterator[Callable[..., Trainer]]:
    """Build trainers and make sure none is left running after the test."""
    made: list[Trainer] = []

    def make(config: TrainConfig, data: MnistData | None = None, **kwargs) -> Trainer:
        trainer = Trainer(config, data, **kwargs)
        made.append(trainer)
        return trainer

    yield make
    for trainer in made:
        trainer.stop()
        trainer.resume()
    for trainer in made:
        assert trainer.join(DEADLINE), "a trainer thread did not end"


def record_statuses(trainer: Trainer) -> list[str]:
    seen: list[str] = []
    trainer.add_callback("on_status", lambda _t, status: seen.append(status))
    return seen


def epoch_fields(point: EpochPoint) -> tuple:
    """Everything in an EpochPoint but its wall-clock seconds."""
    return (point.epoch, point.train_loss, point.lr, point.test_loss, point.test_acc)


# --- config ----------------------------------------------------------------------------------
def test_defaults_are_the_seed_script() -> None:
    config = TrainConfig()
    assert (config.optimizer, config.lr, config.step_size, config.gamma) == ("adam", 1e-3, 2, 0.1)
    assert (config.epochs, config.batch_size, config.scheduler_step) == (5, 64, "epoch")
    assert config.validated() is config


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("lr", 0.0),
        ("lr", -1e-3),
        ("lr", 11.0),
        ("lr", float("nan")),
        ("lr", float("inf")),
        ("lr", True),
        ("lr", "0.1"),
        ("momentum", -0.1),
        ("momentum", 1.0),
        ("gamma", 0.0),
        ("gamma", 1.5),
        ("step_size", 0),
        ("step_size", 2.5),
        ("epochs", 0),
        ("epochs", 101),
        ("batch_size", 0),
        ("batch_size", 4097),
        ("seed", -1),
        ("seed", 2**31),
        ("optimizer", "rmsprop"),
        ("scheduler_step", "iteration"),
        ("data_source", "cifar"),
    ],
)
def test_validated_rejects_bad_values(name: str, value: object) -> None:
    config = TrainConfig(**{name: value})
    with pytest.raises(ValueError, match=name):
        config.validated()
    with pytest.raises(ValueError, match=name):
        Trainer(config)


def test_validated_normalises_types() -> None:
    config = TrainConfig(epochs=3.0, step_size=np.int64(2), lr=np.float32(0.5)).validated()
    assert type(config.epochs) is int and type(config.step_size) is int
    assert type(config.lr) is float


def test_dict_round_trip_ignores_unknown_keys() -> None:
    config = TrainConfig(optimizer="sgd", lr=0.05, gamma=0.5, epochs=7, scheduler_step="batch")
    data = config.to_dict()
    assert TrainConfig.from_dict(data) == config
    assert TrainConfig.from_dict({**data, "created": "yesterday", "final_acc": 90.0}) == config
    assert TrainConfig.from_dict({"lr": 0.2}) == TrainConfig(lr=0.2)


def test_trainer_keeps_its_own_copy_of_the_config() -> None:
    config = TrainConfig(epochs=2)
    trainer = Trainer(config)
    config.epochs = 50
    assert trainer.config.epochs == 2


# --- the learning rate -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("optimizer", "lr", "gamma", "step_size"),
    [
        ("adam", 1e-3, 0.1, 2),  # the seed
        ("adam", 0.05, 0.5, 3),
        ("sgd", 0.01, 0.9, 1),
        ("sgd", 0.1, 1.0, 2),  # gamma 1: a constant LR
        ("adam", 2e-3, 0.3, 7),  # no decay within the run
    ],
)
def test_epoch_lr_follows_the_schedule(
    small: MnistData, make_trainer, optimizer: str, lr: float, gamma: float, step_size: int
) -> None:
    config = TrainConfig(
        optimizer=optimizer, lr=lr, gamma=gamma, step_size=step_size, epochs=5, batch_size=64
    )
    snap = make_trainer(config, small).run()
    assert snap.status == FINISHED, snap.error
    expected = lr_curve(lr, gamma, step_size, 5)
    assert np.allclose(expected, torch_lr_curve(lr, gamma, step_size, 5), rtol=1e-12)
    assert [p.epoch for p in snap.epochs] == [1, 2, 3, 4, 5]
    assert [p.lr for p in snap.epochs] == pytest.approx(expected.tolist(), rel=1e-12)
    assert len(snap.batches) == 5 * 4
    for point in snap.batches:  # every batch of epoch e used the LR of epoch e
        assert point.lr == pytest.approx(expected[point.epoch - 1], rel=1e-12)


def test_seed_lr_lines(small: MnistData, make_trainer) -> None:
    snap = make_trainer(TrainConfig(), small).run()
    assert [f"{p.lr:.6f}" for p in snap.epochs] == [
        "0.001000",
        "0.001000",
        "0.000100",
        "0.000100",
        "0.000010",
    ]


@pytest.mark.parametrize(("lr", "gamma", "step_size"), [(1e-3, 0.1, 2), (0.05, 0.5, 3)])
def test_batch_stepping_follows_the_schedule_per_step(
    small: MnistData, make_trainer, lr: float, gamma: float, step_size: int
) -> None:
    config = TrainConfig(
        lr=lr, gamma=gamma, step_size=step_size, epochs=3, batch_size=64, scheduler_step="batch"
    )
    snap = make_trainer(config, small).run()
    assert snap.status == FINISHED, snap.error
    assert [p.step for p in snap.batches] == list(range(1, 13))
    expected = [step_lr(lr, gamma, step_size, p.step - 1) for p in snap.batches]
    assert [p.lr for p in snap.batches] == pytest.approx(expected, rel=1e-12)
    # Each epoch's LR is the seed's print after its batch loop: the LR after the last step.
    after_last_step = [step_lr(lr, gamma, step_size, 4 * e) for e in (1, 2, 3)]
    assert [p.lr for p in snap.epochs] == pytest.approx(after_last_step, rel=1e-12)


def _seed_printed_lrs(config: TrainConfig, batches_per_epoch: int) -> list[float]:
    """The oracle: optimizer.param_groups[0]["lr"] after each epoch's batch loop, as the seed
    prints it, from a real torch optimizer and StepLR stepped as the config says."""
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=config.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(
        optimizer, step_size=config.step_size, gamma=config.gamma
    )
    printed = []
    for _epoch in range(config.epochs):
        for _batch in range(batches_per_epoch):
            optimizer.step()
            if config.scheduler_step == "batch":
                scheduler.step()
        printed.append(optimizer.param_groups[0]["lr"])
        if config.scheduler_step == "epoch":
            scheduler.step()
    return printed


@pytest.mark.parametrize("scheduler_step", ["epoch", "batch"])
def test_the_epoch_lr_is_what_the_seeds_print_shows(
    small: MnistData, make_trainer, scheduler_step: str
) -> None:
    config = TrainConfig(
        lr=0.05, gamma=0.5, step_size=3, epochs=4, batch_size=64, scheduler_step=scheduler_step
    )
    snap = make_trainer(config, small).run()
    assert snap.status == FINISHED, snap.error
    printed = _seed_printed_lrs(config, 4)  # 256 digits in batches of 64
    assert [p.lr for p in snap.epochs] == printed
    lines = [p.seed_lines().splitlines()[0] for p in snap.epochs]
    assert lines == [
        f"Epoch {e}, Loss: {p.train_loss:.4f}, LR: {lr:.6f}"
        for e, p, lr in zip((1, 2, 3, 4), snap.epochs, printed, strict=True)
    ]
    if scheduler_step == "batch":  # not the LR of the epoch's first batch
        first_of_epoch = {p.epoch: p.lr for p in reversed(snap.batches)}
        assert [p.lr for p in snap.epochs] != [first_of_epoch[e] for e in (1, 2, 3, 4)]


def test_training_matches_a_plain_pytorch_loop(small: MnistData, make_trainer) -> None:
    # The oracle: the seed's loop written out by hand (optimizer.step(), then scheduler.step()
    # after each epoch), with the trainer's seeding and shuffling. Losses must agree exactly.
    config = TrainConfig(lr=0.01, step_size=1, gamma=0.5, epochs=2, batch_size=32, seed=7)
    snap = make_trainer(config, small).run()

    set_seed(7)
    model = SimpleNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    shuffle = torch.Generator().manual_seed(7)
    losses = []
    for _epoch in range(2):
        perm = torch.randperm(256, generator=shuffle)
        for start in range(0, 256, 32):
            idx = perm[start : start + 32]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(small.train_x[idx]), small.train_y[idx])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    assert [p.loss for p in snap.batches] == losses
    assert np.array_equal(snap.weights, model.fc.weight.detach().numpy())


# --- a real run ------------------------------------------------------------------------------
def test_one_bundled_epoch_learns(make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=1))  # the seed's settings, data loaded in-thread
    assert trainer.snapshot().progress == 0.0 and trainer.status == QUEUED
    snap = trainer.run()
    assert snap.status == FINISHED and snap.error is None
    assert snap.progress == 1.0
    assert snap.batches_per_epoch == 63 and snap.total_batches == 63 and len(snap.batches) == 63
    assert "bundled" in snap.data_description
    (epoch,) = snap.epochs
    assert epoch.test_acc > 70.0  # chance is 10%
    assert epoch.lr == 1e-3
    assert epoch.train_loss == pytest.approx(np.mean([p.loss for p in snap.batches]), rel=1e-9)
    assert math.isfinite(epoch.test_loss) and epoch.test_loss > 0
    test_y = load_mnist("bundled").test_y.numpy()
    assert snap.test_predictions.shape == (1000,)
    assert epoch.test_acc == pytest.approx(100.0 * np.mean(snap.test_predictions == test_y))
    assert snap.weights.shape == (10, 784) and snap.weights.dtype == np.float32
    assert snap.samples_per_sec > 0 and snap.elapsed >= snap.train_seconds > 0


def test_background_thread_publishes_and_finishes(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=2), small)
    statuses = record_statuses(trainer)
    batch_points: list[BatchPoint] = []
    epoch_points: list[EpochPoint] = []
    trainer.add_callback("on_batch_end", lambda _t, p: batch_points.append(p))
    trainer.add_callback("on_epoch_end", lambda _t, p: epoch_points.append(p))
    trainer.start()
    assert trainer._thread is not None and trainer._thread.daemon
    assert trainer.join(DEADLINE)
    snap = trainer.snapshot()
    assert snap.status == FINISHED
    assert statuses == [RUNNING, FINISHED]
    assert tuple(batch_points) == snap.batches and tuple(epoch_points) == snap.epochs
    trainer.start()  # a finished trainer does not start again
    assert trainer.join(1) and trainer.snapshot().batches == snap.batches


def test_snapshots_are_copies(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=1), small)
    first = trainer.run()
    assert isinstance(first, Snapshot) and isinstance(first.batches, tuple)
    first.weights[:] = 0.0
    first.test_predictions[:] = -1
    first.config.lr = 5.0
    second = trainer.snapshot()
    assert np.abs(second.weights).sum() > 0 and (second.test_predictions >= 0).all()
    assert second.config.lr == 1e-3 and trainer.config.lr == 1e-3


def test_add_callback_rejects_unknown_events() -> None:
    with pytest.raises(ValueError, match="on_batch_end"):
        Trainer(TrainConfig()).add_callback("on_step", lambda *_: None)


# --- pause, resume, stop ---------------------------------------------------------------------
def assert_frozen(trainer: Trainer, steps: int, polls: int = 50) -> None:
    """Over a bounded polling window the run stays paused and no batch advances."""
    frozen_elapsed = trainer.snapshot().elapsed
    for _ in range(polls):
        snap = trainer.snapshot()
        assert snap.status == PAUSED
        assert len(snap.batches) == steps
        assert snap.elapsed == frozen_elapsed  # pauses are excluded from elapsed time
        time.sleep(0.002)


def test_pause_takes_effect_at_the_next_batch(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=2, batch_size=8), small)
    statuses = record_statuses(trainer)

    def pause_at_five(t: Trainer, point: BatchPoint) -> None:
        if point.step == 5:
            t.pause()

    trainer.add_callback("on_batch_end", pause_at_five)
    trainer.start()
    assert wait_for(lambda: trainer.status == PAUSED)
    assert trainer.pause_requested
    assert_frozen(trainer, steps=5)
    snap = trainer.snapshot()
    assert (snap.epoch, snap.batch_in_epoch) == (1, 5)
    assert snap.progress == pytest.approx(5 / 64)
    assert trainer.resume()
    assert trainer.join(DEADLINE)
    snap = trainer.snapshot()
    assert snap.status == FINISHED and len(snap.batches) == 64
    assert [p.step for p in snap.batches] == list(range(1, 65))
    assert statuses == [RUNNING, PAUSED, RUNNING, FINISHED]


def test_pause_and_stop_from_another_thread(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=50, batch_size=1), small)  # 12,800 batches
    trainer.start()
    assert wait_for(lambda: len(trainer.snapshot().batches) >= 3)
    assert trainer.pause()
    assert wait_for(lambda: trainer.status == PAUSED)
    steps = len(trainer.snapshot().batches)
    assert_frozen(trainer, steps)
    trainer.resume()
    assert wait_for(lambda: len(trainer.snapshot().batches) > steps)
    assert trainer.stop()
    assert trainer.join(DEADLINE)
    snap = trainer.snapshot()
    assert snap.status == STOPPED and snap.error is None
    assert 0.0 < snap.progress < 1.0
    assert not trainer.stop() and not trainer.pause()  # ended: nothing to do


def test_stop_takes_effect_at_the_next_batch(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=3, batch_size=8), small)
    statuses = record_statuses(trainer)
    trainer.add_callback("on_batch_end", lambda t, p: t.stop() if p.step == 3 else None)
    snap = trainer.run()
    assert snap.status == STOPPED
    assert len(snap.batches) == 3 and snap.epochs == ()
    assert statuses == [RUNNING, STOPPED]


def test_stop_while_paused(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=2, batch_size=8), small)
    trainer.add_callback("on_batch_end", lambda t, p: t.pause() if p.step == 2 else None)
    trainer.start()
    assert wait_for(lambda: trainer.status == PAUSED)
    trainer.stop()
    assert trainer.join(DEADLINE)
    assert trainer.status == STOPPED and len(trainer.snapshot().batches) == 2


def test_interrupt_all_ends_every_live_trainer_as_interrupted(
    small: MnistData, make_trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the process's exit runs: paused and running trainers alike end within a batch.
    # Only this test's trainers: others of this process (a page test's) are left alone.
    monkeypatch.setattr(trainer_mod, "_LIVE", weakref.WeakSet())
    paused = make_trainer(TrainConfig(epochs=50, batch_size=8), small)
    paused.add_callback("on_batch_end", lambda t, p: t.pause() if p.step == 2 else None)
    running = make_trainer(TrainConfig(epochs=50, batch_size=8), small)
    statuses = record_statuses(running)
    for trainer in (paused, running):
        trainer.start()
    assert wait_for(lambda: paused.status == PAUSED and len(running.snapshot().batches) > 2)
    trainer_mod.interrupt_all()
    for trainer in (paused, running):
        assert trainer.join(0)  # interrupt_all waited for it
        trainer._thread.join(DEADLINE)
        snap = trainer.snapshot()
        assert snap.status == INTERRUPTED and snap.error == trainer_mod.EXIT_MESSAGE
    assert statuses == [RUNNING, INTERRUPTED]
    assert len(paused.snapshot().batches) == 2
    assert not trainer_mod._LIVE  # nothing left for a second call
    assert not running.stop()  # ended: nothing to do


def test_stop_before_start(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(), small)
    statuses = record_statuses(trainer)
    assert trainer.stop()
    assert trainer.status == STOPPED and trainer.join(0)
    trainer.start()
    assert trainer._thread is None and trainer.snapshot().batches == ()
    assert statuses == [STOPPED]


def test_stop_during_data_loading(
    small: MnistData, make_trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    loading, release = threading.Event(), threading.Event()

    def slow_load(source: str, data_dir: object = None, download: bool = False) -> MnistData:
        loading.set()
        release.wait(DEADLINE)
        return small

    monkeypatch.setattr(trainer_mod, "load_mnist", slow_load)
    trainer = make_trainer(TrainConfig())
    trainer.start()
    assert loading.wait(DEADLINE)
    assert trainer.status == RUNNING  # running once loading starts
    trainer.stop()
    release.set()
    assert trainer.join(DEADLINE)
    snap = trainer.snapshot()
    assert snap.status == STOPPED and snap.batches == ()


# --- determinism -----------------------------------------------------------------------------
def test_same_config_and_seed_give_identical_metrics(small: MnistData, make_trainer) -> None:
    config = TrainConfig(epochs=2, batch_size=32, seed=3)
    first = make_trainer(config, small).run()
    second = make_trainer(config, small).run()
    assert first.batches == second.batches
    assert [epoch_fields(p) for p in first.epochs] == [epoch_fields(p) for p in second.epochs]
    assert np.array_equal(first.weights, second.weights)
    assert np.array_equal(first.test_predictions, second.test_predictions)
    other = make_trainer(TrainConfig(epochs=2, batch_size=32, seed=4), small).run()
    assert [p.loss for p in other.batches] != [p.loss for p in first.batches]


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread, as the app runs its trainers (ui/run_registry.py).

    With several threads a matmul's reduction is split by however many threads the pool hands
    out at that moment, and concurrent runs get fewer: the last bits of a loss then differ (seen
    in CI). One thread each makes concurrent runs bit-identical to sequential ones.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("one_torch_thread")
def test_concurrent_runs_match_sequential_runs(small: MnistData, make_trainer) -> None:
    configs = [TrainConfig(epochs=2, batch_size=16, seed=s) for s in (11, 12, 13)]
    alone = [make_trainer(c, small).run().batches for c in configs]
    together = [make_trainer(c, small) for c in configs]
    for trainer in together:
        trainer.start()
    assert all(trainer.join(DEADLINE) for trainer in together)
    assert [t.snapshot().batches for t in together] == alone


# --- diverged and failed ---------------------------------------------------------------------
def test_nan_in_the_data_ends_the_run_as_diverged(small: MnistData, make_trainer) -> None:
    train_x = small.train_x.clone()
    train_x[17, 300] = float("nan")
    poisoned = MnistData(train_x, small.train_y, small.test_x, small.test_y, "bundled", "nan")
    trainer = make_trainer(TrainConfig(epochs=2, batch_size=16), poisoned)
    statuses = record_statuses(trainer)
    snap = trainer.run()
    assert snap.status == DIVERGED
    assert statuses[-1] == DIVERGED
    assert all(math.isfinite(p.loss) for p in snap.batches)  # the NaN point is not published
    assert len(snap.batches) < snap.batches_per_epoch and snap.epochs == ()
    assert f"epoch 1, batch {len(snap.batches) + 1}" in snap.error
    assert "nan" in snap.error


def test_non_finite_output_ends_the_run_as_diverged(
    small: MnistData, make_trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    class BlowsUp(SimpleNet):
        calls = 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            BlowsUp.calls += 1
            out = super().forward(x)
            # Forward calls 1-8 are epoch 1's batches, 9 the test set; 11 is epoch 2, batch 2.
            return out * float("inf") if BlowsUp.calls == 11 else out

    monkeypatch.setattr(trainer_mod, "SimpleNet", BlowsUp)
    snap = make_trainer(TrainConfig(epochs=3, batch_size=32), small).run()
    assert snap.status == DIVERGED
    assert "epoch 2, batch 2" in snap.error
    assert len(snap.batches) == 9 and len(snap.epochs) == 1


def test_exception_in_a_callback_fails_the_run(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=2), small)
    statuses = record_statuses(trainer)

    def boom(_t: Trainer, point: BatchPoint) -> None:
        if point.step == 2:
            raise RuntimeError("disk full while saving batch 2")

    trainer.add_callback("on_batch_end", boom)
    trainer.start()
    assert trainer.join(DEADLINE)
    assert not trainer._thread.is_alive()
    snap = trainer.snapshot()
    assert snap.status == FAILED
    assert "disk full while saving batch 2" in snap.error and "on_batch_end" in snap.error
    assert len(snap.batches) == 2 and statuses == [RUNNING, FAILED]


@pytest.mark.parametrize("event", ["on_epoch_end", "on_status"])
def test_exception_in_other_callbacks_fails_the_run(
    small: MnistData, make_trainer, event: str
) -> None:
    trainer = make_trainer(TrainConfig(epochs=1), small)

    def boom(_t: Trainer, arg: object) -> None:
        if arg == FINISHED or isinstance(arg, EpochPoint):
            raise ValueError("store unavailable")

    trainer.add_callback(event, boom)
    snap = trainer.run()
    assert snap.status == FAILED and "store unavailable" in snap.error


def test_exception_in_training_fails_the_run(
    small: MnistData, make_trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(config: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
        raise RuntimeError("optimizer exploded")

    monkeypatch.setattr(trainer_mod, "build_optimizer", broken)
    trainer = make_trainer(TrainConfig(), small)
    trainer.start()
    assert trainer.join(DEADLINE)
    snap = trainer.snapshot()
    assert snap.status == FAILED and snap.error == "RuntimeError: optimizer exploded"
    assert snap.status in TERMINAL_STATUSES


def test_missing_data_fails_with_the_plain_message(tmp_path, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(data_source="full"), data_dir=tmp_path)
    trainer.start()
    assert trainer.join(DEADLINE)
    snap = trainer.snapshot()
    assert snap.status == FAILED
    assert str(tmp_path / "MNIST" / "raw") in snap.error and "--download" in snap.error


def test_ctrl_c_in_run_stops_the_run(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=2), small)
    statuses = record_statuses(trainer)

    def interrupt(_t: Trainer, point: BatchPoint) -> None:
        if point.step == 2:
            raise KeyboardInterrupt

    trainer.add_callback("on_batch_end", interrupt)
    snap = trainer.run()
    assert snap.status == STOPPED and len(snap.batches) == 2
    assert statuses == [RUNNING, STOPPED]


def test_a_trainer_with_a_run_id_starts_in_a_named_thread(small: MnistData, make_trainer) -> None:
    trainer = make_trainer(TrainConfig(epochs=1, batch_size=512), small, run_id="0123456789ab")
    trainer.start()
    assert trainer.join(DEADLINE)
    assert trainer.status == FINISHED
    assert trainer._thread.name == "steplr-trainer-0123456789ab"
