"""Run store: configs, statuses and metrics of training runs in SQLite (or memory as a fallback)."""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from steplr_viz.trainer import (
    INTERRUPTED,
    PAUSED,
    QUEUED,
    RUNNING,
    TERMINAL_STATUSES,
    BatchPoint,
    EpochPoint,
    TrainConfig,
)
from steplr_viz.validation import check_int

RUN_ID_RE = re.compile(r"^[0-9a-f]{12}$")  # run ids are 12 lowercase hex chars
DB_NAME = "runs.sqlite3"
RUNS_DIR_ENV = "STEPLR_VIZ_RUNS_DIR"
LIVE_STATUSES = (QUEUED, RUNNING, PAUSED)
KNOWN_STATUSES = frozenset(LIVE_STATUSES) | TERMINAL_STATUSES

# Config fields that list_runs shows as their own columns (the rest stay in the JSON).
CONFIG_COLUMNS = (
    "optimizer",
    "lr",
    "momentum",
    "step_size",
    "gamma",
    "epochs",
    "batch_size",
    "seed",
    "scheduler_step",
    "data_source",
)
LIST_COLUMNS = [
    "run_id",
    "created",
    "status",
    "optimizer",
    "lr",
    "gamma",
    "step_size",
    "epochs",
    "batch_size",
    "seed",
    "data_source",
    "final_acc",
    "seconds",
    "error",
    # additions beyond the agreed API
    "momentum",
    "scheduler_step",
    "epochs_done",
    "finished",
]
EPOCH_COLUMNS = ["epoch", "train_loss", "lr", "test_loss", "test_acc", "seconds"]
BATCH_COLUMNS = ["step", "epoch", "loss", "lr"]
# CSV: per-epoch metrics, then the config; the config's initial LR is "base_lr" so it does not
# collide with the per-epoch "lr".
CSV_CONFIG_COLUMNS = [("base_lr" if c == "lr" else c) for c in CONFIG_COLUMNS]

# Identifies this process's runs in the file, so that a second store (or the CLI in another
# process) opening the same file never marks runs that are still training as interrupted.
_PROCESS_TOKEN = uuid.uuid4().hex
_OWNER_CACHE: dict[int, str] = {}  # pid -> owner id; keyed by pid so a forked child differs

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    status TEXT NOT NULL,
    error TEXT,
    config TEXT NOT NULL,
    owner TEXT,
    owner_token TEXT,
    optimizer TEXT, lr REAL, momentum REAL, step_size INTEGER, gamma REAL, epochs INTEGER,
    batch_size INTEGER, seed INTEGER, scheduler_step TEXT, data_source TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    train_loss REAL, lr REAL, test_loss REAL, test_acc REAL, seconds REAL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS batches (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    epoch INTEGER, loss REAL, lr REAL,
    PRIMARY KEY (run_id, step)
);
"""


def new_run_id() -> str:
    """A fresh random run id (12 lowercase hex chars)."""
    return uuid.uuid4().hex[:12]


def check_run_id(run_id: Any) -> str:
    """Return `run_id` if it is 12 lowercase hex chars, else raise ValueError."""
    if not isinstance(run_id, str) or not RUN_ID_RE.fullmatch(run_id):
        shown = repr(run_id)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        raise ValueError(f"run_id must be 12 lowercase hex characters, got {shown}")
    return run_id


def check_status(status: Any) -> str:
    """Return `status` if it is a known run status, else raise ValueError."""
    if not isinstance(status, str) or status not in KNOWN_STATUSES:
        raise ValueError(
            f"status must be one of {', '.join(sorted(KNOWN_STATUSES))}; got {status!r}"
        )
    return status


def default_runs_dir() -> Path:
    """The runs folder: env STEPLR_VIZ_RUNS_DIR, else ./runs."""
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs")


def _timestamp(seconds: float | None) -> datetime | None:
    """Unix seconds to an aware UTC datetime (None stays None)."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _finite_or_none(x: float) -> float | None:
    """SQLite stores NaN as NULL anyway; be explicit so reads give NaN back through pandas."""
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class RunRecord:
    """One stored run: config, status, times (aware UTC datetimes) and its metrics tables."""

    run_id: str
    config: TrainConfig
    status: str
    error: str | None
    created: datetime
    finished: datetime | None
    batches: pd.DataFrame = field(compare=False)  # columns: step, epoch, loss, lr
    epochs: pd.DataFrame = field(compare=False)  # columns: epoch, train_loss, lr, test_loss, ...
    started: datetime | None = None

    @property
    def final_acc(self) -> float | None:
        """Test accuracy (percent) after the last stored epoch, None before the first."""
        if self.epochs.empty:
            return None
        return float(self.epochs["test_acc"].iloc[-1])


class Store(Protocol):
    """What RunStore and InMemoryRunStore both offer."""

    def create_run(self, config: TrainConfig, run_id: str | None = None) -> str: ...
    def set_status(self, run_id: str, status: str, error: str | None = None) -> None: ...
    def add_batches(self, run_id: str, points: Sequence[BatchPoint]) -> None: ...
    def add_epoch(self, run_id: str, point: EpochPoint) -> None: ...
    def list_runs(self) -> pd.DataFrame: ...
    def get_run(self, run_id: str) -> RunRecord | None: ...
    def list_configs(self) -> dict[str, TrainConfig]: ...
    def delete_run(self, run_id: str) -> bool: ...
    def export_csv(self, run_id: str) -> str: ...
    def prune(self, keep: int) -> list[str]: ...
    def integrity_ok(self) -> bool: ...


def _to_list_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Build list_runs' frame from rows already sorted newest first."""
    frame = pd.DataFrame(rows, columns=LIST_COLUMNS)
    for col in ("created", "finished"):
        frame[col] = pd.to_datetime(frame[col].astype("float64"), unit="s", utc=True)
    for col in ("lr", "gamma", "momentum", "final_acc", "seconds"):
        frame[col] = frame[col].astype("float64")
    for col in ("step_size", "epochs", "batch_size", "seed", "epochs_done"):
        frame[col] = frame[col].astype("int64")
    return frame.reset_index(drop=True)


def _csv_text(record: RunRecord) -> str:
    """Per-epoch metrics with the run id, status and config columns, as CSV text."""
    frame = record.epochs.copy()
    frame.insert(0, "run_id", record.run_id)
    frame.insert(1, "status", record.status)
    cfg = record.config.to_dict()
    for col, name in zip(CSV_CONFIG_COLUMNS, CONFIG_COLUMNS, strict=True):
        frame[col] = cfg.get(name)
    return frame.to_csv(index=False, lineterminator="\n")


def _terminal_error(status: str, old_status: str) -> str | None:
    if status == INTERRUPTED:
        return f"The app stopped while this run was {old_status}; it was marked interrupted."
    return None


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), None if unknown."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _owner_id(pid: int) -> str:
    """pid plus start time, so a reused pid does not pass for the process that died."""
    return f"{pid}:{_process_start(pid) or ''}"


def _current_owner() -> str:
    """This process's owner id (see _owner_id)."""
    pid = os.getpid()
    if pid not in _OWNER_CACHE:
        _OWNER_CACHE[pid] = _owner_id(pid)
    return _OWNER_CACHE[pid]


def _process_token() -> str:
    """A token unique to this process (a forked child gets its own)."""
    return f"{_PROCESS_TOKEN}-{os.getpid()}"


def _owner_alive(owner: str | None) -> bool:
    """Whether the process that wrote `owner` (see _owner_id) still runs."""
    pid_text, _, start = (owner or "").partition(":")
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # Our own pid under another token is a previous life of this pid (e.g. a container
        # restart where the app is pid 1 again): that process is gone.
        return False
    if start:
        return _process_start(pid) == start
    if os.name != "posix":
        return False  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OSError:
        return False
    return True


class _Exports:
    """What both stores derive from get_run()."""

    def export_csv(self, run_id: str) -> str:
        """Per-epoch metrics with the config columns as CSV text; KeyError if no such run."""
        record = self.get_run(run_id)
        if record is None:
            raise KeyError(f"no run {run_id}")
        return _csv_text(record)


class RunStore(_Exports):
    """Runs in SQLite (WAL) in `folder`/runs.sqlite3; safe to share between threads."""

    persistent = True

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_runs_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / DB_NAME
        # One connection per call: no connection ever crosses threads, and WAL lets page
        # threads read while a trainer thread writes. The lock serialises this process's
        # writers so they do not wait on each other inside SQLite's busy handler.
        self._write_lock = threading.Lock()
        with self._write_lock, self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        self.interrupted_at_open = self._mark_dead_runs_interrupted()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection; commits on success, rolls back on error, always closes."""
        conn = sqlite3.connect(self.path, timeout=30.0)
        try:
            # NORMAL in WAL mode survives a process crash (only a power loss may drop the
            # last commits), at a fraction of FULL's fsyncs.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.row_factory = sqlite3.Row
            with conn:
                yield conn
        finally:
            conn.close()

    def _mark_dead_runs_interrupted(self) -> list[str]:
        """Mark runs left queued/running/paused by a process that is gone as interrupted."""
        marked: list[str] = []
        now = time.time()
        with self._write_lock, self._connect() as conn:
            rows = conn.execute(
                "SELECT run_id, status, owner, owner_token FROM runs WHERE status IN (?, ?, ?)",
                LIVE_STATUSES,
            ).fetchall()
            for row in rows:
                if row["owner_token"] == _process_token() or _owner_alive(row["owner"]):
                    continue  # still owned by a live trainer, here or in another process
                conn.execute(
                    "UPDATE runs SET status = ?, error = COALESCE(error, ?), finished = ? "
                    "WHERE run_id = ?",
                    (INTERRUPTED, _terminal_error(INTERRUPTED, row["status"]), now, row["run_id"]),
                )
                marked.append(row["run_id"])
        return marked

    def create_run(self, config: TrainConfig, run_id: str | None = None) -> str:
        """Record a new queued run with this config; returns its id."""
        run_id = check_run_id(run_id) if run_id is not None else new_run_id()
        cfg = config.to_dict()
        cols = ", ".join(CONFIG_COLUMNS)
        marks = ", ".join("?" for _ in CONFIG_COLUMNS)
        with self._write_lock, self._connect() as conn:
            conn.execute(
                f"INSERT INTO runs (run_id, created, status, config, owner, owner_token, "  # noqa: S608 - column names are constants
                f"{cols}) VALUES (?, ?, ?, ?, ?, ?, {marks})",
                (
                    run_id,
                    time.time(),
                    QUEUED,
                    json.dumps(cfg),
                    _current_owner(),
                    _process_token(),
                    *(cfg.get(c) for c in CONFIG_COLUMNS),
                ),
            )
        return run_id

    def set_status(self, run_id: str, status: str, error: str | None = None) -> None:
        """Set a run's status (and error); records start and finish times."""
        check_run_id(run_id)
        check_status(status)
        now = time.time()
        finished = now if status in TERMINAL_STATUSES else None
        with self._write_lock, self._connect() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, error = COALESCE(?, error), "
                "started = CASE WHEN ? = ? THEN COALESCE(started, ?) ELSE started END, "
                "finished = COALESCE(?, finished) WHERE run_id = ?",
                (status, error, status, RUNNING, now, finished, run_id),
            )

    def add_batches(self, run_id: str, points: Sequence[BatchPoint]) -> None:
        """Append per-batch points (ignored if the run was deleted meanwhile)."""
        check_run_id(run_id)
        if not points:
            return
        with self._write_lock, self._connect() as conn:
            if not conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
                return
            conn.executemany(
                "INSERT OR REPLACE INTO batches (run_id, step, epoch, loss, lr) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (run_id, int(p.step), int(p.epoch), _finite_or_none(p.loss), float(p.lr))
                    for p in points
                ],
            )

    def add_epoch(self, run_id: str, point: EpochPoint) -> None:
        """Record one finished epoch (ignored if the run was deleted meanwhile)."""
        check_run_id(run_id)
        with self._write_lock, self._connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO epochs "
                "(run_id, epoch, train_loss, lr, test_loss, test_acc, seconds) "
                "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?)",
                (
                    run_id,
                    int(point.epoch),
                    _finite_or_none(point.train_loss),
                    float(point.lr),
                    _finite_or_none(point.test_loss),
                    _finite_or_none(point.test_acc),
                    float(point.seconds),
                    run_id,
                ),
            )

    def list_runs(self) -> pd.DataFrame:
        """One row per run, newest first (see LIST_COLUMNS)."""
        with self._connect() as conn:
            rows = conn.execute(
                """
                SELECT r.run_id, r.created, r.status, r.optimizer, r.lr, r.gamma, r.step_size,
                       r.epochs, r.batch_size, r.seed, r.data_source,
                       (SELECT e.test_acc FROM epochs e WHERE e.run_id = r.run_id
                        ORDER BY e.epoch DESC LIMIT 1) AS final_acc,
                       (SELECT SUM(e.seconds) FROM epochs e WHERE e.run_id = r.run_id) AS seconds,
                       r.error, r.momentum, r.scheduler_step,
                       (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.run_id) AS epochs_done,
                       r.finished
                FROM runs r ORDER BY r.created DESC, r.rowid DESC
                """
            ).fetchall()
        return _to_list_frame([dict(row) for row in rows])

    def get_run(self, run_id: str) -> RunRecord | None:
        """The stored run with its metrics, or None if there is no such run."""
        check_run_id(run_id)
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                return None
            epochs = conn.execute(
                "SELECT epoch, train_loss, lr, test_loss, test_acc, seconds FROM epochs "
                "WHERE run_id = ? ORDER BY epoch",
                (run_id,),
            ).fetchall()
            batches = conn.execute(
                "SELECT step, epoch, loss, lr FROM batches WHERE run_id = ? ORDER BY step",
                (run_id,),
            ).fetchall()
        return RunRecord(
            run_id=row["run_id"],
            config=TrainConfig.from_dict(json.loads(row["config"])),
            status=row["status"],
            error=row["error"],
            created=_timestamp(row["created"]),
            started=_timestamp(row["started"]),
            finished=_timestamp(row["finished"]),
            epochs=_frame([tuple(r) for r in epochs], EPOCH_COLUMNS),
            batches=_frame([tuple(r) for r in batches], BATCH_COLUMNS),
        )

    def list_configs(self) -> dict[str, TrainConfig]:
        """Every run's config by run id, oldest first (no metrics read)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT run_id, config FROM runs ORDER BY created, rowid"
            ).fetchall()
        return {r["run_id"]: TrainConfig.from_dict(json.loads(r["config"])) for r in rows}

    def delete_run(self, run_id: str) -> bool:
        """Delete a run and its metrics; False if there was no such run."""
        check_run_id(run_id)
        with self._write_lock, self._connect() as conn:
            return _delete(conn, [run_id]) > 0

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest terminal runs until at most `keep` runs remain; returns their ids."""
        keep = check_int("keep", keep, low=0, high=10**9)
        with self._write_lock, self._connect() as conn:
            total = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
            excess = total - keep
            if excess <= 0:
                return []
            terminal = sorted(TERMINAL_STATUSES)
            marks = ", ".join("?" for _ in terminal)
            ids = [
                r[0]
                for r in conn.execute(
                    f"SELECT run_id FROM runs WHERE status IN ({marks}) "  # noqa: S608 - placeholders only
                    "ORDER BY created ASC, rowid ASC LIMIT ?",
                    (*terminal, excess),
                ).fetchall()
            ]
            _delete(conn, ids)
        return ids

    def integrity_ok(self) -> bool:
        """SQLite's integrity_check says ok."""
        try:
            with self._connect() as conn:
                result = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError:
            return False
        return [tuple(r) for r in result] == [("ok",)]


def _delete(conn: sqlite3.Connection, run_ids: list[str]) -> int:
    """Delete these runs and their metrics in the caller's transaction; returns runs deleted."""
    deleted = 0
    for run_id in run_ids:
        conn.execute("DELETE FROM batches WHERE run_id = ?", (run_id,))
        conn.execute("DELETE FROM epochs WHERE run_id = ?", (run_id,))
        deleted += conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount
    return deleted


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """A frame with these columns; integer columns as int64, the rest float64."""
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns:
        kind = "int64" if col in ("epoch", "step") else "float64"
        frame[col] = frame[col].astype(kind)
    return frame


@dataclass
class _MemRun:
    run_id: str
    config: dict[str, Any]
    created: float
    status: str = QUEUED
    error: str | None = None
    started: float | None = None
    finished: float | None = None
    epochs: dict[int, tuple] = field(default_factory=dict)
    batches: dict[int, tuple] = field(default_factory=dict)


class InMemoryRunStore(_Exports):
    """RunStore's interface kept in memory: the fallback when the runs folder can't be written."""

    persistent = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, _MemRun] = {}  # insertion order = creation order
        self.interrupted_at_open: list[str] = []

    def create_run(self, config: TrainConfig, run_id: str | None = None) -> str:
        """Record a new queued run with this config; returns its id."""
        run_id = check_run_id(run_id) if run_id is not None else new_run_id()
        with self._lock:
            if run_id in self._runs:
                raise ValueError(f"run {run_id} exists already")
            self._runs[run_id] = _MemRun(run_id, config.to_dict(), time.time())
        return run_id

    def set_status(self, run_id: str, status: str, error: str | None = None) -> None:
        """Set a run's status (and error); records start and finish times."""
        check_run_id(run_id)
        check_status(status)
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return
            now = time.time()
            run.status = status
            if error is not None:
                run.error = error
            if status == RUNNING and run.started is None:
                run.started = now
            if status in TERMINAL_STATUSES:
                run.finished = now

    def add_batches(self, run_id: str, points: Sequence[BatchPoint]) -> None:
        """Append per-batch points (ignored if the run was deleted meanwhile)."""
        check_run_id(run_id)
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return
            for p in points:
                run.batches[int(p.step)] = (int(p.step), int(p.epoch), float(p.loss), float(p.lr))

    def add_epoch(self, run_id: str, point: EpochPoint) -> None:
        """Record one finished epoch (ignored if the run was deleted meanwhile)."""
        check_run_id(run_id)
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return
            run.epochs[int(point.epoch)] = (
                int(point.epoch),
                float(point.train_loss),
                float(point.lr),
                float(point.test_loss),
                float(point.test_acc),
                float(point.seconds),
            )

    def list_runs(self) -> pd.DataFrame:
        """One row per run, newest first (see LIST_COLUMNS)."""
        with self._lock:
            runs = list(self._runs.values())
        rows = []
        for run in reversed(runs):
            epochs = [run.epochs[k] for k in sorted(run.epochs)]
            cfg = run.config
            rows.append(
                {
                    "run_id": run.run_id,
                    "created": run.created,
                    "status": run.status,
                    **{c: cfg.get(c) for c in CONFIG_COLUMNS},
                    "final_acc": epochs[-1][4] if epochs else None,
                    "seconds": sum(e[5] for e in epochs) if epochs else None,
                    "error": run.error,
                    "epochs_done": len(epochs),
                    "finished": run.finished,
                }
            )
        rows.sort(key=lambda r: r["created"], reverse=True)  # stable: ties keep newest first
        return _to_list_frame(rows)

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with its metrics, or None if there is no such run."""
        check_run_id(run_id)
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return None
            epochs = [run.epochs[k] for k in sorted(run.epochs)]
            batches = [run.batches[k] for k in sorted(run.batches)]
            status, error = run.status, run.error
        return RunRecord(
            run_id=run.run_id,
            config=TrainConfig.from_dict(run.config),
            status=status,
            error=error,
            created=_timestamp(run.created),
            started=_timestamp(run.started),
            finished=_timestamp(run.finished),
            epochs=_frame(epochs, EPOCH_COLUMNS),
            batches=_frame(batches, BATCH_COLUMNS),
        )

    def list_configs(self) -> dict[str, TrainConfig]:
        """Every run's config by run id, oldest first (no metrics read)."""
        with self._lock:
            return {r.run_id: TrainConfig.from_dict(r.config) for r in self._runs.values()}

    def delete_run(self, run_id: str) -> bool:
        """Delete a run; False if there was no such run."""
        check_run_id(run_id)
        with self._lock:
            return self._runs.pop(run_id, None) is not None

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest terminal runs until at most `keep` runs remain; returns their ids."""
        keep = check_int("keep", keep, low=0, high=10**9)
        with self._lock:
            excess = len(self._runs) - keep
            ids = [r.run_id for r in self._runs.values() if r.status in TERMINAL_STATUSES]
            ids = ids[: max(0, excess)]
            for run_id in ids:
                del self._runs[run_id]
        return ids

    def integrity_ok(self) -> bool:
        """Always true: nothing on disk to check."""
        return True


def open_store(folder: str | Path | None = None) -> tuple[RunStore | InMemoryRunStore, str | None]:
    """A RunStore in `folder`, or an InMemoryRunStore and the plain reason why not."""
    target = Path(folder) if folder is not None else default_runs_dir()
    try:
        return RunStore(target), None
    except (OSError, sqlite3.Error) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        reason = (
            f"Runs are kept in memory only and vanish when the app stops: the runs folder "
            f"{target} cannot be written ({detail})."
        )
        return InMemoryRunStore(), reason


class StoreRecorder:
    """Trainer callbacks that write a run to a store as it goes.

    Batches are buffered and flushed every `flush_every` batches, at each epoch end and at the
    end of the run; each epoch and each status is written at once, so a crash loses at most the
    batches of the current epoch.
    """

    def __init__(self, store: Store, run_id: str, flush_every: int = 200) -> None:
        self.store = store
        self.run_id = check_run_id(run_id)
        self.flush_every = flush_every
        self._buffer: list[BatchPoint] = []
        self._lock = threading.Lock()
        self.enabled = True  # set False when the run is deleted: late writes are dropped

    def attach(self, trainer: Any) -> None:
        """Register on_batch_end, on_epoch_end and on_status on the trainer."""
        trainer.add_callback("on_batch_end", self.on_batch_end)
        trainer.add_callback("on_epoch_end", self.on_epoch_end)
        trainer.add_callback("on_status", self.on_status)

    def flush(self) -> None:
        """Write the buffered batches."""
        with self._lock:
            points, self._buffer = self._buffer, []
        if points and self.enabled:
            self.store.add_batches(self.run_id, points)

    def on_batch_end(self, trainer: Any, point: BatchPoint) -> None:
        """Buffer one batch; flush when the buffer is full."""
        with self._lock:
            self._buffer.append(point)
            full = len(self._buffer) >= self.flush_every
        if full:
            self.flush()

    def on_epoch_end(self, trainer: Any, point: EpochPoint) -> None:
        """Flush the epoch's batches and record the epoch."""
        self.flush()
        if self.enabled:
            self.store.add_epoch(self.run_id, point)

    def on_status(self, trainer: Any, status: str) -> None:
        """Record the status (flushing first when the run ends), with the error if any."""
        error = None
        if status in TERMINAL_STATUSES:
            self.flush()
            error = _trainer_error(trainer)
        if self.enabled:
            self.store.set_status(self.run_id, status, error)


def _trainer_error(trainer: Any) -> str | None:
    """The run's error message, if the trainer has one yet."""
    metrics = getattr(trainer, "metrics", None)
    return getattr(metrics, "error", None)


__all__ = [
    "BATCH_COLUMNS",
    "DB_NAME",
    "EPOCH_COLUMNS",
    "LIST_COLUMNS",
    "RUN_ID_RE",
    "InMemoryRunStore",
    "RunRecord",
    "RunStore",
    "Store",
    "StoreRecorder",
    "check_run_id",
    "default_runs_dir",
    "new_run_id",
    "open_store",
]
