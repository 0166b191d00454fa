"""Several app servers on one PostgreSQL store: shared queue and cap, live views, controls,
and a server killed mid-run (its runs marked interrupted by the others, the record kept)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from steplr_viz.config import TrainConfig
from steplr_viz.store.registry import RunManager
from steplr_viz.store.runs import RunStore
from steplr_viz.training.metrics import (
    FINISHED,
    INTERRUPTED,
    LIVE_STATUSES,
    PAUSED,
    QUEUED,
    RUNNING,
    STOPPED,
)
from tests.postgres import pg_url  # noqa: F401 - a fixture
from tests.store.test_registry import DEADLINE_S, tiny, wait_for

# A run long enough (7,500 batches, many seconds) that a control sent through the store from
# another replica reaches it before it ends, however loaded the machine.
LONG = TrainConfig(epochs=30, batch_size=16)

pytestmark = pytest.mark.postgres
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def replicas(pg_url):  # noqa: F811 - the fixture imported above
    """make(**kwargs): a RunManager on its own RunStore of one shared database (a replica)."""
    made: list[RunManager] = []

    def make(**kwargs) -> RunManager:
        manager = RunManager(store=RunStore(database_url=pg_url), **kwargs)
        made.append(manager)
        return manager

    make.made = made
    yield make
    for manager in made:
        manager.shutdown()
        manager.store.close()


def status_in(manager: RunManager, run_id: str) -> str | None:
    """The run's status in the shared store, as this replica reads it (not its trainer's: a
    trainer's status changes a moment before the store's)."""
    record = manager.store.get_run(run_id)
    return None if record is None else record.status


def trainer_and_viewer(a: RunManager, b: RunManager, run_id: str) -> tuple[RunManager, RunManager]:
    """(the replica that claimed the run, the other one): any free replica may claim it."""
    wait_for(lambda: a.snapshot(run_id) or b.snapshot(run_id), "a replica to claim the run")
    return (a, b) if a.snapshot(run_id) is not None else (b, a)


def test_a_shared_store_makes_shared_managers(replicas):
    a = replicas(max_concurrent=1)
    assert a.shared and a.store.shared


def assert_same_reading(read_a, read_b) -> None:
    """Replicas read one queue: what b reads equals what a reads on both sides of it.

    Runs only move forward (queued, running, ended), so when a reads the same before and after
    b's read, nothing changed in between and b must read it too; a change in between (a tiny run
    ending) is read again.
    """
    for _ in range(50):
        before, theirs, after = read_a(), read_b(), read_a()
        if before == after:
            assert theirs == before
            return
    raise AssertionError("the queue never held still for one reading")


def test_the_cap_and_the_queue_hold_across_replicas(replicas):
    cap = 2
    a, b = replicas(max_concurrent=cap), replicas(max_concurrent=cap)
    started: dict[str, list[str]] = {a.replica: [], b.replica: []}
    for manager in (a, b):
        hook = manager._hook

        def spy(trainer, run_id, manager=manager, hook=hook):
            started[manager.replica].append(run_id)
            hook(trainer, run_id)

        manager._hook = spy
    most = [0]
    done = threading.Event()

    def watch_cap() -> None:  # the most runs claimed at once, cluster-wide
        while not done.is_set():
            most[0] = max(most[0], a.store.live_counts()[0])

    watcher = threading.Thread(target=watch_cap, daemon=True)
    watcher.start()
    # Two long runs take the cluster's two slots (tiny ones could end before the queue is read).
    held = [b.submit(LONG), a.submit(LONG)]
    wait_for(lambda: a.store.live_counts()[0] == cap, "the long runs to take both slots")
    ids = [(a if i % 2 else b).submit(tiny(seed=i)) for i in range(4)]
    # The four others wait in one queue, whichever server they came to.
    assert a.queued_count() == 4
    assert_same_reading(a.queued_count, b.queued_count)
    assert_same_reading(a.live_run_ids, b.live_run_ids)
    for run_id in held:  # from either server: the slots go to the queue
        assert a.stop(run_id)
    for run_id in ids:
        wait_for(lambda run_id=run_id: status_in(a, run_id) == FINISHED, f"{run_id} to finish")
    for run_id in held:
        wait_for(lambda run_id=run_id: status_in(b, run_id) == STOPPED, f"{run_id} to stop")
    done.set()
    watcher.join(timeout=10)
    assert most[0] == cap
    assert not set(started[a.replica]) & set(started[b.replica])  # no run trained twice
    assert sorted(started[a.replica] + started[b.replica]) == sorted(held + ids)
    assert a.live_run_ids() == [] and b.queued_count() == 0


def test_queue_positions_are_the_clusters(replicas):
    a, b = replicas(max_concurrent=1), replicas(max_concurrent=1)
    first = a.submit(LONG)
    assert a.pause(first)
    wait_for(lambda: status_in(b, first) == PAUSED, "the first run to pause")
    second, third = b.submit(tiny()), a.submit(tiny())
    assert [a.queue_position(r) for r in (first, second, third)] == [None, 1, 2]
    assert b.queue_position(third) == 2 and status_in(b, second) == QUEUED
    assert b.stop(second)  # stopping a queued run from any server ends it at once
    assert status_in(a, second) == STOPPED and a.queue_position(third) == 1
    assert b.stop(first)  # stops a run another server trains: the slot goes to the queue
    wait_for(lambda: status_in(b, third) == FINISHED, "the third run to run and finish")


def test_another_replica_shows_the_run_live_and_controls_it(replicas):
    replicas(max_concurrent=1)
    run_id = replicas(max_concurrent=1).submit(LONG)
    a, b = trainer_and_viewer(*replicas.made, run_id)
    assert b.snapshot(run_id) is None  # b has no trainer for it: it reads the store
    wait_for(lambda: len(b.view(run_id).batches) > 0, "b to see batches of a's run")
    assert b.view(run_id).status == RUNNING
    assert b.pause(run_id)  # reaches a through the store
    wait_for(lambda: a.snapshot(run_id).status == PAUSED, "a's trainer to pause")
    wait_for(lambda: status_in(b, run_id) == PAUSED, "b to see the pause")
    # Paused: what b shows is everything a has trained (flushed at the pause).
    paused, snap = b.view(run_id), a.snapshot(run_id)
    assert len(paused.batches) == len(snap.batches)

    # The same place in training: a pause at an epoch's boundary is "epoch 4, batch 0" to the
    # trainer (it has begun the epoch) and "epoch 3, batch 63 of 63" to the stored batches.
    def position(view) -> int:
        return (view.epoch - 1) * view.batches_per_epoch + view.batch_in_epoch

    assert paused.batches_per_epoch in (0, snap.batches_per_epoch)
    if paused.batches_per_epoch:
        assert position(paused) == position(snap) == len(snap.batches)
    else:  # before the first epoch ends the stored view cannot know an epoch's length
        assert paused.epoch == snap.epoch and paused.batch_in_epoch == snap.batch_in_epoch
    assert b.resume(run_id)
    wait_for(lambda: len(b.view(run_id).batches) > len(paused.batches), "b to see it move on")
    assert b.stop(run_id)
    wait_for(lambda: status_in(b, run_id) == STOPPED, "the stop to reach a")
    wait_for(lambda: a.live_run_ids() == [] and a.active_count() == 0, "a's slot to free")
    stored = b.view(run_id)
    assert stored.batches["step"].tolist() == list(range(1, len(stored.batches) + 1))


def test_deleting_a_run_another_replica_trains_stops_it(replicas):
    replicas(max_concurrent=1)
    run_id = replicas(max_concurrent=1).submit(LONG)
    a, b = trainer_and_viewer(*replicas.made, run_id)
    wait_for(lambda: status_in(b, run_id) == RUNNING, "the run to start")
    assert b.delete(run_id)
    wait_for(lambda: a.snapshot(run_id) is None, "a to stop training the deleted run")
    assert b.view(run_id) is None and a.store.get_run(run_id) is None


KILLED_REPLICA = """
    import os, signal, sys, time
    from steplr_viz.store.registry import RunManager
    from steplr_viz.store.runs import RunStore
    from steplr_viz.config import TrainConfig
    manager = RunManager(store=RunStore(database_url=sys.argv[1]), max_concurrent=1)
    live = manager.submit(TrainConfig(epochs=30, batch_size=64))
    queued = manager.submit(TrainConfig(epochs=1, batch_size=512))
    deadline = time.monotonic() + 100
    while time.monotonic() < deadline:   # wait for a stored epoch, then die mid-run
        if len(manager.store.get_run(live).epochs) >= 1:
            break
        time.sleep(0.01)
    print(live, queued, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_replica_killed_mid_run_is_marked_interrupted_by_another(replicas, pg_url):  # noqa: F811
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_REPLICA), pg_url],
        cwd=REPO, capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    live, queued = proc.stdout.split()
    # A short timeout keeps the test quick; it waits on the status, not on the clock.
    survivor = replicas(max_concurrent=1, heartbeat_timeout=1.0, tick_seconds=0.1)
    wait_for(lambda: status_in(survivor, live) == INTERRUPTED, "the dead run to be interrupted")
    record = survivor.store.get_run(live)
    assert "stopped answering" in record.error
    assert len(record.epochs) >= 1 and len(record.batches) >= 63  # kept as it was written
    assert record.batches["step"].tolist() == list(range(1, len(record.batches) + 1))
    # The dead server's queued run was never claimed: a live server trains it.
    wait_for(lambda: status_in(survivor, queued) == FINISHED, "the queued run to be trained")
    statuses = survivor.store.list_runs()["status"].tolist()
    assert all(s not in LIVE_STATUSES for s in statuses), statuses


def test_a_pooled_connection_the_server_ended_is_replaced(pg_url):  # noqa: F811
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    store = RunStore(database_url=pg_url)
    try:
        store.list_runs()  # its connection waits in the pool now
        name = conninfo_to_dict(pg_url)["dbname"]
        admin = pg_url.replace(f"/{name}?", "/postgres?", 1)
        with psycopg.connect(admin, autocommit=True) as conn:
            # What a server restart, an idle timeout or an administrator does to an idle session.
            ended = conn.execute(
                "SELECT pg_terminate_backend(pid, 30000) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            ).fetchall()
        assert ended and all(row[0] for row in ended)
        # Not "server closed the connection unexpectedly": a new connection serves the call.
        run_id = store.create_run(TrainConfig(epochs=1))
        assert store.get_run(run_id).status == QUEUED
    finally:
        store.close()


# --- the CLIs on the shared store ------------------------------------------------------------


def test_train_and_export_take_the_database_url(tmp_path, pg_url):  # noqa: F811
    from steplr_viz.cli import export
    from tests.cli.test_train import run_cli

    out = run_cli(tmp_path, "--epochs", "1", "--batch-size", "512", "--database-url", pg_url)
    assert out.returncode == 0, out.stderr
    store = RunStore(database_url=pg_url)
    try:
        (run_id,) = store.list_runs()["run_id"]
        assert store.get_run(run_id).status == FINISHED and len(store.get_run(run_id).epochs) == 1
    finally:
        store.close()
    assert not (tmp_path / "env_runs").exists()  # nothing went to SQLite
    target = tmp_path / "runs.zip"
    assert export.main(["--zip", str(target), "--database-url", pg_url]) == 0
    assert target.stat().st_size > 0


def test_the_database_url_comes_from_the_environment(monkeypatch, pg_url):  # noqa: F811
    from steplr_viz.store.runs import open_store

    monkeypatch.setenv("STEPLR_VIZ_DATABASE_URL", pg_url)
    store, note = open_store()
    assert note is None and store.shared and store.url == pg_url
    store.close()


@pytest.mark.parametrize("bad", ["mysql://x/y", "sqlite:///tmp/x", "runs"])
def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path, bad):
    from tests.cli.test_train import run_cli

    out = run_cli(tmp_path, "--epochs", "1", "--database-url", bad)
    assert out.returncode == 2 and "postgresql://" in out.stderr
    assert "Traceback" not in out.stderr


def test_compare_refuses_a_database_url_that_is_not_postgresql(tmp_path):
    from tests.cli.test_train import cli_env

    out = subprocess.run(
        [sys.executable, "-m", "steplr_viz.compare", "--epochs", "1", "--database-url", "x://y"],
        cwd=REPO, env=cli_env(tmp_path), capture_output=True, text=True, timeout=DEADLINE_S,
    )  # fmt: skip
    assert out.returncode == 2 and "postgresql://" in out.stderr
    assert "Traceback" not in out.stderr
