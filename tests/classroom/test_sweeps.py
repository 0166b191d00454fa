"""A sweep's grid: the values a teacher may give, the refused ones, seeds and the landscape."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from steplr_viz.classroom import sweeps
from steplr_viz.classroom.sweeps import MAX_CELLS, SweepSpec, check_spec, default_spec
from steplr_viz.config import TrainConfig


def test_the_default_sweep_is_gamma_by_s_on_four_values_each():
    spec = default_spec()
    assert (spec.x, spec.y, spec.n_cells) == ("gamma", "step_size", 16)
    assert spec.base.epochs == 5 and spec.base.data_source == "bundled"
    assert spec.cell_values(0) == (0.1, 1) and spec.cell_values(5) == (0.3, 2)
    config = spec.config(5, seed=7)
    assert (config.gamma, config.step_size, config.seed) == (0.3, 2, 7)
    assert isinstance(config.step_size, int)
    assert spec.cell_label(5) == "γ = 0.3, s = 2"


def test_every_axis_pair_has_defaults_that_check():
    for x in sweeps.PARAMS:
        for y in sweeps.PARAMS:
            if x != y:
                assert default_spec(x, y).n_cells == 16


def test_a_spec_survives_the_store_as_json():
    spec = default_spec("lr", "gamma", seed=3, epochs=2)
    assert SweepSpec.from_json(spec.to_json()) == spec


def test_typed_values_are_parsed_sorted_and_snapped_to_the_sliders():
    assert sweeps.parse_values("gamma", "0.5, 0.1;1") == (0.1, 0.5, 1.0)
    assert sweeps.parse_values("lr", "1e-3, 0.01") == (0.001, 0.01)
    assert sweeps.parse_values("step_size", " 3 , 1 ") == (1, 3)


@pytest.mark.parametrize(
    ("param", "text", "message"),
    [
        ("gamma", "", "at least one value"),
        ("gamma", "abc", "is not a number"),
        ("gamma", "0.5, nan", "finite"),
        ("gamma", "0.5, inf", "finite"),
        ("gamma", "1.5", "between 0.01 and 1"),
        ("gamma", "0", "between 0.01 and 1"),
        ("lr", "0.003", "1-2-5 series"),
        ("lr", "2", "1-2-5 series"),
        ("step_size", "1.5", "whole numbers"),
        ("step_size", "101", "whole numbers from 1 to 100"),
        ("step_size", "1, 1", "repeat"),
        ("step_size", ",".join(str(i) for i in range(1, 10)), "at most 8"),
        ("gamma", "0.1," * 5000, "at most 8"),
        ("epochs", "1, 2", "two of"),
        ("gamma", None, "must be text"),
    ],
)
def test_junk_values_are_refused_in_plain_words(param, text, message):
    with pytest.raises(ValueError, match=message):
        sweeps.parse_values(param, text)


def test_a_sweep_of_thousands_of_cells_is_refused_with_its_size():
    spec = SweepSpec("gamma", tuple(range(50)), "step_size", tuple(range(1, 41)))
    with pytest.raises(ValueError) as err:
        check_spec(spec)
    assert f"at most {MAX_CELLS} cells" in str(err.value)
    assert "50 × 40 = 2,000" in str(err.value)


@pytest.mark.parametrize(
    "spec",
    [
        SweepSpec("gamma", (0.1, 0.5), "gamma", (0.1, 0.5)),  # the same setting twice
        SweepSpec("momentum", (0.1,), "gamma", (0.1, 0.5)),  # not a sweep setting
        SweepSpec("gamma", (0.5,), "step_size", (2,)),  # one cell is no sweep
        SweepSpec("gamma", (), "step_size", (2,)),
        SweepSpec("gamma", (0.1, 0.5), "step_size", (2,), TrainConfig(epochs=31)),
        SweepSpec("gamma", (0.1, 0.5), "step_size", (2,), TrainConfig(epochs="5")),
        SweepSpec("gamma", (0.1, 0.5), "step_size", (2,), TrainConfig(seed=2**31 - 1)),
        SweepSpec("gamma", (0.1, True), "step_size", (2,)),
    ],
)
def test_bad_sweeps_are_refused(spec):
    with pytest.raises(ValueError):
        check_spec(spec)


def test_seeds_grow_by_one_each_time_the_cells_run_out():
    spec = default_spec(seed=10)
    assert [sweeps.seed_for(spec, t) for t in (0, 15, 16, 31, 32)] == [10, 10, 11, 11, 12]


def _rows(*rows):
    return pd.DataFrame(rows, columns=["cell", "run_id", "status", "final_acc", "best_acc"])


def test_the_landscape_averages_finished_runs_per_cell_and_marks_the_best():
    spec = SweepSpec("gamma", (0.1, 0.5), "step_size", (1, 2))
    rows = _rows(
        (0, "r0", "finished", 80.0, 82.0),
        (0, "r1", "finished", 90.0, 91.0),  # a repeat: the mean of both, their spread
        (1, "r2", "running", math.nan, 70.0),  # not finished: not counted
        (2, None, None, math.nan, math.nan),  # given, not started
        (3, "r3", "finished", 84.0, 95.0),
        (3, "r4", "diverged", 10.0, 10.0),
    )
    table = sweeps.landscape(spec, rows)
    assert table["given"].tolist() == [2, 1, 1, 2]
    assert table["started"].tolist() == [2, 1, 0, 2]
    assert table["finished"].tolist() == [2, 0, 0, 1]
    assert table.loc[0, "final_acc"] == 85.0 and table.loc[0, "best_acc"] == 86.5
    assert table.loc[0, "final_sd"] == pytest.approx(math.sqrt(50))
    assert math.isnan(table.loc[1, "final_acc"])
    assert sweeps.best_cell(table, "final_acc") == 0
    assert sweeps.best_cell(table, "best_acc") == 3
    assert sweeps.filled(table) == 2


def test_no_best_cell_before_any_run_finishes():
    spec = default_spec()
    table = sweeps.landscape(spec, _rows())
    assert len(table) == 16 and sweeps.filled(table) == 0
    assert sweeps.best_cell(table) is None
    with pytest.raises(ValueError):
        sweeps.best_cell(table, "loss")
