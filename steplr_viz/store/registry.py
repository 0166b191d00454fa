"""Process-wide run manager: a cap on concurrent trainers, a bounded FIFO queue, persistence.

On a shared store (PostgreSQL, several app servers) the queue and the cap live in the database:
each server's manager claims queued runs from it, beats a heartbeat for the runs it trains, obeys
the pause/resume/stop requests other servers leave there and marks the runs of a server that went
silent interrupted. On SQLite the queue and cap are this process's, as they always were.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections import OrderedDict, deque
from pathlib import Path

from steplr_viz.config import TrainConfig
from steplr_viz.store.owners import process_token
from steplr_viz.store.recorder import StoreRecorder
from steplr_viz.store.run_view import RunView, snapshot_view
from steplr_viz.store.runs import RunStore, check_run_id, open_store
from steplr_viz.training.metrics import (
    FAILED,
    INTERRUPTED,
    STOPPED,
    TERMINAL_STATUSES,
    Snapshot,
)
from steplr_viz.training.trainer import EXIT_MESSAGE, Trainer, stop_on_sigterm
from steplr_viz.validation import check_int

# How long delete() and shutdown() wait for a stopped trainer's thread (it stops within a batch).
JOIN_TIMEOUT_S = 10.0
# Final snapshots (with weights and predictions) kept for runs that just ended.
KEEP_FINAL_SNAPSHOTS = 32
# Shared store: how often a manager beats, claims and reads controls, and after how long without
# a beat another server's runs count as dead (a few missed beats, so a busy server is not).
TICK_SECONDS = 0.5
HEARTBEAT_TIMEOUT_S = 15.0
QUEUED_EXIT_MESSAGE = "The app stopped while this run was queued; it was marked interrupted."

logger = logging.getLogger(__name__)

__all__ = ["ClassFullError", "RunManager", "class_full_message", "shutdown_all"]

# Every manager of this process, shut down at its exit (the app's, a notebook's, a test's).
_MANAGERS: weakref.WeakSet[RunManager] = weakref.WeakSet()
_MANAGERS_LOCK = threading.Lock()


def shutdown_all() -> None:
    """Shut down every run manager of this process: its live runs are marked interrupted."""
    with _MANAGERS_LOCK:
        managers = list(_MANAGERS)
    for manager in managers:
        try:
            manager.shutdown(interrupted=True)
        except Exception:  # the store may be gone already; the next start marks the runs
            logger.exception("run manager shutdown at exit failed")


# Registered after the trainer module's handler, so it runs first (atexit is last-in,
# first-out): queued runs must not start while the running ones are being stopped.
atexit.register(shutdown_all)


class ClassFullError(RuntimeError):
    """Every trainer slot is busy and the queue is full."""


def class_full_message(running: int, waiting: int) -> str:
    """What a student is told when the class is full, in words that fit 1 as well as many."""
    training = "1 run is training" if running == 1 else f"{running} runs are training"
    return f"The class is full: {training} and {waiting} waiting. Try again shortly."


class RunManager:
    """Starts runs up to `max_concurrent` at once, queues the rest, records all in the store."""

    def __init__(
        self,
        store: RunStore | None = None,
        max_concurrent: int | None = None,
        max_queue: int = 50,
        keep_runs: int = 200,
        data_dir: str | Path | None = None,
        *,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT_S,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        note = None
        if store is None:
            store, note = open_store()
        self.store = store
        self.persistent: bool = bool(getattr(store, "persistent", False))
        self.storage_note: str | None = note
        cap = (os.cpu_count() or 1) if max_concurrent is None else max_concurrent
        self.max_concurrent = check_int("max_concurrent", cap, low=1, high=1024)
        self.max_queue = check_int("max_queue", max_queue, low=0, high=100_000)
        self.keep_runs = check_int("keep_runs", keep_runs, low=1, high=10**9)
        self.data_dir = data_dir
        # One re-entrant lock for all state: trainer callbacks (in trainer threads) take it too.
        self._lock = threading.RLock()
        self._active: dict[str, Trainer] = {}  # started and not yet ended
        self._queue: deque[str] = deque()  # FIFO of queued run ids
        self._pending: dict[str, Trainer] = {}  # queued trainers, not started
        self._recorders: dict[str, StoreRecorder] = {}
        self._final: OrderedDict[str, Snapshot] = OrderedDict()
        self._closed = False
        # A shared store: the queue and the cap are the database's (see the module docstring).
        self.shared: bool = bool(getattr(store, "shared", False))
        # Unique per manager: two managers in one process (tests) are two servers.
        self.replica = f"{socket.gethostname()}:{process_token()}:{uuid.uuid4().hex[:8]}"
        self.heartbeat_timeout = float(heartbeat_timeout)
        self.tick_seconds = float(tick_seconds)
        self._wake = threading.Event()
        self._loop: threading.Thread | None = None
        with _MANAGERS_LOCK:
            _MANAGERS.add(self)
        stop_on_sigterm()
        if self.shared:
            self._loop = threading.Thread(
                target=self._replica_loop, name="steplr-replica", daemon=True
            )
            self._loop.start()

    # --- submitting and scheduling -----------------------------------------------------------

    def submit(self, config: TrainConfig, started_by: str | None = None) -> str:
        """Check, record and start (or queue) a run; returns its id; ClassFullError if full."""
        # The trainer checks the config (ValueError naming the field) before anything is stored.
        trainer = Trainer(config, data_dir=self.data_dir)
        with self._lock:
            if self._closed:
                raise RuntimeError("The run manager has shut down.")
            if self.shared:
                running, waiting = self.store.live_counts()
                if running >= self.max_concurrent and waiting >= self.max_queue:
                    raise ClassFullError(class_full_message(running, waiting))
                run_id = self.store.create_run(trainer.config, started_by=started_by)
                self._claim_shared()  # this run, or an older one queued on any server
                self._prune()
                return run_id
            self._reap()
            running, waiting = len(self._active), len(self._queue)
            if running >= self.max_concurrent and waiting >= self.max_queue:
                raise ClassFullError(class_full_message(running, waiting))
            run_id = self.store.create_run(trainer.config, started_by=started_by)
            self._hook(trainer, run_id)
            if running < self.max_concurrent:
                self._start(run_id, trainer, reraise=True)
            else:
                self._queue.append(run_id)
                self._pending[run_id] = trainer
        self._prune()
        return run_id

    def _hook(self, trainer: Trainer, run_id: str) -> None:
        """Name the trainer's run and have it report to the store and to us."""
        trainer.run_id = run_id
        recorder = StoreRecorder(self.store, run_id)
        trainer.add_callback("on_batch_end", recorder.on_batch_end)
        trainer.add_callback("on_epoch_end", recorder.on_epoch_end)
        trainer.add_callback(
            "on_status", lambda t, status: self._on_status(run_id, recorder, t, status)
        )
        self._recorders[run_id] = recorder

    def _on_status(
        self, run_id: str, recorder: StoreRecorder, trainer: Trainer, status: str
    ) -> None:
        """Trainer thread: record the status; when the run ends, free its slot for the next."""
        try:
            recorder.on_status(trainer, status)  # first: the store has the final status ...
        finally:
            if status in TERMINAL_STATUSES:  # ... before the run leaves the live list
                self._ended(run_id, trainer, status)

    def _ended(self, run_id: str, trainer: Trainer, status: str | None = None) -> None:
        """Forget an ended run (idempotent) and fill the free slots from the queue.

        status: the terminal status being recorded, which the trainer's live view shows only
        once its callbacks (this one included) are done.
        """
        with self._lock:
            if self._active.get(run_id) is trainer:
                del self._active[run_id]
                self._recorders.pop(run_id, None)
                final = trainer.metrics.snapshot()
                if status is not None:
                    final = dataclasses.replace(final, status=status)
                self._remember_final(run_id, final)
            self._start_queued()

    def _start_queued(self) -> None:
        """Start queued runs while slots are free (caller holds the lock)."""
        if self.shared:
            self._claim_shared()
            return
        while self._queue and len(self._active) < self.max_concurrent and not self._closed:
            run_id = self._queue.popleft()
            self._start(run_id, self._pending.pop(run_id), reraise=False)

    def _start(self, run_id: str, trainer: Trainer, *, reraise: bool) -> None:
        """Start a trainer in a slot (caller holds the lock); a failed start fails the run."""
        self._active[run_id] = trainer
        try:
            trainer.start()
        except Exception as exc:
            del self._active[run_id]
            self._recorders.pop(run_id, None)
            self.store.set_status(run_id, FAILED, f"The run could not start: {exc}")
            if reraise:
                raise

    # --- a shared store: several servers, one queue ------------------------------------------

    def _claim_shared(self) -> None:
        """Claim and start queued runs from the database while the cluster-wide cap allows."""
        while not self._closed and len(self._active) < self.max_concurrent:
            claimed = self.store.claim_next(self.replica, self.max_concurrent)
            if claimed is None:
                return
            run_id, config = claimed
            trainer = Trainer(config, data_dir=self.data_dir)
            self._hook(trainer, run_id)
            self._start(run_id, trainer, reraise=False)

    def _replica_loop(self) -> None:
        """Background: tick until shutdown; a database hiccup is logged, never fatal."""
        while not self._closed:
            try:
                self.tick()
            except Exception:
                logger.exception("run manager tick failed; trying again")
            self._wake.wait(self.tick_seconds)
            self._wake.clear()

    def tick(self) -> None:
        """Beat for our runs, obey controls left for them, reap silent servers, claim runs."""
        if not self.shared:
            return
        with self._lock:  # first: a run claimed after this is not ours to judge yet
            ours = dict(self._active)
        alive = set(self.store.heartbeat(self.replica, list(ours)))
        for run_id, trainer in ours.items():
            # Deleted, or marked interrupted by a server that thought us dead: stop training it.
            if run_id not in alive and trainer.status not in TERMINAL_STATUSES:
                with self._lock:
                    recorder = self._recorders.get(run_id)
                if recorder is not None:
                    recorder.enabled = False
                trainer.stop()
        for run_id, action in self.store.take_controls(self.replica):
            trainer = ours.get(run_id)
            if trainer is not None:
                getattr(trainer, action)()
        self.store.mark_stale_runs(self.heartbeat_timeout)
        with self._lock:
            self._reap()
            self._claim_shared()

    def _reap(self) -> None:
        """Safety net: release runs whose thread ended without a terminal on_status."""
        with self._lock:
            for run_id, trainer in list(self._active.items()):
                if trainer.status in TERMINAL_STATUSES and trainer.join(timeout=0):
                    self._ended(run_id, trainer)

    def _remember_final(self, run_id: str, snap: Snapshot) -> None:
        self._final[run_id] = snap
        while len(self._final) > KEEP_FINAL_SNAPSHOTS:
            self._final.popitem(last=False)

    def _prune(self) -> None:
        """Keep at most keep_runs runs in the store (oldest ended runs go first)."""
        pruned = self.store.prune(self.keep_runs)
        if pruned:
            with self._lock:
                for run_id in pruned:
                    self._final.pop(run_id, None)

    # --- reading ----------------------------------------------------------------------------

    def snapshot(self, run_id: str) -> Snapshot | None:
        """A live (queued, running or paused) run's snapshot; None for other runs."""
        check_run_id(run_id)
        with self._lock:
            trainer = self._active.get(run_id) or self._pending.get(run_id)
        return None if trainer is None else trainer.metrics.snapshot()

    def final_snapshot(self, run_id: str) -> Snapshot | None:
        """The last snapshot (weights and predictions included) of a run that ended recently."""
        check_run_id(run_id)
        with self._lock:
            return self._final.get(run_id)

    def view(self, run_id: str) -> RunView | None:
        """What a page draws for a run: live from its trainer, else as stored; None if gone."""
        snap = self.snapshot(run_id) or self.final_snapshot(run_id)
        if snap is not None:
            return snapshot_view(run_id, snap)
        return self.store.get_run(run_id)

    def queue_position(self, run_id: str) -> int | None:
        """1-based place in the queue, None if the run is not queued."""
        check_run_id(run_id)
        if self.shared:
            return self.store.queue_position(run_id)
        with self._lock:
            try:
                return self._queue.index(run_id) + 1
            except ValueError:
                return None

    def live_run_ids(self) -> list[str]:
        """Queued, running and paused runs: the active ones, then the queue in order."""
        if self.shared:
            return self.store.live_run_ids()
        with self._lock:
            self._reap()
            return list(self._active) + list(self._queue)

    def active_count(self) -> int:
        """Runs holding a trainer slot (running or paused), on every server if shared."""
        if self.shared:
            return self.store.live_counts()[0]
        with self._lock:
            self._reap()
            return len(self._active)

    def queued_count(self) -> int:
        """Runs waiting for a slot."""
        if self.shared:
            return self.store.live_counts()[1]
        with self._lock:
            return len(self._queue)

    # --- control ----------------------------------------------------------------------------

    def pause(self, run_id: str) -> bool:
        """Pause a running run (trained here or, if shared, on any server); False if not active."""
        trainer = self._active_trainer(run_id)
        if trainer is None:
            return self.shared and self.store.request_control(run_id, "pause")
        return trainer.pause() is not False

    def resume(self, run_id: str) -> bool:
        """Resume a paused run (trained here or, if shared, on any server); False if not active."""
        trainer = self._active_trainer(run_id)
        if trainer is None:
            return self.shared and self.store.request_control(run_id, "resume")
        return trainer.resume() is not False

    def stop(self, run_id: str) -> bool:
        """Stop a run (a queued one never starts); False if it is not live."""
        check_run_id(run_id)
        with self._lock:
            if self._unqueue(run_id):
                self.store.set_status(run_id, STOPPED)
                return True
            trainer = self._active.get(run_id)
        if trainer is None:
            return self.shared and self.store.request_control(run_id, "stop")
        trainer.stop()  # its terminal on_status frees the slot
        return True

    def delete(self, run_id: str) -> bool:
        """Stop the run if live and delete it from the store; False if there was no such run."""
        check_run_id(run_id)
        with self._lock:
            was_live = self._unqueue(run_id)
            trainer = self._active.get(run_id)
            recorder = self._recorders.get(run_id)
            if recorder is not None:
                recorder.enabled = False  # its late writes must not resurrect the run
        if trainer is not None:
            was_live = True
            trainer.stop()
            trainer.join(timeout=JOIN_TIMEOUT_S)
            self._ended(run_id, trainer)
        elif self.shared:
            # Another server's trainer: its next tick finds the run gone and stops it.
            self.store.request_control(run_id, "stop")
        with self._lock:
            self._final.pop(run_id, None)
        return self.store.delete_run(run_id) or was_live

    def shutdown(self, *, interrupted: bool = False) -> None:
        """Stop everything, mark queued runs stopped and join the trainer threads (bounded).

        `interrupted`: the process is going away (its exit, SIGTERM, Ctrl-C): live runs are
        marked interrupted, with their data kept, instead of stopped.
        """
        with self._lock:
            if self._closed and not self._active:
                return
            self._closed = True
            queued = list(self._queue)
            self._queue.clear()
            self._pending.clear()
            trainers = list(self._active.values())
        for run_id in queued:
            if interrupted:
                self.store.set_status(run_id, INTERRUPTED, QUEUED_EXIT_MESSAGE)
            else:
                self.store.set_status(run_id, STOPPED)
        for trainer in trainers:
            if interrupted:
                trainer.interrupt(EXIT_MESSAGE)
            else:
                trainer.stop()
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        for trainer in trainers:
            trainer.join(timeout=max(0.0, deadline - time.monotonic()))
        if self._loop is not None:
            self._wake.set()
            self._loop.join(timeout=max(0.0, deadline - time.monotonic()))

    # --- helpers ----------------------------------------------------------------------------

    def _active_trainer(self, run_id: str) -> Trainer | None:
        check_run_id(run_id)
        with self._lock:
            return self._active.get(run_id)

    def _unqueue(self, run_id: str) -> bool:
        """Drop a queued run (caller holds the lock); True if it was queued."""
        if run_id not in self._pending:
            return False
        self._queue.remove(run_id)
        del self._pending[run_id]
        self._recorders.pop(run_id, None)
        return True

    def __repr__(self) -> str:
        return (
            f"RunManager(active={len(self._active)}, queued={len(self._queue)}, "
            f"max_concurrent={self.max_concurrent}, persistent={self.persistent})"
        )
