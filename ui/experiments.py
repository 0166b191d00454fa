"""The training page's experiment sections: "Does StepLR help?", predict, reveal, the seed's script.

An experiment is a group of real runs that differ in one setting, each arm over the same seeds,
submitted through the same queue and cap as single runs (steplr_viz/classroom/experiments.py).
Its id travels in the link as `exp`, so a refresh or a second tab shows the same experiment.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from steplr_viz.classroom import experiments
from steplr_viz.classroom.experiment_state import ExperimentState, experiment_state
from steplr_viz.classroom.permissions import Viewer
from steplr_viz.classroom.predictions import Predictions
from steplr_viz.config import OPTIMIZERS, SCHEDULERS, TrainConfig
from steplr_viz.figures import experiments as figs
from steplr_viz.schedules.choices import SCHEDULER_NAMES
from steplr_viz.store.registry import ClassFullError
from steplr_viz.store.run_view import POLL_SECONDS
from steplr_viz.store.runs import check_run_id
from steplr_viz.training import run_plan
from steplr_viz.training.data import full_data_present, load_mnist
from steplr_viz.training.seed_script import SEED_OUTPUT, data_note, seed_script
from ui.charts import show_chart
from ui.run_registry import get_manager

EXP_KEY = "exp"  # the link's experiment id
URL_CHECKS = {EXP_KEY: lambda t: check_run_id(t)}
VARY_LABELS = {
    "gamma": "γ values",
    "step_size": "step sizes s",
    "scheduler": "schedulers",
    "optimizer": "Adam vs SGD + momentum",
}
VALUE_CHOICES = {
    "gamma": (0.01, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 1.0),
    "step_size": (1, 2, 3, 4, 5, 10),
    "scheduler": SCHEDULERS,
    "optimizer": OPTIMIZERS,
}
DEFAULT_CHOICES = {
    "gamma": experiments.DEFAULT_VALUES,  # the seed's γ = 0.1 against 0.5 and a constant LR
    "step_size": (1, 2, 3),
    "scheduler": ("steplr", "constant", "cosine"),
    "optimizer": OPTIMIZERS,
}
VALUE_NAMES = {
    "scheduler": SCHEDULER_NAMES,
    "optimizer": {"adam": "Adam", "sgd": "SGD + momentum 0.9"},
}
MAX_SEEDS = 5
START = {"icon": ":material/play_arrow:", "type": "primary"}


def sections(config: TrainConfig, me: Viewer) -> None:
    """The experiment (the centre of the page), then the seed's script for these settings."""
    experiment_section(config, me)
    seed_script_section(config)


def linked_experiment() -> str | None:
    """The experiment id the link carries, if a valid one (warn_bad_query_params warns else)."""
    raw = st.query_params.get(EXP_KEY)
    try:
        return check_run_id(raw) if raw else None
    except ValueError:
        return None


def _predictions() -> Predictions:
    """This session's predictions and score (the engine keeps them)."""
    if "exp_predictions" not in st.session_state:
        st.session_state["exp_predictions"] = Predictions()
    return st.session_state["exp_predictions"]


def experiment_section(base: TrainConfig, me: Viewer) -> None:
    """Design an experiment, predict its winner, run it, and watch it."""
    st.header(":material/science: Does StepLR help?")
    st.caption(
        "One click trains a group of real runs that differ in one setting, each over the same "
        "seeds, so that the difference is the setting alone. The sidebar holds everything else."
    )
    experiment_id = linked_experiment()
    state = experiment_state(get_manager(), experiment_id) if experiment_id else None
    design_ui(base, me, live=bool(state and state.live))
    if experiment_id is None:
        return
    if state is None or not state.runs:
        st.info(
            "That experiment no longer exists (its runs may have been deleted). Start a new one.",
            icon=":material/info:",
        )
        return
    panel = st.fragment(experiment_panel, run_every=POLL_SECONDS if state.live else None)
    panel(experiment_id, bool(state.live))


def design_ui(base: TrainConfig, me: Viewer, *, live: bool) -> None:
    """What varies, its values, the seeds, the prediction and the Start button."""
    vary = st.radio(
        "Compare",
        list(VARY_LABELS),
        format_func=VARY_LABELS.get,
        horizontal=True,
        key="exp_vary",
    )
    names = VALUE_NAMES.get(vary, {})
    left, right = st.columns([3, 1])
    values = left.multiselect(
        "Values (one arm each)",
        VALUE_CHOICES[vary],
        default=list(DEFAULT_CHOICES[vary]),
        format_func=lambda v: names.get(v, f"{v:g}" if isinstance(v, float) else str(v)),
        key=f"exp_values_{vary}",
    )
    seeds = right.slider("Seeds per arm", 1, MAX_SEEDS, experiments.DEFAULT_SEEDS, key="exp_seeds")
    try:
        experiment = experiments.Experiment(
            TrainConfig.from_dict(base.to_dict()), vary, tuple(values), tuple(range(seeds))
        ).validated()
    except ValueError as err:
        st.error(f"This experiment cannot run: {err}", icon=":material/block:")
        return
    st.radio(
        "Predict first: which arm will reach the highest final test accuracy?",
        experiment.arms,
        index=None,
        horizontal=True,
        key="exp_prediction",
    )
    row = st.container(horizontal=True, vertical_alignment="center")
    start = partial(submit, experiment, me.starter)
    row.button("Run the experiment", key="exp_start", on_click=start, disabled=live, **START)
    runs = len(experiment.configs())
    row.caption(
        f"{len(experiment.arms)} arms × {seeds} seeds = {runs} runs of {base.epochs} epochs, "
        "through the same queue as single runs."
    )
    error = st.session_state.pop("exp_error", None)
    if error:
        st.error(error, icon=":material/block:")


def submit(experiment: experiments.Experiment, started_by: str | None) -> None:
    """Start every run of the experiment; its id goes into the link, the prediction is kept."""
    problem = run_plan.data_problem(experiment.base) or start_problem(experiment, started_by)
    if problem:
        st.session_state["exp_error"] = problem
        return
    _predictions().predict(experiment.experiment_id, st.session_state.get("exp_prediction"))
    st.query_params[EXP_KEY] = experiment.experiment_id


def start_problem(experiment: experiments.Experiment, started_by: str | None) -> str | None:
    """Submit every run as this browser's; None when all are in, else why not, in plain words."""
    try:
        experiments.submit_experiment(get_manager(), experiment, started_by)
    except ClassFullError as err:
        return f"{err} Nothing was started."
    except (ValueError, RuntimeError) as err:  # a bad value; the server shutting down
        return f"The experiment could not start: {err}"
    return None


def experiment_panel(experiment_id: str, was_live: bool) -> None:
    """The experiment's progress, bands, LRs, table and (once done) commentary and reveal."""
    state = experiment_state(get_manager(), experiment_id)
    ended = state.runs - state.live
    st.progress(
        float(state.progress),
        text=f"{ended} of {state.runs} runs ended · experiment `{experiment_id}`",
    )
    points = state.points
    if not len(points):
        st.caption("The runs have started: the first epochs are on their way.")
    else:
        charts_ui(state, points)
        results_ui(points)
        if state.done:
            reveal_ui(experiment_id, experiments.results_table(points))
        else:
            guess = _predictions().predicted.get(experiment_id)
            if guess:
                st.caption(f"Your prediction: {guess}. The winner shows when every run has ended.")
    if was_live and not state.live:
        st.rerun(scope="app")  # all ended: the page redraws once (Start back) and stops polling


def charts_ui(state: ExperimentState, points: pd.DataFrame) -> None:
    """Test accuracy and loss per epoch (seeds as bands, decays marked) and the LR per batch."""
    band = experiments.bands(points)
    decays = experiments.arm_decays(band)
    left, right = st.columns(2)
    with left:
        show_chart(
            figs.band_figure(band, "test_acc", title="Test accuracy", y_title="%", decays=decays),
            key="exp_acc_chart",
            subject="Test accuracy per epoch for each arm, seeds as a band",
        )
    with right:
        show_chart(
            figs.band_figure(band, "test_loss", title="Test loss", y_title="loss", decays=decays),
            key="exp_loss_chart",
            subject="Test loss per epoch for each arm, seeds as a band",
        )
    arms = [(a.arm, a.steps, a.lrs) for a in state.arm_lrs()]
    show_chart(
        figs.arm_lr_figure(arms),
        key="exp_lr_chart",
        subject="The learning rate each arm used per batch",
    )


def results_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The results table as the page shows it: one row per arm."""
    return pd.DataFrame(
        {
            "arm": table["arm"],
            "seeds": table["seeds"],
            "epochs": table["epochs"],
            "final acc. mean (%)": table["final_acc_mean"],
            "final ± std": table["final_acc_std"],
            "final min (%)": table["final_acc_min"],
            "final max (%)": table["final_acc_max"],
            "best acc. mean (%)": table["best_acc_mean"],
            "best ± std": table["best_acc_std"],
        }
    )


def results_ui(points: pd.DataFrame) -> None:
    """The results per arm and the engine's commentary on them."""
    table = experiments.results_table(points)
    st.dataframe(
        results_frame(table),
        hide_index=True,
        width="stretch",
        key="exp_results",
        column_config={
            c: st.column_config.NumberColumn(format="%.2f")
            for c in results_frame(table).columns
            if "%" in c or "±" in c
        },
    )
    st.markdown("\n".join(f"- {line}" for line in experiments.commentary(points)))


def reveal_ui(experiment_id: str, table: pd.DataFrame) -> None:
    """The winner against the student's prediction, and the session's score."""
    predictions = _predictions()
    reveal = predictions.reveal(experiment_id, table)
    won = " and ".join(reveal.winners)
    text, score = st.columns([3, 1])
    if reveal.correct is None:
        text.info(f"Winner: {won}. You made no prediction for this one.", icon=":material/flag:")
    elif reveal.correct:
        text.success(
            f"Winner: {won}. You predicted {reveal.predicted}: right.",
            icon=":material/check_circle:",
        )
    else:
        text.warning(
            f"Winner: {won}. You predicted {reveal.predicted}: not this time.",
            icon=":material/cancel:",
        )
    score.metric("Predictions right this session", f"{predictions.right} / {predictions.asked}")


def seed_script_section(config: TrainConfig) -> None:
    """The seed's program with the sidebar's values, its sample output, and why ours differ."""
    st.subheader(":material/description: The seed's script, with these settings")
    left, right = st.columns([3, 2])
    with left:
        # Shown as text: it downloads full MNIST, so it cannot run offline as the app's other
        # code blocks must; tests/test_seed_script.py runs it on the bundled digits instead.
        st.code(seed_script(config), language="text")
    with right:
        st.markdown("**The seed's sample output** (full MNIST)")
        st.code(SEED_OUTPUT, language="text")
        st.caption(data_note(load_mnist("bundled").n_train, full_data_present()))
