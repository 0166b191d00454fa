"""A clean stop: a process that holds trainers ends (script end, SIGTERM, Ctrl-C) while they
train; its runs are marked interrupted with their data kept, the threads are joined, and it
exits without "terminate called without an active exception" / "Aborted"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from steplr_viz.store.registry import QUEUED_EXIT_MESSAGE
from steplr_viz.store.runs import RunStore
from steplr_viz.training.metrics import INTERRUPTED
from steplr_viz.training.trainer import EXIT_MESSAGE

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 180.0  # bounds every wait; it only stops a hung test
ABORT_TEXT = ("terminate called", "Aborted", "core dumped", "Fatal Python error")

# The process under test. Its own atexit handler is registered before steplr_viz is imported,
# so it runs after the package's (atexit is last-in, first-out) and reports what they left.
HOLDER = """
import atexit, signal, sys, threading, time

# Ctrl-C as in a Python started from a terminal: a test run as a background job (`pytest &`)
# hands its children SIGINT ignored, and this holder would then never see the test's SIGINT.
signal.signal(signal.SIGINT, signal.default_int_handler)

def report():
    alive = [t.name for t in threading.enumerate() if t.name.startswith("steplr-")]
    print("AT EXIT", trainer.status if trainer else "-", "alive:", alive, flush=True)

trainer = None
atexit.register(report)

from steplr_viz.config import TrainConfig
from steplr_viz.store.registry import RunManager
from steplr_viz.store.runs import RunStore
from steplr_viz.training.trainer import Trainer

holds, ending = sys.argv[1], sys.argv[2]
config = TrainConfig(epochs=100, batch_size=8)  # 50,000 batches: far more than the test waits
if holds == "manager":
    manager = RunManager(store=RunStore(sys.argv[3]), max_concurrent=1)
    running, queued = manager.submit(config), manager.submit(config)
    trainer = manager._active[running]
    print("IDS", running, queued, flush=True)
else:
    trainer = Trainer(config)
    trainer.start()
while len(trainer.snapshot().batches) < 20:
    time.sleep(0.01)
print("TRAINING", len(trainer.snapshot().batches), flush=True)
if ending != "end":
    time.sleep(600)  # until the test's signal
"""


def _hold(tmp_path: Path, holds: str, ending: str) -> tuple[int, str, list[str]]:
    """Run the holder until it trains, end it the given way; (exit code, stderr, stdout lines)."""
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
        "PYTHONFAULTHANDLER": "1",  # a hung holder shows every thread's stack (SIGABRT below)
        "STEPLR_VIZ_RUNS_DIR": str(tmp_path / "env_runs"),  # never ./runs
        "STEPLR_VIZ_DATA_DIR": str(tmp_path / "env_data"),
    }
    proc = subprocess.Popen(
        [sys.executable, str(script), holds, ending, str(tmp_path / "runs")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    training = threading.Event()

    def read_stdout() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("TRAINING"):
                training.set()

    errors: list[str] = []  # stderr, read as it comes: a full pipe must not stall the holder
    reader = threading.Thread(target=read_stdout, daemon=True)
    err_reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    reader.start()
    err_reader.start()
    try:
        assert training.wait(DEADLINE_S) or proc.poll() is not None, "never trained"
        if ending != "end":
            assert proc.poll() is None, "the holder ended before the signal"
            proc.send_signal(signal.SIGTERM if ending == "sigterm" else signal.SIGINT)
        try:
            code = proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # faulthandler prints where each thread waits
            proc.wait(timeout=60)
            err_reader.join(timeout=10)
            pytest.fail(f"the holder did not end ({ending}); its stacks:\n{''.join(errors)}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    err_reader.join(timeout=10)
    return code, "".join(errors), lines


# The exit code each ending gives: a normal exit, 128 + SIGTERM, and Python's own for an
# uncaught KeyboardInterrupt (it ends itself with SIGINT).
EXPECTED_CODE = {"end": 0, "sigterm": 143, "sigint": -signal.SIGINT}


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
@pytest.mark.parametrize("ending", ["end", "sigterm", "sigint"])
def test_a_process_holding_a_run_manager_ends_cleanly_and_marks_its_runs(tmp_path, ending):
    code, stderr, lines = _hold(tmp_path, "manager", ending)
    assert not any(text in stderr for text in ABORT_TEXT), stderr
    assert code == EXPECTED_CODE[ending], (code, stderr)
    if ending == "sigint":  # Python's KeyboardInterrupt traceback, and nothing else
        assert stderr.rstrip().endswith("KeyboardInterrupt"), stderr
        assert stderr.count("Traceback") == 1, stderr
    else:
        assert "Traceback" not in stderr, stderr
    running, queued = next(line.split()[1:] for line in lines if line.startswith("IDS"))
    seen = int(next(line.split()[1] for line in lines if line.startswith("TRAINING")))
    # The trainer had stopped and its thread was joined before the interpreter went down.
    assert f"AT EXIT {INTERRUPTED} alive: []" in lines, lines

    store = RunStore(tmp_path / "runs")
    record = store.get_run(running)
    assert record.status == INTERRUPTED and record.error == EXIT_MESSAGE
    assert record.finished is not None
    assert len(record.batches) >= seen  # the batches it trained are kept
    assert record.batches["step"].tolist() == list(range(1, len(record.batches) + 1))
    waiting = store.get_run(queued)
    assert waiting.status == INTERRUPTED and waiting.error == QUEUED_EXIT_MESSAGE
    assert store.interrupted_at_open == []  # nothing left for the next start to clean up


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_a_process_holding_a_bare_trainer_ends_without_an_abort(tmp_path):
    code, stderr, lines = _hold(tmp_path, "trainer", "end")
    assert not any(text in stderr for text in ABORT_TEXT), stderr
    assert code == 0, stderr
    assert f"AT EXIT {INTERRUPTED} alive: []" in lines, lines
