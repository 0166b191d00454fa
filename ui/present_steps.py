"""The presenter page's step bodies: each draws its step's one figure (or its runs) and returns
the step's question, its true answer filled in where only the runs can tell.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from steplr_viz import lab
from steplr_viz.classroom import experiments, guided_path, presets
from steplr_viz.classroom.commentary import commentary, first_place_note, lesson_shown
from steplr_viz.classroom.experiment_state import experiment_state
from steplr_viz.classroom.guided_path import Question, Settings, Step
from steplr_viz.config import TrainConfig
from steplr_viz.figures import lab as lab_figs
from steplr_viz.figures import present as figs
from steplr_viz.figures.cache import view_charts
from steplr_viz.figures.schedule import staircase_figure
from steplr_viz.figures.style import new_figure
from steplr_viz.schedules import steplr as schedule
from steplr_viz.store.registry import ClassFullError
from steplr_viz.store.run_view import RunView, poll_seconds
from steplr_viz.store.runs import check_run_id
from ui import link_pins
from ui.charts import show_chart
from ui.run_registry import get_manager

BODY_CHART_HEIGHT = 300  # with the idea's text above it, one screen at 1280×720


def linked_id(key: str) -> str | None:
    """The run ('run') or experiment ('exp') id carried in the link, if a valid one."""
    raw = st.query_params.get(key)
    try:
        return check_run_id(raw) if raw else None
    except ValueError:
        return None  # warn_bad_query_params has said so


# --------------------------------------------------------------------------- step bodies


def projected(fig: go.Figure, present: bool) -> go.Figure:
    """The figure as drawn: a projector-sized copy in present mode (cached figures stay put)."""
    if not present:
        return fig
    spec = fig.to_dict()
    return figs.for_projector(new_figure(spec["data"], spec["layout"]), height=BODY_CHART_HEIGHT)


def chart(fig: go.Figure, key: str, present: bool) -> None:
    show_chart(projected(fig, present), key=key)


def body_ui(step: Step, settings: Settings, present: bool) -> Question | None:
    """The step's idea and its one figure; returns its question, truth filled in where known."""
    st.markdown(step.idea)
    return BODIES[step.id](settings, present, step.question)


def todo_ui(step: Step) -> None:
    """The one thing to do on this step."""
    st.markdown(f":material/task_alt: **To do:** {step.todo}")


def _formula_body(settings: Settings, present: bool, question: Question | None):
    seed = guided_path.SEED
    lrs = schedule.lr_curve(seed["base_lr"], seed["gamma"], seed["step_size"], seed["epochs"])
    fig = staircase_figure(
        lrs,
        decay_epochs=schedule.decay_epochs(seed["step_size"], seed["epochs"]),
        highlight_epoch=guided_path.FORMULA_EPOCH,
    )
    chart(fig, "present_chart_formula", present)
    return question


def _knobs_body(settings: Settings, present: bool, question: Question | None):
    epochs = guided_path.HORIZON
    lrs = schedule.lr_curve(settings.base_lr, settings.gamma, settings.step_size, epochs)
    decays = [] if settings.gamma == 1.0 else schedule.decay_epochs(settings.step_size, epochs)
    chart(staircase_figure(lrs, decay_epochs=decays), "present_chart_knobs", present)
    return question


def _call_order_body(settings: Settings, present: bool, question: Question | None):
    seed = guided_path.SEED
    result = lab.call_order(seed["base_lr"], seed["gamma"], seed["step_size"], seed["epochs"])
    chart(lab_figs.call_order_figure(result), "present_chart_call_order", present)
    return question


def _per_batch_body(settings: Settings, present: bool, question: Question | None):
    seed = TrainConfig()
    n = guided_path.seed_batches_per_epoch()
    result = lab.per_batch_stepping(seed.lr, seed.gamma, seed.step_size, 2, n)
    chart(lab_figs.stepping_figure(result), "present_chart_per_batch", present)
    return question


def _alternatives_body(settings: Settings, present: bool, question: Question | None):
    fig = figs.curves_figure(guided_path.alternative_curves(), highlight="StepLR")
    chart(fig, "present_chart_alternatives", present)
    return question


def _quiz_body(settings: Settings, present: bool, question: Question | None):
    st.caption("The quiz is drawn from this class's session: every device shows the same one.")
    return question


# --------------------------------------------------------------------------- runs


def load_view(run_id: str) -> RunView | None:
    """A run's view: live from its trainer, else just ended, else from the store."""
    return get_manager().view(run_id)


def submit_run() -> None:
    """Start the seed's run through the process-wide run manager; its id goes into the link."""
    try:
        link_pins.set_param("run", get_manager().submit(TrainConfig()))
    except (ClassFullError, ValueError, RuntimeError) as err:
        st.session_state["present_run_error"] = str(err)


# Each side's experiment id has its own key in the link, so both sides' runs stay reachable.
SIDE_KEYS = {"seed": "exp", "large-lr": "exp_lr"}


def side_key(side: str) -> str:
    return SIDE_KEYS[side]


def submit_comparison(side: str) -> None:
    """Start one side's preset (every arm, every seed); its id goes into the link."""
    experiment = guided_path.comparison_experiment(side)
    try:
        experiments.submit_experiment(get_manager(), experiment)
    except (ClassFullError, ValueError, RuntimeError) as err:
        st.session_state["present_run_error"] = str(err)
        return
    link_pins.set_param(side_key(side), experiment.experiment_id)


def _run_error() -> None:
    error = st.session_state.pop("present_run_error", None)
    if error:
        st.error(f"The run could not start: {error}", icon=":material/block:")


def _live_run_body(settings: Settings, present: bool, question: Question | None):
    run_id = linked_id("run")
    view = load_view(run_id) if run_id else None
    live = view is not None and not view.ended
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        "Start the seed's run",
        icon=":material/play_arrow:",
        key="present_start_run",
        type="primary",
        disabled=live,
        on_click=submit_run,
    )
    if view is not None:
        row.markdown(f"[Open it on the Live training page](Live_training?run={view.run_id})")
    _run_error()
    if view is None:
        st.caption("No run yet: Start trains the seed's script on the bundled digits.")
        return question
    panel = st.fragment(_live_run_panel, run_every=poll_seconds(view.status))
    panel(view.run_id, present, not view.ended)
    return question


def _live_run_panel(run_id: str, present: bool, was_live: bool) -> None:
    view = load_view(run_id)
    if view is None:
        st.info("That run no longer exists. Start a new one.")
        return
    if was_live and view.ended:
        st.rerun(scope="app")  # the page redraws once with Start enabled, and stops polling
    cols = st.columns(3)
    cols[0].metric("Status", view.status)
    cols[1].metric("Epoch", f"{len(view.epochs)} of {view.config.epochs}")
    last_acc = view.epochs["test_acc"].iloc[-1] if len(view.epochs) else None
    cols[2].metric("Test accuracy", "—" if last_acc is None else f"{last_acc:.1f} %")
    if len(view.batches):
        charts = view_charts(view, max(view.batches_per_epoch, 1))
        chart(charts.lr, "present_chart_live_lr", present)


def _side_name(side: str) -> str:
    number = guided_path.COMPARE_SIDES.index(side) + 1
    return f"Side {number}: {presets.preset(side).title}"


def _linked_side() -> str:
    """The side in the link (`side`), the first when absent or not one of them."""
    raw = st.query_params.get("side")
    try:
        return guided_path.check_side(raw) if raw else guided_path.COMPARE_SIDES[0]
    except ValueError:
        return guided_path.COMPARE_SIDES[0]  # warn_bad_query_params has said so


def _remember_side() -> None:
    """The side lives in the link too, so the join code takes students to the same side."""
    link_pins.set_param("side", st.session_state["present_side"])


def _compare_body(settings: Settings, present: bool, question: Question | None):
    side = st.segmented_control(
        "Which side",
        guided_path.COMPARE_SIDES,
        format_func=_side_name,
        default=_linked_side(),
        key="present_side",
        on_change=_remember_side,
        required=True,
    )
    side = side if side in guided_path.COMPARE_SIDES else _linked_side()
    experiment_id = linked_id(side_key(side))
    state = comparison_state(experiment_id)
    st.button(
        "Start this side's runs",
        icon=":material/play_arrow:",
        key=f"present_start_compare_{side}",
        type="primary",
        disabled=bool(state.live),
        on_click=submit_comparison,
        args=(side,),
    )
    _run_error()
    question = guided_path.comparison_question(side)
    if experiment_id is None:
        runs = len(guided_path.comparison_experiment(side).configs())
        st.caption(f"No runs yet: Start trains this side's {runs} runs, every γ on every seed.")
        return question
    panel = st.fragment(_compare_panel, run_every=1.0 if state.live else None)
    panel(experiment_id, present, state.live)
    if not state.done:
        return question
    truth = guided_path.comparison_answer(state.accuracies)
    return replace(question, answer=truth, explanation=_answer_text(state, truth))


def _answer_text(state: ComparisonState, truth: int | None) -> str:
    """Why the answer is the answer: the ranking's winner, how far its lead holds, the lesson."""
    if truth is None:
        return "No single arm is first: the highest mean final test accuracies are tied."
    table = experiments.results_table(state.points)
    best = experiments.ranked(table).iloc[0]
    text = (
        f"{guided_path.comparison_label(guided_path.COMPARE_GAMMAS[truth])} ends first with "
        f"{best['final_acc_mean']:.2f} % (mean over {best['seeds']} seeds). "
        f"{first_place_note(state.points)}"
    )
    shown = state.preset is not None and lesson_shown(state.preset, state.points)
    return text + (f" {state.preset.lesson}" if shown else "")


@dataclass(frozen=True)
class ComparisonState:
    """Where a side's runs stand: counted, any still live, all done, mean accuracies, preset."""

    runs: int
    live: int
    done: bool
    accuracies: list[float | None]
    points: pd.DataFrame
    preset: presets.Preset | None = None


def comparison_state(experiment_id: str | None) -> ComparisonState:
    """A side's runs as the store and the run manager have them now."""
    if experiment_id is None:
        return ComparisonState(0, 0, False, [None] * len(guided_path.COMPARE_GAMMAS), None)
    state = experiment_state(get_manager(), experiment_id)  # the training page's, too
    points = state.points
    done = state.done and state.preset is not None
    accuracies = guided_path.arm_accuracies(points)
    return ComparisonState(state.runs, state.live, done, accuracies, points, state.preset)


def _compare_panel(experiment_id: str, present: bool, was_live: bool) -> None:
    state = comparison_state(experiment_id)
    if not state.runs:
        st.info("Those runs no longer exist. Start them again.")
        return
    points = state.points
    table = experiments.results_table(points) if len(points) else pd.DataFrame()
    if len(table):
        labels = {
            experiments.arm_label(experiments.DEFAULT_FIELD, g): guided_path.comparison_label(g)
            for g in guided_path.COMPARE_GAMMAS
        }
        shown = pd.DataFrame(
            {
                "γ": [labels.get(arm, arm) for arm in table["arm"]],
                "seeds": table["seeds"],
                "epochs": table["epochs"],
                "final test accuracy (%)": table["final_acc_mean"],
                "± std over seeds": table["final_acc_std"],
                "best epoch's (%)": table["best_acc_mean"],
            }
        )
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="%.2f")
                for c in ("final test accuracy (%)", "± std over seeds", "best epoch's (%)")
            },
        )
        band = experiments.bands(points)
        curves = [
            (labels.get(str(arm), str(arm)), g["epoch"].tolist(), g["test_acc_mean"].tolist())
            for arm, g in band.groupby("arm", observed=True, sort=False)
        ]
        chart(figs.accuracy_figure(curves), "present_chart_compare", present)
    else:
        ended = state.runs - state.live
        st.caption(
            f"{ended} of {state.runs} runs ended: the table fills once every arm has finished "
            "a seed."
        )
    lines = commentary(points, live=state.live, brief=True)
    st.markdown("\n".join(f"- {line}" for line in lines))
    if was_live and not state.live:
        st.rerun(scope="app")  # all ended: the full run shows the true answer and stops polling


BODIES = {
    "formula": _formula_body,
    "knobs": _knobs_body,
    "call_order": _call_order_body,
    "per_batch": _per_batch_body,
    "live_run": _live_run_body,
    "compare": _compare_body,
    "alternatives": _alternatives_body,
    "quiz": _quiz_body,
}
