"""AppTest helpers the page tests share: open a page, read and poll a run, own a run manager."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
TRAINING_PAGE = REPO / "pages" / "1_Live_training.py"
DEADLINE_S = 240  # a 1-epoch bundled run takes seconds; the bound only stops a hung test


def open_page(
    path: Path, query: dict[str, str] | None = None, *, browser: str | None = None
) -> AppTest:
    """A page run once, as a browser opening it with this query string would.

    `browser` is the id that browser keeps in localStorage (ui/identity.py): two sessions with
    the same one are two tabs of one student. AppTest runs no JavaScript, so it is set here.
    """
    at = AppTest.from_file(str(path), default_timeout=60)
    if browser is not None:
        at.session_state["_browser_secret"] = browser
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run(timeout=120)  # the first run of a session imports torch


def run_heading(at: AppTest) -> str:
    """The watched run's heading on the training page ('## … running · … · run `id`'), or ''."""
    return next(
        (m.value for m in at.markdown if m.value.startswith("## ") and " · run `" in m.value), ""
    )


def poll_until(at: AppTest, done: Callable[[AppTest], bool]) -> AppTest:
    """Rerun the page (as the fragment's timer would) until done(at) holds or the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while not done(at):
        assert not at.exception, [e.value for e in at.exception]
        assert time.monotonic() < deadline, f"gave up waiting; page shows {run_heading(at)!r}"
        time.sleep(0.2)
        at.run()  # AppTest runs the page's fragment inline: this is the page's poll
    return at


def wait_until(done: Callable[[], bool], what: str) -> None:
    """Wait (bounded) until done() holds, e.g. a run's final status is in the store."""
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def select_rows(at: AppTest, rows: Iterable[int], table: int = 0) -> AppTest:
    """Select these row positions in a dataframe, as a student's clicks would, and rerun."""
    element = at.dataframe[table]
    states = WidgetStates()
    # Every other widget keeps its value (what AppTest.run sends), plus the table's selection.
    states.widgets.extend(at._tree.get_widget_states().widgets)
    selection = states.widgets.add()
    selection.id = element.proto.id
    selection.string_value = json.dumps({"selection": {"rows": list(rows), "columns": []}})
    return at._run(states)


@contextmanager
def private_run_manager(runs_dir: Path) -> Iterator[None]:
    """The pages' process-wide run manager made afresh over runs_dir, and shut down after."""
    from ui.run_registry import get_manager

    mp = pytest.MonkeyPatch()
    mp.setenv("STEPLR_VIZ_RUNS_DIR", str(runs_dir))
    get_manager.clear()
    try:
        yield
    finally:
        get_manager().shutdown()
        get_manager.clear()
        mp.undo()
