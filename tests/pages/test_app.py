"""AppTest of the schedule explorer (app.py): what each widget does to the plotted data."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from steplr_viz.schedules import steplr as schedule
from tests.plotly_data import chart_layout, chart_traces, trace_array
from tests.schedules.test_steplr import SEED_TABLE
from ui import explorer

CLOSED = "closed form η₀·γ^⌊t/s⌋"
TORCH = "PyTorch StepLR"


def _app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file("../../app.py", default_timeout=30)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run(timeout=90)  # the first run imports torch


@pytest.fixture(scope="module")
def shared_app() -> AppTest:
    return _app()


def _button_keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button}


def _plotted(at: AppTest, name: str = CLOSED) -> np.ndarray:
    return trace_array(chart_traces(at)[name]["y"])


def test_defaults_render_the_seed_example(shared_app):
    at = shared_app
    assert not at.exception
    np.testing.assert_array_equal(_plotted(at), schedule.lr_curve(0.1, 0.5, 10, 40))
    assert trace_array(chart_traces(at)[CLOSED]["x"]).tolist() == list(range(40))
    np.testing.assert_array_equal(_plotted(at, TORCH), schedule.torch_lr_curve(0.1, 0.5, 10, 40))
    decays = chart_traces(at)["decay (× γ)"]
    assert trace_array(decays["x"]).tolist() == [10, 20, 30]
    text = " ".join(m.value for m in at.markdown)
    for line in SEED_TABLE:
        assert line in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Decays within the horizon"] == "3"
    assert metrics["Final LR"] == "0.0125"
    assert metrics[explorer.LOW_METRIC] == "70"
    assert metrics["Largest |closed form − PyTorch|"] == "0 (identical)"
    formulas = [e.value for e in at.markdown]
    assert any(r"0.1 \cdot 0.5^{\lfloor t/10 \rfloor}" in f for f in formulas)
    # The worked example defaults to t = 25: ⌊25/10⌋ = 2 and 0.1 · 0.5² = 0.025.
    assert any(r"\lfloor 25/10 \rfloor &= 2" in f and "= 0.025" in f for f in formulas)


@pytest.mark.parametrize(
    ("key", "kind", "value", "expected"),
    [
        ("lr0", "select_slider", 0.02, (0.02, 0.5, 10, 40)),
        ("gamma", "slider", 0.9, (0.1, 0.9, 10, 40)),
        ("step_size", "slider", 3, (0.1, 0.5, 3, 40)),
        ("epochs", "slider", 95, (0.1, 0.5, 10, 95)),
    ],
)
def test_each_widget_redraws_the_closed_form(key, kind, value, expected):
    at = _app()
    getattr(at, kind)(key=key).set_value(value).run()
    assert not at.exception
    np.testing.assert_array_equal(_plotted(at), schedule.lr_curve(*expected))
    np.testing.assert_array_equal(_plotted(at, TORCH), schedule.torch_lr_curve(*expected))
    assert trace_array(chart_traces(at)["decay (× γ)"]["x"]).tolist() == schedule.decay_epochs(
        expected[2], expected[3]
    )


def test_log_toggle_and_torch_overlay_toggle():
    at = _app()
    assert chart_layout(at)["yaxis"]["type"] == "linear"
    at.toggle(key="log_y").set_value(True).run()
    assert chart_layout(at)["yaxis"]["type"] == "log"
    at.toggle(key="show_torch").set_value(False).run()
    assert TORCH not in chart_traces(at)
    assert "Largest |closed form − PyTorch|" not in {m.label for m in at.metric}


def test_largest_difference_is_printed_when_torch_drifts_in_the_last_bits():
    at = _app({"gamma": "0.9", "step_size": "1", "epochs": "1000"})
    closed = schedule.lr_curve(0.1, 0.9, 1, 1000)
    recorded = schedule.torch_lr_curve(0.1, 0.9, 1, 1000)
    diff = np.max(np.abs(closed - recorded))
    assert diff > 0  # chained multiplication drifts from the power in the last bits
    assert {m.label: m.value for m in at.metric}["Largest |closed form − PyTorch|"] == f"{diff:.1e}"


def test_pin_keeps_the_old_curve_as_a_labelled_trace_and_clear_removes_it():
    at = _app()
    assert "clear_pins" not in _button_keys(at)  # nothing pinned, nothing to clear
    at.button(key="pin").click().run()
    assert "clear_pins" in _button_keys(at)
    at.slider(key="gamma").set_value(0.8).run()
    traces = chart_traces(at)
    pinned = traces["pinned η₀=0.1, γ=0.5, s=10"]
    np.testing.assert_array_equal(trace_array(pinned["y"]), schedule.lr_curve(0.1, 0.5, 10, 40))
    np.testing.assert_array_equal(_plotted(at), schedule.lr_curve(0.1, 0.8, 10, 40))
    at.button(key="clear_pins").click().run()
    assert not any(name.startswith("pinned") for name in chart_traces(at))
    assert "clear_pins" not in _button_keys(at)  # nothing left to clear


def test_worked_example_follows_the_chosen_epoch():
    at = _app()
    at.number_input(key="t").set_value(37).run()
    assert any(
        r"\lfloor 37/10 \rfloor &= 3" in f and r"0.5^{3} = 0.0125" in f
        for f in (e.value for e in at.markdown)
    )
    text = " ".join(e.value for e in at.markdown)
    assert "Epoch 37 lies after 3 decays (at epochs 10, 20, 30)." in text
    at.number_input(key="t").set_value(5).run()
    text = " ".join(e.value for e in at.markdown)
    assert "Epoch 5 comes before the first decay at epoch 10" in text


def test_worked_example_with_gamma_one_counts_no_decay_as_the_facts_do():
    """γ = 1: torch's StepLR keeps η₀ at every epoch; the sentence beside the '0 decays' metric
    names multiplications by 1, not decays."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=1.0)
    used = []
    for _ in range(40):
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert set(used) == {0.1}
    at = _app({"gamma": "1"})
    assert {m.label: m.value for m in at.metric}["Decays within the horizon"] == "0"
    text = " ".join(e.value for e in at.markdown)
    assert "Epoch 25 follows 2 multiplications by γ = 1 (at epochs 10, 20)" in text
    assert "no decay is counted" in text and "lies after" not in text
    at.number_input(key="t").set_value(5).run()
    text = " ".join(e.value for e in at.markdown)
    assert "Epoch 5 trains with η₀, as every epoch does with γ = 1" in text
    assert "before the first decay" not in text


def test_a_link_reproduces_the_view():
    at = _app({"lr0": "0.02", "gamma": "0.9", "step_size": "5", "epochs": "60", "log_y": "true"})
    assert not at.exception and not at.warning
    np.testing.assert_array_equal(_plotted(at), schedule.lr_curve(0.02, 0.9, 5, 60))
    assert chart_layout(at)["yaxis"]["type"] == "log"


JUNK = [
    {"gamma": "abc"},
    {"step_size": "-5"},
    {"lr0": "1e999"},
    {"epochs": "1000000000"},
    {"epochs": "1001"},  # past the horizon slider's end
    {"gamma": "nan", "lr0": "inf", "step_size": "0", "epochs": "-1"},
    {"gamma": "", "epochs": ""},
    {"lr0": "x" * 10_000},
    {"gamma": "γ½🙂", "step_size": "１０"},
    {"t": "99999", "log_y": "maybe", "show_torch": "[]"},
    {"epochs": "inf", "t": "1e999"},
    {"epochs": "-1e999", "step_size": "9" * 400},
]


@pytest.mark.parametrize("query", JUNK)
def test_junk_query_parameters_render_the_defaults_with_a_warning(query):
    at = _app(query)
    assert not at.exception
    np.testing.assert_array_equal(_plotted(at), schedule.lr_curve(0.1, 0.5, 10, 40))
    warning = " ".join(w.value for w in at.warning)
    for key in query:
        assert f"`{key}`" in warning
    assert "x" * 50 not in warning  # the junk itself is never echoed


def test_export_tabs_build_only_the_open_tab():
    at = _app()
    # The decay table opens first (cheap for the browser, unlike highlighted code).
    assert not at.code and not at.get("download_button")
    expected = schedule.decay_table(0.1, 0.5, 10, 40)
    assert at.dataframe[0].value["epochs"].tolist() == expected["epochs"].tolist()
    at.session_state["export_tab"] = "PyTorch code"
    at.slider(key="gamma").set_value(0.8).run()
    assert not at.exception and not at.dataframe
    # The schedule in the right call order, for the values now set.
    assert [c.value for c in at.code] == [schedule.pytorch_snippet(0.1, 0.8, 10, 40).strip()]
    at.session_state["export_tab"] = "Decay table"
    at.run()
    assert not at.exception and not at.code
    expected = schedule.decay_table(0.1, 0.8, 10, 40)
    shown = at.dataframe[0].value
    assert shown["epochs"].tolist() == expected["epochs"].tolist()
    np.testing.assert_array_equal(shown["lr"].to_numpy(), expected["lr"].to_numpy())
    at.session_state["export_tab"] = "Download CSV"
    at.run()
    assert not at.dataframe and len(at.get("download_button")) == 1


def test_the_csv_holds_every_epoch_from_the_closed_form_and_pytorch():
    frame = pd.read_csv(io.StringIO(explorer.schedule_csv(0.1, 0.9, 1, 300)))
    assert list(frame.columns) == ["epoch", "closed_form_lr", "pytorch_lr"]
    assert frame["epoch"].tolist() == list(range(300))
    # 17 significant digits: the floats come back bit for bit.
    np.testing.assert_array_equal(frame["closed_form_lr"], schedule.lr_curve(0.1, 0.9, 1, 300))
    np.testing.assert_array_equal(frame["pytorch_lr"], schedule.torch_lr_curve(0.1, 0.9, 1, 300))


def test_gamma_one_has_no_decays_and_no_markers():
    at = _app({"gamma": "1.0"})
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Decays within the horizon"] == "0"
    assert metrics[explorer.LOW_METRIC] == "never"
    assert "decay (× γ)" not in chart_traces(at)
    assert any("never changes" in c.value for c in at.caption)


def test_a_first_decay_beyond_the_horizon_is_said_not_hidden():
    at = _app({"step_size": "50"})  # horizon 40: the first decay would be at epoch 50
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Decays within the horizon"] == "0"
    # 0.5^7 is the first power at most 1 %: after 7 decays of 50 epochs, far off the chart.
    assert metrics[explorer.LOW_METRIC] == "350"
    captions = " ".join(c.value for c in at.caption)
    assert "first decay comes at epoch 50, after the last epoch shown (39)" in captions
    assert "1% of η₀ at epoch 350, beyond the last epoch shown (39)" in captions


def test_the_seed_scripts_lr_reaches_one_percent_at_epoch_four():
    # η₀ = 0.001, γ = 0.1, s = 2: η_4 = 1e-5 is exactly 1 % of η₀ (0.1² in floats is a hair more).
    at = _app({"lr0": "0.001", "gamma": "0.1", "step_size": "2", "epochs": "6"})
    assert {m.label: m.value for m in at.metric}[explorer.LOW_METRIC] == "4"
    assert schedule.step_lr(0.001, 0.1, 2, 4) > 0.001 * 0.01  # why a tolerance is needed


def test_the_pytorch_code_tab_runs_and_prints_pytorchs_curve(capsys):
    at = _app({"gamma": "0.9", "step_size": "3", "epochs": "12"})
    at.session_state["export_tab"] = "PyTorch code"
    at.run()
    snippet = next(c.value for c in at.code if c.language == "python")
    exec(compile(snippet, "<explorer snippet>", "exec"), {})  # noqa: S102 (our own page's code)
    lines = capsys.readouterr().out.splitlines()
    printed = [float(line.split()[1]) for line in lines]
    assert printed == schedule.torch_lr_curve(0.1, 0.9, 3, 12).tolist()
