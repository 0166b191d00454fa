"""CLI `python -m steplr_viz.train`: the seed's output, one-line errors, Ctrl-C, the store."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

import steplr_viz
from steplr_viz.cli import export, launch, train
from steplr_viz.config import TrainConfig
from steplr_viz.schedules.steplr import lr_curve
from steplr_viz.store import runs as runs_mod
from steplr_viz.store.runs import RunStore
from steplr_viz.training.metrics import FINISHED, STOPPED

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 240.0
EPOCH_RE = re.compile(r"^Epoch (\d+), Loss: (\d+\.\d{4}), LR: (\d+\.\d{6})$")
ACC_RE = re.compile(r"^Test Accuracy: (\d+\.\d{2})%$")
THROUGHPUT_RE = re.compile(r"^Throughput: (\d+) samples/s$")


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["STEPLR_VIZ_RUNS_DIR"] = str(tmp_path / "env_runs")  # never ./runs
    env["STEPLR_VIZ_DATA_DIR"] = str(tmp_path / "env_data")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(tmp_path: Path, *args: str, timeout: float = DEADLINE_S) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "steplr_viz.train", *args],
        cwd=REPO, env=cli_env(tmp_path), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def parse_output(stdout: str) -> tuple[list[tuple[int, float, float]], list[float], int]:
    """Check the exact line format; return (epoch, loss, lr) rows, accuracies, throughput."""
    lines = stdout.splitlines()
    assert lines and len(lines) % 2 == 1, stdout
    epochs, accs = [], []
    for i in range(0, len(lines) - 1, 2):
        m = EPOCH_RE.fullmatch(lines[i])
        a = ACC_RE.fullmatch(lines[i + 1])
        assert m and a, (lines[i], lines[i + 1])
        epochs.append((int(m[1]), float(m[2]), float(m[3])))
        accs.append(float(a[1]))
    t = THROUGHPUT_RE.fullmatch(lines[-1])
    assert t, lines[-1]
    return epochs, accs, int(t[1])


# --- the acceptance test -----------------------------------------------------------


@pytest.mark.slow
def test_seed_run_five_epochs(tmp_path):
    runs_dir = tmp_path / "runs"
    out = run_cli(tmp_path, "--epochs", "5", "--runs-dir", str(runs_dir))
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    epochs, accs, throughput = parse_output(out.stdout)
    assert [e[0] for e in epochs] == [1, 2, 3, 4, 5]
    assert [f"{e[2]:.6f}" for e in epochs] == [
        "0.001000", "0.001000", "0.000100", "0.000100", "0.000010",
    ]  # fmt: skip
    assert [e[2] for e in epochs] == pytest.approx(lr_curve(1e-3, 0.1, 2, 5))
    assert accs[-1] > 80.0  # it learned: chance is 10%
    assert epochs[-1][1] < epochs[0][1]  # and the loss went down
    assert throughput > 0

    # Recorded in the store, with the printed numbers.
    runs = RunStore(runs_dir).list_runs()
    assert len(runs) == 1
    record = RunStore(runs_dir).get_run(runs["run_id"].iloc[0])
    assert record.status == FINISHED
    assert record.config == TrainConfig()
    assert [f"{x:.4f}" for x in record.epochs["train_loss"]] == [f"{e[1]:.4f}" for e in epochs]
    assert [f"{x:.2f}" for x in record.epochs["test_acc"]] == [f"{a:.2f}" for a in accs]
    assert not (tmp_path / "env_runs").exists()  # --runs-dir wins over the environment


# --- bad flags: exit 2 and one line on stderr ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--gamma", "2"], "gamma"),
        (["--epochs", "abc"], "--epochs"),
        (["--lr", "nan"], "lr"),
        (["--lr", "inf"], "lr"),
        (["--lr", "0"], "lr"),
        (["--lr", "-1"], "lr"),
        (["--epochs", "0"], "epochs"),
        (["--epochs", "101"], "epochs"),
        (["--step-size", "0"], "step-size"),
        (["--batch-size", "0"], "batch-size"),
        (["--batch-size", "1e9"], "--batch-size"),
        (["--momentum", "1"], "momentum"),
        (["--seed", "-1"], "seed"),
        (["--optimizer", "rmsprop"], "--optimizer"),
        (["--scheduler-step", "week"], "--scheduler-step"),
        (["--data-source", "web"], "--data-source"),
        (["--optimizer", "a\nb\nc"], "--optimizer"),
        (["--bogus"], "--bogus"),
        (["--lr", "x" * 10_000], "--lr"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args, names, capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(args)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert names in lines[0]


def test_the_flags_config_is_checked_once(tmp_path, monkeypatch, capsys):
    checks = []
    real = TrainConfig.validated
    monkeypatch.setattr(TrainConfig, "validated", lambda self: checks.append(self) or real(self))
    assert train.main(["--epochs", "1", "--batch-size", "512", "--no-store"]) == 0
    assert len(checks) == 1
    assert capsys.readouterr().out.startswith("Epoch 1, Loss: ")


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_bad_flag_through_python_m(tmp_path):
    out = run_cli(tmp_path, "--gamma", "2")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.splitlines() == [
        "error: argument --gamma: gamma must be a finite number in (0, 1], got 2.0"
    ]


def test_help_exits_0(capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--help"])
    assert exc.value.code == 0
    help_text = capsys.readouterr().out
    for flag in ("--optimizer", "--lr", "--momentum", "--step-size", "--gamma", "--epochs",
                 "--batch-size", "--seed", "--scheduler-step", "--data-source", "--data-dir",
                 "--runs-dir", "--download", "--no-store"):  # fmt: skip
        assert flag in help_text


@pytest.mark.parametrize("module", [train, launch, export])
def test_help_shows_every_flags_default(module, capsys):
    with pytest.raises(SystemExit) as exc:
        module.main(["--help"])
    assert exc.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps lines at spaces
    for action in module.build_parser()._actions:
        if action.default is argparse.SUPPRESS:  # --help, --version
            continue
        if action.default is None:  # unset means something else; the help says what, in words
            assert "(default: " in action.help and action.help in shown, action.dest
        else:
            assert f"{action.help} (default: {action.default})" in shown, action.dest
    if module is train:
        assert "--lr LR initial learning rate, in (0, 10] (default: 0.001)" in shown
        assert "(default: bundled)" in shown and "(default: 5)" in shown


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
@pytest.mark.parametrize(
    "module", ["steplr_viz.train", "steplr_viz.cli.launch", "steplr_viz.export"]
)
def test_version_through_python_m(module, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", module, "--version"],
        cwd=REPO, env=cli_env(tmp_path), capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"steplr-viz {steplr_viz.__version__}\n"


LAZY_CLIS = """
import contextlib, io, sys
from steplr_viz import export, train
from steplr_viz.cli import launch
for main, argv in ((train.main, ["--version"]), (train.main, ["--database-url", "mysql://x/y"]),
                   (export.main, ["--help"]), (launch.main, ["--version"])):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
print(sorted(m for m in ("torch", "pandas", "streamlit") if m in sys.modules))
"""


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_help_version_and_flag_errors_answer_before_torch_loads(tmp_path):
    # `import torch` takes seconds: the CLIs load it (and pandas) only once the flags are read,
    # so --help, --version and a refused database URL answer at once.
    out = subprocess.run(
        [sys.executable, "-c", LAZY_CLIS],
        cwd=REPO, env=cli_env(tmp_path), capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout == "[]\n"


def test_every_config_field_has_a_flag():
    parser = train.build_parser()
    dests = {a.dest for a in parser._actions}
    assert set(TrainConfig().to_dict()) <= dests
    assert train.config_from_args(parser.parse_args([])) == TrainConfig()
    parsed = parser.parse_args(
        ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.5", "--step-size", "3",
         "--gamma", "0.5", "--epochs", "7", "--batch-size", "32", "--seed", "9",
         "--scheduler-step", "batch", "--data-source", "auto"]
    )  # fmt: skip
    assert train.config_from_args(parsed) == TrainConfig(
        optimizer="sgd", lr=0.05, momentum=0.5, step_size=3, gamma=0.5, epochs=7,
        batch_size=32, seed=9, scheduler_step="batch", data_source="auto",
    )  # fmt: skip


# --- data -----------------------------------------------------------------------------------


def test_full_data_missing_names_the_folder(tmp_path, capsys):
    empty = tmp_path / "empty_data"
    empty.mkdir()
    runs_dir = tmp_path / "runs"
    with pytest.raises(SystemExit) as exc:
        train.main(["--data-source", "full", "--data-dir", str(empty), "--runs-dir", str(runs_dir)])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert str(empty) in lines[0]
    assert "--download" in lines[0]  # says how to get it
    assert captured.out == ""
    assert not runs_dir.exists() or RunStore(runs_dir).list_runs().empty  # nothing recorded


# --- store options --------------------------------------------------------------------------


def test_one_epoch_no_store(tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    code = train.main(["--epochs", "1", "--batch-size", "512", "--no-store",
                       "--runs-dir", str(runs_dir)])  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    epochs, accs, _ = parse_output(captured.out)
    assert [e[0] for e in epochs] == [1] and epochs[0][2] == 0.001
    assert not runs_dir.exists()


def test_unwritable_runs_dir_still_trains(tmp_path, capsys):
    (tmp_path / "afile").write_text("a file, not a folder")
    code = train.main(["--epochs", "1", "--batch-size", "512",
                       "--runs-dir", str(tmp_path / "afile" / "runs")])  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    parse_output(captured.out)
    notes = captured.err.splitlines()
    assert len(notes) == 1 and notes[0].startswith("note: ") and "memory" in notes[0]


# --- Ctrl-C and SIGTERM ----------------------------------------------------------------------


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
@pytest.mark.parametrize(
    ("sig", "code", "how"), [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")]
)
def test_a_signal_stops_cleanly_and_records_stopped(tmp_path, sig, code, how):
    runs_dir = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "steplr_viz.train", "--epochs", "100", "--batch-size", "256",
         "--runs-dir", str(runs_dir)],
        cwd=REPO, env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    lines: list[str] = []
    first_epoch = threading.Event()

    def read_stdout() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Epoch "):
                first_epoch.set()

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    try:
        assert first_epoch.wait(DEADLINE_S), "no Epoch line before the deadline"
        assert proc.poll() is None  # still training (100 epochs)
        proc.send_signal(sig)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    stderr = proc.stderr.read()
    assert rc == code, stderr
    notes = stderr.splitlines()
    assert len(notes) == 1 and notes[0].startswith(f"Stopped by {how} after "), stderr
    assert not any(line.startswith("Throughput") for line in lines)

    store = RunStore(runs_dir)
    runs = store.list_runs()
    assert len(runs) == 1
    record = store.get_run(runs["run_id"].iloc[0])
    assert record.status == STOPPED
    assert record.finished is not None
    assert 1 <= len(record.epochs) < 100
    assert record.run_id in notes[0]
    assert store.integrity_ok()


def test_sigint_in_process_stops_the_run(tmp_path, capsys, monkeypatch):
    # The same path in-process: SIGINT arrives once the first batch is stored.
    runs_dir = tmp_path / "runs"
    timer_done = threading.Event()
    handler_before = signal.getsignal(signal.SIGINT)
    # The store is read only once the CLI has opened it: a reader creating the new store file
    # at the same moment could make the CLI's open fail over to memory (seen under load).
    store_open = threading.Event()
    stores: list = []
    real_open_store = runs_mod.open_store

    def open_store(*args, **kwargs):
        opened = real_open_store(*args, **kwargs)
        stores.append(opened[0])
        store_open.set()
        return opened

    monkeypatch.setattr(runs_mod, "open_store", open_store)

    def interrupt_when_training() -> None:
        deadline = time.monotonic() + DEADLINE_S
        store_open.wait(DEADLINE_S)
        while time.monotonic() < deadline and stores and stores[0].persistent:
            if runs_dir.exists():
                runs = RunStore(runs_dir).list_runs()
                if len(runs) and runs["status"].iloc[0] == "running":
                    break
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)
        timer_done.set()

    threading.Thread(target=interrupt_when_training, daemon=True).start()
    code = train.main(["--epochs", "100", "--batch-size", "16", "--runs-dir", str(runs_dir)])
    assert timer_done.wait(10)
    assert code == 130
    err = capsys.readouterr().err
    assert "Stopped by Ctrl-C" in err and "note:" not in err, err  # stored, not in memory
    runs = RunStore(runs_dir).list_runs()
    assert runs["status"].tolist() == [STOPPED]
    assert signal.getsignal(signal.SIGINT) is handler_before  # handler restored


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_save_model_writes_a_state_dict_the_seeds_simplenet_loads(tmp_path):
    target = tmp_path / "model.pt"
    done = run_cli(tmp_path, "--epochs", "1", "--batch-size", "512", "--no-store",
                   "--save-model", str(target))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Model saved to {target}" in done.stdout
    from steplr_viz.training.model import SimpleNet

    state = torch.load(target)
    assert set(state) == {"fc.weight", "fc.bias"}
    SimpleNet().load_state_dict(state)  # strict: every key and shape matches the seed's model


def test_the_readme_says_what_the_cli_is_and_is_not():
    """Not 'the seed's script, exactly': the seed's setup and output format, the app's own loop,
    the bundled digits by default. Each claim is checked against the CLI's own defaults."""
    readme = (REPO / "README.md").read_text()
    paragraph = readme.split("## The command line", 1)[1].split("```console", 1)[0]
    flat = " ".join(paragraph.split())
    assert "exactly" not in flat
    assert "It is not the seed's script run as is" in flat
    assert "the app's own training loop (the `Trainer` the Live training page uses)" in flat
    assert "on the bundled digits unless you pass `--data-source full`" in flat
    d = TrainConfig()
    assert (d.optimizer, d.lr, d.step_size, d.gamma, d.epochs) == ("adam", 1e-3, 2, 0.1, 5)
    assert "Adam, lr 1e-3, StepLR with step_size 2 and γ 0.1, 5 epochs" in flat
    args = train.build_parser().parse_args([])
    assert args.data_source == "bundled"
    assert "--data-source" in flat and "then a throughput line" in flat
