"""AppTest of the live training page: start, poll, stop, refresh, the runs table, junk links."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from steplr_viz.classroom import permissions
from steplr_viz.config import TrainConfig
from steplr_viz.figures import training as figs
from steplr_viz.figures.cache import RUN_CHARTS, RUN_PICTURES
from steplr_viz.schedules import steplr as schedule
from steplr_viz.store.registry import KEEP_FINAL_SNAPSHOTS
from steplr_viz.store.run_view import POLL_SECONDS, run_label
from steplr_viz.training.data import load_mnist
from steplr_viz.training.metrics import TERMINAL_STATUSES, EpochPoint
from steplr_viz.training.seed_script import SEED_OUTPUT
from tests import apptest_pages
from tests.apptest_pages import (
    TRAINING_PAGE,
    poll_until,
    private_run_manager,
    run_heading,
    select_rows,
    wait_until,
)
from tests.plotly_data import chart_traces, expand_staircase, trace_array
from ui import clicks, code_blocks, link_pins, training

TRAIN_LOSS = "Train loss (this epoch)"  # the metric row's loss: a mean, not one batch


@pytest.fixture(autouse=True, scope="module")
def isolated_manager(tmp_path_factory):
    """A fresh process-wide manager whose store lives in a temporary folder."""
    with private_run_manager(tmp_path_factory.mktemp("runs")):
        yield


def manager():
    from ui.run_registry import get_manager

    return get_manager()


# The student these tests act as: every session is a tab of this one browser unless it says.
STUDENT = "browser-of-student-a"


def open_page(query: dict[str, str] | None = None, browser: str = STUDENT) -> AppTest:
    return apptest_pages.open_page(TRAINING_PAGE, query, browser=browser)


def chart(at: AppTest, key: str) -> dict[str, dict]:
    """Traces of the Plotly chart with this widget key."""
    charts = at.get("plotly_chart")
    index = next(i for i, c in enumerate(charts) if c.proto.id.endswith(key) or key in c.proto.id)
    return chart_traces(at, index)


def chart_keys(at: AppTest) -> list[str]:
    """The element ids of the Plotly charts on the page (they hold the widget keys)."""
    return [c.proto.id for c in at.get("plotly_chart")]


def button_keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button}


def epoch_log(at: AppTest) -> str:
    """The epoch log the page shows (plain text in the code font, not a code block)."""
    logs = [t.value for t in at.text if t.value.startswith(("Epoch ", "Waiting for the first"))]
    assert len(logs) == 1, logs
    assert not at.code  # no code block: the reload would load the syntax highlighter
    return logs[0]


def metrics(at: AppTest) -> dict[str, object]:
    return {m.label: m for m in at.metric}


def run_to_end(**settings) -> str:
    """Submit a small bundled run straight to the manager; its id once its end is stored."""
    run_id = manager().submit(
        TrainConfig(batch_size=512, **settings), started_by=permissions.starter_id(STUDENT)
    )
    wait_until(lambda: manager().store.get_run(run_id).status in TERMINAL_STATUSES, run_id)
    return run_id


def select_runs(at: AppTest, run_ids: list[str]) -> AppTest:
    """Select these runs in the runs table (found by id in the rows shown), and rerun."""
    shown = list(at.dataframe[0].value["run"])
    return select_rows(at, [shown.index(run_id) for run_id in run_ids])


@pytest.fixture(scope="module")
def two_runs() -> list[str]:
    """Two finished 2-epoch runs that differ in lr, gamma and step_size (16 batches each)."""
    return [
        run_to_end(epochs=2, lr=0.001, gamma=0.5, step_size=1),
        run_to_end(epochs=2, lr=0.01, gamma=0.1, step_size=2),
    ]


def test_defaults_render_with_the_predicted_schedule():
    at = open_page()
    assert not at.exception
    assert at.button(key="train_start").proto.disabled is False
    traces = chart(at, "train_predicted")
    corners = traces["predicted η₀·γ^⌊t/s⌋"]
    assert corners["line"]["shape"] == "hv"
    steps, predicted = expand_staircase(trace_array(corners["x"]), trace_array(corners["y"]))
    # The seed's settings on the bundled 4,000 training digits: 63 batches per epoch. The
    # staircase is sent as its corners: the first step, the two decays and the last step.
    expected = schedule.lr_per_step(0.001, 0.1, 2, 5, 63)
    assert trace_array(corners["x"]).tolist() == [1, 127, 253, 315]
    np.testing.assert_array_equal(steps, np.arange(1, len(expected) + 1))
    np.testing.assert_array_equal(predicted, expected)
    assert any("63 batches per epoch" in c.value for c in at.caption)
    # The choices start at the seed's settings, as TrainConfig has them.
    defaults = TrainConfig()
    assert at.radio(key="train_optimizer").value == defaults.optimizer
    assert at.radio(key="train_scheduler_step").value == defaults.scheduler_step
    assert at.radio(key="train_data_source").value == defaults.data_source


def test_the_predicted_lrs_say_which_t_each_epoch_is():
    """The seed counts epochs from 1, the formula from 0: the caption pairs them."""
    at = open_page()
    caption = next(c.value for c in at.caption if "batches per epoch" in c.value)
    assert "Epoch 1 (t = 0): 0.001, Epoch 2 (t = 1): 0.001, Epoch 3 (t = 2): 0.0001" in caption


@pytest.mark.parametrize(
    ("cap", "shown"),
    [(1, "Up to 1 run trains at once on this server"), (2, "Up to 2 runs train at once")],
)
def test_the_trainer_cap_reads_right_for_one_and_for_many(cap, shown, monkeypatch):
    monkeypatch.setattr(manager(), "max_concurrent", cap)
    at = open_page()
    assert not at.exception
    assert any(shown in c.value for c in at.caption), [c.value for c in at.caption]


def test_the_cap_of_a_lecture_hall_is_the_halls(monkeypatch):
    monkeypatch.setattr(manager(), "shared", True)
    at = open_page()
    assert not at.exception
    shown = [c.value for c in at.caption]
    assert any("at once across this lecture hall's servers" in c for c in shown), shown


def test_a_one_epoch_run_shows_its_own_metrics_and_the_predicted_lr():
    at = open_page()
    at.slider(key="train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    assert not at.exception
    run_id = at.query_params["run"]
    assert isinstance(run_id, str) and len(run_id) == 12
    poll_until(at, lambda a: "finished" in run_heading(a))
    assert not at.exception and not at.error

    record = manager().store.get_run(run_id)
    assert record.status == "finished" and len(record.epochs) == 1
    final = manager().final_snapshot(run_id)
    assert at.progress[0].text == (
        f"Epoch 1 of 1 · batch 63 of 63 · {final.samples_per_sec:,.0f} samples/s"
    )
    shown = metrics(at)
    assert shown[TRAIN_LOSS].value == f"{record.batches['loss'].mean():.4f}"
    assert not shown[TRAIN_LOSS].delta  # no epoch before the first to compare with
    assert shown["Test accuracy"].value == f"{record.epochs['test_acc'].iloc[0]:.2f}%"
    assert not shown["Test accuracy"].delta
    loss = chart(at, "train_loss_chart")
    np.testing.assert_array_equal(trace_array(loss["loss per batch"]["x"]), record.batches["step"])
    np.testing.assert_allclose(trace_array(loss["loss per batch"]["y"]), record.batches["loss"])
    lr = chart(at, "train_lr_chart")
    # The LR used is sent as the corners of its staircase, which draw every batch's LR.
    used_x, used = expand_staircase(
        trace_array(lr["LR used (optimizer)"]["x"]), trace_array(lr["LR used (optimizer)"]["y"])
    )
    np.testing.assert_array_equal(used_x, record.batches["step"])
    np.testing.assert_allclose(used, record.batches["lr"])
    predicted = lr["predicted η₀·γ^⌊t/s⌋"]
    steps, predicted = expand_staircase(trace_array(predicted["x"]), trace_array(predicted["y"]))
    np.testing.assert_array_equal(steps, record.batches["step"])
    np.testing.assert_array_equal(used, predicted)
    epochs = chart(at, "train_epoch_chart")
    accuracy = trace_array(epochs["test accuracy (%)"]["y"])
    np.testing.assert_allclose(accuracy, record.epochs["test_acc"])
    assert record.epochs["test_acc"].iloc[0] > 70  # it learned
    log = epoch_log(at)
    assert log == (
        f"Epoch 1, Loss: {record.epochs['train_loss'].iloc[0]:.4f}, LR: 0.001000\n"
        f"Test Accuracy: {record.epochs['test_acc'].iloc[0]:.2f}%"
    )
    assert any("Epoch N trains with η_t at t = N − 1" in c.value for c in at.caption)
    # The finished run's pictures: weight templates, digits, confusion matrix of the test set.
    confusion = chart(at, "train_confusion")
    assert trace_array(confusion["trace0"]["z"]).sum() == 1000

    # They are built once for the finished run and reused by later redraws, unchanged by them.
    key = (run_id, 1, True)
    assert key in RUN_PICTURES
    builds = RUN_PICTURES.builds
    for _ in range(3):
        at.run()
    assert not at.exception and RUN_PICTURES.builds == builds
    cached = RUN_PICTURES.get(key, lambda: pytest.fail("the pictures were dropped"))
    data = load_mnist("bundled")
    fresh = figs.run_pictures(
        final.weights,
        final.test_predictions,
        data.test_x.numpy(),
        data.test_y.numpy(),
        ended=True,
    )
    for name in ("weights", "digits", "confusion"):
        assert getattr(cached, name).to_json() == getattr(fresh, name).to_json(), name
    shown = chart(at, "train_confusion")["trace0"]
    np.testing.assert_array_equal(
        trace_array(shown["z"]), figs.confusion_matrix(data.test_y.numpy(), final.test_predictions)
    )


def test_the_warm_up_and_patience_help_say_what_torch_does():
    """The warm-up's shift of StepLR's decays is said under the predicted schedule (the note
    tests/schedules checks against torch), and the help texts say the same."""
    from steplr_viz.schedules.choices import PLATEAU_PATIENCE_HELP, warmup_note

    at = open_page({"train_scheduler": "warmup_steplr", "train_warmup_epochs": "2"})
    config = TrainConfig(scheduler="warmup_steplr", warmup_epochs=2)
    note = warmup_note(config)
    assert "decays come 2 epochs later than without the warm-up: at t = 4, 6, 8" in note
    assert any(note in c.value for c in at.caption), [c.value for c in at.caption]
    help_text = at.slider(key="train_warmup_epochs").proto.help
    assert "SequentialLR starts StepLR at its own step 0" in help_text
    assert "takes over" not in help_text
    at = open_page({"train_scheduler": "plateau"})
    assert at.slider(key="train_patience").proto.help == PLATEAU_PATIENCE_HELP


def test_the_lr_in_use_delta_is_a_multiple_of_the_configs_eta0_not_of_the_first_lr():
    """Warm-up 1 + StepLR(s = 1, γ = 0.1) from η₀ = 1e-3: torch's SequentialLR trains epoch
    t = 2 with 1e-4, η₀ × 0.1; the first batch's LR is η₀/3, so a ratio to it would say 0.3."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / 3, total_iters=1)
    decay = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)
    sequential = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, decay], [1])
    used = []
    for _ in range(3):
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        sequential.step()
    assert used == pytest.approx([0.001 / 3, 0.001, 0.0001], rel=1e-12)
    query = {
        "train_scheduler": "warmup_steplr",
        "train_epochs": "3",
        "train_step_size": "1",
        "train_batch_size": "1024",
    }
    at = open_page(query)
    at.button(key="train_start").click().run()
    poll_until(at, lambda a: "finished" in run_heading(a))
    shown = metrics(at)["LR in use"]
    assert float(shown.value) == pytest.approx(used[-1])
    assert shown.delta == f"η₀ × {used[-1] / 0.001:.3g}" == "η₀ × 0.1"
    assert training.lr_delta(used[0], 0.001) == "η₀ × 0.333"  # during the warm-up
    assert training.lr_delta(0.001, 0.001) is None


def test_the_lr_in_use_reads_in_significant_digits_after_many_decays():
    """Per batch, γ = 0.1 every 20 batches: 63 batches end at η₀ · 0.1³ = 1e-06."""
    query = {"train_epochs": "1", "train_scheduler_step": "batch", "train_step_size": "20"}
    at = open_page(query)
    at.button(key="train_start").click().run()
    poll_until(at, lambda a: "finished" in run_heading(a))
    shown = {m.label: m for m in at.metric}["LR in use"]
    assert shown.value == "1e-06"  # the seed's %.6f would print 0.000001, or 0.000000 later
    assert shown.delta == "η₀ × 0.001"
    # The log prints what the seed prints after the batch loop: the LR after the 63rd step,
    # η₀·γ^⌊63/20⌋ (not the 0.001 of the epoch's first batch), and says which t that is.
    log = epoch_log(at)
    assert log.startswith("Epoch 1, Loss: ") and "LR: 0.000001\n" in log
    notes = [c.value for c in at.caption if "t = N × 63" in c.value]
    assert len(notes) == 1, [c.value for c in at.caption]
    # The LR chart: the LR the optimizer used at each of the 63 batches is the predicted one,
    # four steps of a staircase (equal up to the last bits: torch multiplies by γ step by step,
    # the closed form raises γ to a power).
    lr = chart(at, "train_lr_chart")
    used_x, used = expand_staircase(
        trace_array(lr["LR used (optimizer)"]["x"]), trace_array(lr["LR used (optimizer)"]["y"])
    )
    expected = schedule.lr_per_step(0.001, 0.1, 20, 1, 63, per_batch=True)
    np.testing.assert_array_equal(used_x, np.arange(1, 64))
    np.testing.assert_allclose(used, expected, rtol=1e-12, atol=0)
    assert len(np.unique(expected)) == 4
    corners = lr["predicted η₀·γ^⌊t/s⌋"]
    _, predicted = expand_staircase(trace_array(corners["x"]), trace_array(corners["y"]))
    np.testing.assert_array_equal(predicted, expected)


@pytest.fixture
def poll_intervals(monkeypatch) -> list[float | None]:
    """The run_every of each st.fragment the page creates, in order (None: drawn once)."""
    import streamlit as st

    real_fragment = st.fragment
    asked: list[float | None] = []

    def recording_fragment(func=None, *, run_every=None, **kwargs):
        asked.append(run_every)
        return real_fragment(func, run_every=run_every, **kwargs)

    monkeypatch.setattr(st, "fragment", recording_fragment)
    return asked


def test_every_live_status_polls_every_second_and_an_ended_run_not_at_all(
    monkeypatch, poll_intervals
):
    """Queued (waiting, or holding a trainer while it loads), running or paused: the run panel
    redraws at least once a second. Ended: it is drawn once. A poll that finds nothing new
    builds no chart."""
    asked = poll_intervals
    store = manager().store
    in_queue: set[str] = set()  # runs that wait for a free trainer, as the manager would say
    real_position = manager().queue_position
    monkeypatch.setattr(
        manager(), "queue_position", lambda rid: 1 if rid in in_queue else real_position(rid)
    )
    every = {}
    for status in ("queued", "starting", "running", "paused", *sorted(TERMINAL_STATUSES)):
        run_id = store.create_run(TrainConfig(epochs=2))
        store.add_epoch(run_id, EpochPoint(1, 0.5, 0.001, 0.4, 88.0, 1.0))
        store.set_status(run_id, "queued" if status == "starting" else status)
        if status == "queued":
            in_queue.add(run_id)
        asked.clear()
        at = open_page({"run": run_id})
        assert not at.exception and status.replace("starting", "queued") in run_heading(at)
        assert len(asked) == 1
        every[status] = asked[0]
        builds = RUN_CHARTS.builds
        at.run()  # the next poll: nothing changed, so nothing is built again
        assert not at.exception and RUN_CHARTS.builds == builds
        store.set_status(run_id, "stopped")  # leave no live-looking run behind
    assert every.pop("starting") == every.pop("queued") == POLL_SECONDS
    assert every.pop("running") == every.pop("paused") == POLL_SECONDS
    assert POLL_SECONDS <= 1.0  # the issue: one second or faster while a run is live
    assert every == {status: None for status in TERMINAL_STATUSES}  # drawn once, no polling


def test_a_watched_run_deleted_elsewhere_stops_the_polling(monkeypatch, poll_intervals):
    """Deleted between the page's draw and its panel's poll: the page reruns and says so."""
    asked = poll_intervals
    store = manager().store
    run_id = store.create_run(TrainConfig(epochs=1))
    store.set_status(run_id, "running")
    real_get = store.get_run

    def read_then_deleted(rid):
        record = real_get(rid)
        store.delete_run(rid)  # another tab deletes it right after this page has read it
        return record

    monkeypatch.setattr(store, "get_run", read_then_deleted)
    at = open_page({"run": run_id})
    assert not at.exception
    assert asked == [POLL_SECONDS]  # the panel polled once, then no panel is drawn
    assert run_heading(at) == ""
    gone = [i.value for i in at.info if "no longer exists" in i.value]
    assert len(gone) == 1, [i.value for i in at.info]
    assert at.button(key="train_start").proto.disabled is False
    assert any("train_predicted" in key for key in chart_keys(at))


def test_stop_mid_run():
    at = open_page({"train_epochs": "20"})
    at.button(key="train_start").click().run()
    run_id = at.query_params["run"]
    poll_until(at, lambda a: "running" in run_heading(a) and "s left" in at.progress[0].text)
    # Mid-run the progress line has it all: epoch, batch, time left and speed.
    progress = r"Epoch \d+ of 20 · batch \d+ of 63 · about \d+ s left · [\d,]+ samples/s"
    assert re.fullmatch(progress, at.progress[0].text), at.progress[0].text
    at.button(key="train_stop").click().run()
    poll_until(at, lambda a: "stopped" in run_heading(a))
    # The trainer reports "stopped" first, then its callback writes it to the store.
    poll_until(at, lambda a: manager().store.get_run(run_id).status == "stopped")
    assert at.button(key="train_start").proto.disabled is False


def test_a_refresh_lists_the_finished_run_and_can_watch_it():
    at = open_page({"train_epochs": "1"})
    at.button(key="train_start").click().run()
    run_id = at.query_params["run"]
    poll_until(at, lambda a: "finished" in run_heading(a))
    wait_until(lambda: manager().store.get_run(run_id).status == "finished", "the stored end")
    again = open_page()  # a refresh: a new session, nothing in session state
    assert not again.exception
    assert run_id in set(again.dataframe[0].value["run"])
    watched = open_page({"run": run_id})
    assert "finished" in run_heading(watched) and run_id in run_heading(watched)
    assert not watched.exception


def test_two_selected_runs_overlay_their_curves_labelled_by_lr_gamma_and_s(two_runs):
    at = select_runs(open_page(), two_runs)
    assert not at.exception
    records = [manager().store.get_run(run_id) for run_id in two_runs]
    labels = [run_label(r.config) for r in records]
    assert labels == ["lr=0.001, γ=0.5, s=1", "lr=0.01, γ=0.1, s=2"]
    for key, column in [
        ("train_compare_acc", "test_acc"),
        ("train_compare_lr", "lr"),
        ("train_compare_loss", "train_loss"),
    ]:
        traces = chart(at, key)
        assert set(traces) == set(labels), key
        for label, record in zip(labels, records, strict=True):
            np.testing.assert_array_equal(trace_array(traces[label]["x"]), [1, 2])
            np.testing.assert_allclose(trace_array(traces[label]["y"]), record.epochs[column])


def test_watch_switches_the_watched_run(two_runs):
    first, second = two_runs
    at = select_runs(open_page({"run": first}), [second])
    assert first in run_heading(at)
    at.button(key="train_watch").click().run()
    assert not at.exception
    assert at.query_params["run"] == second and second in run_heading(at)


def test_csv_is_the_stores_export_of_the_selected_run(two_runs, monkeypatch):
    from streamlit.runtime.media_file_manager import MediaFileManager

    offered = {}  # file name -> the callable the button runs when clicked
    real_add = MediaFileManager.add_deferred

    def recording_add(self, data, mimetype, coordinates, file_name=None, **kwargs):
        offered[file_name] = data
        return real_add(self, data, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_add)
    second = two_runs[1]
    select_runs(open_page(), [second])
    csv_name = f"steplr_run_{second}.csv"
    assert csv_name in offered  # deferred: built only when clicked
    csv = offered[csv_name]()
    assert csv == manager().store.export_csv(second)
    assert len(csv.splitlines()) == 3  # a header and the two epochs


def test_the_zip_of_the_selected_runs_holds_every_batch_and_epoch(two_runs, monkeypatch):
    from streamlit.runtime.media_file_manager import MediaFileManager

    offered = {}
    real_add = MediaFileManager.add_deferred

    def recording_add(self, data, mimetype, coordinates, file_name=None, **kwargs):
        offered[file_name] = data
        return real_add(self, data, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_add)
    select_runs(open_page(), two_runs)
    (name,) = [n for n in offered if n.endswith(".zip")]
    with zipfile.ZipFile(io.BytesIO(offered[name]())) as archive:
        batches = pd.read_csv(archive.open("batches.csv"))
        runs = pd.read_csv(archive.open("runs.csv"))
    assert sorted(runs["run_id"]) == sorted(two_runs)
    for run_id in two_runs:
        stored = manager().store.get_run(run_id).batches
        mine = batches[batches["run_id"] == run_id].drop(columns="run_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, stored, check_dtype=False)


def test_delete_removes_exactly_the_selected_run(two_runs):
    doomed = run_to_end(epochs=1)
    before = set(manager().store.list_runs()["run_id"])
    at = select_runs(open_page(), [doomed])
    at.button(key="train_delete").click().run()
    assert not at.exception
    assert set(manager().store.list_runs()["run_id"]) == before  # it asks first
    assert any(doomed in w.value and "cannot be undone" in w.value for w in at.warning)
    at.button(key="train_delete_confirm").click().run()
    assert not at.exception
    assert set(manager().store.list_runs()["run_id"]) == before - {doomed}
    assert doomed not in set(at.dataframe[0].value["run"])
    assert "train_delete" not in button_keys(at)  # nothing is selected any more


def test_a_selection_never_moves_to_a_run_started_meanwhile(two_runs):
    """The table is newest first: another student's Start shifts every row down by one."""
    at = select_runs(open_page(), [two_runs[0]])
    assert "train_delete" in button_keys(at)
    newcomer = manager().store.create_run(TrainConfig(epochs=1))  # someone else's Start
    manager().store.set_status(newcomer, "stopped")
    at.run()
    assert not at.exception
    assert list(at.dataframe[0].value["run"]).index(newcomer) == 0
    # The old row positions are not carried over to the new list: nothing is selected.
    assert "train_delete" not in button_keys(at) and "train_watch" not in button_keys(at)
    assert not any("train_compare" in key for key in chart_keys(at))


def test_a_click_acts_on_the_runs_it_was_drawn_for(two_runs):
    """Delete pressed after the list changed deletes the run the student saw selected."""
    doomed = run_to_end(epochs=1)
    at = select_runs(open_page(), [doomed])
    newcomer = manager().store.create_run(TrainConfig(epochs=1))  # lands in row 0, first
    manager().store.set_status(newcomer, "stopped")
    at.button(key="train_delete").click().run()
    at.button(key="train_delete_confirm").click().run()
    assert not at.exception
    store = manager().store
    assert store.get_run(doomed) is None
    assert store.get_run(newcomer) is not None
    assert all(store.get_run(run_id) is not None for run_id in two_runs)


def test_the_metrics_show_the_change_since_the_epoch_before(two_runs):
    run_id = two_runs[1]
    at = open_page({"run": run_id})
    assert not at.exception
    record = manager().store.get_run(run_id)
    acc, test_loss = record.epochs["test_acc"], record.epochs["test_loss"]
    shown = metrics(at)
    assert shown["Test accuracy"].delta == f"{acc.iloc[1] - acc.iloc[0]:+.3g} pts"
    assert shown["Test loss"].delta == f"{test_loss.iloc[1] - test_loss.iloc[0]:+.3g}"
    batches = record.batches
    epoch_2_mean = batches.loc[batches["epoch"] == 2, "loss"].mean()
    assert shown[TRAIN_LOSS].value == f"{epoch_2_mean:.4f}"
    loss_change = epoch_2_mean - record.epochs["train_loss"].iloc[0]
    assert shown[TRAIN_LOSS].delta == f"{loss_change:+.3g}"
    # Lower loss reads green, higher red; higher accuracy green.
    green, red = MetricProto.MetricColor.GREEN, MetricProto.MetricColor.RED
    assert shown[TRAIN_LOSS].proto.color == (green if loss_change < 0 else red)
    assert shown["Test accuracy"].proto.color == (green if acc.iloc[1] > acc.iloc[0] else red)


def test_a_tiny_change_never_reads_as_a_signed_zero():
    assert training.change(-3.2e-05)["delta"] == "-3.2e-05"
    assert training.change(0.001234567, unit=" pts")["delta"] == "+0.00123 pts"
    assert training.change(0.0) == {"delta": "0", "delta_color": "off", "delta_arrow": "off"}
    assert training.change(float("nan")) == {"delta": None}


def test_a_failed_start_is_a_plain_error(monkeypatch):
    def refuse(config, started_by=None):
        raise RuntimeError("The run manager has shut down.")

    monkeypatch.setattr(manager(), "submit", refuse)
    at = open_page({"train_epochs": "1"})
    at.button(key="train_start").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors == ["The run could not start: The run manager has shut down."]
    assert "run" not in at.query_params


def test_an_ended_run_without_pictures_says_how_long_they_are_kept():
    store = manager().store
    run_id = store.create_run(TrainConfig(epochs=1))  # as after a restart: numbers only
    store.add_epoch(run_id, EpochPoint(1, 0.5, 0.001, 0.4, 88.0, 1.0))
    store.set_status(run_id, "finished")
    at = open_page({"run": run_id})
    assert not at.exception
    kept = [c.value for c in at.caption if "pictures of the weights" in c.value]
    assert kept and f"the {KEEP_FINAL_SNAPSHOTS} runs that ended last" in kept[0]


@pytest.mark.parametrize(
    "query",
    [
        {"train_lr": "abc", "train_gamma": "nan", "train_epochs": "1000000", "run": "../../etc"},
        {"train_optimizer": "rmsprop", "train_batch_size": "-3", "train_seed": "1e999"},
        {"train_data_source": "x" * 10_000, "train_step_size": "0", "run": "DROP TABLE runs"},
        {"run": "0123456789ab"},
    ],
)
def test_junk_query_parameters_render_with_no_exception(query):
    at = open_page(query)
    assert not at.exception
    if query != {"run": "0123456789ab"}:
        warning = " ".join(w.value for w in at.warning)
        for key in query:
            assert f"`{key}`" in warning
    else:  # a well-formed id of no run
        assert any("no longer exists" in i.value for i in at.info)


def test_full_data_missing_and_an_offline_download_are_plain_errors(tmp_path, monkeypatch):
    import steplr_viz.training.data as data

    monkeypatch.setenv("STEPLR_VIZ_DATA_DIR", str(tmp_path / "empty"))

    def offline(data_dir=None):
        raise data.DownloadFailedError("Could not download MNIST: this machine is offline.")

    monkeypatch.setattr(data, "download_mnist", offline)
    at = open_page({"train_data_source": "full"})
    at.button(key="train_start").click().run()
    assert not at.exception
    error = " ".join(e.value for e in at.error)
    assert str(tmp_path / "empty") in error  # names the folder it looked in
    assert "run" not in at.query_params  # nothing was started
    at.button(key="train_download_full").click().run()
    assert not at.exception
    assert "offline" in " ".join(e.value for e in at.error)


@pytest.mark.parametrize(
    ("status", "message", "shown"),
    [
        ("diverged", "The loss became nan in epoch 1, batch 3 (LR 1).", "Training diverged."),
        ("failed", "RuntimeError: boom", "Training failed: RuntimeError: boom"),
    ],
)
def test_a_diverged_or_failed_run_shows_its_message_as_an_error(status, message, shown):
    from steplr_viz.config import TrainConfig

    store = manager().store
    run_id = store.create_run(TrainConfig(epochs=1))
    store.set_status(run_id, status, error=message)
    at = open_page({"run": run_id})
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(shown in e and message in e for e in errors), errors


def test_a_link_sets_every_training_control():
    link = {
        "train_optimizer": "sgd",
        "train_lr": "0.01",
        "train_gamma": "0.5",
        "train_step_size": "3",
        "train_epochs": "7",
        "train_batch_size": "128",
        "train_scheduler_step": "batch",
        "train_data_source": "auto",
        "train_seed": "42",
    }
    at = open_page(link)
    assert not at.exception and not at.warning
    assert at.radio(key="train_optimizer").value == "sgd"
    assert at.select_slider(key="train_lr").value == 0.01
    assert at.slider(key="train_gamma").value == 0.5
    assert at.slider(key="train_step_size").value == 3
    assert at.slider(key="train_epochs").value == 7
    assert at.select_slider(key="train_batch_size").value == 128
    assert at.radio(key="train_scheduler_step").value == "batch"
    assert at.radio(key="train_data_source").value == "auto"
    assert at.number_input(key="train_seed").value == 42


def test_the_seed_script_is_built_only_when_opened():
    # A code block loads the browser's syntax highlighter: the first paint shows none.
    at = open_page()
    assert not at.exception and not at.code
    assert "Show the seed's script and its output" in [e.label for e in at.expander]
    at.session_state[code_blocks.SEED_SCRIPT] = True
    at.run()
    assert not at.exception
    script, output = at.code
    assert "StepLR" in script.value and output.value.strip() == SEED_OUTPUT.strip()


def test_a_rerun_the_browser_asked_for_before_it_had_the_new_link_keeps_the_run():
    # Streamlit reruns a page with the link the browser sent. A rerun the browser asked for
    # before the new link reached it (its id reporting in, a quick second click) carries the link
    # without the run: the page must go on watching the run it just started.
    at = open_page({"train_epochs": "1"})
    at.button(key="train_start").click().run()
    run_id = at.query_params["run"]
    at.query_params.pop("run")  # the browser's link from before Start
    at.run()
    assert run_id in run_heading(at)
    assert at.query_params["run"] == run_id  # and the link says so again
    poll_until(at, lambda a: "finished" in run_heading(a))
    assert run_id in run_heading(at)


def run_count() -> int:
    return len(manager().store.list_runs())


def test_a_start_click_whose_run_was_cut_short_starts_the_run_on_the_next_run():
    # Streamlit may stop the run a click arrived with before the page reaches its button (a newer
    # rerun request). The button's callback has recorded the click by then (ui/clicks.py); the
    # next run that gets that far starts the run, once.
    at = open_page({"train_epochs": "1"})
    before = run_count()
    at.session_state[clicks.CLICKS_KEY] = {"train_start": True}  # recorded, not yet acted on
    at.run()
    run_id = at.query_params["run"]
    assert run_id in run_heading(at)
    at.run()
    assert at.query_params["run"] == run_id and run_count() == before + 1


def test_a_click_left_when_the_student_went_to_another_page_is_dropped():
    at = open_page({"train_epochs": "1"})
    before = run_count()
    at.session_state[clicks.CLICKS_KEY] = {"train_start": True}
    at.session_state[link_pins.PAGE_KEY] = "another page's hash"  # the session's last run
    at.run()
    assert "run" not in at.query_params and not run_heading(at)
    assert run_count() == before
