"""StepLR lab: what the formula alone does not teach, shown by running real PyTorch."""

from __future__ import annotations

import random

import pandas as pd
import streamlit as st

from steplr_viz import lab, schedule
from steplr_viz.figures import lab as figures
from steplr_viz.validation import check_int
from ui.chrome import page_setup
from ui.query import parse_number, warn_bad_query_params
from ui.schedule_controls import schedule_checks, schedule_controls

STEP_SIZE_MAX = 50
EPOCHS_MIN = 2  # resuming needs an epoch before and after the checkpoint
DEFAULTS = schedule.SEED_EXAMPLE
SECTIONS = (
    "1. Call order: scheduler.step() before optimizer.step()",
    "2. Per epoch or per batch",
    "3. get_lr() vs get_last_lr() vs the optimizer's LR",
    "4. Closed form vs chainable: the last bits",
    "5. Resuming: last_epoch, initial_lr and state_dict()",
    "6. Other schedules on the same axes",
    "7. Quiz: what is η_t?",
)
LR_FORMAT = {"format": "%.6g"}

# What each URL-bound widget accepts; a link with anything else gets a warning, never a crash.
URL_CHECKS = {
    **schedule_checks("lab_", STEP_SIZE_MAX),
    "lab_epochs": lambda t: check_int(
        "lab_epochs", parse_number(t), low=EPOCHS_MIN, high=lab.LAB_MAX_EPOCHS
    ),
}


# --------------------------------------------------------------------------- controls


def controls_ui() -> tuple[float, float, int, int, bool]:
    """Sidebar: the schedule every section shares, bound to the URL like the explorer's."""
    with st.sidebar:
        st.header("Schedule for the lab")
        base_lr, gamma, step_size = schedule_controls("lab_", step_size_max=STEP_SIZE_MAX)
        # A slider, not an int number_input: Streamlit 1.67 raises OverflowError when an int
        # number_input is seeded from a link carrying "inf" or "1e309".
        epochs = st.slider(
            "Horizon (epochs)",
            min_value=EPOCHS_MIN,
            max_value=lab.LAB_MAX_EPOCHS,
            value=DEFAULTS["epochs"],
            key="lab_epochs",
            bind="query-params",
        )
        log_y = st.toggle("Log scale for LR charts", key="lab_log_y")
        st.divider()
        st.caption(
            "Every curve on this page is recorded from a real `torch.optim.lr_scheduler` "
            "when you change a setting; nothing is typed in. The seed's example is the default."
        )
    return float(base_lr), float(gamma), int(step_size), int(epochs), bool(log_y)


def _clamp_state(key: str, low: int, high: int) -> None:
    """Pull a keyed widget's remembered value into [low, high] before it is drawn again."""
    # The sidebar can shrink a section's range (a shorter horizon); the widget must follow.
    value = st.session_state.get(key)
    if isinstance(value, int | float) and not low <= value <= high:
        st.session_state[key] = min(max(int(value), low), high)


def _int_slider(label: str, low: int, high: int, value: int, *, key: str) -> int:
    """An integer slider over [low, high]; with a single choice, just that choice as text."""
    if low >= high:  # st.slider refuses min == max, which a 2-epoch horizon produces
        st.caption(f"{label}: {low} (the only choice with this horizon)")
        return low
    _clamp_state(key, low, high)
    return int(st.slider(label, min_value=low, max_value=high, value=value, key=key))


def _decays(k: int) -> str:
    return f"{k} decay" if k == 1 else f"{k} decays"


def _percent(fraction: float) -> str:
    """0.01 -> '1%', 0.005 -> '0.5%': the share as the page's text states it."""
    return f"{fraction * 100:g}%"


def _chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, width="stretch")


# --------------------------------------------------------------------------- sections


def call_order_section(base_lr: float, gamma: float, step_size: int, epochs: int, log_y: bool):
    """1. The UserWarning torch emits for the wrong order and the curve it shifts."""
    st.header(SECTIONS[0], divider="gray")
    result = lab.call_order(base_lr, gamma, step_size, epochs)
    st.markdown(
        "Since PyTorch 1.1 the scheduler is stepped **after** the optimizer, once per epoch. "
        "Stepping it first moves the schedule one epoch ahead: epoch t trains with "
        "η₀·γ^⌊(t+1)/s⌋, so every decay comes one epoch early and η₀ is used for one epoch less. "
        "PyTorch notices on the first call and warns:"
    )
    st.code(
        result.warning or "(this PyTorch version emitted no warning)",
        language=None,
        wrap_lines=True,
    )
    _clamp_state("lab_order_epoch", 0, epochs - 1)
    chart_col, side_col = st.columns([3, 2], gap="large")
    with side_col:
        t = st.number_input(
            "Inspect epoch t",
            min_value=0,
            max_value=epochs - 1,
            value=min(step_size - 1, epochs - 1),
            key="lab_order_epoch",
            help="The default is the last epoch before the first decay: the wrong order "
            "already trains it with η₀·γ.",
        )
        t = int(t)
        left, right = st.columns(2)
        left.metric("Right order: LR at t", lab.format_lr(result.right[t]))
        right.metric(
            "Wrong order: LR at t",
            lab.format_lr(result.wrong[t]),
            delta="one epoch early" if result.wrong[t] != result.right[t] else None,
            delta_color="inverse",
            delta_arrow="off",
        )
        st.caption(
            f"Right: ⌊{t}/{step_size}⌋ = {_decays(t // step_size)}. "
            f"Wrong: ⌊{t + 1}/{step_size}⌋ = {_decays((t + 1) // step_size)}. "
            f"The right order made PyTorch emit {len(result.right_warnings)} warnings."
        )
    with chart_col:
        _chart(figures.call_order_figure(result, highlight_epoch=t, log_y=log_y), "lab_order_chart")


def stepping_section(base_lr: float, gamma: float, step_size: int) -> None:
    """2. The same step_size counted in batches instead of epochs."""
    st.header(SECTIONS[1], divider="gray")
    loaders = lab.loaders()
    counts = {key: lab.batches_per_epoch(n) for key, (_, n) in loaders.items()}
    full = counts["full"]
    bundled = (
        f" ({counts['bundled']} on the bundled {loaders['bundled'][1]:,} digits)"
        if "bundled" in loaders
        else ""
    )
    st.markdown(
        f"`StepLR` counts calls to `scheduler.step()`, not epochs. Put the call inside the batch "
        f"loop and `step_size = {step_size}` means {step_size} *batches*: the seed's loader "
        f"(`batch_size={lab.SEED_BATCH_SIZE}`) has ⌈{loaders['full'][1]:,}/"
        f"{lab.SEED_BATCH_SIZE}⌉ = {full} batches per epoch on full MNIST{bundled}, "
        f"so the LR is multiplied by γ {full // step_size} times within the first epoch alone, "
        f"where stepping per epoch would take {full // step_size * step_size} epochs for that."
    )
    left, right, _ = st.columns([2, 2, 1])
    source = left.radio(
        "Training data",
        options=list(loaders),
        format_func=lambda k: f"{loaders[k][0]} ({counts[k]} batches per epoch)",
        key="lab_batch_data",
        horizontal=True,
    )
    epochs = right.slider(
        "Epochs", min_value=2, max_value=lab.MAX_BATCH_EPOCHS, value=5, key="lab_batch_epochs"
    )
    columns, sims = {}, {}
    for key, (label, n_train) in loaders.items():
        sims[key] = sim = lab.per_batch_stepping(
            base_lr, gamma, step_size, int(epochs), counts[key]
        )
        columns[label] = _stepping_facts(sim, n_train)
    shown = sims[source]
    _chart(figures.stepping_figure(shown, log_y=True), "lab_batch_chart")
    # One column per loader, one row per fact: the numbers read across like a comparison.
    st.dataframe(pd.DataFrame(columns), width="stretch")
    low_epoch, low = shown.first_low_epoch(), _percent(shown.low_fraction)
    st.caption(
        "The chart is on a log scale because the per-batch LR falls through many decades; "
        "an LR of exactly 0.0 (float underflow) cannot be drawn on it. Stepped once per epoch, "
        + (
            f"the LR first drops below {low} of η₀ at epoch {low_epoch}."
            if low_epoch is not None
            else f"the LR stays above {low} of η₀ for all {epochs} epochs shown."
        )
    )


def _stepping_facts(sim: lab.Stepping, n_train: int) -> dict[str, str]:
    """What one loader's simulation shows, as display strings for the comparison table."""
    n = sim.batches_per_epoch

    def at_batch(batch: int | None) -> str:
        return (
            "not within these epochs" if batch is None else f"batch {batch:,} (epoch {batch // n})"
        )

    per_epoch_lr, per_batch_lr = sim.start_of_epoch(1)
    return {
        "training digits": f"{n_train:,}",
        "batches per epoch (len(loader))": f"{n:,}",
        f"per batch: LR below {_percent(sim.low_fraction)} of η₀ from": at_batch(
            sim.first_low_batch()
        ),
        "per batch: LR exactly 0.0 from": at_batch(sim.first_zero_batch()),
        "LR at epoch 1, stepped per epoch": lab.format_lr(per_epoch_lr),
        "LR at epoch 1, stepped per batch": lab.format_lr(per_batch_lr),
    }


def readings_section(base_lr: float, gamma: float, step_size: int, log_y: bool) -> None:
    """3. get_lr() read outside step() applies γ twice at a decay boundary."""
    st.header(SECTIONS[2], divider="gray")
    st.markdown(
        '`get_last_lr()` and `optimizer.param_groups[0]["lr"]` tell you the LR in use. '
        "`get_lr()` is the scheduler's internal rule for the *next* LR: StepLR multiplies the "
        "current LR by γ whenever `last_epoch` is a multiple of s. Called by hand right after the "
        "k-th decay it applies γ one time too many: it reports η₀·γ^(k+1) while η₀·γ^k is in use."
    )
    steps = st.slider(
        "Scheduler steps to read",
        min_value=2,
        max_value=lab.MAX_TABLE_STEPS,
        value=31,
        key="lab_getlr_steps",
    )
    result = lab.lr_readings(base_lr, gamma, step_size, int(steps))
    if result.warnings:
        st.markdown("Calling `get_lr()` outside `step()` also makes PyTorch warn:")
        st.code("\n".join(result.warnings), language=None, wrap_lines=True)
    _chart(figures.readings_figure(result, log_y=log_y), "lab_getlr_chart")
    table = pd.DataFrame(
        {
            "last_epoch": range(len(result.get_lr)),
            "get_last_lr()[0]": result.get_last_lr,
            'param_groups[0]["lr"]': result.param_group_lr,
            "get_lr()[0]": result.get_lr,
            "η₀·γ^⌊t/s⌋": result.closed_form,
            "get_lr() applies γ twice": ["⚠️ yes" if d else "" for d in result.doubled],
        }
    )
    lr_columns = ["get_last_lr()[0]", 'param_groups[0]["lr"]', "get_lr()[0]", "η₀·γ^⌊t/s⌋"]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(table), 320),
        column_config={c: st.column_config.NumberColumn(**LR_FORMAT) for c in lr_columns},
    )


def precision_section(base_lr: float) -> None:
    """4. Closed form against torch's repeated multiplication over many steps."""
    st.header(SECTIONS[3], divider="gray")
    st.markdown(
        "The formula computes η₀·γ^⌊t/s⌋ in one go; PyTorch's `StepLR.step()` instead multiplies "
        "the current LR by γ at each decay (the *chainable* form). Both are exact on paper, "
        "but each float multiplication rounds, so over many decays the two drift apart "
        "in the last bits: harmless for training, but a reason to compare LRs with a tolerance."
    )
    cols = st.columns(3)
    gamma = cols[0].number_input(
        "γ", min_value=0.01, max_value=1.0, value=0.9, step=0.01, key="lab_precision_gamma"
    )
    step_size = cols[1].number_input(
        "s", min_value=1, max_value=100, value=1, key="lab_precision_step"
    )
    steps = cols[2].select_slider(
        "Steps",
        options=[100, 1_000, 5_000, 10_000, lab.MAX_PRECISION_STEPS],
        value=1_000,
        format_func=lambda n: f"{n:,}",
        key="lab_precision_steps",
    )
    result = lab.closed_vs_chainable(base_lr, float(gamma), int(step_size), int(steps))
    metrics = st.columns(4)
    metrics[0].metric("Steps compared", f"{result.compared:,}")
    metrics[1].metric("Steps that differ", f"{result.differing:,}")
    metrics[2].metric("Largest relative error", f"{result.max_relative_error:.2e}")
    metrics[3].metric("Largest gap in ulps", f"{result.max_ulps:,}")
    if result.compared < len(result.closed_form):
        st.caption(
            f"{len(result.closed_form) - result.compared:,} steps are left out: the LR has "
            "underflowed below the smallest normal float, where ulps no longer mean anything."
        )
    _chart(figures.precision_figure(result), "lab_precision_chart")
    first = result.first_differing(8)
    if first:
        # 17 significant digits tell any two float64s apart; repr would stop where they agree.
        st.markdown("The first steps that differ, to 17 significant digits:")
        st.dataframe(
            pd.DataFrame(
                {
                    "step": first,
                    "closed form": [f"{result.closed_form[i]:.17g}" for i in first],
                    "PyTorch (chainable)": [f"{result.chainable[i]:.17g}" for i in first],
                    "ulps": [int(result.ulps[i]) for i in first],
                }
            ),
            hide_index=True,
            width="stretch",
        )


def resume_section(base_lr: float, gamma: float, step_size: int, epochs: int, log_y: bool):
    """5. Resuming: the KeyError without initial_lr, and an exact resume from state_dict()."""
    st.header(SECTIONS[4], divider="gray")
    k = _int_slider(
        "Resume at epoch k", 1, epochs - 1, min(epochs // 2 + 5, epochs - 1), key="lab_resume_at"
    )
    result = lab.resume(base_lr, gamma, step_size, epochs, int(k))
    st.markdown(
        f"`last_epoch` looks like the way to resume, but `StepLR(optimizer, {step_size}, "
        f"{gamma:g}, last_epoch={k - 1})` on a fresh optimizer raises the error below: StepLR "
        "keeps η₀ as `initial_lr` in the optimizer's param groups, and only a scheduler created "
        "earlier puts it there. The reliable way is to save `optimizer.state_dict()` and "
        "`scheduler.state_dict()` in the checkpoint and load both into freshly built objects; "
        "restarting without them starts the schedule over from η₀."
    )
    st.code(
        f"KeyError: {result.key_error}" if result.key_error else "(no KeyError in this version)",
        language=None,
        wrap_lines=True,
    )
    chart_col, side_col = st.columns([3, 2], gap="large")
    with chart_col:
        _chart(figures.resume_figure(result, log_y=log_y), "lab_resume_chart")
    with side_col:
        st.metric(
            "Resumed curve = uninterrupted curve",
            "yes, bit for bit" if result.identical else "no",
            help=f"Epochs {k}–{epochs - 1}, compared with ==.",
        )
        st.code(
            "checkpoint = {\n"
            '    "optimizer": optimizer.state_dict(),\n'
            '    "scheduler": scheduler.state_dict(),\n'
            "}\n"
            "# ... later, in a new process:\n"
            f"optimizer = torch.optim.SGD(model.parameters(), lr={base_lr:g})\n"
            f"scheduler = StepLR(optimizer, step_size={step_size}, gamma={gamma:g})\n"
            'optimizer.load_state_dict(checkpoint["optimizer"])\n'
            'scheduler.load_state_dict(checkpoint["scheduler"])',
            language="python",
        )


def comparison_section(base_lr: float, gamma: float, step_size: int, epochs: int, log_y: bool):
    """6. MultiStepLR, ExponentialLR, CosineAnnealingLR and ReduceLROnPlateau next to StepLR."""
    st.header(SECTIONS[5], divider="gray")
    st.markdown(
        "MultiStepLR with milestones at multiples of s is StepLR; ExponentialLR with γ^(1/s) "
        "decays a little every epoch and meets StepLR at each decay point; CosineAnnealingLR "
        "glides to 0 at the horizon. ReduceLROnPlateau (patience s − 1, factor γ) only decays "
        "once the scripted loss below stops improving. The seed names the last two as the more "
        "flexible choices."
    )
    left, right = st.columns([3, 2])
    show = left.multiselect(
        "Schedules", options=list(lab.SCHEDULES), default=list(lab.SCHEDULES), key="lab_compare"
    )
    with right:
        plateau_at = _int_slider(
            "Loss stops improving at epoch",
            1,
            epochs,
            max(1, epochs // 3),
            key="lab_compare_plateau",
        )
    result = lab.compare_schedules(base_lr, gamma, step_size, epochs, int(plateau_at))
    _chart(figures.comparison_figure(result, show=show, log_y=log_y), "lab_compare_chart")
    if gamma >= 1.0:
        st.caption("ReduceLROnPlateau needs γ < 1 as its factor, so it is left out for γ = 1.")
    elif result.plateau_held_by_eps():
        st.caption(
            f"ReduceLROnPlateau skips any cut smaller than its eps = {result.plateau_eps:g} "
            f"(torch's default), so it levels off at "
            f"{lab.format_lr(result.curve('ReduceLROnPlateau')[-1])} while StepLR ends at "
            f"{lab.format_lr(result.curve('StepLR')[-1])}."
        )
    chart_col, side_col = st.columns([3, 2], gap="large")
    with chart_col:
        _chart(figures.loss_figure(result), "lab_compare_loss")
    with side_col:
        st.metric(
            "ExponentialLR vs StepLR at decay points",
            f"{result.decay_point_gap():.1e} relative" if result.decay_point_gap() else "equal",
            help=f"ExponentialLR γ = {gamma:g}^(1/{step_size}) = {result.exponential_gamma:.6g}",
        )
        finals = pd.DataFrame(
            {
                "scheduler": [n for n, _ in result.curves],
                "final LR": [c[-1] for _, c in result.curves],
            }
        )
        st.dataframe(
            finals,
            hide_index=True,
            width="stretch",
            column_config={"final LR": st.column_config.NumberColumn(**LR_FORMAT)},
        )


# --------------------------------------------------------------------------- quiz


def _quiz_state() -> dict:
    """This session's quiz: its random source, question, last result and score."""
    state = st.session_state
    if "lab_quiz_question" not in state:
        state["lab_quiz_rng"] = random.Random()
        state["lab_quiz_question"] = lab.make_question(state["lab_quiz_rng"])
        state["lab_quiz_result"] = None
        state["lab_quiz_scored"] = False
        state["lab_quiz_score"] = {"right": 0, "asked": 0}
    return state


def _new_question() -> None:
    state = _quiz_state()
    state["lab_quiz_question"] = lab.make_question(state["lab_quiz_rng"])
    state["lab_quiz_answer"] = None  # allowed here: callbacks run before widgets are drawn
    state["lab_quiz_result"] = None
    state["lab_quiz_scored"] = False


def _check_answer() -> None:
    state = _quiz_state()
    given = state.get("lab_quiz_answer")
    if given is None:
        state["lab_quiz_result"] = "empty"
        return
    correct = lab.check_answer(given, state["lab_quiz_question"].answer)
    if not state["lab_quiz_scored"]:  # a question counts once: on its first check
        state["lab_quiz_score"]["asked"] += 1
        state["lab_quiz_score"]["right"] += int(correct)
        state["lab_quiz_scored"] = True
    state["lab_quiz_result"] = {"given": float(given), "correct": correct}


def quiz_section() -> None:
    """7. A random (η₀, γ, s, t): type η_t, check it, see ⌊t/s⌋ worked through."""
    st.header(SECTIONS[6], divider="gray")
    state = _quiz_state()
    question = state["lab_quiz_question"]
    st.markdown(
        "Count the periods completed before epoch t, k = ⌊t/s⌋ (epochs 0 to s − 1 are period 0), "
        "and the LR is η₀ multiplied by γ that many times: η_t = η₀·γ^k. " + lab.QUIZ_RULE
    )
    st.markdown(
        f"StepLR with **η₀ = {question.base_lr:g}**, **γ = {question.gamma:g}**, "
        f"**s = {question.step_size}**. What learning rate does epoch "
        f"**t = {question.epoch}** train with?"
    )
    answer_col, check_col, new_col, score_col = st.columns(
        [2, 1, 1, 1], vertical_alignment="bottom"
    )
    answer_col.number_input(
        f"η_{question.epoch} =",
        min_value=0.0,
        max_value=10.0,
        value=None,
        step=1e-4,
        format="%g",
        key="lab_quiz_answer",
        placeholder="type the learning rate",
    )
    check_col.button("Check", key="lab_quiz_check", on_click=_check_answer, type="primary")
    new_col.button("New question", key="lab_quiz_new", on_click=_new_question)
    score = state["lab_quiz_score"]
    score_col.metric("Score this session", f"{score['right']} / {score['asked']}")
    result = state["lab_quiz_result"]
    if result == "empty":
        st.info("Type a learning rate first, then check it.")
    elif result is not None:
        explanation = lab.explain(question)
        if result["correct"]:
            st.success(f"✅ Right! {explanation}")
        else:
            st.error(f"❌ Not quite: you gave {lab.format_lr(result['given'])}. {explanation}")


# --------------------------------------------------------------------------- page


def main() -> None:
    page_setup("StepLR lab", "🧪")
    st.title("🧪 StepLR lab")
    st.caption(
        "How `StepLR` behaves inside real PyTorch: the pitfalls and comparisons the formula "
        "η_t = η₀·γ^⌊t/s⌋ alone does not show. Each section runs torch's own schedulers."
    )
    warn_bad_query_params(URL_CHECKS)
    base_lr, gamma, step_size, epochs, log_y = controls_ui()
    call_order_section(base_lr, gamma, step_size, epochs, log_y)
    stepping_section(base_lr, gamma, step_size)
    readings_section(base_lr, gamma, step_size, log_y)
    precision_section(base_lr)
    resume_section(base_lr, gamma, step_size, epochs, log_y)
    comparison_section(base_lr, gamma, step_size, epochs, log_y)
    quiz_section()


# Streamlit runs a page as __main__; tests import it (runpy) to read its URL_CHECKS.
if __name__ == "__main__":
    main()
