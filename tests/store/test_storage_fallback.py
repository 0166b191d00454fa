"""A runs folder that cannot be written: the training page says runs live in memory, and works."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_pages import (
    TRAINING_PAGE,
    open_page,
    poll_until,
    private_run_manager,
    run_heading,
)

# Small and fast: one epoch, the largest batch the page offers.
QUERY = {"train_epochs": "1", "train_batch_size": "512"}


@pytest.fixture
def unwritable_runs_dir(tmp_path: Path) -> Path:
    """A runs folder under a regular file: no mkdir can make it, not even root's."""
    blocker = tmp_path / "afile"
    blocker.write_text("a file, not a folder\n")
    runs_dir = blocker / "runs"
    with private_run_manager(runs_dir):  # the manager is process-wide: one for this folder
        yield runs_dir


def memory_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "memory" in w.value]


def test_unwritable_runs_folder_keeps_runs_in_memory_and_says_so(unwritable_runs_dir: Path):
    from ui.run_registry import get_manager

    at = open_page(TRAINING_PAGE, QUERY)
    assert not at.exception, [e.value for e in at.exception]
    notes = memory_warnings(at)
    assert len(notes) == 1, [w.value for w in at.warning]
    assert str(unwritable_runs_dir) in notes[0]  # the teacher learns which folder to fix
    assert notes[0].count("kept in memory") == 1, notes[0]  # said once, plainly
    assert get_manager().persistent is False

    at.button(key="train_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run_id = at.query_params["run"]
    poll_until(at, lambda a: any(end in run_heading(a) for end in ("finished", "failed")))
    assert "finished" in run_heading(at), run_heading(at)

    record = get_manager().store.get_run(run_id)
    assert record.status == "finished" and list(record.epochs["epoch"]) == [1]
    assert record.config.batch_size == 512 and record.config.epochs == 1
    assert len(record.batches) == 8  # ceil(4,000 bundled training digits / 512)
    assert not unwritable_runs_dir.exists()  # nothing was written anywhere else either

    # A refresh (a new session) still says so and lists the run from memory.
    again = open_page(TRAINING_PAGE)
    assert not again.exception and len(memory_warnings(again)) == 1
    assert run_id in set(again.dataframe[0].value["run"])
