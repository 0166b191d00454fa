"""CLI `python -m steplr_viz.compare`: one line per arm, the verdict, the store, errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from steplr_viz.cli import compare
from steplr_viz.store.runs import RunStore

REPO = Path(__file__).resolve().parents[2]
ARM_RE = re.compile(
    r"^(?P<arm>\S+)\s+final test accuracy (?P<mean>\d+\.\d) % ± (?P<std>\d+\.\d) "
    r"\((?P<n>\d+) seeds?\)  best (?P<best>\d+\.\d) %  seeds: (?P<seeds>[\d. /]+)$"
)


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_the_cli_prints_one_line_per_arm_then_the_verdict_and_records_the_runs(tmp_path):
    env = {**os.environ, "STEPLR_VIZ_RUNS_DIR": str(tmp_path / "env_runs")}
    out = subprocess.run(
        [sys.executable, "-m", "steplr_viz.compare", "--vary", "gamma=1,0.1", "--seeds", "2",
         "--epochs", "2", "--step-size", "1", "--batch-size", "256",
         "--runs-dir", str(tmp_path / "runs")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    arms = [ARM_RE.fullmatch(line) for line in lines[:2]]
    assert all(arms), lines[:2]
    assert [m["arm"] for m in arms] == ["gamma=1", "gamma=0.1"]  # the order given
    for m in arms:
        seeds = [float(x) for x in m["seeds"].split(" / ")]
        assert m["n"] == "2" and len(seeds) == 2
        assert float(m["mean"]) == pytest.approx(sum(seeds) / 2, abs=0.06)
    winner = max(arms, key=lambda m: float(m["mean"]))["arm"]
    assert lines[2].startswith(f"{winner} won: mean final test accuracy")
    assert lines[3].startswith("The gap between ")
    assert re.search(r"(larger than|within) the seed-to-seed spread", lines[3])
    assert lines[4].startswith("gamma=0.1: the LR fell from 0.001 to 0.0001 for epoch 2; ")
    m = re.fullmatch(r"Recorded as experiment ([0-9a-f]{12})\.", lines[-1])
    assert m, lines[-1]
    configs = RunStore(tmp_path / "runs").list_configs().values()
    assert sorted((c.gamma, c.seed) for c in configs) == [(0.1, 0), (0.1, 1), (1.0, 0), (1.0, 1)]
    assert {c.experiment for c in configs} == {m[1]}
    assert {(c.epochs, c.step_size, c.batch_size) for c in configs} == {(2, 1, 256)}
    assert not (tmp_path / "env_runs").exists()


def test_no_store_trains_and_records_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEPLR_VIZ_RUNS_DIR", str(tmp_path / "runs"))
    code = compare.main(
        ["--vary", "scheduler=constant,cosine", "--seeds", "1", "--epochs", "1",
         "--batch-size", "512", "--no-store"]
    )  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("scheduler=constant  final test accuracy ")
    assert lines[1].startswith("scheduler=cosine    final test accuracy ")
    assert "(1 seed)" in lines[0]
    assert not any(line.startswith("Recorded") for line in lines)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--vary", "lr=1,2"], "argument --vary: expected FIELD=V1,V2,... with FIELD one of "
                               "gamma, step_size, scheduler, optimizer; got 'lr=1,2'"),
        (["--vary", "gamma=0.1,2"], "argument --vary: gamma must be a finite number in (0, 1], "
                                    "got 2.0"),
        (["--vary", "step_size=1,x"], "argument --vary: step_size values must be integers, "
                                      "got '1,x'"),
        (["--vary", "optimizer=adam,rmsprop"], "argument --vary: optimizer must be one of adam, "
                                               "sgd; got 'rmsprop'"),
        (["--seeds", "0"], "argument --seeds: must be an integer in [1, 20]"),
        (["--gamma", "3"], "argument --gamma: gamma must be a finite number in (0, 1], got 3.0"),
    ],
)  # fmt: skip
def test_bad_flags_fail_with_one_line_naming_the_flag(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        compare.main([*argv, "--no-store"])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"error: {message}"]


def test_vary_parses_each_field_with_its_type():
    assert compare.parse_vary("gamma=1,0.5,0.1") == ("gamma", (1.0, 0.5, 0.1))
    assert compare.parse_vary("step-size=1, 2") == ("step_size", (1, 2))
    assert compare.parse_vary("optimizer=adam,sgd") == ("optimizer", ("adam", "sgd"))
    assert compare.parse_vary("scheduler=steplr,warmup_steplr") == (
        "scheduler", ("steplr", "warmup_steplr"),
    )  # fmt: skip


def test_help_lists_vary_seeds_and_the_train_flags(capsys):
    with pytest.raises(SystemExit) as exc:
        compare.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: python -m steplr_viz.compare")
    for flag in ("--vary", "--seeds", "--gamma", "--step-size", "--scheduler", "--optimizer",
                 "--epochs", "--no-store", "--runs-dir"):  # fmt: skip
        assert flag in text


def test_experiment_flag_adds_the_runs_to_an_earlier_experiment(tmp_path, capsys):
    argv = ["--vary", "gamma=1", "--epochs", "1", "--batch-size", "512",
            "--runs-dir", str(tmp_path), "--experiment", "0123456789ab"]  # fmt: skip
    assert compare.main([*argv, "--seeds", "1"]) == 0
    assert compare.main([*argv, "--seeds", "1", "--seed", "1"]) == 0  # one more seed
    assert capsys.readouterr().out.splitlines()[-1] == "Recorded as experiment 0123456789ab."
    configs = RunStore(tmp_path).list_configs().values()
    assert sorted((c.experiment, c.seed) for c in configs) == [
        ("0123456789ab", 0), ("0123456789ab", 1),
    ]  # fmt: skip
