"""A lecture hall in Chromium: two app servers (replicas) on one PostgreSQL run store.

A student on replica A starts a run; the same student's browser lands on replica B (behind a
load balancer both replicas share one origin, so one browser id: here B's origin is given A's),
another server process with its own run manager, opens the same run, sees it move and pauses
it; A's page shows the pause. Only the run's starter (or the teacher) may control it, and B
knows the starter from the shared store. Whichever replica claimed the run trains it: the other
reads it from the store each second.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from steplr_viz.store.runs import RunStore

from ..postgres import fresh_database
from .conftest import VIEWPORT
from .harness import assert_no_exception, lecture_hall, open_page, write_full_mnist_stand_in
from .test_training_browser import (
    PAGE,
    heading_shows,
    open_training,
    plotted_batches,
    press,
    start_run,
    wait_more_batches,
    watched_run,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
# Full MNIST's size (the stand-in): a run of minutes, so no step here races the run's end.
LONG = "train_epochs=30&train_batch_size=64&train_data_source=full"


@pytest.fixture
def hall(server_factory: Any) -> Iterator[tuple[Any, Any, str]]:
    """Two replicas of the app on one fresh PostgreSQL database: (a, b, its URL)."""
    url = fresh_database()
    with lecture_hall(server_factory, url) as (a, b):
        for server in (a, b):  # whichever replica claims the run trains it
            write_full_mnist_stand_in(server.data_dir)
        yield a, b, url


def test_a_run_started_on_one_replica_is_watched_and_paused_on_another(
    browser: Any, hall: tuple[Any, Any, str], page: Any
) -> None:
    a, b, url = hall
    open_training(page, a, LONG)
    run_id = start_run(page, [])
    # Held on A while B's page opens.
    press(page, "train_pause")
    heading_shows(page, "paused", run_id)

    # The student's browser id (ui.identity keeps it in localStorage), for B's origin too.
    browser_id = page.evaluate("() => localStorage.getItem('steplr-viz-browser-id')")
    assert browser_id
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(
        f"localStorage.setItem('steplr-viz-browser-id', {json.dumps(browser_id)})"
    )
    try:
        tab = context.new_page()
        open_page(tab, b.page_url(PAGE, f"run={run_id}"))
        assert watched_run(tab) == run_id
        heading_shows(tab, "paused", run_id)
        held = plotted_batches(tab)
        # B resumes it and sees it move, from the store, whichever replica trains it.
        press(tab, "train_pause")
        heading_shows(tab, "running", run_id)
        wait_more_batches(tab, held)
        # B pauses it; both students see it held.
        press(tab, "train_pause")
        heading_shows(tab, "paused", run_id)
        heading_shows(page, "paused", run_id)
        store = RunStore(database_url=url)
        try:
            assert store.get_run(run_id).status == "paused"
        finally:
            store.close()
        assert_no_exception(tab)
        assert_no_exception(page)
        with contextlib.suppress(Exception):  # the fixture stops it anyway
            press(page, "train_stop")
    finally:
        context.close()
