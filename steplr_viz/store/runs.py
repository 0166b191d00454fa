"""Run store: the configs, statuses and metrics of training runs, in SQLite or PostgreSQL."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from steplr_viz.config import TrainConfig
from steplr_viz.store.dialects import (
    CLAIM_LOCK,
    CLASS_LOCK,
    SCHEMA_LOCK,
    SQLITE,
    Conn,
    PostgresEngine,
    SqliteEngine,
    ensure_schema,
)
from steplr_viz.store.dialects import database_url as dialect_url
from steplr_viz.store.owners import current_owner, owner_alive, process_token
from steplr_viz.store.run_view import RunView
from steplr_viz.training.metrics import (
    BATCH_COLUMNS,
    EPOCH_COLUMNS,
    INT_COLUMNS,
    INTERRUPTED,
    LIVE_STATUSES,
    QUEUED,
    RUNNING,
    STOPPED,
    TERMINAL_STATUSES,
    BatchPoint,
    EpochPoint,
)
from steplr_viz.validation import ID_RE, ID_WORDS, check_int, is_id, new_id, reads_as_number

RUN_ID_RE = ID_RE  # new ids start with a letter; old ones are 12 lowercase hex chars
DB_NAME = "runs.sqlite3"
RUNS_DIR_ENV = "STEPLR_VIZ_RUNS_DIR"
KNOWN_STATUSES = frozenset(LIVE_STATUSES) | TERMINAL_STATUSES
CONTROLS = ("pause", "resume", "stop")  # what any replica may ask of the one training a run

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
# CSV: per-epoch metrics, then the config; the config's initial LR is "base_lr" so it does not
# collide with the per-epoch "lr".
CSV_CONFIG_COLUMNS = [("base_lr" if c == "lr" else c) for c in CONFIG_COLUMNS]


def new_run_id() -> str:
    """A fresh random run id: 12 characters, a letter first, never read as a number."""
    return new_id()


def check_run_id(run_id: Any) -> str:
    """Return `run_id` if it is a run id (new, or old 12-hex), else raise ValueError."""
    if not is_id(run_id):
        shown = repr(run_id)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        raise ValueError(f"run_id must be {ID_WORDS}, got {shown}")
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


class Store(Protocol):
    """What a run store offers (RunStore, on a file or in memory)."""

    def create_run(
        self, config: TrainConfig, run_id: str | None = None, started_by: str | None = None
    ) -> str: ...
    def set_status(self, run_id: str, status: str, error: str | None = None) -> None: ...
    def add_batches(self, run_id: str, points: Sequence[BatchPoint]) -> None: ...
    def add_epoch(self, run_id: str, point: EpochPoint) -> None: ...
    def list_runs(self) -> pd.DataFrame: ...
    def get_run(self, run_id: str) -> RunView | None: ...
    def started_by(self, run_id: str) -> str | None: ...
    def save_model(self, run_id: str, data: bytes) -> None: ...
    def load_model(self, run_id: str) -> bytes | None: ...
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


def _csv_text(record: RunView) -> str:
    """Per-epoch metrics with the run id, status and config columns, as CSV text."""
    frame = record.epochs.copy()
    frame.insert(0, "run_id", record.run_id)
    frame.insert(1, "status", record.status)
    cfg = record.config.to_dict()
    for col, name in zip(CSV_CONFIG_COLUMNS, CONFIG_COLUMNS, strict=True):
        frame[col] = cfg.get(name)
    return frame.to_csv(index=False, lineterminator="\n")


def _experiment_of(config_json: str) -> str:
    """The experiment id in a stored config ("" for none)."""
    return str(json.loads(config_json).get("experiment") or "")


def _terminal_error(status: str, old_status: str) -> str | None:
    if status == INTERRUPTED:
        return f"The app stopped while this run was {old_status}; it was marked interrupted."
    return None


class RunStore:
    """Runs in SQLite (WAL) in `folder`/runs.sqlite3, in memory, or in a PostgreSQL database.

    One implementation for every backend: the SQL is common, the dialect (steplr_viz.dialects)
    supplies placeholders, types and locking. In memory (`in_memory=True`) the same schema and
    queries run on an SQLite database that lives as long as the store: the fallback when the
    runs folder cannot be written. With `database_url` (postgresql://...) several app servers
    share the store: `shared` is True and the run manager queues and caps runs through it.
    """

    def __init__(
        self,
        folder: str | Path | None = None,
        *,
        in_memory: bool = False,
        database_url: str | None = None,
    ) -> None:
        self.persistent = not in_memory
        # The lock serialises this process's writers so they do not wait on each other inside
        # SQLite's busy handler (PostgreSQL's row locks need no help).
        self._write_lock = threading.Lock()
        self.folder = self.path = None
        self.url = None
        self.engine: SqliteEngine | PostgresEngine
        if database_url is not None:
            self.url = database_url
            self.engine = PostgresEngine(database_url)
            self._write_lock = _NoLock()
        elif in_memory:
            self.engine = SqliteEngine(None)
        else:
            # Absolute: a relative folder must not follow a later chdir of the process.
            self.folder = (Path(folder) if folder is not None else default_runs_dir()).absolute()
            self.folder.mkdir(parents=True, exist_ok=True)
            self.path = self.folder / DB_NAME
            self.engine = SqliteEngine(self.path)
        self.dialect = self.engine.dialect
        self.shared = self.dialect.shared
        with self._write_lock:
            ensure_schema(self.engine)
        # Another machine's pids mean nothing here: a shared store finds dead replicas by their
        # heartbeats instead (mark_stale_runs).
        self.interrupted_at_open = [] if self.shared else self._mark_dead_runs_interrupted()
        self.renamed_at_open = self._rename_number_ids()

    def _connect(self) -> AbstractContextManager[Conn]:
        """A connection in a transaction: commits on success, rolls back on error."""
        return self.engine.transaction()

    def reading(self) -> AbstractContextManager[Conn]:
        """A connection for reads (class state, steplr_viz.classroom): no lock is taken."""
        return self._connect()

    @contextmanager
    def class_transaction(self) -> Iterator[Conn]:
        """A transaction for class state: one writer at a time in this process and, on
        PostgreSQL, one class change at a time in the cluster (a sweep's next cell is unique)."""
        with self._write_lock, self._connect() as conn:
            lock = self.dialect.lock(CLASS_LOCK)
            if lock:
                conn.execute(lock)
            yield conn

    def close(self) -> None:
        """Close pooled connections (the store stays usable: later calls open new ones)."""
        self.engine.close()

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
                if row["owner_token"] == process_token() or owner_alive(row["owner"]):
                    continue  # still owned by a live trainer, here or in another process
                conn.execute(
                    "UPDATE runs SET status = ?, error = COALESCE(error, ?), finished = ? "
                    "WHERE run_id = ?",
                    (INTERRUPTED, _terminal_error(INTERRUPTED, row["status"]), now, row["run_id"]),
                )
                marked.append(row["run_id"])
        return marked

    def _rename_number_ids(self) -> dict[str, str]:
        """Give ended runs and experiments whose old hex id reads as a number a new id.

        About 0.7 % of old 12-hex ids are all digits or digits around one "e": a CSV reader
        takes them for numbers and the exported tables no longer join. Live runs keep theirs
        until they end (their trainer writes under it); returns {old id: new id}.
        """
        with self._connect() as conn:
            rows = conn.execute("SELECT run_id, status, config FROM runs").fetchall()
        if not any(
            reads_as_number(r["run_id"]) or reads_as_number(_experiment_of(r["config"]))
            for r in rows
        ):
            return {}
        live_experiments = {
            _experiment_of(r["config"]) for r in rows if r["status"] not in TERMINAL_STATUSES
        }
        renamed: dict[str, str] = {}
        with self._write_lock, self._connect() as conn:
            lock = self.dialect.lock(SCHEMA_LOCK)  # replicas opening at once rename once
            if lock:
                conn.execute(lock)
            for row in rows:
                run_id, config = row["run_id"], row["config"]
                if row["status"] not in TERMINAL_STATUSES:
                    continue
                experiment = _experiment_of(config)
                if reads_as_number(experiment) and experiment not in live_experiments:
                    new_exp = renamed.setdefault(experiment, new_id())
                    conn.execute(
                        "UPDATE runs SET config = ? WHERE run_id = ? AND config = ?",
                        (json.dumps({**json.loads(config), "experiment": new_exp}), run_id, config),
                    )
                if reads_as_number(run_id):
                    new_run = new_id()
                    if conn.execute(
                        "UPDATE runs SET run_id = ? WHERE run_id = ?", (new_run, run_id)
                    ).rowcount:
                        for table in ("epochs", "batches", "models"):
                            conn.execute(
                                f"UPDATE {table} SET run_id = ? WHERE run_id = ?",  # noqa: S608 - constant names
                                (new_run, run_id),
                            )
                        renamed[run_id] = new_run
        return renamed

    def create_run(
        self, config: TrainConfig, run_id: str | None = None, started_by: str | None = None
    ) -> str:
        """Record a new queued run with this config; returns its id."""
        run_id = check_run_id(run_id) if run_id is not None else new_run_id()
        cfg = config.to_dict()
        cols = ", ".join(CONFIG_COLUMNS)
        marks = ", ".join("?" for _ in CONFIG_COLUMNS)
        with self._write_lock, self._connect() as conn:
            conn.execute(
                f"INSERT INTO runs (run_id, created, status, config, owner, owner_token, "  # noqa: S608 - column names are constants
                f"started_by, {cols}) VALUES (?, ?, ?, ?, ?, ?, ?, {marks})",
                (
                    run_id,
                    time.time(),
                    QUEUED,
                    json.dumps(cfg),
                    current_owner(),
                    process_token(),
                    started_by,
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
                f"INSERT INTO batches (run_id, {', '.join(BATCH_COLUMNS)}) "  # noqa: S608 - column names are constants
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, step) DO UPDATE SET "
                "epoch = excluded.epoch, loss = excluded.loss, lr = excluded.lr",
                [
                    (run_id, int(p.step), int(p.epoch), _finite_or_none(p.loss), float(p.lr))
                    for p in points
                ],
            )

    def add_epoch(self, run_id: str, point: EpochPoint) -> None:
        """Record one finished epoch (ignored if the run was deleted meanwhile)."""
        check_run_id(run_id)
        updates = ", ".join(f"{c} = excluded.{c}" for c in EPOCH_COLUMNS if c != "epoch")
        with self._write_lock, self._connect() as conn:
            conn.execute(
                f"INSERT INTO epochs (run_id, {', '.join(EPOCH_COLUMNS)}) "  # noqa: S608 - column names are constants
                "SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?) "
                f"ON CONFLICT (run_id, epoch) DO UPDATE SET {updates}",
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
                f"""
                SELECT r.run_id, r.created, r.status, r.optimizer, r.lr, r.gamma, r.step_size,
                       r.epochs, r.batch_size, r.seed, r.data_source,
                       (SELECT e.test_acc FROM epochs e WHERE e.run_id = r.run_id
                        ORDER BY e.epoch DESC LIMIT 1) AS final_acc,
                       (SELECT SUM(e.seconds) FROM epochs e WHERE e.run_id = r.run_id) AS seconds,
                       r.error, r.momentum, r.scheduler_step,
                       (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.run_id) AS epochs_done,
                       r.finished
                FROM runs r ORDER BY r.created DESC, r.{self.dialect.row_order} DESC
                """  # noqa: S608 - the row order is a dialect constant
            ).fetchall()
        return _to_list_frame([dict(zip(row.keys(), tuple(row), strict=True)) for row in rows])

    def get_run(self, run_id: str) -> RunView | None:
        """The stored run with its metrics, or None if there is no such run."""
        check_run_id(run_id)
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                return None
            epochs = conn.execute(
                f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epochs "  # noqa: S608 - column names are constants
                "WHERE run_id = ? ORDER BY epoch",
                (run_id,),
            ).fetchall()
            batches = conn.execute(
                f"SELECT {', '.join(BATCH_COLUMNS)} FROM batches "  # noqa: S608 - column names are constants
                "WHERE run_id = ? ORDER BY step",
                (run_id,),
            ).fetchall()
        return RunView.stored(
            run_id=row["run_id"],
            config=TrainConfig.from_dict(json.loads(row["config"])),
            status=row["status"],
            error=row["error"],
            created=_timestamp(row["created"]),
            started=_timestamp(row["started"]),
            finished=_timestamp(row["finished"]),
            started_by=row["started_by"],
            epochs=_frame([tuple(r) for r in epochs], EPOCH_COLUMNS),
            batches=_frame([tuple(r) for r in batches], BATCH_COLUMNS),
        )

    def started_by(self, run_id: str) -> str | None:
        """Who started a run (a browser's starter id), None if unknown or no such run."""
        check_run_id(run_id)
        with self._connect() as conn:
            row = conn.execute("SELECT started_by FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else row["started_by"]

    def list_configs(self) -> dict[str, TrainConfig]:
        """Every run's config by run id, oldest first (no metrics read)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT run_id, config FROM runs "  # noqa: S608 - a dialect constant
                f"ORDER BY created, {self.dialect.row_order}"
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
                    f"ORDER BY created ASC, {self.dialect.row_order} ASC LIMIT ?",
                    (*terminal, excess),
                ).fetchall()
            ]
            _delete(conn, ids)
        return ids

    def export_csv(self, run_id: str) -> str:
        """Per-epoch metrics with the config columns as CSV text; KeyError if no such run."""
        record = self.get_run(run_id)
        if record is None:
            raise KeyError(f"no run {run_id}")
        return _csv_text(record)

    def integrity_ok(self) -> bool:
        """SQLite's integrity_check says ok (a PostgreSQL server checks its own pages)."""
        try:
            with self._connect() as conn:
                if self.dialect is not SQLITE:
                    return conn.execute("SELECT 1").fetchone()[0] == 1
                result = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError:
            return False
        return [tuple(r) for r in result] == [("ok",)]

    # --- model weights ------------------------------------------------------------------------

    def save_model(self, run_id: str, data: bytes) -> None:
        """Keep a finished run's state_dict (torch.save bytes); ignored if the run is gone."""
        check_run_id(run_id)
        with self._write_lock, self._connect() as conn:
            conn.execute(
                "INSERT INTO models (run_id, state) SELECT ?, ? "
                "WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?) "
                "ON CONFLICT (run_id) DO UPDATE SET state = excluded.state",
                (run_id, bytes(data), run_id),
            )

    def load_model(self, run_id: str) -> bytes | None:
        """A run's saved model state_dict bytes, None if none was saved."""
        check_run_id(run_id)
        with self._connect() as conn:
            row = conn.execute("SELECT state FROM models WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else bytes(row[0])

    # --- a queue shared by several app servers -----------------------------------------------

    def claim_next(self, replica: str, cap: int) -> tuple[str, TrainConfig] | None:
        """Claim the oldest unclaimed queued run for `replica` if fewer than `cap` runs are
        claimed and live across every replica; its id and config, or None.

        PostgreSQL: an advisory lock makes count-and-claim atomic across replicas, and
        FOR UPDATE SKIP LOCKED skips rows another transaction holds. SQLite: one UPDATE, which
        the database runs alone.
        """
        now = time.time()
        with self._write_lock, self._connect() as conn:
            lock = self.dialect.lock(CLAIM_LOCK)
            if lock:
                conn.execute(lock)
            row = conn.execute(
                f"UPDATE runs SET replica = ?, heartbeat = ? WHERE run_id = ("  # noqa: S608 - dialect constants
                "SELECT run_id FROM runs WHERE status = ? AND replica IS NULL "
                f"ORDER BY created, {self.dialect.row_order} LIMIT 1{self.dialect.skip_locked}"
                ") AND (SELECT COUNT(*) FROM runs WHERE replica IS NOT NULL "
                "AND status IN (?, ?, ?)) < ? RETURNING run_id, config",
                (replica, now, QUEUED, *LIVE_STATUSES, int(cap)),
            ).fetchone()
        if row is None:
            return None
        return row["run_id"], TrainConfig.from_dict(json.loads(row["config"]))

    def live_counts(self) -> tuple[int, int]:
        """(runs claimed by a replica and live, runs queued and unclaimed), cluster-wide."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT "
                "SUM(CASE WHEN replica IS NOT NULL THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN replica IS NULL AND status = ? THEN 1 ELSE 0 END) "
                "FROM runs WHERE status IN (?, ?, ?)",
                (QUEUED, *LIVE_STATUSES),
            ).fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def queue_position(self, run_id: str) -> int | None:
        """1-based place of an unclaimed queued run in the shared queue; None otherwise."""
        check_run_id(run_id)
        with self._connect() as conn:
            row = conn.execute(
                "SELECT created, replica, status FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            if row is None or row["status"] != QUEUED or row["replica"] is not None:
                return None
            ahead = conn.execute(
                "SELECT COUNT(*) FROM runs WHERE status = ? AND replica IS NULL AND created < ?",
                (QUEUED, row["created"]),
            ).fetchone()[0]
        return int(ahead) + 1

    def live_run_ids(self) -> list[str]:
        """Every replica's claimed live runs, then the shared queue in order."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT run_id FROM runs WHERE status IN (?, ?, ?) "  # noqa: S608 - dialect constant
                "ORDER BY CASE WHEN replica IS NULL THEN 1 ELSE 0 END, created, "
                f"{self.dialect.row_order}",
                LIVE_STATUSES,
            ).fetchall()
        return [r[0] for r in rows]

    def heartbeat(self, replica: str, run_ids: Sequence[str]) -> list[str]:
        """Say that `replica` still trains these runs: stamps those it holds and that are live;
        returns their ids (a run left out was deleted, or ended, or marked interrupted)."""
        ids = [check_run_id(r) for r in run_ids]
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        with self._write_lock, self._connect() as conn:
            rows = conn.execute(
                "UPDATE runs SET heartbeat = ? WHERE replica = ? AND status IN (?, ?, ?) "  # noqa: S608 - placeholders only
                f"AND run_id IN ({marks}) RETURNING run_id",
                (time.time(), replica, *LIVE_STATUSES, *ids),
            ).fetchall()
        return [r[0] for r in rows]

    def mark_stale_runs(self, timeout: float) -> list[str]:
        """Mark live runs whose replica's heartbeat is older than `timeout` s interrupted."""
        now = time.time()
        with self._write_lock, self._connect() as conn:
            rows = conn.execute(
                "UPDATE runs SET status = ?, finished = ?, control = NULL, "
                "error = COALESCE(error, ?) WHERE replica IS NOT NULL AND status IN (?, ?, ?) "
                "AND heartbeat < ? RETURNING run_id",
                (
                    INTERRUPTED,
                    now,
                    "The app server training this run stopped answering; it was marked "
                    "interrupted.",
                    *LIVE_STATUSES,
                    now - timeout,
                ),
            ).fetchall()
        return [r[0] for r in rows]

    def request_control(self, run_id: str, action: str) -> bool:
        """Ask the replica training a live run to pause, resume or stop it; False if not live.

        An unclaimed queued run that is asked to stop is stopped here and now.
        """
        check_run_id(run_id)
        if action not in CONTROLS:
            raise ValueError(f"action must be one of {', '.join(CONTROLS)}; got {action!r}")
        now = time.time()
        with self._write_lock, self._connect() as conn:
            if (
                action == "stop"
                and conn.execute(
                    "UPDATE runs SET status = ?, finished = ? "
                    "WHERE run_id = ? AND status = ? AND replica IS NULL",
                    (STOPPED, now, run_id, QUEUED),
                ).rowcount
            ):
                return True
            return (
                conn.execute(
                    "UPDATE runs SET control = ? WHERE run_id = ? AND replica IS NOT NULL "
                    "AND status IN (?, ?, ?)",
                    (action, run_id, *LIVE_STATUSES),
                ).rowcount
                > 0
            )

    def take_controls(self, replica: str) -> list[tuple[str, str]]:
        """The (run id, action) requests for `replica`'s runs, cleared as they are read."""
        with self._write_lock, self._connect() as conn:
            rows = conn.execute(
                "SELECT run_id, control FROM runs WHERE replica = ? AND control IS NOT NULL"
                + self.dialect.skip_locked,
                (replica,),
            ).fetchall()
            for run_id, action in rows:  # cleared only if no newer request came meanwhile
                conn.execute(
                    "UPDATE runs SET control = NULL WHERE run_id = ? AND control = ?",
                    (run_id, action),
                )
        return [(r[0], r[1]) for r in rows]


class _NoLock:
    """A stand-in for the write lock where the database serialises writers itself."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _delete(conn: Conn, run_ids: list[str]) -> int:
    """Delete these runs and their metrics in the caller's transaction; returns runs deleted."""
    deleted = 0
    for run_id in run_ids:
        conn.execute("DELETE FROM models WHERE run_id = ?", (run_id,))
        conn.execute("DELETE FROM batches WHERE run_id = ?", (run_id,))
        conn.execute("DELETE FROM epochs WHERE run_id = ?", (run_id,))
        deleted += conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount
    return deleted


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """A frame with these columns; integer columns as int64, the rest float64."""
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns:
        kind = "int64" if col in INT_COLUMNS else "float64"
        frame[col] = frame[col].astype(kind)
    return frame


class InMemoryRunStore(RunStore):
    """RunStore on an in-memory SQLite database: the fallback when no folder can be written."""

    def __init__(self) -> None:
        super().__init__(in_memory=True)


def open_store(
    folder: str | Path | None = None, database_url: str | None = None
) -> tuple[RunStore | InMemoryRunStore, str | None]:
    """A RunStore in `folder`, or an InMemoryRunStore and the plain reason why not.

    With a database URL (the argument, else env STEPLR_VIZ_DATABASE_URL) the store is that
    PostgreSQL database; one that cannot be reached raises: replicas that quietly kept runs
    in memory would each show a different class.
    """
    url = dialect_url(database_url)
    if url is not None:
        return RunStore(database_url=url), None
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


__all__ = [
    "DB_NAME",
    "LIST_COLUMNS",
    "RUN_ID_RE",
    "InMemoryRunStore",
    "RunStore",
    "Store",
    "check_run_id",
    "default_runs_dir",
    "new_run_id",
    "open_store",
]
