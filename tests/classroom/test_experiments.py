"""Experiments: arms over shared seeds, the results table, bands and commentary, the lesson."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import pandas as pd
import pytest
import torch

from steplr_viz.classroom.commentary import commentary
from steplr_viz.classroom.experiments import (
    Experiment,
    ExperimentRun,
    bands,
    comparable,
    default_experiment,
    experiment_run_ids,
    points_frame,
    points_from_runs,
    points_from_store,
    results_table,
    run_experiment,
    run_outcomes,
    submit_experiment,
    winners,
)
from steplr_viz.config import TrainConfig
from steplr_viz.store.registry import ClassFullError, RunManager
from steplr_viz.store.runs import InMemoryRunStore
from steplr_viz.training.data import load_mnist
from steplr_viz.training.metrics import FINISHED, EpochPoint

# --- synthetic epoch points -----------------------------------------------------------------


def ep(epoch: int, lr: float, loss: float, acc: float) -> EpochPoint:
    return EpochPoint(epoch, train_loss=loss, lr=lr, test_loss=loss, test_acc=acc, seconds=1.0)


def arm_runs(arm: str, lrs, losses, finals, first_accs=(80.0, 84.0)):
    """One arm over seeds 0.. : the same LRs and losses, final accuracies per seed."""
    return [
        (arm, seed, None, [ep(e + 1, lr, loss, acc) for e, (lr, loss, acc) in
                           enumerate(zip(lrs, losses, [*first_accs, final], strict=True))])
        for seed, final in enumerate(finals)
    ]  # fmt: skip


CONSTANT = arm_runs("gamma=1", [1e-3] * 3, [0.5, 0.4, 0.3], [90.0, 91.0, 92.0])
STALLED = arm_runs("gamma=0.1", [1e-3, 1e-3, 1e-4], [0.5, 0.4, 0.39], [85.0, 86.0, 87.0])


def test_results_table_from_synthetic_points():
    table = results_table(points_frame(STALLED + CONSTANT)).set_index("arm")
    assert list(table.index) == ["gamma=0.1", "gamma=1"]  # the order the arms came in
    row = table.loc["gamma=1"]
    assert row["seeds"] == 3 and row["epochs"] == 3
    assert row["final_acc_mean"] == 91.0 and row["final_acc_std"] == 1.0  # sample std
    assert (row["final_acc_min"], row["final_acc_max"]) == (90.0, 92.0)
    assert row["best_acc_mean"] == 91.0
    assert row["final_acc_by_seed"] == (90.0, 91.0, 92.0)
    assert row["final_loss_mean"] == pytest.approx(0.3)
    # best is over epochs: an arm whose last epoch is not its best
    falling = arm_runs("gamma=0.5", [1e-3] * 3, [0.5, 0.4, 0.3], [83.0, 83.0], (80.0, 88.0))
    assert results_table(points_frame(falling)).loc[0, "best_acc_mean"] == 88.0


def test_bands_are_min_mean_max_over_seeds_per_epoch():
    band = bands(points_frame(CONSTANT)).set_index("epoch")
    assert list(band.index) == [1, 2, 3]
    assert band.loc[3, ["test_acc_min", "test_acc_mean", "test_acc_max"]].tolist() == [
        90.0, 91.0, 92.0,
    ]  # fmt: skip
    assert band.loc[1, "test_acc_min"] == band.loc[1, "test_acc_max"] == 80.0
    assert band.loc[2, "test_loss_mean"] == pytest.approx(0.4)
    assert (band["seeds"] == 3).all() and (band["lr"] == 1e-3).all()


def test_only_complete_runs_on_seeds_every_arm_finished_are_compared():
    # Seed 2 of gamma=0.1 was stopped after epoch 1 with a high accuracy: it has no final
    # accuracy, and seed 2 leaves every arm so that both arms are compared on seeds 0 and 1.
    stopped = [(a, s, r, e[:1], "stopped", 3) if s == 2 else (a, s, r, e, "finished", 3)
               for a, s, r, e in STALLED]  # fmt: skip
    stopped[2][3][0] = ep(1, 1e-3, 0.5, 99.0)
    points = points_frame(stopped + CONSTANT)
    runs = run_outcomes(points).set_index(["arm", "seed"])
    assert runs.loc[("gamma=0.1", 2), "status"] == "stopped"
    assert runs.loc[("gamma=0.1", 2), "reached"] == 1
    assert not runs.loc[("gamma=0.1", 2), "complete"] and runs["complete"].sum() == 5
    assert sorted(set(comparable(points)["seed"])) == [0, 1]
    table = results_table(points).set_index("arm")
    assert table["seeds"].tolist() == [2, 2] and table["seed_list"].tolist() == [(0, 1)] * 2
    assert table.loc["gamma=0.1", "final_acc_mean"] == 85.5  # the stopped 99 % is not in it
    assert table.loc["gamma=1", "final_acc_mean"] == 90.5
    assert (bands(points)["seeds"] == 2).all()  # every epoch's mean over the same seeds


def test_a_run_still_training_counts_only_once_complete():
    live = [(a, s, r, e[:2], "running", 3) if s == 1 else (a, s, r, e, "finished", 3)
            for a, s, r, e in CONSTANT]  # fmt: skip
    points = points_frame(live + STALLED)
    assert sorted(set(comparable(points)["seed"])) == [0, 2]
    assert run_outcomes(points)["complete"].sum() == 5


def test_a_run_with_no_epoch_yet_holds_its_seed_out_of_every_arm():
    queued = [(a, s, r, [] if s == 2 else e, "queued" if s == 2 else "finished", 3)
              for a, s, r, e in STALLED]  # fmt: skip
    points = points_frame(queued + CONSTANT)
    runs = run_outcomes(points).set_index(["arm", "seed"])
    assert runs.loc[("gamma=0.1", 2), "reached"] == 0
    assert not runs.loc[("gamma=0.1", 2), "complete"]
    assert sorted(set(comparable(points)["seed"])) == [0, 1]
    assert (results_table(points)["seeds"] == 2).all()
    assert list(bands(points)["epoch"].unique()) == [1, 2, 3]  # no epoch-0 row in the bands
    stopped = [(a, s, r, e, "stopped", 3) if s == 2 else (a, s, r, e, st, n)
               for a, s, r, e, st, n in queued]  # fmt: skip
    lines = commentary(points_frame(stopped + CONSTANT))
    assert lines[0].startswith("Left out: gamma=0.1 seed 2 (stopped at epoch 0 of 3).")


def test_ties_follow_one_rule():
    # 0.1 + 0.2 and 0.3 differ in the last bit: the same accuracy for every page.
    a = arm_runs("a=1", [1e-3] * 3, [0.5, 0.4, 0.3], [0.1 + 0.2])
    b = arm_runs("a=2", [1e-3] * 3, [0.5, 0.4, 0.3], [0.3])
    assert winners(results_table(points_frame(a + b))) == ["a=1", "a=2"]


# --- experiments: arms, seeds, validation ---------------------------------------------------


def test_every_arm_runs_the_same_seeds_and_differs_only_in_the_varied_field():
    exp = Experiment(TrainConfig(epochs=3), "step_size", (1, 2, 3), seeds=(5, 6)).validated()
    configs = exp.configs()
    assert [arm for arm, _ in configs] == ["step_size=1", "step_size=2", "step_size=3"] * 2
    assert exp.arms == ["step_size=1", "step_size=2", "step_size=3"]
    for _, cfg in configs:
        assert cfg.experiment == exp.experiment_id and len(exp.experiment_id) == 12
        base = {**TrainConfig(epochs=3).to_dict(), "step_size": cfg.step_size, "seed": cfg.seed}
        assert cfg.to_dict() == {**base, "experiment": exp.experiment_id}
    by_arm = {}
    for arm, cfg in configs:
        by_arm.setdefault(arm, []).append(cfg.seed)
    assert all(seeds == [5, 6] for seeds in by_arm.values())


def test_default_experiment_is_the_seeds_setup_over_three_gammas():
    exp = default_experiment()
    assert exp.base == TrainConfig() and exp.vary == "gamma"
    assert exp.values == (0.1, 0.5, 1.0) and exp.seeds == (0, 1, 2)
    assert exp.arms == ["gamma=0.1", "gamma=0.5", "gamma=1"]


@pytest.mark.parametrize(
    ("vary", "values", "seeds", "message"),
    [
        ("lr", (0.1,), (0,), "vary must be one of gamma, step_size, scheduler, optimizer"),
        ("gamma", (), (0,), "gamma: give at least one value"),
        ("gamma", (0.1, 2.0), (0,), "gamma must be a finite number in (0, 1]"),
        ("gamma", (1, 1.0), (0,), "gamma: each value once"),
        ("scheduler", ("cosine", "bogus"), (0,), "scheduler must be one of"),
        ("gamma", (0.1,), (), "seeds: give at least one seed"),
        ("gamma", (0.1,), (1, 1), "seeds: each value once"),
    ],
)
def test_bad_experiments_are_refused(vary, values, seeds, message):
    with pytest.raises(ValueError) as exc:
        Experiment(TrainConfig(), vary, values, seeds).validated()
    assert str(exc.value).startswith(message)


# --- one real experiment: the seed's setup, γ = 0.1 / 0.5 / 1, 3 seeds --------------------------


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def lesson(one_thread) -> tuple[Experiment, InMemoryRunStore, list[ExperimentRun]]:
    """The default experiment, trained for real on the bundled digits and stored."""
    exp = default_experiment()
    store = InMemoryRunStore()
    runs = run_experiment(exp, load_mnist("bundled"), store=store)
    assert [r.snapshot.status for r in runs] == [FINISHED] * 9
    return exp, store, runs


def test_a_constant_lr_beats_the_seeds_gamma_on_the_bundled_digits(lesson):
    # What the training page teaches (issue 12: 89.8/90.3/90.5 % against 85.5/86.7/87.0 %).
    _, _, runs = lesson
    table = results_table(points_from_runs(runs)).set_index("arm")
    assert table.loc["gamma=1", "final_acc_mean"] > table.loc["gamma=0.1", "final_acc_mean"]
    assert ": gamma=1 comes first with " in commentary(points_from_runs(runs))[0]


def metrics(run: ExperimentRun) -> list[tuple[float, ...]]:
    """Per epoch: train loss, LR, test loss and accuracy (not the seconds it took)."""
    return [(p.train_loss, p.lr, p.test_loss, p.test_acc) for p in run.snapshot.epochs]


def test_arms_share_the_data_and_the_seeds(lesson):
    _, _, runs = lesson
    by_seed: dict[int, list[ExperimentRun]] = {}
    for r in runs:
        by_seed.setdefault(r.seed, []).append(r)
    for seed, arms in by_seed.items():
        assert [r.arm for r in arms] == ["gamma=0.1", "gamma=0.5", "gamma=1"]
        assert {r.snapshot.config.seed for r in arms} == {seed}
        # Until the first decay (epoch 3) every arm trains the same model on the same batches.
        first = [p for p in arms[0].snapshot.batches if p.epoch <= 2]
        for other in arms[1:]:
            assert [p for p in other.snapshot.batches if p.epoch <= 2] == first
            assert metrics(other)[:2] == metrics(arms[0])[:2]
        # ... and from then on the setting alone makes the difference.
        assert arms[0].snapshot.epochs[2].lr != arms[2].snapshot.epochs[2].lr
        assert arms[0].snapshot.epochs[-1].test_acc != arms[2].snapshot.epochs[-1].test_acc


def test_the_table_and_bands_of_the_real_experiment_match_its_runs(lesson):
    exp, store, runs = lesson
    points = points_from_runs(runs)
    table = results_table(points).set_index("arm")
    for arm in exp.arms:
        finals = [r.snapshot.epochs[-1].test_acc for r in runs if r.arm == arm]
        bests = [max(p.test_acc for p in r.snapshot.epochs) for r in runs if r.arm == arm]
        row = table.loc[arm]
        assert row["seeds"] == 3 and row["epochs"] == 5
        assert row["final_acc_by_seed"] == tuple(finals)
        assert row["final_acc_mean"] == pytest.approx(statistics.mean(finals))
        assert row["final_acc_std"] == pytest.approx(statistics.stdev(finals))
        assert row["best_acc_mean"] == pytest.approx(statistics.mean(bests))
    band = bands(points)
    assert len(band) == 3 * 5
    lrs = band[band["arm"] == "gamma=0.1"]["lr"].tolist()
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-5])
    # The decays the commentary describes are the γ = 0.1 and 0.5 arms' two each.
    decays = [line for line in commentary(points) if "the LR fell" in line]
    assert [line.split(",")[0] for line in decays] == ["gamma=0.1"] * 2 + ["gamma=0.5"] * 2


def test_the_store_groups_the_experiments_runs(lesson):
    exp, store, runs = lesson
    store.create_run(TrainConfig())  # a single run: not part of it
    assert experiment_run_ids(store, exp.experiment_id) == [r.run_id for r in runs]
    from_store = points_from_store(store, exp.experiment_id)
    pd.testing.assert_frame_equal(from_store, points_from_runs(runs))


# --- through the registry's queue and cap ----------------------------------------------------


def wait_until_idle(manager: RunManager, timeout: float = 120.0) -> None:
    """Poll until no run is live (the runs train in the manager's threads)."""
    end = time.monotonic() + timeout
    while manager.live_run_ids() and time.monotonic() < end:
        time.sleep(0.05)


def test_an_experiment_goes_through_the_registry_queue_and_cap(one_thread):
    store = InMemoryRunStore()
    manager = RunManager(store, max_concurrent=2, max_queue=10)
    exp = Experiment(TrainConfig(epochs=1, batch_size=500), "gamma", (0.1, 1.0), seeds=(0, 1))
    try:
        submitted = submit_experiment(manager, exp)
        assert sorted(submitted.values()) == [
            ("gamma=0.1", 0), ("gamma=0.1", 1), ("gamma=1", 0), ("gamma=1", 1),
        ]  # fmt: skip
        assert manager.active_count() <= 2  # the cap holds: the rest wait in the queue
        wait_until_idle(manager)
        assert not manager.live_run_ids()
    finally:
        manager.shutdown()
    assert {store.get_run(rid).status for rid in submitted} == {FINISHED}
    table = results_table(points_from_store(store, exp.validated().experiment_id))
    assert table["arm"].tolist() == ["gamma=0.1", "gamma=1"]
    assert table["seeds"].tolist() == [2, 2]


def test_an_experiment_that_does_not_fit_is_refused_whole():
    store = InMemoryRunStore()
    manager = RunManager(store, max_concurrent=1, max_queue=2)
    exp = Experiment(TrainConfig(epochs=1), "gamma", (0.1, 1.0), seeds=(0, 1))
    try:
        with pytest.raises(ClassFullError, match="This experiment needs 4 places"):
            submit_experiment(manager, exp)
    finally:
        manager.shutdown()
    assert store.list_runs().empty  # nothing half-submitted
