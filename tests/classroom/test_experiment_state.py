"""An experiment submitted through the run manager, read back as the pages read it."""

from __future__ import annotations

import pytest

from steplr_viz.classroom import experiments
from steplr_viz.classroom.experiment_state import experiment_state
from steplr_viz.config import TrainConfig
from steplr_viz.schedules.choices import predicted_lr_curve
from steplr_viz.store.registry import RunManager
from steplr_viz.store.runs import InMemoryRunStore
from tests.apptest_pages import wait_until


@pytest.fixture
def manager():
    m = RunManager(store=InMemoryRunStore(), max_concurrent=2)
    yield m
    m.shutdown()


def test_state_follows_an_experiment_to_the_end(manager):
    base = TrainConfig(epochs=2, batch_size=512)
    experiment = experiments.Experiment(base, "scheduler", ("steplr", "cosine"), (0, 1))
    experiment = experiment.validated()
    experiments.submit_experiment(manager, experiment)
    first = experiment_state(manager, experiment.experiment_id)
    assert first.runs == 4
    wait_until(lambda: experiment_state(manager, experiment.experiment_id).done, "the runs")
    state = experiment_state(manager, experiment.experiment_id)
    assert state.live == 0 and state.progress == 1.0
    assert list(state.points["arm"].cat.categories) == ["scheduler=steplr", "scheduler=cosine"]
    lrs = state.arm_lrs()
    assert [a.arm for a in lrs] == ["scheduler=steplr", "scheduler=cosine"]
    bpe = len(lrs[0].steps) // 2
    for arm, name in zip(lrs, ("steplr", "cosine"), strict=True):
        per_epoch = predicted_lr_curve(TrainConfig(scheduler=name, epochs=2)).tolist()
        assert arm.lrs.tolist() == [lr for lr in per_epoch for _ in range(bpe)]


def test_an_unknown_experiment_has_no_runs(manager):
    state = experiment_state(manager, "0123456789ab")
    assert state.runs == 0 and not state.done and state.progress == 0.0
