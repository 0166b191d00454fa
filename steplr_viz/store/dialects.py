"""The run store's SQL dialects (SQLite, PostgreSQL) and its one schema, written for both."""

from __future__ import annotations

import os
import queue
import select
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATABASE_URL_ENV = "STEPLR_VIZ_DATABASE_URL"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# pg_advisory_xact_lock keys: one for schema changes, one that serialises claims (the cap), one
# that serialises class changes (a sweep's next cell, a class's bound).
SCHEMA_LOCK, CLAIM_LOCK, CLASS_LOCK = 0x57E91, 0x57E92, 0x57E93

# The one schema. {real}, {blob} and {seq} are the dialect's types; the rest is common SQL.
# Columns listed in ADDED_COLUMNS came after the first release: older SQLite files gain them.
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    {seq}run_id TEXT PRIMARY KEY,
    created {real} NOT NULL,
    started {real},
    finished {real},
    status TEXT NOT NULL,
    error TEXT,
    config TEXT NOT NULL,
    owner TEXT,
    owner_token TEXT,
    optimizer TEXT, lr {real}, momentum {real}, step_size INTEGER, gamma {real}, epochs INTEGER,
    batch_size INTEGER, seed INTEGER, scheduler_step TEXT, data_source TEXT,
    started_by TEXT, replica TEXT, heartbeat {real}, control TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    train_loss {real}, lr {real}, test_loss {real}, test_acc {real}, seconds {real},
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS batches (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    epoch INTEGER, loss {real}, lr {real},
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS models (
    run_id TEXT PRIMARY KEY,
    state {blob} NOT NULL
);
CREATE TABLE IF NOT EXISTS class_sessions (
    class_id TEXT PRIMARY KEY,
    created {real} NOT NULL,
    touched {real} NOT NULL,
    leader TEXT,
    step INTEGER, lr {real}, gamma {real}, step_size INTEGER,
    version INTEGER NOT NULL DEFAULT 0,
    sweep_id TEXT
);
CREATE TABLE IF NOT EXISTS class_answers (
    class_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    n_choices INTEGER NOT NULL,
    choice INTEGER NOT NULL,
    answers INTEGER NOT NULL,
    PRIMARY KEY (class_id, question_id, n_choices, choice)
);
CREATE TABLE IF NOT EXISTS class_followers (
    class_id TEXT NOT NULL,
    follower TEXT NOT NULL,
    seen {real} NOT NULL,
    PRIMARY KEY (class_id, follower)
);
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id TEXT PRIMARY KEY,
    class_id TEXT NOT NULL,
    created {real} NOT NULL,
    spec TEXT NOT NULL,
    revealed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sweep_cells (
    sweep_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    cell INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    holder TEXT NOT NULL,
    run_id TEXT,
    given {real} NOT NULL,
    PRIMARY KEY (sweep_id, turn)
);
"""
# (table, column, type): what a store file made before these columns existed lacks.
ADDED_COLUMNS = (
    ("runs", "started_by", "TEXT"),
    ("runs", "replica", "TEXT"),
    ("runs", "heartbeat", "{real}"),
    ("runs", "control", "TEXT"),
)


def database_url(url: str | None = None) -> str | None:
    """The run store's database URL: `url`, else env STEPLR_VIZ_DATABASE_URL; None: SQLite."""
    url = url if url is not None else os.environ.get(DATABASE_URL_ENV)
    url = (url or "").strip() or None
    if url is not None and not url.startswith(POSTGRES_SCHEMES):
        raise ValueError(
            f"the database URL must start with postgresql:// (got {url.split(':')[0]!r}); "
            "leave it unset for the SQLite store in the runs folder"
        )
    return url


@dataclass(frozen=True)
class Dialect:
    """What differs between the backends: placeholders, types, row order, locking."""

    name: str
    real: str
    blob: str
    seq: str  # a column that numbers rows in insertion order ("" where the engine has rowid)
    row_order: str  # the expression that orders rows by insertion
    skip_locked: str  # appended to a claim's SELECT
    shared: bool  # processes on other machines may share the database (pid checks mean nothing)

    def sql(self, text: str) -> str:
        """Statement text in this dialect's placeholder style (written with ?)."""
        return text if self.name == "sqlite" else text.replace("?", "%s")

    def schema(self) -> list[str]:
        """The schema's statements."""
        text = SCHEMA.format(real=self.real, blob=self.blob, seq=self.seq)
        return [s.strip() for s in text.split(";") if s.strip()]

    def lock(self, key: int) -> str | None:
        """A statement that holds a cluster-wide lock until the transaction ends (or None).

        SQLite needs none: the store's claim is one UPDATE, which SQLite runs alone.
        """
        return None if self.name == "sqlite" else f"SELECT pg_advisory_xact_lock({int(key)})"


SQLITE = Dialect(
    name="sqlite",
    real="REAL",
    blob="BLOB",
    seq="",
    row_order="rowid",
    skip_locked="",
    shared=False,
)
POSTGRES = Dialect(
    name="postgresql",
    real="DOUBLE PRECISION",  # PostgreSQL's REAL is 4 bytes: it would round every metric
    blob="BYTEA",
    seq="seq BIGSERIAL, ",
    row_order="seq",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    shared=True,
)


class Row(tuple):
    """A result row read by position or by column name, like sqlite3.Row."""

    _names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _pg_row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())
    row_type = type("Row", (Row,), {"_names": names})
    return lambda values: row_type(values)


class Conn:
    """One connection inside one transaction, speaking the dialect's SQL (written with ?)."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(self.dialect.sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.dialect.name == "sqlite":
            self.raw.executemany(sql, rows)
        else:
            with self.raw.cursor() as cur:
                cur.executemany(self.dialect.sql(sql), rows)

    def columns(self, table: str) -> set[str]:
        """The table's column names."""
        cur = self.execute(f"SELECT * FROM {table} WHERE 1 = 0")  # noqa: S608 - a constant name
        cur.fetchall()
        return {d[0] for d in cur.description}


class SqliteEngine:
    """Connections to an SQLite file (one per call), or to one in-memory database."""

    dialect = SQLITE

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: sqlite3.Connection | None = None
        if path is None:
            # ":memory:" is one database per connection: keep one, one thread at a time.
            self._memory = sqlite3.connect(":memory:", check_same_thread=False)
            self._memory.row_factory = sqlite3.Row
            self._memory_lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """A connection in a transaction: commits on success, rolls back on error."""
        if self._memory is not None:
            with self._memory_lock, self._memory:
                yield Conn(self._memory, SQLITE)
            return
        # On a file, one connection per call: no connection ever crosses threads, and WAL lets
        # page threads read while a trainer thread writes.
        conn = sqlite3.connect(self.path, timeout=30.0)
        try:
            # NORMAL in WAL mode survives a process crash (only a power loss may drop the
            # last commits), at a fraction of FULL's fsyncs.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.row_factory = sqlite3.Row
            with conn:
                yield Conn(conn, SQLITE)
        finally:
            conn.close()

    def setup(self) -> None:
        with self.transaction() as conn:
            conn.raw.execute("PRAGMA journal_mode=WAL")

    def close(self) -> None:
        if self._memory is not None:
            self._memory.close()


def _still_open(conn: Any) -> bool:
    """True if an idle pooled connection is still open at both ends.

    The server may end a session while it waits in the pool (a restart, an idle timeout, an
    administrator, a proxy): its next query would fail with "server closed the connection
    unexpectedly". An idle autocommit session is sent nothing unprompted (no LISTEN here), so
    anything to read on its socket is the server's goodbye, or the end of the stream.
    """
    if conn.closed or conn.broken:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


class PostgresEngine:
    """Pooled connections to a PostgreSQL database (autocommit, explicit transactions)."""

    dialect = POSTGRES
    POOL_IDLE = 8  # connections kept open between calls

    def __init__(self, url: str) -> None:
        import psycopg  # only PostgreSQL stores need it

        self._psycopg = psycopg
        self.url = url
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self.transaction_count = 0
        with self.transaction():
            pass  # fail now, with the server's message, if it cannot be reached

    def _get(self) -> Any:
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                break
            if _still_open(conn):
                return conn
            conn.close()
        return self._psycopg.connect(self.url, autocommit=True, row_factory=_pg_row_factory)

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        conn = self._get()
        try:
            with conn.transaction():
                yield Conn(conn, POSTGRES)
        except BaseException:
            if conn.broken or conn.closed:
                conn = None
            raise
        finally:
            if conn is not None and self._idle.qsize() < self.POOL_IDLE:
                self._idle.put(conn)
            elif conn is not None:
                conn.close()

    def setup(self) -> None:
        pass

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def ensure_schema(engine: SqliteEngine | PostgresEngine) -> None:
    """Create the tables (and add columns newer than the file) under a cluster-wide lock."""
    engine.setup()
    dialect = engine.dialect
    with engine.transaction() as conn:
        lock = dialect.lock(SCHEMA_LOCK)  # replicas starting at once must not race on DDL
        if lock:
            conn.execute(lock)
        for statement in dialect.schema():
            conn.execute(statement)
        for table, column, kind in ADDED_COLUMNS:
            if column not in conn.columns(table):
                conn.execute(
                    f"ALTER TABLE {table} ADD COLUMN {column} {kind.format(real=dialect.real)}"
                )


__all__ = [
    "CLASS_LOCK",
    "DATABASE_URL_ENV",
    "POSTGRES",
    "SQLITE",
    "Conn",
    "Dialect",
    "PostgresEngine",
    "SqliteEngine",
    "database_url",
    "ensure_schema",
]
