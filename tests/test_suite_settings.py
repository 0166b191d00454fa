"""The suite's own safety nets: hypothesis fails fast and a stuck test is really stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import Phase, settings

REPO = Path(__file__).resolve().parents[1]

HANGING_TEST = """
import time
from hypothesis import given, strategies as st

@given(st.lists(st.integers(), min_size=1))
def test_hangs(values):
    time.sleep(10_000)
"""


def test_hypothesis_profile_skips_explain_and_shrink():
    phases = settings.default.phases
    assert Phase.explain not in phases and Phase.shrink not in phases
    assert Phase.generate in phases


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_a_stuck_hypothesis_test_is_stopped(tmp_path: Path):
    # Without the repeating alarm, hypothesis catches pytest-timeout's failure and replays the
    # example: this test would sleep 10,000 s. With it, the run ends after timeout + grace.
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_hang.py").write_text(HANGING_TEST)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--timeout",
            "2",
            "test_hang.py",
        ],
        cwd=tmp_path,
        # PYTHONPATH: the conftest loads the repository's tests.postgres plugin.
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "STEPLR_TIMEOUT_GRACE_SECONDS": "2"},
        capture_output=True,
        text=True,
        timeout=240,  # a hang guard: the behaviour under test is "stops", 10,000 s otherwise
    )
    assert done.returncode != 0
    assert "Timeout" in done.stdout + done.stderr


POSTGRES_TESTS = """
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.postgres import pg_url, server_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.postgres
NAMES = []


def test_1_fails_after_the_server_logged(pg_url):
    NAMES.append(conninfo_to_dict(pg_url)["dbname"])
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN RAISE WARNING 'marker-7f3a in the failing test'; END $$")
    assert False, "fails on purpose"


def test_2_passes_and_its_log_stays_out(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN RAISE WARNING 'marker-c41d in the passing test'; END $$")
    # The first test's database was dropped when that test ended.
    with psycopg.connect(server_url(), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", NAMES).fetchall()
    assert NAMES and found == []
"""


@pytest.mark.postgres  # it starts a PostgreSQL server
def test_a_failing_postgres_test_reports_the_servers_log(tmp_path: Path):
    from tests.postgres import LOG_SECTION, _bin_dir

    if _bin_dir() is None:
        pytest.skip("PostgreSQL is not installed")  # tests/postgres.py fails in CI instead
    (tmp_path / "test_pg.py").write_text(POSTGRES_TESTS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.postgres", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-o", "markers=postgres", "--rootdir", str(tmp_path), "test_pg.py"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "1 failed, 1 passed" in out, out
    assert LOG_SECTION in out and "marker-7f3a in the failing test" in out, out
    assert "marker-c41d" not in out, out  # only a failing test's lines are printed


class _Locator:
    """A stand-in locator whose element a poll's redraw replaces `detached` times first."""

    def __init__(self, detached: int, error: str = "Element is not attached to the DOM"):
        self.detached, self.error, self.calls = detached, error, 0

    def scroll_into_view_if_needed(self) -> None:
        from playwright.sync_api import Error

        self.calls += 1
        if self.calls <= self.detached:
            raise Error(f"Locator.scroll_into_view_if_needed: {self.error}")


def test_scrolling_to_an_element_a_poll_replaced_tries_again_and_other_errors_pass():
    from tests.e2e.harness import scroll_into_view

    replaced = _Locator(detached=2)
    scroll_into_view(replaced)
    assert replaced.calls == 3
    from playwright.sync_api import Error

    with pytest.raises(Error, match="not attached"):
        scroll_into_view(_Locator(detached=9), tries=3)  # bounded: a gone element still fails
    timeout = _Locator(detached=1, error="Timeout 30000ms exceeded")
    with pytest.raises(Error, match="Timeout"):
        scroll_into_view(timeout)
    assert timeout.calls == 1  # only a replaced element is tried again
