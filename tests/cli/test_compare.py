"""CLI `python -m steplr_viz.compare`: one line per arm, the paired verdicts, presets, the store,
errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from steplr_viz.cli import compare
from steplr_viz.store.runs import RunStore
from steplr_viz.validation import is_id

REPO = Path(__file__).resolve().parents[2]
ARM_RE = re.compile(
    r"^(?P<arm>\S+)\s+final test accuracy (?P<mean>\d+\.\d\d) % ± (?P<std>\d+\.\d\d) "
    r"\((?P<n>\d+) seeds?\)  best (?P<best>\d+\.\d\d) %  seeds: (?P<seeds>[\d. /]+)$"
)
PAIR_RE = re.compile(
    r"^(?P<a>\S+) vs (?P<b>\S+), paired by seed: mean difference (?P<mean>[+-]\d+\.\d\d) "
    r"points \(95 % interval (?P<low>[+-]\d+\.\d\d) to (?P<high>[+-]\d+\.\d\d)\), seeds "
    r"favouring (?P=a): (?P<na>\d) of (?P<n>\d), (?P=b): (?P<nb>\d)(, tied: (?P<nt>\d))?: "
    r"(?P<verdict>.+)$"
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
    assert lines[2].startswith("By mean final test accuracy over seeds 0, 1, after all 2 epochs: ")
    assert f": {winner} comes first with " in lines[2]
    # The paired verdict, on a line of its own: per-seed differences by hand.
    pair = PAIR_RE.fullmatch(lines[3])
    assert pair, lines[3]
    finals = {m["arm"]: [float(x) for x in m["seeds"].split(" / ")] for m in arms}
    diffs = [x - y for x, y in zip(finals[pair["a"]], finals[pair["b"]], strict=True)]
    assert float(pair["mean"]) == pytest.approx(sum(diffs) / 2, abs=0.006)
    assert pair["n"] == "2" and int(pair["na"]) == sum(d > 1e-9 for d in diffs)
    half = 12.706 * abs(diffs[0] - diffs[1]) / 2  # sd of 2 values / √2 = |d1 − d2| / 2
    assert float(pair["low"]) == pytest.approx(sum(diffs) / 2 - half, abs=0.01)
    noise = float(pair["low"]) <= 0 <= float(pair["high"])
    assert pair["verdict"].endswith("could be noise.") == noise
    assert lines[4].startswith("The verdicts use each run's final test accuracy")
    assert lines[5].startswith("gamma=0.1, epoch 2 (counted from 1): the LR fell from 0.001 to ")
    m = re.fullmatch(r"Recorded as experiment (\w+)\.", lines[-1])
    assert m and is_id(m[1]) and not m[1].isdigit(), lines[-1]
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
        (["--preset", "seed", "--seeds", "21"], "argument --seeds: must be an integer in [1, 20]"),
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


def test_a_preset_runs_its_own_settings(tmp_path, capsys):
    from steplr_viz.classroom import presets

    assert compare.main(["--preset", "large-lr", "--seeds", "1", "--runs-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["gamma=0.1", "gamma=0.5", "gamma=1"]
    assert all("(1 seed)" in line for line in lines[:3])
    assert "with one seed there is nothing to judge the noise by" in lines[4]
    configs = list(RunStore(tmp_path).list_configs().values())
    base = presets.preset("large-lr").base
    assert sorted(c.gamma for c in configs) == [0.1, 0.5, 1.0]
    for c in configs:
        assert (c.optimizer, c.lr, c.step_size, c.epochs, c.seed) == (
            base.optimizer, base.lr, base.step_size, base.epochs, 0,
        )  # fmt: skip


def test_an_unknown_preset_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        compare.main(["--preset", "nope", "--no-store"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_sigterm_stops_the_experiment_and_records_the_run_stopped(tmp_path):
    # As Ctrl-C does (the same handler); exit 128 + SIGTERM.
    sig, code, how = signal.SIGTERM, 143, "SIGTERM"
    runs_dir = tmp_path / "runs"
    env = {**os.environ, "STEPLR_VIZ_RUNS_DIR": str(tmp_path / "env_runs")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "steplr_viz.compare", "--vary", "gamma=1,0.1", "--seeds", "2",
         "--epochs", "50", "--batch-size", "8", "--runs-dir", str(runs_dir)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # The store is read only once the CLI has opened it ("Training ..." follows the open): a
    # reader creating the new store file at the same moment could send the CLI's to memory.
    errors: list[str] = []
    store_open = threading.Event()

    def read_stderr() -> None:
        for line in proc.stderr:
            errors.append(line)
            if line.startswith("Training "):
                store_open.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        while not (store_open.is_set() and _training(runs_dir)):  # the first run stored batches
            assert proc.poll() is None and time.monotonic() < deadline, "".join(errors)
            time.sleep(0.1)
        proc.send_signal(sig)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    err = "".join(errors)
    assert proc.returncode == code, err
    assert f"Stopped by {how} after 1 of 4 runs." in err.splitlines(), err  # the stopped one
    assert "Traceback" not in err and "terminate called" not in err, err
    runs = RunStore(runs_dir).list_runs()
    assert runs["status"].tolist() == ["stopped"]  # the one that trained; no more started


def _training(runs_dir: Path) -> bool:
    if not (runs_dir / "runs.sqlite3").exists():
        return False
    store = RunStore(runs_dir)
    runs = store.list_runs()
    return len(runs) == 1 and len(store.get_run(runs["run_id"].iloc[0]).batches) > 0
