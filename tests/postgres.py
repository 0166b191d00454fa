"""A throwaway PostgreSQL server for tests marked `postgres`, and a fresh database per test.

The server is Debian's postgresql (initdb, pg_ctl), a cluster in a temporary folder listening on
a unix socket in that folder only (no TCP port to collide on); it starts once per test process
(each pytest-xdist worker has its own) and is removed at exit. initdb refuses root, so as root it
runs as the postgres user. Where PostgreSQL is not installed the tests skip with the reason; with
CI set (CI=true) that is a failure instead.

No test can reach another test's data or connections: each gets its own database, and when the
test ends that database is dropped with every connection to it (a trainer thread that outlived
its test then fails alone, in its own thread, instead of writing beside a later test). When a
postgres test fails, the server's log lines written during the test are added to its report
(this module is a pytest plugin: tests/conftest.py loads it).
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_SERVER: dict[str, str] = {}
_START_LOCK = threading.Lock()
_STOPS: list = []
# Databases made by fresh_database() during the running test: dropped when it ends.
_TEST_DATABASES: list[str] = []
LOG_OFFSET = pytest.StashKey[int]()
LOG_SECTION = "PostgreSQL server log (during this test)"
LOG_TAIL_LINES = 200
# The socket's name only (listen_addresses='' binds no TCP port); every cluster has its own
# folder, so two clusters, or a later one, can never answer for each other.
PORT = 5432


def in_ci() -> bool:
    """True when the CI environment variable says so (as tests/e2e/conftest.py reads it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _start() -> str:
    """Start this process's server; its admin URL."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="steplr-pg-"))
    data = folder / "data"
    log = folder / "log"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    # Log what explains a lost connection: who disconnected, and the pid and database of each
    # line. No idle or statement timeouts: nothing closes a connection a test still holds.
    options = (
        f"-p {PORT} -k {folder} -c listen_addresses='' -c fsync=off -c max_connections=300"
        " -c log_disconnections=on -c log_line_prefix='%m [%p] %d: '"
    )
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(log), "start"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    _SERVER["log"] = str(log)

    def stop() -> None:
        # Only once no test runs: "fast" ends every session cleanly and waits for the server.
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)

    _STOPS.append(stop)
    atexit.register(stop_server)  # a fallback: pytest_unconfigure stops it first
    return f"postgresql://postgres@/postgres?host={folder}&port={PORT}"


def server_url() -> str:
    """This process's server (started on first use): its admin database's URL."""
    with _START_LOCK:
        if "url" not in _SERVER:
            try:
                _SERVER["url"] = _start()
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                detail = getattr(exc, "stderr", b"") or b""
                reason = (
                    f"no PostgreSQL server for the tests: {exc} {detail.decode(errors='replace')}"
                )
                if in_ci():
                    pytest.fail(f"postgres tests cannot run in CI: {reason}", pytrace=False)
                pytest.skip(reason)
    return _SERVER["url"]


def stop_server() -> None:
    """Stop this process's server and remove its folder (once; at the end of the session)."""
    with _START_LOCK:
        while _STOPS:
            _STOPS.pop()()
        _SERVER.clear()


def server_log() -> Path | None:
    """The log file of this process's server, None until it started."""
    return Path(_SERVER["log"]) if "log" in _SERVER else None


def fresh_database() -> str:
    """A new empty database on this process's server, dropped when the test ends; its URL."""
    import psycopg

    admin = server_url()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    _TEST_DATABASES.append(name)
    return admin.replace("/postgres?", f"/{name}?", 1)


def drop_test_databases() -> None:
    """Drop the running test's databases, closing any connection still open to them."""
    if not _TEST_DATABASES:
        return
    import psycopg

    names = list(_TEST_DATABASES)
    _TEST_DATABASES.clear()
    with psycopg.connect(_SERVER["url"], autocommit=True) as conn:
        for name in names:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url() -> str:
    """A fresh PostgreSQL database for one test."""
    return fresh_database()


# --- the plugin: the server's log in a failed test's report, its databases dropped after it ---


def _log_size() -> int:
    log = server_log()
    try:
        return log.stat().st_size if log is not None else 0
    except OSError:
        return 0


def log_since(offset: int) -> str:
    """The server's log from byte `offset` on (its last LOG_TAIL_LINES lines)."""
    log = server_log()
    if log is None:
        return ""
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError as exc:
        return f"<cannot read {log}: {exc}>"
    lines = text.splitlines()
    cut = len(lines) - LOG_TAIL_LINES
    return "\n".join(
        ([f"... {cut} earlier lines in {log}"] if cut > 0 else []) + lines[-LOG_TAIL_LINES:]
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    # Here rather than at exit only: an xdist worker may end without running atexit handlers.
    stop_server()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[LOG_OFFSET] = _log_size()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield  # the test's fixtures (its servers, managers, stores) are torn down first
    drop_test_databases()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and item.get_closest_marker("postgres") and server_log() is not None:
        text = log_since(item.stash.get(LOG_OFFSET, 0)) or "<nothing logged during the test>"
        report.sections.append((LOG_SECTION, f"{server_log()}:\n{text}"))
