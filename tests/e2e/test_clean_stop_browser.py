"""A clean stop of `streamlit run app.py`: Ctrl-C or SIGTERM while a run trains marks the run
interrupted with its batches kept, and the server exits 0 without an abort message."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from steplr_viz.store.runs import RunStore
from steplr_viz.training.metrics import INTERRUPTED
from steplr_viz.training.trainer import EXIT_MESSAGE

from .test_training_browser import LONG_QUERY, open_training, start_run, stored, wait_until

pytestmark = pytest.mark.e2e

ABORT_TEXT = ("terminate called", "Aborted", "core dumped", "Fatal Python error", "Traceback")
EXIT_TIMEOUT_S = 60.0  # the trainer stops within a batch; this only bounds a hung server


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_stopping_the_server_marks_its_training_run_interrupted(
    server_factory: Any, page: Any, sig: int
) -> None:
    server = server_factory("app.py")  # its own: this test stops it
    open_training(page, server, LONG_QUERY)
    run_id = start_run(page, [])
    seen = wait_until(lambda: len(stored(server, run_id).batches), "batches in the store")
    # As a terminal's Ctrl-C does, the signal goes to the server's whole process group.
    os.killpg(server.proc.pid, sig)
    code = server.proc.wait(timeout=EXIT_TIMEOUT_S)
    output = server.output()
    assert code == 0, output
    assert not any(text in output for text in ABORT_TEXT), output

    store = RunStore(server.runs_dir)
    assert store.interrupted_at_open == []  # the server marked it; nothing left to clean up
    record = store.get_run(run_id)
    assert record.status == INTERRUPTED and record.error == EXIT_MESSAGE, record.error
    assert len(record.batches) >= seen and record.finished is not None
