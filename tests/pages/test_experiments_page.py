"""AppTest of the training page's experiment sections: scheduler choice, an experiment from
submit to finished, its table and commentary, predict-reveal-score, and junk experiment links."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from steplr_viz.classroom import experiments, presets
from steplr_viz.classroom.commentary import commentary, lesson_shown, pair_comparisons
from steplr_viz.config import SCHEDULERS, TrainConfig
from steplr_viz.schedules.choices import PLATEAU_NOTE
from steplr_viz.training import run_plan
from tests import apptest_pages
from tests.apptest_pages import TRAINING_PAGE, poll_until

# The training page's own helpers, its fresh run manager (an autouse fixture) included.
from tests.pages.test_training_page import chart, isolated_manager, manager  # noqa: F401
from tests.plotly_data import expand_staircase, trace_array
from ui import experiments as experiments_ui

SMALL = {"train_epochs": "2", "train_batch_size": "512"}  # quick runs: 8 batches an epoch


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = apptest_pages.open_page(TRAINING_PAGE, query)
    assert not at.exception, [e.value for e in at.exception]
    return at


def keys(elements) -> set[str]:
    return {e.key for e in elements}


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_each_scheduler_shows_its_predicted_curve_before_start(scheduler):
    at = open_page({**SMALL, "train_scheduler": scheduler})
    config = TrainConfig(scheduler=scheduler, epochs=2, batch_size=512).validated()
    bpe = run_plan.config_batches_per_epoch(config)
    predicted = chart(at, "train_predicted")[run_plan.predicted_label(config)]
    _, shown = expand_staircase(trace_array(predicted["x"]), trace_array(predicted["y"]))
    # The page draws torch's own curve for this scheduler, batch by batch.
    assert shown.tolist() == run_plan.predicted_lrs(config, bpe).tolist()
    # Its extra setting is drawn for it alone; plateau says what no curve can show.
    extra = {"multistep": "train_milestones", "warmup_steplr": "train_warmup_epochs"}
    extra["plateau"] = "train_patience"
    drawn = keys(at.sidebar.slider) | keys(at.sidebar.text_input)
    for name, key in extra.items():
        assert (key in drawn) == (name == scheduler), key
    captions = " ".join(c.value for c in at.caption)
    assert (PLATEAU_NOTE in captions) == (scheduler == "plateau")
    assert ("train_scheduler_step" in keys(at.sidebar.radio)) == (scheduler != "plateau")


def test_milestones_from_the_link_move_the_predicted_decay():
    at = open_page({"train_scheduler": "multistep", "train_milestones": "1, 3"})
    assert at.text_input(key="train_milestones").value == "1, 3"
    caption = next(c.value for c in at.caption if "MultiStepLR: LR" in c.value)
    assert "Epoch 2 (t = 1): 0.0001" in caption and "Epoch 4 (t = 3): 1e-05" in caption


def test_the_default_experiment_is_the_seeds_preset_and_your_own_design_is_one_click_away():
    at = open_page()
    assert at.radio(key="exp_preset").options == [
        "The seed's setup", "A large LR", "Design your own",
    ]  # fmt: skip
    assert at.radio(key="exp_preset").value == "seed"
    assert at.radio(key="exp_prediction").options == ["gamma=0.1", "gamma=0.5", "gamma=1"]
    text = " ".join(m.value for m in at.markdown)
    assert "**The seed's setup.** The seed's settings: Adam, lr 0.001" in text
    assert "each over the same 5 seeds" in text
    assert not any(r.key == "exp_vary" for r in at.radio)
    at.radio(key="exp_preset").set_value("design").run()
    assert at.radio(key="exp_vary").value == "gamma"
    assert at.multiselect(key="exp_values_gamma").value == [0.1, 0.5, 1.0]
    assert at.slider(key="exp_seeds").value == 3
    assert at.radio(key="exp_prediction").options == ["gamma=0.1", "gamma=0.5", "gamma=1"]


def _winner_shown(at: AppTest) -> bool:
    shown = [*at.success, *at.warning, *at.info]
    return any(e.value.startswith("Highest mean final test accuracy:") for e in shown)


def test_an_experiment_runs_to_the_end_with_the_engines_table_commentary_and_score():
    at = open_page(SMALL)
    at.radio(key="exp_preset").set_value("design").run()
    at.slider(key="exp_seeds").set_value(2).run()
    at.radio(key="exp_prediction").set_value("gamma=1").run()
    at.button(key="exp_start").click().run()
    exp_id = at.query_params["exp"]
    exp_id = exp_id[0] if isinstance(exp_id, list) else exp_id
    run_ids = experiments.experiment_run_ids(manager().store, exp_id)
    assert len(run_ids) == 6  # 3 arms × 2 seeds
    # Started as this browser's runs, so this student may pause, stop or delete them.
    starters = {manager().store.started_by(rid) for rid in run_ids}
    assert len(starters) == 1 and None not in starters
    assert at.button(key="exp_start").disabled  # live: no second submit
    poll_until(at, _winner_shown)
    assert not at.button(key="exp_start").disabled

    points = experiments.points_from_store(manager().store, exp_id)
    table = experiments.results_table(points)
    shown = next(d.value for d in at.dataframe if "final acc. mean (%)" in d.value.columns)
    pd.testing.assert_frame_equal(
        shown.reset_index(drop=True), experiments_ui.results_frame(table), check_dtype=False
    )
    assert (table["epochs"] == 2).all() and (table["seeds"] == 2).all()
    bullets = next(m.value for m in at.markdown if m.value.startswith("- "))
    assert bullets == "\n".join(f"- {line}" for line in commentary(points))
    # One dot per seed and pair of arms: the paired differences the verdicts read.
    paired = json.loads(next(c for c in at.get("plotly_chart") if "exp_paired_chart" in
                             c.proto.id).proto.spec)["data"]  # fmt: skip
    dots = [t for t in paired if t["name"] == "one seed"]
    comparisons = pair_comparisons(points)
    assert len(dots) == len(comparisons) == 3
    for trace, c in zip(dots, comparisons, strict=True):
        assert trace_array(trace["x"]).tolist() == pytest.approx(list(c.differences))

    won = experiments.winners(table)
    right = "gamma=1" in won
    score = next(m for m in at.metric if m.label == "Predictions right this session")
    assert score.value == f"{int(right)} / 1"
    at.run()  # a rerun reveals again, never scores twice
    score = next(m for m in at.metric if m.label == "Predictions right this session")
    assert score.value == f"{int(right)} / 1"

    # Bands: each arm's mean line is the engine's mean over seeds.
    band = experiments.bands(points)
    acc = chart(at, "exp_acc_chart")
    for arm, g in band.groupby("arm", observed=True):
        assert np.allclose(trace_array(acc[str(arm)]["y"]), g["test_acc_mean"].to_numpy())
    lr = chart(at, "exp_lr_chart")
    assert set(lr) == {"gamma=0.1", "gamma=0.5", "gamma=1"}

    # A second tab with the link shows the same finished experiment, with no prediction made.
    other = open_page({**SMALL, "exp": exp_id})
    assert any("no prediction" in i.value for i in other.info)


def test_a_preset_starts_with_one_click_and_its_lesson_shows_when_the_runs_show_it(monkeypatch):
    # The large-LR preset, made cheap (2 seeds, 2 epochs, big batches): the page takes its
    # settings from the preset, not from the sidebar.
    real = presets.preset("large-lr")
    cheap = dataclasses.replace(
        real,
        base=dataclasses.replace(real.base, epochs=2, step_size=1, batch_size=512),
        seeds=2,
    )
    monkeypatch.setattr(presets, "PRESETS", (presets.preset("seed"), cheap))
    at = open_page({"train_epochs": "3"})
    at.radio(key="exp_preset").set_value("large-lr").run()
    assert "each over the same 2 seeds" in " ".join(m.value for m in at.markdown)
    at.button(key="exp_start").click().run()
    exp_id = at.query_params["exp"]
    exp_id = exp_id[0] if isinstance(exp_id, list) else exp_id
    poll_until(at, _winner_shown)
    store = manager().store
    configs = [store.get_run(r).config for r in experiments.experiment_run_ids(store, exp_id)]
    assert presets.preset_of(configs) == cheap
    assert {(c.optimizer, c.lr, c.epochs) for c in configs} == {("sgd", 0.5, 2)}
    points = experiments.points_from_store(store, exp_id)
    bullets = next(m.value for m in at.markdown if m.value.startswith("- "))
    assert bullets == "\n".join(f"- {line}" for line in commentary(points, preset=cheap))
    assert (cheap.lesson in bullets) == lesson_shown(cheap, points)


def test_a_junk_experiment_link_warns_and_an_unknown_one_says_so():
    at = open_page({"exp": "not-an-id"})
    assert any("`exp`" in w.value for w in at.warning)
    assert "exp" not in at.query_params
    at = open_page({"exp": "0123456789ab"})
    assert any("no longer exists" in i.value for i in at.info)


def test_a_full_class_is_a_plain_message(monkeypatch):
    from steplr_viz.store.registry import ClassFullError

    def full(manager, experiment, started_by=None):
        raise ClassFullError("The class is full: 2 runs are training and 0 waiting.")

    monkeypatch.setattr(experiments, "submit_experiment", full)
    at = open_page(SMALL)
    at.button(key="exp_start").click().run()
    assert any("The class is full" in e.value for e in at.error)
    assert "exp" not in at.query_params
