"""A throwaway PostgreSQL server for tests marked `postgres`, and a fresh database per test.

The server is Debian's postgresql (initdb, pg_ctl), a cluster in a temporary folder listening on
a free port and on a unix socket in that folder; it starts once per test session and is removed
at exit. initdb refuses root, so as root it runs as the postgres user. Where PostgreSQL is not
installed the tests skip with the reason; with CI set (CI=true) that is a failure instead.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

_SERVER: dict[str, str] = {}


def in_ci() -> bool:
    """True when the CI environment variable says so (as tests/e2e/conftest.py reads it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _start() -> str:
    """Start the session's server; its admin URL."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="steplr-pg-"))
    data = folder / "data"
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
    port = _free_port()
    options = f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-l",
                str(folder / "log"),
                "start",
            ]  # fmt: skip
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )

    def stop() -> None:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql://postgres@/postgres?host={folder}&port={port}"


def server_url() -> str:
    """The session's server (started on first use): its admin database's URL."""
    if "url" not in _SERVER:
        try:
            _SERVER["url"] = _start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            reason = f"no PostgreSQL server for the tests: {exc} {detail.decode(errors='replace')}"
            if in_ci():
                pytest.fail(f"postgres tests cannot run in CI: {reason}", pytrace=False)
            pytest.skip(reason)
    return _SERVER["url"]


def fresh_database() -> str:
    """A new empty database on the session's server; its URL."""
    import psycopg

    admin = server_url()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture
def pg_url() -> str:
    """A fresh PostgreSQL database for one test."""
    return fresh_database()
