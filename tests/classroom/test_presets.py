"""The two presets, trained for real on the bundled digits: each shows its side on every seed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from steplr_viz.classroom import presets
from steplr_viz.classroom.commentary import commentary, lesson_shown, pair_comparisons
from steplr_viz.classroom.experiments import points_from_runs, results_table, run_experiment
from steplr_viz.config import TrainConfig
from steplr_viz.training.data import load_mnist
from steplr_viz.training.metrics import FINISHED


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_presets_are_named_and_found_from_their_runs():
    assert [p.id for p in presets.PRESETS] == ["seed", "large-lr"]
    seed = presets.preset("seed")
    assert seed.name == "The seed's setup: decays too early"
    assert seed.base == TrainConfig()  # today's default lesson
    experiment = seed.experiment()
    configs = [c for _, c in experiment.configs()]
    assert len(configs) == 15 and presets.preset_of(configs) is seed
    assert presets.preset_of(configs[:-1]) is None  # not all of its runs
    assert presets.preset_of([TrainConfig(seed=s, gamma=0.5) for s in range(5)]) is None
    with pytest.raises(ValueError, match="preset must be one of seed, large-lr"):
        presets.preset("nope")


@pytest.mark.parametrize("preset", presets.PRESETS, ids=lambda p: p.id)
def test_each_preset_shows_its_side_on_every_seed(preset, one_thread):
    runs = run_experiment(preset.experiment(), load_mnist("bundled"))
    assert {r.snapshot.status for r in runs} == {FINISHED}
    points = points_from_runs(runs)
    table = results_table(points).set_index("arm")
    assert table["seeds"].tolist() == [preset.seeds] * 3
    assert table["final_acc_mean"].idxmax() == preset.expected
    # The expected arm beats each other arm on every seed, beyond the noise.
    against = [c for c in pair_comparisons(points) if c.a == preset.expected]
    assert len(against) == 2
    for c in against:
        assert c.a_better == c.n == preset.seeds and c.winner == preset.expected and c.low > 0
    assert lesson_shown(preset, points)
    lines = commentary(points, preset=preset)
    assert lines[-2:] == [f"{preset.name}. {preset.lesson}", presets.TOGETHER]
