"""Both presets in Chromium: predict, run γ = 0.1 / 0.5 / 1 over five seeds, read the paired
verdicts the page shows against the engine's, and find the experiment again after a reload.

The seed's setup (a constant LR wins) and a large LR (γ = 0.1 wins on every seed): the two sides
of "does StepLR help?". Waits are on what the page shows (the reveal, the charts' traces), never
on time. The screenshots go to the test artifacts; with STEPLR_VIZ_UPDATE_DOCS=1 they replace
the README's docs/screenshot-experiment.png and docs/screenshot-experiment-large-lr.png (a test
run leaves the checkout as it was).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from steplr_viz.classroom import experiments, presets
from steplr_viz.classroom.commentary import commentary, pair_comparisons
from steplr_viz.store.runs import RunStore

from .harness import (
    assert_no_exception,
    open_page,
    plot_traces,
    save_screenshot,
    scroll_into_view,
    wait_app_idle,
    wait_rendered,
)
from .test_present_browser import DOCS  # docs/ with STEPLR_VIZ_UPDATE_DOCS=1, else artifacts

pytestmark = pytest.mark.e2e

ARMS = ["gamma=0.1", "gamma=0.5", "gamma=1"]
DEADLINE_MS = 420_000  # 15 runs of 5 or 6 epochs take a minute or two; this only stops a hang
SHOT = {"width": 1400, "height": 2300}  # the charts, the table, the paired dots, the commentary
SHOTS = {"seed": "screenshot-experiment", "large-lr": "screenshot-experiment-large-lr"}


def reveal(page: Any, predicted: str) -> Any:
    """The reveal (success or warning) that names the first arm once every run has ended."""
    return page.locator('[data-testid="stAlertContainer"]', has_text=f"You predicted {predicted}:")


def experiment_id(page: Any) -> str:
    return parse_qs(urlsplit(page.url).query)["exp"][0]


def bullets(page: Any) -> list[str]:
    """The commentary's lines as the page shows them (its list items)."""
    items = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"] li')
    return [t.strip() for t in items.all_inner_texts()]


def run_preset(page: Any, server: Any, preset: presets.Preset, previous: str | None) -> list[str]:
    """Choose the preset, predict its expected arm, start it, and wait for the reveal."""
    page.locator(".st-key-exp_preset").get_by_text(preset.title, exact=True).click()
    wait_app_idle(page)
    page.locator(".st-key-exp_prediction").get_by_text(preset.expected, exact=True).click()
    wait_app_idle(page)
    page.locator(".st-key-exp_start button").click()
    # The link names the experiment as soon as it is submitted; the page then follows it live.
    page.wait_for_url(lambda url: "exp=" in url and (previous is None or previous not in url))
    reveal(page, preset.expected).wait_for(timeout=DEADLINE_MS)
    wait_app_idle(page)
    wait_rendered(page)
    assert_no_exception(page)

    exp_id = experiment_id(page)
    store = RunStore(server.runs_dir)
    points = experiments.points_from_store(store, exp_id)
    configs = [store.get_run(r).config for r in experiments.experiment_run_ids(store, exp_id)]
    assert presets.preset_of(configs) == preset
    table = experiments.results_table(points)
    assert list(table["arm"]) == ARMS and (table["seeds"] == preset.seeds).all()
    assert experiments.winners(table) == [preset.expected]
    text = reveal(page, preset.expected).inner_text()
    assert f"Highest mean final test accuracy: {preset.expected}." in text
    assert "its lead over every other arm is beyond the noise" in text and "right" in text

    # The verdicts on the page are the engine's, word for word: one paired line per pair.
    shown = bullets(page)
    expected = commentary(points, preset=preset)
    for line in expected:
        assert line.replace("**", "") in shown, line
    paired = [line for line in shown if ", paired by seed: " in line]
    assert len(paired) == 3
    for c in pair_comparisons(points):
        if c.a == preset.expected:
            assert c.winner == c.a and c.a_better == c.n == preset.seeds
    assert f"{preset.name}. {preset.lesson}" in shown and presets.TOGETHER in shown

    # Every arm is drawn as a mean line (its seeds' band behind it), its LR per batch, and the
    # per-seed differences as one dot per seed and pair.
    assert set(ARMS) <= {t["name"] for t in plot_traces(page, "exp_acc_chart")}
    assert {t["name"] for t in plot_traces(page, "exp_lr_chart")} == set(ARMS)
    dots = [t for t in plot_traces(page, "exp_paired_chart") if t["name"] == "one seed"]
    assert [len(t["x"]) for t in dots] == [preset.seeds] * 3

    # The picture: the experiment section, from its heading down.
    page.set_viewport_size(SHOT)
    scroll_into_view(page.locator('[data-testid="stHeading"]', has_text="Does StepLR help?"))
    save_screenshot(page, DOCS, SHOTS[preset.id], full_page=False)
    return shown


def test_both_presets_run_live_and_the_page_reads_their_paired_verdicts(app_server: Any, page: Any):
    open_page(page, app_server.page_url("Live_training"))
    assert_no_exception(page)
    seed, large = presets.preset("seed"), presets.preset("large-lr")
    run_preset(page, app_server, seed, None)
    first = experiment_id(page)
    run_preset(page, app_server, large, first)

    # A reload (a new session) shows the same finished experiment from the link.
    page.reload(wait_until="domcontentloaded")
    page.locator('[data-testid="stAlertContainer"]', has_text="no prediction").wait_for(
        timeout=60_000
    )
    assert_no_exception(page)
