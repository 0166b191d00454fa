"""The suite's own safety nets: hypothesis fails fast and a stuck test is really stopped."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from hypothesis import Phase, settings

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
        env={"PATH": "/usr/bin:/bin", "STEPLR_TIMEOUT_GRACE_SECONDS": "2"},
        capture_output=True,
        text=True,
        timeout=240,  # a hang guard: the behaviour under test is "stops", 10,000 s otherwise
    )
    assert done.returncode != 0
    assert "Timeout" in done.stdout + done.stderr
