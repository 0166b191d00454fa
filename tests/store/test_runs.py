"""Run store: ids, persistence, crash recovery, delete, CSV, prune, fallback to memory."""

from __future__ import annotations

import io
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from steplr_viz.config import TrainConfig
from steplr_viz.store.recorder import StoreRecorder
from steplr_viz.store.runs import (
    LIST_COLUMNS,
    RUN_ID_RE,
    InMemoryRunStore,
    RunStore,
    check_run_id,
    new_run_id,
    open_store,
)
from steplr_viz.training.metrics import (
    BATCH_COLUMNS,
    EPOCH_COLUMNS,
    FAILED,
    FINISHED,
    INTERRUPTED,
    QUEUED,
    RUNNING,
    STOPPED,
    BatchPoint,
    EpochPoint,
)
from steplr_viz.validation import reads_as_number

REPO = Path(__file__).resolve().parents[2]


def _epoch(e: int, acc: float = 90.0) -> EpochPoint:
    return EpochPoint(epoch=e, train_loss=1.0 / e, lr=1e-3 * 0.1 ** (e // 2), test_loss=0.5 / e,
                      test_acc=acc + e, seconds=0.25 * e)  # fmt: skip


def _batches(epoch: int, n: int, start: int) -> list[BatchPoint]:
    return [BatchPoint(step=start + i, epoch=epoch, loss=2.0 - 0.01 * i, lr=1e-3) for i in range(n)]


def _python(code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


# --- run ids -------------------------------------------------------------------------------


def test_new_run_ids_are_valid_and_distinct():
    ids = {new_run_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(RUN_ID_RE.fullmatch(i) and check_run_id(i) == i for i in ids)


@pytest.mark.parametrize(
    "bad",
    ["", "ABCDEF123456", "abcdef12345", "abcdef1234567", "../../etc/pa", "abcdef12345g",
     "abcdef123456\n", " abcdef12345", None, 123456789012, b"abcdef123456", ["abcdef123456"],
     "x" * 10_000],
)  # fmt: skip
def test_check_run_id_rejects(bad):
    with pytest.raises(ValueError, match="run_id"):
        check_run_id(bad)


def test_every_entry_point_validates_run_ids(store):
    bad = "../../etc/passwd"
    calls = [
        lambda: store.create_run(TrainConfig(), run_id=bad),
        lambda: store.set_status(bad, FINISHED),
        lambda: store.add_batches(bad, _batches(1, 2, 1)),
        lambda: store.add_epoch(bad, _epoch(1)),
        lambda: store.get_run(bad),
        lambda: store.delete_run(bad),
        lambda: store.export_csv(bad),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="run_id"):
            call()


def test_unknown_status_rejected(store):
    run_id = store.create_run(TrainConfig())
    with pytest.raises(ValueError, match="status"):
        store.set_status(run_id, "exploded")
    assert store.get_run(run_id).status == QUEUED


# --- round trip ----------------------------------------------------------------------------


def test_round_trip(store):
    config = TrainConfig(optimizer="sgd", lr=0.05, gamma=0.5, step_size=3, epochs=2, seed=7)
    run_id = store.create_run(config)
    assert RUN_ID_RE.fullmatch(run_id)
    store.set_status(run_id, RUNNING)
    store.add_batches(run_id, _batches(1, 5, 1))
    store.add_epoch(run_id, _epoch(1))
    store.add_batches(run_id, _batches(2, 5, 6))
    store.add_epoch(run_id, _epoch(2))
    store.set_status(run_id, FINISHED)

    record = store.get_run(run_id)
    assert record.run_id == run_id
    assert record.config == config
    assert record.status == FINISHED and record.error is None
    assert record.created <= record.started <= record.finished
    assert record.created.tzinfo is not None
    assert list(record.epochs.columns) == EPOCH_COLUMNS
    assert list(record.batches.columns) == BATCH_COLUMNS
    assert record.epochs["epoch"].tolist() == [1, 2]
    assert record.epochs["test_acc"].tolist() == [91.0, 92.0]
    assert record.epochs["lr"].tolist() == [_epoch(1).lr, _epoch(2).lr]
    assert record.batches["step"].tolist() == list(range(1, 11))
    assert record.batches["loss"].iloc[0] == 2.0
    assert record.final_acc == 92.0

    runs = store.list_runs()
    assert list(runs.columns) == LIST_COLUMNS
    row = runs.iloc[0]
    assert row["run_id"] == run_id and row["status"] == FINISHED
    assert (row["optimizer"], row["lr"], row["gamma"], row["step_size"]) == ("sgd", 0.05, 0.5, 3)
    assert (row["epochs"], row["batch_size"], row["seed"]) == (2, 64, 7)
    assert row["data_source"] == "bundled"
    assert row["final_acc"] == 92.0
    assert row["seconds"] == pytest.approx(0.75)
    assert row["epochs_done"] == 2


def test_nan_loss_round_trips_as_nan(store):
    run_id = store.create_run(TrainConfig())
    store.add_batches(run_id, [BatchPoint(1, 1, float("nan"), 1e-3)])
    assert math.isnan(store.get_run(run_id).batches["loss"].iloc[0])


def test_error_and_times(store):
    run_id = store.create_run(TrainConfig())
    record = store.get_run(run_id)
    assert record.status == QUEUED and record.started is None and record.finished is None
    store.set_status(run_id, RUNNING)
    store.set_status(run_id, FAILED, error="boom: out of cheese")
    record = store.get_run(run_id)
    assert record.status == FAILED
    assert record.error == "boom: out of cheese"
    assert record.started is not None and record.finished is not None


def test_list_runs_newest_first_and_empty(store):
    empty = store.list_runs()
    assert empty.empty and list(empty.columns) == LIST_COLUMNS
    ids = [store.create_run(TrainConfig(seed=i)) for i in range(4)]
    listed = store.list_runs()
    assert listed["run_id"].tolist() == ids[::-1]
    assert listed["seed"].tolist() == [3, 2, 1, 0]
    assert listed["final_acc"].isna().all()


def test_get_unknown_run_is_none(store):
    assert store.get_run(new_run_id()) is None


# --- delete, CSV, prune --------------------------------------------------------------------


def test_delete(store):
    keep = store.create_run(TrainConfig())
    gone = store.create_run(TrainConfig())
    for run_id in (keep, gone):
        store.add_batches(run_id, _batches(1, 3, 1))
        store.add_epoch(run_id, _epoch(1))
    assert store.delete_run(gone) is True
    assert store.delete_run(gone) is False
    assert store.get_run(gone) is None
    assert store.list_runs()["run_id"].tolist() == [keep]
    # Late writes from a trainer of a deleted run are dropped, not orphaned.
    store.add_epoch(gone, _epoch(2))
    store.add_batches(gone, _batches(2, 3, 4))
    store.set_status(gone, FINISHED)
    assert store.get_run(gone) is None
    assert len(store.get_run(keep).batches) == 3


def test_delete_leaves_no_rows_behind(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(TrainConfig())
    store.add_batches(run_id, _batches(1, 3, 1))
    store.add_epoch(run_id, _epoch(1))
    store.save_model(run_id, b"weights")
    store.delete_run(run_id)
    with sqlite3.connect(store.path) as conn:
        for table in ("runs", "epochs", "batches", "models"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0  # noqa: S608


# --- model weights, who started a run, an older file --------------------------------------


def test_models_round_trip_and_go_with_their_run(store):
    run_id = store.create_run(TrainConfig())
    assert store.load_model(run_id) is None
    data = bytes(range(256)) * 10  # every byte value, NUL included
    store.save_model(run_id, data)
    assert store.load_model(run_id) == data
    store.save_model(run_id, b"newer")
    assert store.load_model(run_id) == b"newer"
    store.delete_run(run_id)
    assert store.load_model(run_id) is None
    store.save_model(run_id, b"late")  # a deleted run's late save is dropped
    assert store.load_model(run_id) is None


def test_started_by_is_stored(store):
    mine = store.create_run(TrainConfig(), started_by="browser-1")
    anon = store.create_run(TrainConfig())
    assert store.get_run(mine).started_by == "browser-1"
    assert store.get_run(anon).started_by is None


def test_a_file_from_before_the_shared_columns_gains_them(tmp_path):
    with sqlite3.connect(tmp_path / "runs.sqlite3") as conn:
        conn.executescript(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, created REAL NOT NULL, started REAL, "
            "finished REAL, status TEXT NOT NULL, error TEXT, config TEXT NOT NULL, owner TEXT, "
            "owner_token TEXT, optimizer TEXT, lr REAL, momentum REAL, step_size INTEGER, "
            "gamma REAL, epochs INTEGER, batch_size INTEGER, seed INTEGER, "
            "scheduler_step TEXT, data_source TEXT)"
        )
    store = RunStore(tmp_path)
    run_id = store.create_run(TrainConfig(), started_by="b")
    assert store.get_run(run_id).started_by == "b"
    assert store.claim_next("r1", cap=1)[0] == run_id


# --- a queue shared by several app servers ----------------------------------------------


def test_claims_take_the_oldest_queued_run_and_hold_the_cap(store):
    a, b, c = (store.create_run(TrainConfig(seed=i)) for i in range(3))
    assert store.live_counts() == (0, 3)
    assert [store.queue_position(r) for r in (a, b, c)] == [1, 2, 3]
    got = store.claim_next("r1", cap=2)
    assert got == (a, TrainConfig(seed=0))
    assert store.claim_next("r2", cap=2)[0] == b
    assert store.claim_next("r2", cap=2) is None  # two claimed and live: the cap holds
    assert store.live_counts() == (2, 1)
    assert [store.queue_position(r) for r in (a, b, c)] == [None, None, 1]
    assert store.live_run_ids() == [a, b, c]
    store.set_status(a, FINISHED)  # a slot frees up
    assert store.claim_next("r1", cap=2)[0] == c
    assert store.claim_next("r1", cap=2) is None  # nothing queued


def test_controls_reach_the_claiming_replica_once(store):
    run_id = store.create_run(TrainConfig())
    assert store.request_control(run_id, "pause") is False  # nobody trains it yet
    store.claim_next("r1", cap=1)
    assert store.request_control(run_id, "pause") is True
    assert store.take_controls("r2") == []
    assert store.take_controls("r1") == [(run_id, "pause")]
    assert store.take_controls("r1") == []
    with pytest.raises(ValueError, match="action"):
        store.request_control(run_id, "explode")


def test_stopping_an_unclaimed_queued_run_stops_it_at_once(store):
    run_id = store.create_run(TrainConfig())
    assert store.request_control(run_id, "stop") is True
    assert store.get_run(run_id).status == STOPPED
    assert store.claim_next("r1", cap=1) is None


def test_runs_of_a_silent_replica_are_marked_interrupted(store):
    alive, dead, queued = (store.create_run(TrainConfig(seed=i)) for i in range(3))
    store.claim_next("alive", cap=5)
    store.claim_next("dead", cap=5)
    store.set_status(dead, RUNNING)
    store.add_batches(dead, _batches(1, 3, 1))
    store.add_epoch(dead, _epoch(1))
    assert store.mark_stale_runs(timeout=60.0) == []  # both stamped at claim
    assert store.heartbeat("alive", [alive, dead]) == [alive]  # dead is not alive's run
    # A negative timeout makes every stamp stale: only runs of replicas that did not beat now.
    assert sorted(store.mark_stale_runs(timeout=-3600.0)) == sorted([alive, dead])
    record = store.get_run(dead)
    assert record.status == INTERRUPTED and "stopped answering" in record.error
    assert len(record.batches) == 3 and len(record.epochs) == 1  # what was recorded stays
    assert store.get_run(queued).status == QUEUED  # unclaimed runs wait for any replica


def test_export_csv(store):
    config = TrainConfig(lr=0.01, gamma=0.5, epochs=2)
    run_id = store.create_run(config)
    store.add_epoch(run_id, _epoch(1))
    store.add_epoch(run_id, _epoch(2))
    store.set_status(run_id, FINISHED)
    frame = pd.read_csv(io.StringIO(store.export_csv(run_id)))
    assert len(frame) == 2
    assert frame["run_id"].tolist() == [run_id, run_id]
    assert frame["status"].tolist() == [FINISHED, FINISHED]
    assert frame["epoch"].tolist() == [1, 2]
    assert frame["test_acc"].tolist() == [91.0, 92.0]
    assert frame["lr"].tolist() == pytest.approx([_epoch(1).lr, _epoch(2).lr])
    assert frame["base_lr"].tolist() == [0.01, 0.01]
    assert frame["gamma"].tolist() == [0.5, 0.5]
    assert frame["optimizer"].tolist() == ["adam", "adam"]
    assert set(EPOCH_COLUMNS) <= set(frame.columns)


def test_export_csv_unknown_run(store):
    with pytest.raises(KeyError):
        store.export_csv(new_run_id())


def test_prune_deletes_oldest_terminal_runs_only(store):
    ids = [store.create_run(TrainConfig(seed=i)) for i in range(6)]
    # ids[0] stays running (live: never pruned), the rest end in various terminal statuses.
    store.set_status(ids[0], RUNNING)
    for run_id, status in zip(ids[1:], [FINISHED, STOPPED, FAILED, FINISHED, FINISHED],
                              strict=True):  # fmt: skip
        store.set_status(run_id, status)
    assert store.prune(10) == []
    pruned = store.prune(3)
    assert pruned == ids[1:4]
    assert sorted(store.list_runs()["run_id"]) == sorted([ids[0], ids[4], ids[5]])
    # Only live runs left beyond keep: nothing more to prune, the live one survives.
    assert store.prune(0) == [ids[4], ids[5]]
    assert store.list_runs()["run_id"].tolist() == [ids[0]]
    with pytest.raises(ValueError, match="keep"):
        store.prune(-1)


def test_integrity_ok(tmp_path):
    store = RunStore(tmp_path)
    store.create_run(TrainConfig())
    assert store.integrity_ok()
    assert InMemoryRunStore().integrity_ok()


def test_wal_mode(tmp_path):
    store = RunStore(tmp_path)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# --- persistence across processes and crashes ----------------------------------------------


def test_reload_in_new_process(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(TrainConfig(epochs=2))
    store.add_batches(run_id, _batches(1, 4, 1))
    store.add_epoch(run_id, _epoch(1))
    store.add_epoch(run_id, _epoch(2))
    store.set_status(run_id, FINISHED)
    out = _python(f"""
        import json
        from steplr_viz.store.runs import RunStore
        s = RunStore({str(tmp_path)!r})
        r = s.get_run({run_id!r})
        print(json.dumps({{"status": r.status, "acc": r.epochs["test_acc"].tolist(),
                          "steps": r.batches["step"].tolist(),
                          "listed": s.list_runs()["run_id"].tolist()}}))
    """)  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got == {"status": FINISHED, "acc": [91.0, 92.0], "steps": [1, 2, 3, 4],
                   "listed": [run_id]}  # fmt: skip


CRASHING_WRITER = """
    import os, signal, sys
    from steplr_viz.store.runs import RunStore
    from steplr_viz.training.metrics import BatchPoint, EpochPoint
    from steplr_viz.config import TrainConfig
    s = RunStore(sys.argv[1])
    done = s.create_run(TrainConfig(epochs=1))
    s.set_status(done, "running")
    s.add_epoch(done, EpochPoint(1, 0.5, 1e-3, 0.4, 90.0, 1.0))
    s.set_status(done, "finished")
    live = s.create_run(TrainConfig(epochs=3))
    queued = s.create_run(TrainConfig(epochs=3))
    s.set_status(live, "running")
    s.add_batches(live, [BatchPoint(i, 1, 1.0, 1e-3) for i in range(1, 11)])
    s.add_epoch(live, EpochPoint(1, 0.6, 1e-3, 0.5, 88.0, 1.0))
    print(done, live, queued, flush=True)
    if sys.argv[2] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.readline()   # stay alive until the test says so
"""


def test_kill_9_marks_running_runs_interrupted(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASHING_WRITER), str(tmp_path), "kill"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    done, live, queued = proc.stdout.split()

    store = RunStore(tmp_path)
    assert sorted(store.interrupted_at_open) == sorted([live, queued])
    assert store.integrity_ok()
    assert store.get_run(done).status == FINISHED
    assert store.get_run(done).error is None
    record = store.get_run(live)
    assert record.status == INTERRUPTED
    assert "interrupted" in record.error and record.finished is not None
    assert record.epochs["test_acc"].tolist() == [88.0]  # written epochs survive the crash
    assert len(record.batches) == 10
    assert store.get_run(queued).status == INTERRUPTED
    # A second open finds nothing more to mark.
    assert RunStore(tmp_path).interrupted_at_open == []


def test_runs_of_a_live_process_are_not_interrupted(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CRASHING_WRITER), str(tmp_path), "wait"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        done, live, queued = proc.stdout.readline().split()
        # The other process (say the CLI next to the app) is still training: leave its runs alone.
        store = RunStore(tmp_path)
        assert store.interrupted_at_open == []
        assert store.get_run(live).status == RUNNING
    finally:
        proc.communicate("\n", timeout=60)
    assert proc.returncode == 0
    # It exited without finishing them: now they are interrupted.
    store = RunStore(tmp_path)
    assert store.get_run(live).status == INTERRUPTED
    assert store.get_run(queued).status == INTERRUPTED
    assert store.get_run(done).status == FINISHED


def test_second_store_in_same_process_keeps_live_runs(tmp_path):
    first = RunStore(tmp_path)
    run_id = first.create_run(TrainConfig())
    first.set_status(run_id, RUNNING)
    second = RunStore(tmp_path)
    assert second.interrupted_at_open == []
    assert second.get_run(run_id).status == RUNNING


def test_row_left_running_by_dead_owner_is_interrupted(tmp_path):
    # A crash simulated in place: the owner columns name a process that no longer exists.
    first = RunStore(tmp_path)
    run_id = first.create_run(TrainConfig())
    first.set_status(run_id, RUNNING)
    with sqlite3.connect(first.path) as conn:
        conn.execute("UPDATE runs SET owner = '999999999:1', owner_token = 'gone'")
    fresh = RunStore(tmp_path)
    assert fresh.interrupted_at_open == [run_id]
    assert fresh.get_run(run_id).status == INTERRUPTED


# --- threads -------------------------------------------------------------------------------


def test_concurrent_writers_and_readers(store):
    ids = [store.create_run(TrainConfig(seed=i)) for i in range(4)]
    errors: list[BaseException] = []

    def write(run_id: str) -> None:
        try:
            for e in range(1, 6):
                store.add_batches(run_id, _batches(e, 20, (e - 1) * 20 + 1))
                store.add_epoch(run_id, _epoch(e))
            store.set_status(run_id, FINISHED)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(30):
                store.list_runs()
                store.get_run(ids[0])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in ids]
    threads += [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    runs = store.list_runs()
    assert (runs["status"] == FINISHED).all()
    assert (runs["epochs_done"] == 5).all()
    assert all(len(store.get_run(i).batches) == 100 for i in ids)
    assert store.integrity_ok()


def test_a_relative_folder_stays_where_the_store_opened_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = RunStore("runs")
    run_id = store.create_run(TrainConfig())
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # e.g. a test, or code the app runs, changes cwd
    assert store.get_run(run_id) is not None
    assert store.path == tmp_path / "runs" / "runs.sqlite3"
    assert not (tmp_path / "elsewhere" / "runs").exists()


def test_each_memory_store_is_its_own_database():
    """The fallback is the same RunStore on an in-memory SQLite database, one per store."""
    first, second = InMemoryRunStore(), InMemoryRunStore()
    run_id = first.create_run(TrainConfig())
    assert not first.persistent and first.path is None
    assert second.get_run(run_id) is None and second.list_runs().empty
    assert first.list_runs()["run_id"].tolist() == [run_id]


# --- folders and fallback ------------------------------------------------------------------


def test_default_folder_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("STEPLR_VIZ_RUNS_DIR", str(tmp_path / "from_env"))
    store = RunStore()
    assert store.path == tmp_path / "from_env" / "runs.sqlite3"
    assert store.path.exists()


def test_open_store_writable(tmp_path):
    store, reason = open_store(tmp_path / "runs")
    assert isinstance(store, RunStore) and store.persistent
    assert reason is None


def test_open_store_falls_back_to_memory(tmp_path):
    # A folder under a regular file cannot be created, even by root.
    (tmp_path / "afile").write_text("not a folder")
    target = tmp_path / "afile" / "runs"
    store, reason = open_store(target)
    assert isinstance(store, InMemoryRunStore) and not store.persistent
    assert str(target) in reason and "memory" in reason
    run_id = store.create_run(TrainConfig())  # and it works
    store.add_epoch(run_id, _epoch(1))
    assert store.get_run(run_id).final_acc == 91.0


def test_open_store_corrupt_file_falls_back(tmp_path):
    (tmp_path / "runs.sqlite3").write_bytes(b"this is not a database" * 100)
    store, reason = open_store(tmp_path)
    assert isinstance(store, InMemoryRunStore)
    assert reason and str(tmp_path) in reason


# --- StoreRecorder -------------------------------------------------------------------------


class _FakeTrainer:
    """Just enough of a Trainer for the recorder: callbacks and metrics.error."""

    def __init__(self) -> None:
        self.callbacks: dict[str, list] = {}
        self.metrics = type("M", (), {"error": None})()

    def add_callback(self, event, fn) -> None:
        self.callbacks.setdefault(event, []).append(fn)

    def fire(self, event, *args) -> None:
        for fn in self.callbacks[event]:
            fn(self, *args)


def test_recorder_buffers_batches_until_epoch_end(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(TrainConfig(epochs=2))
    trainer = _FakeTrainer()
    StoreRecorder(store, run_id, flush_every=1000, flush_seconds=1e9).attach(trainer)
    trainer.fire("on_status", RUNNING)
    assert store.get_run(run_id).status == RUNNING
    for p in _batches(1, 7, 1):
        trainer.fire("on_batch_end", p)
    assert store.get_run(run_id).batches.empty  # buffered
    trainer.fire("on_epoch_end", _epoch(1))
    record = store.get_run(run_id)
    assert len(record.batches) == 7 and record.epochs["epoch"].tolist() == [1]
    for p in _batches(2, 3, 8):
        trainer.fire("on_batch_end", p)
    trainer.metrics.error = "loss became nan at epoch 2, batch 3"
    trainer.fire("on_status", "diverged")  # the end flushes the partial epoch too
    record = store.get_run(run_id)
    assert len(record.batches) == 10
    assert record.status == "diverged" and record.error == trainer.metrics.error


def test_recorder_flushes_every_n_batches(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(TrainConfig())
    trainer = _FakeTrainer()
    StoreRecorder(store, run_id, flush_every=5, flush_seconds=1e9).attach(trainer)
    for p in _batches(1, 12, 1):
        trainer.fire("on_batch_end", p)
    assert len(store.get_run(run_id).batches) == 10


def test_recorder_flushes_after_flush_seconds(store, monkeypatch):
    """Another app server's page sees batches as they come: a slow run flushes by the clock."""
    now = [1000.0]
    monkeypatch.setattr("steplr_viz.store.recorder.time", SimpleNamespace(monotonic=lambda: now[0]))
    run_id = store.create_run(TrainConfig())
    trainer = _FakeTrainer()
    StoreRecorder(store, run_id, flush_every=1000, flush_seconds=0.5).attach(trainer)
    points = _batches(1, 4, 1)
    trainer.fire("on_batch_end", points[0])
    trainer.fire("on_batch_end", points[1])
    assert store.get_run(run_id).batches.empty
    now[0] += 0.5
    trainer.fire("on_batch_end", points[2])
    assert store.get_run(run_id).batches["step"].tolist() == [1, 2, 3]
    trainer.fire("on_batch_end", points[3])
    assert len(store.get_run(run_id).batches) == 3  # the clock starts again at each flush


def test_recorder_disabled_writes_nothing(tmp_path):
    store = InMemoryRunStore()
    run_id = store.create_run(TrainConfig())
    trainer = _FakeTrainer()
    recorder = StoreRecorder(store, run_id)
    recorder.attach(trainer)
    recorder.enabled = False
    trainer.fire("on_batch_end", _batches(1, 1, 1)[0])
    trainer.fire("on_epoch_end", _epoch(1))
    trainer.fire("on_status", FINISHED)
    record = store.get_run(run_id)
    assert record.status == QUEUED and record.epochs.empty and record.batches.empty


def test_store_file_stays_in_folder(tmp_path):
    store = RunStore(tmp_path / "r")
    for _ in range(3):
        store.create_run(TrainConfig())
    names = {p.name for p in (tmp_path / "r").iterdir()}
    assert names <= {"runs.sqlite3", "runs.sqlite3-wal", "runs.sqlite3-shm"}
    assert os.path.getsize(store.path) > 0


def test_a_runs_starter_and_model_are_kept_and_deleted_with_it(store):
    run_id = store.create_run(TrainConfig(), started_by="a1b2c3")
    assert store.started_by(run_id) == "a1b2c3" == store.get_run(run_id).started_by
    assert store.load_model(run_id) is None
    store.save_model(run_id, b"\x00weights\xff")
    assert store.load_model(run_id) == b"\x00weights\xff"
    anonymous = store.create_run(TrainConfig())
    assert store.started_by(anonymous) is None  # the CLI's runs: the teacher's to control
    store.delete_run(run_id)
    assert store.load_model(run_id) is None and store.started_by(run_id) is None
    store.save_model(run_id, b"late")  # a deleted run gets no model back
    assert store.load_model(run_id) is None


def test_an_older_store_gains_the_starter_column(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    with sqlite3.connect(folder / "runs.sqlite3") as conn:
        conn.execute(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, created REAL NOT NULL, "
            "started REAL, finished REAL, status TEXT NOT NULL, error TEXT, "
            "config TEXT NOT NULL, owner TEXT, owner_token TEXT, optimizer TEXT, "
            "lr REAL, momentum REAL, step_size INTEGER, gamma REAL, epochs INTEGER, "
            "batch_size INTEGER, seed INTEGER, scheduler_step TEXT, data_source TEXT)"
        )
    store = RunStore(folder)
    run_id = store.create_run(TrainConfig(), started_by="x")
    assert store.started_by(run_id) == "x"


# --- old ids that read as numbers ----------------------------------------------------------


def test_ended_runs_with_number_like_old_ids_are_renamed_once_on_every_backend(store):
    if not store.persistent:
        pytest.skip("an in-memory store is never opened twice")
    olds = ["000000000042", "1234e5678901"]
    for old in olds:
        store.create_run(TrainConfig(epochs=1, experiment="777777777777"), run_id=old)
        store.add_batches(old, _batches(1, 3, 1))
        store.add_epoch(old, _epoch(1))
        store.save_model(old, b"state")
        store.set_status(old, FINISHED)
    kept = store.create_run(TrainConfig(epochs=1), run_id="0123456789ab")  # reads as text
    store.set_status(kept, FINISHED)
    reopened = RunStore(database_url=store.url) if store.url else RunStore(store.folder)
    renamed = reopened.renamed_at_open
    assert sorted(renamed) == sorted([*olds, "777777777777"])
    assert not any(reads_as_number(new) for new in renamed.values())
    for old in olds:
        assert reopened.get_run(old) is None
        record = reopened.get_run(renamed[old])
        assert (len(record.batches), len(record.epochs)) == (3, 1)
        assert record.config.experiment == renamed["777777777777"]
        assert reopened.load_model(renamed[old]) == b"state"
    assert reopened.get_run(kept).status == FINISHED
    again = RunStore(database_url=store.url) if store.url else RunStore(store.folder)
    assert again.renamed_at_open == {}
    reopened.close()
    again.close()
