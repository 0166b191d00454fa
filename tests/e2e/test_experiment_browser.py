"""The default experiment in Chromium: predict, run γ = 0.1 / 0.5 / 1 over three seeds, read
the bands, the table and the winner, and find it again after a reload.

Waits are on what the page shows (the winner's line, the charts' traces), never on time.
The screenshot goes to the test artifacts; with STEPLR_VIZ_UPDATE_DOCS=1 it replaces the
README's docs/screenshot-experiment.png (a test run leaves the checkout as it was).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from steplr_viz.classroom import experiments
from steplr_viz.store.runs import RunStore

from .harness import (
    assert_no_exception,
    open_page,
    plot_traces,
    save_screenshot,
    wait_app_idle,
    wait_rendered,
)
from .test_present_browser import DOCS  # docs/ with STEPLR_VIZ_UPDATE_DOCS=1, else artifacts

pytestmark = pytest.mark.e2e

ARMS = ["gamma=0.1", "gamma=0.5", "gamma=1"]
DEADLINE_MS = 240_000  # 9 runs of the seed's 5 epochs take seconds; this only stops a hang
SHOT = {"width": 1400, "height": 1750}  # the charts, the table, the commentary


def winner_line(page: Any) -> Any:
    """The reveal (success, warning or info) that names the winner once every run has ended."""
    return page.locator('[data-testid="stAlertContainer"]', has_text="Winner:")


def experiment_id(page: Any) -> str:
    return parse_qs(urlsplit(page.url).query)["exp"][0]


def test_the_default_experiment_runs_live_and_reveals_the_winner(app_server: Any, page: Any):
    open_page(page, app_server.page_url("Live_training"))
    assert_no_exception(page)
    page.locator(".st-key-exp_prediction").get_by_text("gamma=1", exact=True).click()
    wait_app_idle(page)
    page.locator(".st-key-exp_start button").click()
    # The link names the experiment as soon as it is submitted; the page then follows it live.
    page.wait_for_url(lambda url: "exp=" in url)
    winner_line(page).wait_for(timeout=DEADLINE_MS)
    wait_app_idle(page)
    wait_rendered(page)
    assert_no_exception(page)

    exp_id = experiment_id(page)
    store = RunStore(app_server.runs_dir)
    points = experiments.points_from_store(store, exp_id)
    table = experiments.results_table(points)
    assert list(table["arm"]) == ARMS and (table["seeds"] == 3).all()
    won = experiments.winners(table)
    text = winner_line(page).inner_text()
    assert f"Winner: {' and '.join(won)}." in text
    assert ("right" in text) == ("gamma=1" in won)

    # Every arm is drawn as a mean line (its seeds' band behind it), and its LR per batch.
    acc_names = {t["name"] for t in plot_traces(page, "exp_acc_chart")}
    assert set(ARMS) <= acc_names
    assert {t["name"] for t in plot_traces(page, "exp_lr_chart")} == set(ARMS)

    # The picture: the experiment section, from its heading down.
    page.set_viewport_size(SHOT)
    page.locator(
        '[data-testid="stHeading"]', has_text="Does StepLR help?"
    ).scroll_into_view_if_needed()
    save_screenshot(page, DOCS, "screenshot-experiment", full_page=False)

    # A reload (a new session) shows the same finished experiment from the link.
    page.reload(wait_until="domcontentloaded")
    winner_line(page).wait_for(timeout=60_000)
    assert "no prediction" in winner_line(page).inner_text()
    assert_no_exception(page)
