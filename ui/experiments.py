"""The training page's experiment sections: "Does StepLR help?", predict, reveal, the seed's script.

An experiment is a group of real runs that differ in one setting, each arm over the same seeds,
submitted through the same queue and cap as single runs (steplr_viz/classroom/experiments.py);
one click starts a preset (classroom/presets.py). Its id travels in the link as `exp`, so a
refresh or a second tab shows the same experiment.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from steplr_viz.classroom import experiments, presets
from steplr_viz.classroom.commentary import commentary, first_place_note, pair_comparisons
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
from ui import code_blocks, link_pins
from ui.charts import show_chart
from ui.code_blocks import code_on_demand
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
DESIGN = "design"  # the experiment chooser's last option: your own design from the sidebar


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
    """Pick a preset or design an experiment, predict its winner, run it, and watch it."""
    st.header(":material/science: Does StepLR help?")
    st.caption(
        "One click trains a group of real runs that differ in one setting, each over the same "
        "seeds, so that the difference is the setting alone. Two presets show both sides; "
        "your own design takes everything else from the sidebar."
    )
    experiment_id = linked_experiment()
    state = experiment_state(get_manager(), experiment_id) if experiment_id else None
    choose_ui(base, me, live=bool(state and state.live))
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


def _choice_name(choice: str) -> str:
    return "Design your own" if choice == DESIGN else presets.preset(choice).title


def choose_ui(base: TrainConfig, me: Viewer, *, live: bool) -> None:
    """A preset (its settings said) or your own design; then the prediction and Start."""
    choice = st.radio(
        "Experiment",
        [*(p.id for p in presets.PRESETS), DESIGN],
        format_func=_choice_name,
        horizontal=True,
        key="exp_preset",
    )
    if choice == DESIGN:
        experiment = design_ui(base)
        if experiment is None:
            return
    else:
        chosen = presets.preset(choice)
        experiment = chosen.experiment()
        st.markdown(
            f"**{chosen.title}.** {chosen.setup[0].upper()}{chosen.setup[1:]}; "
            f"γ = {', '.join(f'{v:g}' for v in chosen.values[:-1])} and "
            f"{chosen.values[-1]:g} (a constant LR), each over the same {chosen.seeds} seeds. "
            "The sidebar's settings do not apply."
        )
    predict_and_start(experiment, me, live=live)


def design_ui(base: TrainConfig) -> experiments.Experiment | None:
    """What varies, its values and the seeds (the sidebar holds the rest); None if invalid."""
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
        return experiments.Experiment(
            TrainConfig.from_dict(base.to_dict()), vary, tuple(values), tuple(range(seeds))
        ).validated()
    except ValueError as err:
        st.error(f"This experiment cannot run: {err}", icon=":material/block:")
        return None


def predict_and_start(experiment: experiments.Experiment, me: Viewer, *, live: bool) -> None:
    """The prediction over the experiment's arms and the Start button."""
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
        f"{len(experiment.arms)} arms × {len(experiment.seeds)} seeds = {runs} runs of "
        f"{experiment.base.epochs} epochs, through the same queue as single runs."
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
    link_pins.set_param(EXP_KEY, experiment.experiment_id)


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
    """The experiment's progress, bands, LRs, table, verdicts and (once done) the reveal."""
    state = experiment_state(get_manager(), experiment_id)
    ended = state.runs - state.live
    st.progress(
        float(state.progress),
        text=f"{ended} of {state.runs} runs ended · experiment `{experiment_id}`",
    )
    points = state.points
    if not (points["epoch"] > 0).any():
        st.caption("The runs have started: the first epochs are on their way.")
    else:
        charts_ui(state, points)
        results_ui(state, points)
        if state.done:
            reveal_ui(experiment_id, points)
        else:
            guess = _predictions().predicted.get(experiment_id)
            if guess:
                st.caption(f"Your prediction: {guess}. The answer shows when every run has ended.")
    if was_live and not state.live:
        st.rerun(scope="app")  # all ended: the page redraws once (Start back) and stops polling


def charts_ui(state: ExperimentState, points: pd.DataFrame) -> None:
    """Test accuracy and loss per epoch (seeds as bands, decays marked) and the LR per batch."""
    band = experiments.bands(points)
    decays = experiments.arm_decays(band)
    if state.live:
        st.caption(
            "While runs train, the bands and the table hold only the seeds that every arm has "
            "finished, so that every point is a mean over the same seeds."
        )
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


def results_ui(state: ExperimentState, points: pd.DataFrame) -> None:
    """The results per arm, the per-seed differences and the engine's commentary on them."""
    table = experiments.results_table(points)
    if len(table):
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
    comparisons = pair_comparisons(points) if state.done else []
    if comparisons:
        show_chart(
            figs.paired_figure(comparisons),
            key="exp_paired_chart",
            subject="Final test accuracy differences between arms, one dot per seed",
        )
    lines = commentary(points, live=state.live, preset=state.preset)
    st.markdown("\n".join(f"- {line}" for line in lines))


def reveal_ui(experiment_id: str, points: pd.DataFrame) -> None:
    """The arm first by mean, how far its lead holds, the student's prediction and score."""
    predictions = _predictions()
    reveal = predictions.reveal(experiment_id, experiments.results_table(points))
    if not reveal.winners:
        return
    won = " and ".join(reveal.winners)
    head = f"Highest mean final test accuracy: {won}. {first_place_note(points)}".strip()
    text, score = st.columns([3, 1])
    if reveal.correct is None:
        text.info(f"{head} You made no prediction for this one.", icon=":material/flag:")
    elif reveal.correct:
        text.success(
            f"{head} You predicted {reveal.predicted}: right.",
            icon=":material/check_circle:",
        )
    else:
        text.warning(
            f"{head} You predicted {reveal.predicted}: not this time.",
            icon=":material/cancel:",
        )
    score.metric("Predictions right this session", f"{predictions.right} / {predictions.asked}")


def seed_script_section(config: TrainConfig) -> None:
    """The seed's program with the sidebar's values, its output example, and what is known of it."""
    st.subheader(":material/description: The seed's script, with these settings")
    code_on_demand(
        "Show the seed's script and its output",
        code_blocks.SEED_SCRIPT,
        lambda: _seed_script_blocks(config),
    )
    st.caption(data_note(load_mnist("bundled").n_train, full_data_present()))


def _seed_script_blocks(config: TrainConfig) -> None:
    """The seed's program with these settings beside the output the seed prints."""
    left, right = st.columns([3, 2])
    with left:
        # Shown as text: it downloads full MNIST, so it cannot run offline as the app's other
        # code blocks must; tests/test_seed_script.py runs it on the bundled digits instead.
        st.code(seed_script(config), language="text")
    with right:
        st.markdown("**The seed's output example** (as the seed prints it; values may vary)")
        st.code(SEED_OUTPUT, language="text")
