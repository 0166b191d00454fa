"""A runs folder that cannot be written: the training page says runs live in memory, and works."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = "../pages/1_Live_training.py"
DEADLINE_S = 240  # a 1-epoch bundled run takes seconds; the bound only stops a hung test
# Small and fast: one epoch, the largest batch the page offers.
QUERY = {"train_epochs": "1", "train_batch_size": "512"}


@pytest.fixture
def unwritable_runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runs folder under a regular file: no mkdir can make it, not even root's."""
    blocker = tmp_path / "afile"
    blocker.write_text("a file, not a folder\n")
    runs_dir = blocker / "runs"
    monkeypatch.setenv("STEPLR_VIZ_RUNS_DIR", str(runs_dir))
    from ui.runs import get_manager

    get_manager.clear()  # the manager is process-wide: make one that reads this folder
    yield runs_dir
    get_manager().shutdown()
    get_manager.clear()


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run(timeout=120)


def heading(at: AppTest) -> str:
    return next((m.value for m in at.markdown if m.value.startswith("####")), "")


def memory_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "memory" in w.value]


def test_unwritable_runs_folder_keeps_runs_in_memory_and_says_so(unwritable_runs_dir: Path):
    from ui.runs import get_manager

    at = open_page(QUERY)
    assert not at.exception, [e.value for e in at.exception]
    notes = memory_warnings(at)
    assert len(notes) == 1, [w.value for w in at.warning]
    assert str(unwritable_runs_dir) in notes[0]  # the teacher learns which folder to fix
    assert notes[0].count("kept in memory") == 1, notes[0]  # said once, plainly
    assert get_manager().persistent is False

    at.button(key="train_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run_id = at.query_params["run"]
    deadline = time.monotonic() + DEADLINE_S
    while "finished" not in heading(at):
        assert "failed" not in heading(at) and not at.exception, heading(at)
        assert time.monotonic() < deadline, f"gave up waiting; page shows {heading(at)!r}"
        time.sleep(0.2)
        at.run()  # AppTest runs the page's fragment inline: this is the page's poll

    record = get_manager().store.get_run(run_id)
    assert record.status == "finished" and list(record.epochs["epoch"]) == [1]
    assert record.config.batch_size == 512 and record.config.epochs == 1
    assert len(record.batches) == 8  # ceil(4,000 bundled training digits / 512)
    assert not unwritable_runs_dir.exists()  # nothing was written anywhere else either

    # A refresh (a new session) still says so and lists the run from memory.
    again = open_page()
    assert not again.exception and len(memory_warnings(again)) == 1
    assert run_id in set(again.dataframe[0].value["run"])
