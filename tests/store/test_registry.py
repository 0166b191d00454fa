"""RunManager: cap and FIFO queue, class full, stop/pause/delete, persistence, no leaked threads."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steplr_viz.config import TrainConfig
from steplr_viz.store.registry import ClassFullError, RunManager
from steplr_viz.store.runs import InMemoryRunStore, RunStore
from steplr_viz.training.metrics import (
    FAILED,
    FINISHED,
    INTERRUPTED,
    PAUSED,
    QUEUED,
    RUNNING,
    STOPPED,
    TERMINAL_STATUSES,
)
from steplr_viz.training.trainer import Trainer

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 120.0


def tiny(**overrides) -> TrainConfig:
    """One bundled epoch in 8 big batches: the smallest real run."""
    return TrainConfig(epochs=1, batch_size=512, **overrides)


def wait_for(predicate: Callable[[], object], what: str, timeout: float = DEADLINE_S):
    """Poll `predicate` until it is truthy, failing after a bounded deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def status_of(manager: RunManager, run_id: str) -> str | None:
    record = manager.store.get_run(run_id)
    return None if record is None else record.status


def wait_ended(manager: RunManager, run_id: str) -> str:
    """Wait until the run has left the manager and its final status is stored."""
    wait_for(
        lambda: (
            run_id not in manager.live_run_ids() and status_of(manager, run_id) in TERMINAL_STATUSES
        ),
        f"run {run_id} to end",
    )
    return status_of(manager, run_id)


@pytest.fixture
def make_manager(tmp_path):
    managers: list[RunManager] = []

    def make(**kwargs) -> RunManager:
        kwargs.setdefault("store", RunStore(tmp_path / "runs"))
        manager = RunManager(**kwargs)
        managers.append(manager)
        return manager

    yield make
    for manager in managers:
        manager.shutdown()


def submit_paused(manager: RunManager, config: TrainConfig) -> str:
    """Submit a run that is held at its first batch, so the test controls when it ends.

    Its trainer is asked to pause before its thread starts: a pause sent after submit() races
    the run, and 8 batches can end first on a loaded machine (seen with two busy CPU loops).
    """
    start = Trainer.start

    def start_paused(trainer: Trainer) -> None:
        trainer.pause()  # honoured at the first batch boundary
        start(trainer)

    Trainer.start = start_paused
    try:
        run_id = manager.submit(config)
    finally:
        Trainer.start = start
    wait_for(lambda: manager.snapshot(run_id).status == PAUSED, "the run to pause")
    return run_id


# --- queue -----------------------------------------------------------------------------------


def test_cap_one_runs_in_submission_order(make_manager):
    manager = make_manager(max_concurrent=1, max_queue=5)
    a = submit_paused(manager, tiny(seed=1))
    b = manager.submit(tiny(seed=2))
    c = manager.submit(tiny(seed=3))

    assert manager.active_count() == 1
    assert manager.queued_count() == 2
    assert manager.live_run_ids() == [a, b, c]
    assert [manager.queue_position(r) for r in (a, b, c)] == [None, 1, 2]
    assert manager.snapshot(b).status == QUEUED
    assert status_of(manager, a) == PAUSED
    assert status_of(manager, b) == QUEUED

    assert manager.resume(a)
    for run_id in (a, b, c):
        assert wait_ended(manager, run_id) == FINISHED
    records = [manager.store.get_run(r) for r in (a, b, c)]
    # One slot: each run started only after the previous one had finished.
    assert records[0].finished <= records[1].started
    assert records[1].finished <= records[2].started
    assert all(len(r.epochs) == 1 for r in records)
    assert manager.live_run_ids() == [] and manager.active_count() == 0


def test_queue_full_raises_class_full(make_manager):
    manager = make_manager(max_concurrent=1, max_queue=1)
    a = submit_paused(manager, tiny())
    b = manager.submit(tiny())
    with pytest.raises(ClassFullError) as full:
        manager.submit(tiny())
    assert str(full.value) == (
        "The class is full: 1 run is training and 1 waiting. Try again shortly."
    )
    assert sorted(manager.store.list_runs()["run_id"]) == sorted([a, b])  # nothing recorded
    # A free queue place makes room again.
    assert manager.stop(b)
    c = manager.submit(tiny())
    assert manager.queue_position(c) == 1


def test_class_full_counts_several_runs_in_the_plural(make_manager):
    manager = make_manager(max_concurrent=2, max_queue=2)
    for _ in range(2):
        submit_paused(manager, tiny())
    waiting = [manager.submit(tiny()) for _ in range(2)]
    assert [manager.queue_position(r) for r in waiting] == [1, 2]
    with pytest.raises(ClassFullError) as full:
        manager.submit(tiny())
    assert str(full.value) == (
        "The class is full: 2 runs are training and 2 waiting. Try again shortly."
    )


def test_no_queue_means_class_full_at_the_cap(make_manager):
    manager = make_manager(max_concurrent=1, max_queue=0)
    submit_paused(manager, tiny())
    with pytest.raises(ClassFullError):
        manager.submit(tiny())


def test_stop_a_queued_run(make_manager):
    manager = make_manager(max_concurrent=1)
    a = submit_paused(manager, tiny())
    b = manager.submit(tiny())
    c = manager.submit(tiny())
    assert manager.stop(b)
    assert manager.queue_position(b) is None
    assert manager.queue_position(c) == 1
    assert manager.snapshot(b) is None
    assert status_of(manager, b) == STOPPED
    assert manager.live_run_ids() == [a, c]
    assert manager.stop(b) is False  # not live any more
    manager.resume(a)
    assert wait_ended(manager, c) == FINISHED
    record = manager.store.get_run(b)  # b never ran
    assert record.status == STOPPED and record.started is None and record.epochs.empty


def test_stop_a_running_run(make_manager):
    manager = make_manager(max_concurrent=1)
    a = submit_paused(manager, tiny())
    assert manager.stop(a)
    assert wait_ended(manager, a) == STOPPED
    assert manager.pause(a) is False and manager.resume(a) is False


def test_pause_and_resume_are_stored(make_manager):
    manager = make_manager()
    a = submit_paused(manager, tiny())
    wait_for(lambda: status_of(manager, a) == PAUSED, "paused in the store")
    manager.resume(a)
    assert wait_ended(manager, a) == FINISHED


def test_failed_run_records_its_message_and_frees_the_slot(make_manager, tmp_path):
    empty = tmp_path / "no_mnist_here"
    empty.mkdir()
    manager = make_manager(max_concurrent=1, data_dir=empty)
    bad = manager.submit(tiny(data_source="full"))  # loads in the thread: missing data
    good = manager.submit(tiny())
    assert wait_ended(manager, bad) == FAILED
    error = manager.store.get_run(bad).error
    assert error and str(empty) in error
    assert wait_ended(manager, good) == FINISHED


# --- store and snapshots ---------------------------------------------------------------------


def test_a_page_sees_a_run_end_only_once_the_store_has_it(make_manager):
    """The live view says "finished" after the store does (model saved): a page that shows the
    end and then reads the store (a refresh, a download) never finds the run still running."""
    manager = make_manager()
    store = manager.store
    live_at_store_write: list[str | None] = []
    original = store.set_status

    def set_status(run_id: str, status: str, error: str | None = None) -> None:
        if status in TERMINAL_STATUSES:  # what a page polling the live view saw just then
            view = manager.view(run_id)
            live_at_store_write.append(None if view is None else view.status)
        original(run_id, status, error)

    store.set_status = set_status
    run_id = manager.submit(tiny(seed=6))
    assert wait_ended(manager, run_id) == FINISHED
    assert live_at_store_write == [RUNNING]
    assert manager.view(run_id).status == FINISHED
    assert store.load_model(run_id)  # saved before the status


def test_store_matches_the_snapshot(make_manager):
    manager = make_manager()
    run_id = manager.submit(tiny(seed=5))
    assert wait_ended(manager, run_id) == FINISHED
    snap = manager.final_snapshot(run_id)
    assert snap is not None and snap.status == FINISHED
    assert manager.snapshot(run_id) is None  # not live any more
    record = manager.store.get_run(run_id)
    assert record.config == tiny(seed=5)
    stored_epochs = [tuple(r) for r in record.epochs.itertuples(index=False)]
    assert stored_epochs == [
        (e.epoch, e.train_loss, e.lr, e.test_loss, e.test_acc, e.seconds) for e in snap.epochs
    ]
    stored_batches = [tuple(r) for r in record.batches.itertuples(index=False)]
    assert stored_batches == [(b.step, b.epoch, b.loss, b.lr) for b in snap.batches]
    assert len(stored_batches) == snap.total_batches == 8

    frame = pd.read_csv(io.StringIO(manager.store.export_csv(run_id)))
    assert frame["epoch"].tolist() == [1]
    assert frame["test_acc"].tolist() == pytest.approx([snap.epochs[0].test_acc])
    assert frame["train_loss"].tolist() == pytest.approx([snap.epochs[0].train_loss])
    assert frame["seed"].tolist() == [5]

    # A new process reads the same run back.
    code = f"""
        import json
        from steplr_viz.store.runs import RunStore
        store = RunStore({str(manager.store.folder)!r})
        runs = store.list_runs()
        record = store.get_run({run_id!r})
        print(json.dumps({{"ids": runs["run_id"].tolist(), "status": record.status,
                          "epochs": record.epochs.values.tolist(),
                          "n_batches": len(record.batches)}}))
    """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO, capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["ids"] == [run_id] and got["status"] == FINISHED
    assert got["epochs"] == [list(map(float, row)) for row in stored_epochs]
    assert got["n_batches"] == 8


def test_snapshot_is_a_copy(make_manager):
    manager = make_manager()
    run_id = submit_paused(manager, tiny())
    snap = manager.snapshot(run_id)
    assert snap.config == tiny()
    manager.resume(run_id)
    wait_ended(manager, run_id)
    assert snap.status == PAUSED  # frozen in time


def test_submit_validates(make_manager):
    manager = make_manager()
    with pytest.raises(ValueError, match="gamma"):
        manager.submit(TrainConfig(gamma=2.0))
    with pytest.raises(ValueError, match="epochs"):
        manager.submit(TrainConfig(epochs=0))
    assert manager.store.list_runs().empty


def test_a_submitted_config_is_checked_once_and_stored_as_trained(make_manager, monkeypatch):
    checks = []
    real = TrainConfig.validated
    monkeypatch.setattr(TrainConfig, "validated", lambda self: checks.append(self) or real(self))
    manager = make_manager(max_concurrent=1)
    asked = TrainConfig(epochs=np.int64(1), batch_size=512)  # normalised by the one check
    run_id = manager.submit(asked)
    assert len(checks) == 1 and checks[0] is not asked  # a private copy is checked
    assert wait_ended(manager, run_id) == FINISHED
    stored = manager.store.get_run(run_id).config
    assert stored == checks[0] and type(stored.epochs) is int


@pytest.mark.parametrize("method", ["snapshot", "queue_position", "pause", "resume", "stop",
                                    "delete", "final_snapshot"])  # fmt: skip
def test_run_ids_are_validated(make_manager, method):
    manager = make_manager()
    with pytest.raises(ValueError, match="run_id"):
        getattr(manager, method)("../../etc/passwd")


def test_unknown_run_ids(make_manager):
    manager = make_manager()
    unknown = "0123456789ab"
    assert manager.snapshot(unknown) is None
    assert manager.queue_position(unknown) is None
    assert not manager.pause(unknown) and not manager.resume(unknown)
    assert not manager.stop(unknown) and not manager.delete(unknown)


# --- delete, prune ---------------------------------------------------------------------------


def test_delete_live_queued_and_finished_runs(make_manager):
    manager = make_manager(max_concurrent=1)
    done = manager.submit(tiny())
    assert wait_ended(manager, done) == FINISHED
    live = submit_paused(manager, tiny())
    queued = manager.submit(tiny())

    assert manager.delete(queued)
    assert manager.delete(live)
    assert manager.delete(done)
    assert manager.live_run_ids() == []
    assert manager.store.list_runs().empty
    for run_id in (done, live, queued):
        assert manager.store.get_run(run_id) is None
        assert manager.snapshot(run_id) is None and manager.final_snapshot(run_id) is None
    assert manager.delete(done) is False
    # The slot is free again.
    again = manager.submit(tiny())
    assert wait_ended(manager, again) == FINISHED


def test_prune_to_keep_runs_at_submit(make_manager):
    manager = make_manager(keep_runs=2)
    ids = []
    for seed in range(4):
        ids.append(manager.submit(tiny(seed=seed)))
        wait_ended(manager, ids[-1])
    listed = manager.store.list_runs()["run_id"].tolist()
    # The 4th submit pruned down to 2: the newest (live then) and the one before it.
    assert listed == [ids[3], ids[2]]


# --- threads, storage, crash -----------------------------------------------------------------


def trainer_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("steplr-trainer")}


def test_start_stop_cycles_leave_no_threads(make_manager):
    manager = make_manager(max_concurrent=2)
    before = set(threading.enumerate())
    ids = []
    for i in range(20):
        run_id = manager.submit(tiny(seed=i))
        ids.append(run_id)
        # False only for a run that already ended: on a loaded machine a tiny run may finish
        # before the stop arrives.
        assert manager.stop(run_id) or wait_ended(manager, run_id) == FINISHED
    # A stop that lands in a run's last batch lets it finish (on a loaded machine a tiny run
    # can get that far between submit and stop): the store must say what each run became.
    ended = {run_id: wait_ended(manager, run_id) for run_id in ids}
    assert set(ended.values()) <= {STOPPED, FINISHED}
    wait_for(lambda: set(threading.enumerate()) <= before, "trainer threads to end", timeout=30)
    assert not trainer_threads()
    assert manager.live_run_ids() == [] and manager.active_count() == 0
    stored = manager.store.list_runs().set_index("run_id")["status"].to_dict()
    assert stored == ended


def test_shutdown_stops_everything(tmp_path):
    manager = RunManager(store=RunStore(tmp_path), max_concurrent=1)
    a = submit_paused(manager, tiny())
    b = manager.submit(tiny())
    manager.shutdown()
    assert not trainer_threads()
    assert status_of(manager, a) == STOPPED
    assert status_of(manager, b) == STOPPED
    with pytest.raises(RuntimeError):
        manager.submit(tiny())


def test_unwritable_runs_folder_falls_back_to_memory(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("a file, not a folder")
    monkeypatch.setenv("STEPLR_VIZ_RUNS_DIR", str(tmp_path / "afile" / "runs"))
    manager = RunManager(max_concurrent=1)
    try:
        assert isinstance(manager.store, InMemoryRunStore)
        assert manager.persistent is False
        assert "memory" in manager.storage_note
        run_id = manager.submit(tiny())
        assert wait_ended(manager, run_id) == FINISHED
        assert len(manager.store.get_run(run_id).epochs) == 1
    finally:
        manager.shutdown()


def test_persistent_store_has_no_note(make_manager):
    manager = make_manager()
    assert manager.persistent is True and manager.storage_note is None


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_kill_9_mid_run_leaves_an_interrupted_run(tmp_path):
    code = """
        import os, signal, sys, time
        from steplr_viz.store.registry import RunManager
        from steplr_viz.store.runs import RunStore
        from steplr_viz.config import TrainConfig
        manager = RunManager(store=RunStore(sys.argv[1]), max_concurrent=1)
        done = manager.submit(TrainConfig(epochs=1, batch_size=512))
        deadline = time.monotonic() + 100
        while manager.live_run_ids() and time.monotonic() < deadline:
            time.sleep(0.02)
        live = manager.submit(TrainConfig(epochs=3, batch_size=512))
        queued = manager.submit(TrainConfig(epochs=1, batch_size=512))
        while time.monotonic() < deadline:   # wait for a stored epoch, then die mid-run
            record = manager.store.get_run(live)
            if len(record.epochs) >= 1:
                break
            time.sleep(0.01)
        print(done, live, queued, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    done, live, queued = proc.stdout.split()

    manager = RunManager(store=RunStore(tmp_path))
    try:
        assert manager.store.integrity_ok()
        assert status_of(manager, done) == FINISHED
        assert len(manager.store.get_run(done).epochs) == 1
        assert status_of(manager, live) == INTERRUPTED
        assert len(manager.store.get_run(live).epochs) >= 1  # written as it went
        assert status_of(manager, queued) == INTERRUPTED
        assert manager.live_run_ids() == []
    finally:
        manager.shutdown()


def test_default_cap_is_cpu_count(make_manager):
    import os

    assert make_manager().max_concurrent == (os.cpu_count() or 1)
    with pytest.raises(ValueError, match="max_concurrent"):
        RunManager(store=InMemoryRunStore(), max_concurrent=0)
    with pytest.raises(ValueError, match="max_queue"):
        RunManager(store=InMemoryRunStore(), max_queue=-1)


def test_running_status_is_stored_while_training(make_manager):
    manager = make_manager()
    run_id = submit_paused(manager, tiny())
    record = manager.store.get_run(run_id)
    assert record.started is not None and record.finished is None
    manager.resume(run_id)
    wait_for(lambda: status_of(manager, run_id) in (RUNNING, FINISHED), "running or finished")
    assert wait_ended(manager, run_id) == FINISHED


class _FlakyStore(InMemoryRunStore):
    """Fails the first time a run is marked finished (say, a full disk for a moment)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed_once = False

    def set_status(self, run_id, status, error=None):
        if status == FINISHED and not self.failed_once:
            self.failed_once = True
            raise OSError("disk full")
        super().set_status(run_id, status, error)


def test_store_failure_at_the_end_still_frees_the_slot(make_manager):
    manager = make_manager(store=_FlakyStore(), max_concurrent=1)
    a = manager.submit(tiny())
    b = manager.submit(tiny())
    assert wait_ended(manager, b) == FINISHED  # the queue moved on
    assert manager.store.failed_once
    record = manager.store.get_run(a)
    assert record.status == FAILED and "disk full" in record.error  # not a silent loss
    assert manager.live_run_ids() == []
