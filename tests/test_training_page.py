"""AppTest of the live training page: start, poll, stop, refresh, junk links."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from steplr_viz import schedule
from steplr_viz.data import load_mnist
from steplr_viz.figures import training as figs
from steplr_viz.figures.cache import RUN_CHARTS, RUN_PICTURES
from steplr_viz.run_view import POLL_SECONDS
from steplr_viz.trainer import TERMINAL_STATUSES, EpochPoint, TrainConfig
from tests import apptest_pages
from tests.apptest_pages import TRAINING_PAGE, poll_until, private_run_manager, run_heading
from tests.plotly_data import chart_traces, expand_staircase, trace_array


@pytest.fixture(autouse=True, scope="module")
def isolated_manager(tmp_path_factory):
    """A fresh process-wide manager whose store lives in a temporary folder."""
    with private_run_manager(tmp_path_factory.mktemp("runs")):
        yield


def manager():
    from ui.runs import get_manager

    return get_manager()


def open_page(query: dict[str, str] | None = None) -> AppTest:
    return apptest_pages.open_page(TRAINING_PAGE, query)


def chart(at: AppTest, key: str) -> dict[str, dict]:
    """Traces of the Plotly chart with this widget key."""
    charts = at.get("plotly_chart")
    index = next(i for i, c in enumerate(charts) if c.proto.id.endswith(key) or key in c.proto.id)
    return chart_traces(at, index)


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


@pytest.mark.parametrize(
    ("cap", "shown"),
    [(1, "Up to 1 run trains at once on this server"), (2, "Up to 2 runs train at once")],
)
def test_the_trainer_cap_reads_right_for_one_and_for_many(cap, shown, monkeypatch):
    monkeypatch.setattr(manager(), "max_concurrent", cap)
    at = open_page()
    assert not at.exception
    assert any(shown in c.value for c in at.caption), [c.value for c in at.caption]


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
    loss = chart(at, "train_loss_chart")
    np.testing.assert_array_equal(trace_array(loss["loss per batch"]["x"]), record.batches["step"])
    np.testing.assert_allclose(trace_array(loss["loss per batch"]["y"]), record.batches["loss"])
    lr = chart(at, "train_lr_chart")
    used = trace_array(lr["LR used (optimizer)"]["y"])
    np.testing.assert_array_equal(
        trace_array(lr["LR used (optimizer)"]["x"]), record.batches["step"]
    )
    np.testing.assert_allclose(used, record.batches["lr"])
    predicted = lr["predicted η₀·γ^⌊t/s⌋"]
    steps, predicted = expand_staircase(trace_array(predicted["x"]), trace_array(predicted["y"]))
    np.testing.assert_array_equal(steps, record.batches["step"])
    np.testing.assert_array_equal(used, predicted)
    epochs = chart(at, "train_epoch_chart")
    accuracy = trace_array(epochs["test accuracy (%)"]["y"])
    np.testing.assert_allclose(accuracy, record.epochs["test_acc"])
    assert record.epochs["test_acc"].iloc[0] > 70  # it learned
    log = [c.value for c in at.code][0]
    assert log == (
        f"Epoch 1, Loss: {record.epochs['train_loss'].iloc[0]:.4f}, LR: 0.001000\n"
        f"Test Accuracy: {record.epochs['test_acc'].iloc[0]:.2f}%"
    )
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
    final = manager().final_snapshot(run_id)
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


def test_the_lr_in_use_reads_in_significant_digits_after_many_decays():
    """Per batch, γ = 0.1 every 20 batches: 63 batches end at η₀ · 0.1³ = 1e-06."""
    query = {"train_epochs": "1", "train_scheduler_step": "batch", "train_step_size": "20"}
    at = open_page(query)
    at.button(key="train_start").click().run()
    poll_until(at, lambda a: "finished" in run_heading(a))
    shown = {m.label: m for m in at.metric}["LR in use"]
    assert shown.value == "1e-06"  # the seed's %.6f would print 0.000001, or 0.000000 later
    assert shown.delta == "η₀ × 0.001"


def test_every_live_status_polls_every_second_and_an_ended_run_not_at_all(monkeypatch):
    """Queued (waiting, or holding a trainer while it loads), running or paused: the run panel
    redraws at least once a second. Ended: it is drawn once. A poll that finds nothing new
    builds no chart."""
    import streamlit as st

    real_fragment = st.fragment
    asked: list[float | None] = []

    def recording_fragment(func=None, *, run_every=None, **kwargs):
        asked.append(run_every)
        return real_fragment(func, run_every=run_every, **kwargs)

    monkeypatch.setattr(st, "fragment", recording_fragment)
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


def test_stop_mid_run():
    at = open_page({"train_epochs": "20"})
    at.button(key="train_start").click().run()
    run_id = at.query_params["run"]
    poll_until(at, lambda a: "running" in run_heading(a))
    at.button(key="train_stop").click().run()
    poll_until(at, lambda a: "stopped" in run_heading(a))
    # The trainer reports "stopped" first, then its callback writes it to the store.
    poll_until(at, lambda a: manager().store.get_run(run_id).status == "stopped")
    assert at.button(key="train_start").proto.disabled is False


def test_a_refresh_lists_the_finished_run_and_can_watch_it():
    finished = manager().store.list_runs()
    finished = finished[finished["status"] == "finished"]
    assert len(finished)
    at = open_page()  # a new session: nothing in session state
    shown = at.dataframe[0].value
    assert finished["run_id"].iloc[0] in set(shown["run"])
    again = open_page({"run": finished["run_id"].iloc[0]})
    assert "finished" in run_heading(again) and not again.exception


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
    import steplr_viz.data as data

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
    from steplr_viz.trainer import TrainConfig

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
    assert at.number_input(key="train_step_size").value == 3
    assert at.slider(key="train_epochs").value == 7
    assert at.select_slider(key="train_batch_size").value == 128
    assert at.radio(key="train_scheduler_step").value == "batch"
    assert at.radio(key="train_data_source").value == "auto"
    assert at.number_input(key="train_seed").value == 42
