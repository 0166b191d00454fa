"""The presenter page's sections: present mode, the step navigation, each step's body, the class's
answers and the join-the-class code. Every number comes from steplr_viz.guided_path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from steplr_viz import experiments, guided_path, join, lab, schedule
from steplr_viz.class_answers import ClassAnswers, check_class_id, new_class_id
from steplr_viz.figures import lab as lab_figs
from steplr_viz.figures import present as figs
from steplr_viz.figures.cache import snapshot_view, view_charts
from steplr_viz.figures.schedule import staircase_figure
from steplr_viz.figures.style import new_figure
from steplr_viz.guided_path import Question, Settings, Step
from steplr_viz.registry import ClassFullError
from steplr_viz.run_view import RunView, poll_seconds
from steplr_viz.runs import check_run_id
from steplr_viz.trainer import TrainConfig
from steplr_viz.validation import check_int
from ui.query import parse_bool, parse_number
from ui.runs import get_manager
from ui.schedule_controls import schedule_checks, schedule_controls

PAGE_PATH = "Present"  # Streamlit's URL path for pages/3_Present.py
STEP_SIZE_MAX = 100
OPEN_CLASS = "000000"  # where a student who came without a class link answers
ANSWER_POLL_SECONDS = 1.0
QR_WIDTH = 320
BODY_CHART_HEIGHT = 300  # with the idea's text above it, one screen at 1280×720
ANSWERS_CHART_HEIGHT = 220


# What a link may set on this page; anything else gets a warning, never a crash.
URL_CHECKS = {
    **schedule_checks("", STEP_SIZE_MAX),  # the teacher's η₀, γ, s: the explorer's own keys
    "present": parse_bool,
    "step": lambda t: check_int("step", parse_number(t), low=1, high=guided_path.STEP_COUNT),
    "class": check_class_id,
    "run": check_run_id,
    "exp": check_run_id,  # the comparison's experiment id (made like a run id)
}

# Large type for the back of the room, in sizes only: the theme's colours (light or dark) stay.
PRESENT_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.6rem; padding-bottom: 1rem; }
[data-testid="stMain"] h1 { font-size: 2.9rem; }
[data-testid="stMain"] h2 { font-size: 2.3rem; }
[data-testid="stMain"] h3 { font-size: 2rem; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li {
  font-size: 1.4rem; line-height: 1.4;
}
[data-testid="stMain"] .katex { font-size: 1.5em; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.2rem; }
[data-testid="stMain"] button p { font-size: 1.35rem; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stPopoverBody"] code { font-size: 1.15rem; }
</style>"""

# Arrow keys and a presenter's clicker (PageUp/PageDown) press the Previous/Next buttons, so a
# key does exactly what a click does. Keys typed into a field or on a slider are left alone;
# a toggle just clicked keeps the focus but has no use for arrows.
KEYS_JS = """
export default function (component) {
  const keys = { ArrowRight: "next", PageDown: "next", ArrowLeft: "prev", PageUp: "prev" };
  const onKey = (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    const typing = target && (target.isContentEditable || ["TEXTAREA", "SELECT"].includes(
      target.tagName) || target.getAttribute("role") === "slider" || (target.tagName === "INPUT"
      && !["checkbox", "button", "submit"].includes(target.type)));
    if (typing) return;
    const which = keys[event.key];
    if (!which) return;
    const button = document.querySelector(`.st-key-present_${which} button`);
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
"""
_arrow_keys = st.components.v2.component("steplr_viz_present_keys", js=KEYS_JS)


@st.cache_resource(show_spinner=False)
def get_class_answers() -> ClassAnswers:
    """One tally per server process: every student's session adds to what the projector reads."""
    return ClassAnswers()


# --------------------------------------------------------------------------- URL state


def current_step() -> int:
    """The step in the link (1 when absent; warn_bad_query_params has dropped a bad one)."""
    raw = st.query_params.get("step")
    try:
        return URL_CHECKS["step"](raw) if raw else 1
    except ValueError:
        return 1


def go_to(number: int) -> None:
    """Show step `number`: it lives in the link, so each step has its own address."""
    st.query_params["step"] = str(number)


def class_session(present: bool) -> str:
    """The class session in the link; the teacher's screen makes one when there is none."""
    raw = st.query_params.get("class")
    try:
        return check_class_id(raw)
    except ValueError:
        if not present:
            return OPEN_CLASS
        class_id = new_class_id()
        st.query_params["class"] = class_id
        return class_id


def quiz_seed(class_id: str) -> int:
    """The same closing quiz for everyone in a class, a different one for the next class."""
    return int(class_id, 16)


def linked_id(key: str) -> str | None:
    """The run ('run') or experiment ('exp') id carried in the link, if a valid one."""
    raw = st.query_params.get(key)
    try:
        return check_run_id(raw) if raw else None
    except ValueError:
        return None  # warn_bad_query_params has said so


# --------------------------------------------------------------------------- chrome


def settings_ui() -> Settings:
    """The teacher's η₀, γ and s in the sidebar, bound to the link (the explorer's keys)."""
    with st.sidebar:
        st.header("Teacher's settings")
        base_lr, gamma, step_size = schedule_controls("", step_size_max=STEP_SIZE_MAX)
        st.caption("Step 2 draws these; the join code carries them to every student.")
    return Settings(base_lr, gamma, step_size)


def present_mode(present: bool) -> None:
    """Large type and a collapsed sidebar in present mode; the page as usual otherwise."""
    st.set_page_config(initial_sidebar_state="collapsed" if present else "auto")
    if present:
        st.html(PRESENT_CSS)


def nav_ui(number: int) -> tuple[bool, DeltaGenerator]:
    """Previous, Next, where we are and the present toggle; returns present and the row."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.button(
        "◀ Previous", key="present_prev", on_click=go_to, args=(number - 1,), disabled=number <= 1
    )
    row.button(
        "Next ▶",
        key="present_next",
        type="primary",
        on_click=go_to,
        args=(number + 1,),
        disabled=number >= guided_path.STEP_COUNT,
    )
    row.markdown(f"**Step {number} of {guided_path.STEP_COUNT}**", width="content")
    with row:
        _arrow_keys(key="present_keys", width="content")
    present = row.toggle(
        "Present mode",
        key="present",
        bind="query-params",
        help="Large type for a projector; ← and → (or a clicker) move between steps.",
    )
    return present, row


# --------------------------------------------------------------------------- step bodies


def projected(fig: go.Figure, present: bool) -> go.Figure:
    """The figure as drawn: a projector-sized copy in present mode (cached figures stay put)."""
    if not present:
        return fig
    spec = fig.to_dict()
    return figs.for_projector(new_figure(spec["data"], spec["layout"]), height=BODY_CHART_HEIGHT)


def chart(fig: go.Figure, key: str, present: bool) -> None:
    st.plotly_chart(projected(fig, present), key=key, width="stretch")


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
    manager = get_manager()
    snap = manager.snapshot(run_id) or manager.final_snapshot(run_id)
    if snap is not None:
        return snapshot_view(run_id, snap)
    record = manager.store.get_run(run_id)
    return None if record is None else RunView.from_record(record)


def submit_run() -> None:
    """Start the seed's run through the process-wide run manager; its id goes into the link."""
    try:
        st.query_params["run"] = get_manager().submit(TrainConfig())
    except (ClassFullError, ValueError, RuntimeError) as err:
        st.session_state["present_run_error"] = str(err)


def submit_comparison() -> None:
    """Start the default experiment (every arm, every seed); its id goes into the link."""
    experiment = guided_path.comparison_experiment()
    try:
        experiments.submit_experiment(get_manager(), experiment)
    except (ClassFullError, ValueError, RuntimeError) as err:
        st.session_state["present_run_error"] = str(err)
        return
    st.query_params["exp"] = experiment.experiment_id


def final_accuracy(view: RunView | None) -> float | None:
    """The last epoch's test accuracy of a finished run (None before it finished)."""
    if view is None or view.status != "finished" or not len(view.epochs):
        return None
    return float(view.epochs["test_acc"].iloc[-1])


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


def _compare_body(settings: Settings, present: bool, question: Question | None):
    experiment_id = linked_id("exp")
    state = comparison_state(experiment_id)
    st.button(
        "Start the runs",
        icon=":material/play_arrow:",
        key="present_start_compare",
        type="primary",
        disabled=state.live,
        on_click=submit_comparison,
    )
    _run_error()
    if experiment_id is None:
        st.caption("No runs yet: Start trains the seed's script for every γ and seed.")
        return question
    panel = st.fragment(_compare_panel, run_every=1.0 if state.live else None)
    panel(experiment_id, present, state.live)
    truth = guided_path.comparison_answer(state.accuracies) if state.done else None
    return None if question is None else replace(question, answer=truth)


@dataclass(frozen=True)
class ComparisonState:
    """Where the comparison's runs stand: counted, any still live, all done, mean accuracies."""

    runs: int
    live: bool
    done: bool
    accuracies: list[float | None]
    points: pd.DataFrame


def comparison_state(experiment_id: str | None) -> ComparisonState:
    """The comparison's runs as the store and the run manager have them now."""
    if experiment_id is None:
        return ComparisonState(0, False, False, [None] * len(guided_path.COMPARE_GAMMAS), None)
    manager = get_manager()
    run_ids = experiments.experiment_run_ids(manager.store, experiment_id)
    live = bool(set(run_ids) & set(manager.live_run_ids()))
    points = experiments.points_from_store(manager.store, experiment_id)
    expected = len(guided_path.comparison_experiment().configs())
    done = not live and len(run_ids) == expected
    return ComparisonState(len(run_ids), live, done, guided_path.arm_accuracies(points), points)


def _compare_panel(experiment_id: str, present: bool, was_live: bool) -> None:
    state = comparison_state(experiment_id)
    if not state.runs:
        st.info("Those runs no longer exist. Start them again.")
        return
    points = state.points
    if len(points):
        table = experiments.results_table(points)
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
            }
        )
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            column_config={
                "final test accuracy (%)": st.column_config.NumberColumn(format="%.2f"),
                "± std over seeds": st.column_config.NumberColumn(format="%.2f"),
            },
        )
        band = experiments.bands(points)
        curves = [
            (labels.get(str(arm), str(arm)), g["epoch"].tolist(), g["test_acc_mean"].tolist())
            for arm, g in band.groupby("arm", observed=True, sort=False)
        ]
        chart(figs.accuracy_figure(curves), "present_chart_compare", present)
        if not state.live:
            st.markdown("\n".join(f"- {line}" for line in experiments.commentary(points)))
    else:
        st.caption(f"{state.runs} runs started: the first epochs are on their way.")
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


# --------------------------------------------------------------------------- class answers


def _record_answer(class_id: str, question: Question, choice: int) -> None:
    """A student's answer: counted in the class tally, remembered only in their own session."""
    mine = f"present_mine_{class_id}_{question.id}"
    previous = st.session_state.get(mine)
    get_class_answers().answer(class_id, question.id, len(question.choices), choice, previous)
    st.session_state[mine] = choice


def question_ui(question: Question | None, class_id: str, present: bool) -> None:
    """The step's question: live counts on the projector, answer buttons on a student's device."""
    if question is None:
        return
    st.markdown(f"**{question.text}**")
    if present:
        # Remembered beyond the toggle: a widget not drawn on the next step loses its state.
        revealed = st.session_state.setdefault("present_revealed", set())
        reveal = st.toggle(
            "Show the answer",
            key=f"present_reveal_{question.id}",
            value=question.id in revealed,
            on_change=_remember_reveal,
            args=(question.id,),
        )
        st.fragment(_answers_panel, run_every=ANSWER_POLL_SECONDS)(class_id, question, reveal)
        return
    mine = st.session_state.get(f"present_mine_{class_id}_{question.id}")
    for i, choice in enumerate(question.choices):
        st.button(
            choice,
            key=f"present_answer_{i}",
            type="primary" if mine == i else "secondary",
            width="stretch",
            on_click=_record_answer,
            args=(class_id, question, i),
        )
    if mine is not None and mine < len(question.choices):
        st.success(
            f"Your answer: **{question.choices[mine]}**. Watch the projector for the class's.",
            icon=":material/check_circle:",
        )
    else:
        st.caption("Tap your prediction: only the count per answer is kept, never who said what.")


def _remember_reveal(question_id: str) -> None:
    revealed = st.session_state.setdefault("present_revealed", set())
    if st.session_state[f"present_reveal_{question_id}"]:
        revealed.add(question_id)
    else:
        revealed.discard(question_id)


def _answers_panel(class_id: str, question: Question, reveal: bool) -> None:
    counts = get_class_answers().counts(class_id, question.id, len(question.choices))
    total = sum(counts)
    fig = figs.answers_figure(question.choices, counts, question.answer, reveal=reveal)
    st.plotly_chart(figs.for_projector(fig, height=300), key="present_answers", width="stretch")
    st.caption(f"{total} answer{'s' if total != 1 else ''} in class `{class_id}`")
    if reveal:
        if question.answer is None:
            st.markdown(f"**Answer:** not known yet. {question.explanation}")
        else:
            st.markdown(f"**Answer: {question.choices[question.answer]}.** {question.explanation}")


# --------------------------------------------------------------------------- join the class


def join_params(number: int, class_id: str) -> dict[str, str]:
    """The current view's link for a student: everything in the URL but present mode."""
    params = {k: v for k, v in st.query_params.to_dict().items() if k != "present"}
    params.update(step=str(number), **{"class": class_id})
    return params


def join_ui(number: int, class_id: str, where: DeltaGenerator) -> None:
    """A QR code and the address of this view, for the students' own devices."""
    with where.popover("Join the class", icon=":material/qr_code_2:"):
        typed = st.text_input(
            "Address students use (optional)",
            key="present_public_url",
            placeholder="https://my-server.example:8501",
            help=f"Else {join.PUBLIC_URL_ENV}, else this server's address on the local network.",
        )
        public = typed.strip() or join.env_public_url()
        try:
            base = join.base_url(
                public, st.get_option("server.port"), st.get_option("server.baseUrlPath")
            )
        except ValueError as err:
            st.warning(f"That address cannot be used: {err}.", icon=":material/warning:")
            return
        if base is None:
            st.info(
                "This computer has no network address students can reach. Set "
                f"{join.PUBLIC_URL_ENV} or type the address above.",
                icon=":material/wifi_off:",
            )
            return
        url = join.join_url(base, PAGE_PATH, join_params(number, class_id))
        st.image(join.qr_png(url), width=QR_WIDTH)
        st.markdown(f"`{url}`")
