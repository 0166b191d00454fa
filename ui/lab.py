"""The StepLR lab's sections: each reads its widgets, calls steplr_viz.lab, draws the result.

They live in a module rather than in the page for the reason ui/explorer.py gives: a module is
compiled once per process, a page script on every run; pages/2_StepLR_lab.py keeps the outline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from steplr_viz import lab
from steplr_viz.figures import lab as figures
from steplr_viz.schedules import steplr as schedule
from steplr_viz.validation import check_int
from ui import code_blocks
from ui.charts import show_chart
from ui.code_blocks import code_on_demand
from ui.query import one_of, parse_number
from ui.schedule_controls import schedule_checks, schedule_controls

if TYPE_CHECKING:  # a type only: st.tabs returns these
    from streamlit.elements.lib.mutable_tab_container import TabContainer

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
# One tab per section, its label in the URL (?lab_section=Resuming): a link opens that section.
TABS = ("Call order", "Per batch", "get_lr()", "Last bits", "Resuming", "Other schedules", "Quiz")
SECTION_KEY = "lab_section"
# A closed tab's widgets are not drawn; this keeps their values on the lab page meanwhile.
KEPT = "page"
LR_FORMAT = {"format": "%.6g"}
# The seed prints "Epoch 1" .. "Epoch 5" (range(1, epochs + 1)); the formula counts t from 0.
EPOCH_NUMBERS = (
    "Epochs count from t = 0, as the formula does: the seed's printout line “Epoch N” is "
    "epoch t = N − 1."
)

# What each URL-bound widget accepts; a link with anything else gets a warning, never a crash.
URL_CHECKS = {
    **schedule_checks("lab_", STEP_SIZE_MAX),
    "lab_epochs": lambda t: check_int(
        "lab_epochs", parse_number(t), low=EPOCHS_MIN, high=lab.LAB_MAX_EPOCHS
    ),
    SECTION_KEY: one_of(TABS, "the section"),
}


# --------------------------------------------------------------------------- helpers


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
            "when you change a setting; nothing is typed in. The seed's example is the default. "
            + EPOCH_NUMBERS
        )
    return float(base_lr), float(gamma), int(step_size), int(epochs), bool(log_y)


def section_tabs() -> Sequence[TabContainer]:
    """The sections as tabs, the open one bound to the URL; the page builds the open one only.

    Seven sections drawn at once made the lab's first chart wait for all seven (Plotly draws a
    page's charts together): with one section a load, the lab's reload is as quick as the other
    pages' (benchmarks/bench_pages.py). A closed section's widgets keep their values, so a
    student who comes back finds the section as they left it.
    """
    return st.tabs(TABS, key=SECTION_KEY, bind="query-params")


def _clamp_state(key: str, low: int, high: int) -> None:
    """Pull a keyed widget's remembered value into [low, high] before it is drawn again."""
    # The sidebar can shrink a section's range (a shorter horizon); the widget must follow.
    value = st.session_state.get(key)
    if isinstance(value, int | float) and not low <= value <= high:
        st.session_state[key] = min(max(int(value), low), high)


def _int_slider(label: str, low: int, high: int, value: int, *, key: str) -> int:
    """An integer slider over [low, high], kept while its tab is closed; with a single choice,
    just that choice as text."""
    if low >= high:  # st.slider refuses min == max, which a 2-epoch horizon produces
        st.caption(f"{label}: {low} (the only choice with this horizon)")
        return low
    _clamp_state(key, low, high)
    return int(
        st.slider(label, min_value=low, max_value=high, value=value, key=key, persist_state=KEPT)
    )


def _decays(k: int, gamma: float | None = None) -> str:
    """'2 decays'; with γ = 1 they are multiplications by 1, and said so (the facts count 0)."""
    if gamma == 1.0:
        return f"{k} multiplication{'' if k == 1 else 's'} by γ = 1 (no decay)"
    return f"{k} decay" if k == 1 else f"{k} decays"


def _percent(fraction: float) -> str:
    """0.01 -> '1%', 0.005 -> '0.5%': the share as the page's text states it."""
    return f"{fraction * 100:g}%"


def _chart(fig, key: str, subject: str) -> None:
    show_chart(fig, key=key, subject=subject)


def _torch_says(kind: str, message: str) -> None:
    """A message torch emitted, verbatim: plain text (markdown would turn >= into ≥), boxed."""
    with st.container(border=True):
        st.text(f"{kind}: {message}")  # not st.code: every code block the app shows must run


def _at_k(ks: list[int]) -> str:
    """'k = 10, 20' or 'no k'."""
    return "k = " + ", ".join(str(k) for k in ks) if ks else "no k"


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
    _torch_says("UserWarning", result.warning or "(this PyTorch version emitted no warning)")
    first = result.first_difference()
    default = epochs - 1 if first is None else first
    if first is not None:
        hint = (
            f"The default is epoch {first}, the last before the first decay: the wrong order "
            f"already trains it with {lab.format_lr(result.wrong[first])}, the right order "
            f"with {lab.format_lr(result.right[first])}."
        )
    elif gamma == 1.0:
        hint = (
            f"With γ = 1 both orders train every epoch with {lab.format_lr(result.right[-1])}: "
            "the wrong order still multiplies by γ one epoch early, but by 1, so nothing moves. "
            "The default is just the last epoch drawn."
        )
    else:
        hint = (
            f"Within these {epochs} epochs both orders train every epoch with "
            f"{lab.format_lr(result.right[-1])}: no decay falls inside the horizon even one "
            "epoch early, so the default is just the last epoch drawn."
        )
    _clamp_state("lab_order_epoch", 0, epochs - 1)
    chart_col, side_col = st.columns([3, 2], gap="large")
    with side_col:
        t = int(
            st.number_input(
                "Inspect epoch t",
                min_value=0,
                max_value=epochs - 1,
                value=default,
                key="lab_order_epoch",
                persist_state=KEPT,
                help=hint,
            )
        )
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
            f"Right: ⌊{t}/{step_size}⌋ = {_decays(t // step_size, gamma)}. "
            f"Wrong: ⌊{t + 1}/{step_size}⌋ = {_decays((t + 1) // step_size, gamma)}. "
            f"The right order made PyTorch emit {len(result.right_warnings)} warnings."
        )
    with chart_col:
        _chart(
            figures.call_order_figure(result, highlight_epoch=t, log_y=log_y),
            "lab_order_chart",
            "Call order: the LR per epoch, right order against scheduler.step() first",
        )


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
        persist_state=KEPT,
        horizontal=True,
    )
    with right:
        epochs = _int_slider("Epochs", 2, lab.MAX_BATCH_EPOCHS, 5, key="lab_batch_epochs")
    columns, sims = {}, {}
    for key, (label, n_train) in loaders.items():
        sims[key] = sim = lab.per_batch_stepping(
            base_lr, gamma, step_size, int(epochs), counts[key]
        )
        columns[label] = _stepping_facts(sim, n_train)
    shown = sims[source]
    _chart(
        figures.stepping_figure(shown, log_y=True),
        "lab_batch_chart",
        "Stepping per batch against per epoch: the LR over training",
    )
    # One column per loader, one row per fact: the numbers read across like a comparison.
    # The row labels' column is named, so a screen reader announces a header there too.
    st.dataframe(pd.DataFrame(columns).rename_axis("per loader"), width="stretch")
    low_epoch, low = shown.first_low_epoch(), _percent(shown.low_fraction)
    st.caption(
        "The chart is on a log scale because the per-batch LR falls through many decades; "
        "an LR of exactly 0.0 (float underflow) cannot be drawn on it. Stepped once per epoch, "
        + (
            f"the LR is first at most {low} of η₀ at epoch t = {low_epoch}, the line the "
            f"seed's printout calls “Epoch {low_epoch + 1}”."
            if low_epoch is not None
            else f"the LR stays above {low} of η₀ for all {epochs} epochs shown "
            f"(t = 0 to {epochs - 1})."
        )
        + " In the table, batches are counted from 1 (batch 1 is the first of training, as "
        "the training page's step axis counts them) and epochs from 0, as t in η_t."
    )


def _stepping_facts(sim: lab.Stepping, n_train: int) -> dict[str, str]:
    """What one loader's simulation shows, as display strings for the comparison table."""
    n = sim.batches_per_epoch

    def at_batch(index: int | None) -> str:
        """A batch index (from 0) as the table says it: its number counted from 1."""
        if index is None:
            return "not within these epochs"
        return f"batch {lab.batch_number(index):,} (in epoch t = {index // n})"

    per_epoch_lr, per_batch_lr = sim.start_of_epoch(1)
    return {
        "training digits": f"{n_train:,}",
        "batches per epoch (len(loader))": f"{n:,}",
        f"per batch: LR at most {_percent(sim.low_fraction)} of η₀ from": at_batch(
            sim.first_low_batch()
        ),
        "per batch: LR exactly 0.0 from": at_batch(sim.first_zero_batch()),
        "LR at the first batch of epoch t = 1, stepped per epoch": lab.format_lr(per_epoch_lr),
        "LR at the first batch of epoch t = 1, stepped per batch": lab.format_lr(per_batch_lr),
    }


def readings_section(base_lr: float, gamma: float, step_size: int, log_y: bool) -> None:
    """3. get_lr() read outside step() applies one γ too many at a decay boundary."""
    st.header(SECTIONS[2], divider="gray")
    st.markdown(
        '`get_last_lr()` and `optimizer.param_groups[0]["lr"]` tell you the LR in use. '
        "`get_lr()` is the scheduler's internal rule for the *next* LR: StepLR multiplies the "
        "current LR by γ whenever `last_epoch` is a non-zero multiple of s. Called by hand right "
        "after the k-th decay it applies γ one time too many: it reports η₀·γ^(k+1) while "
        "η₀·γ^k is in use."
    )
    steps = _int_slider(
        "Scheduler steps to read", 2, lab.MAX_TABLE_STEPS, 31, key="lab_getlr_steps"
    )
    result = lab.lr_readings(base_lr, gamma, step_size, int(steps))
    if result.warnings:
        st.markdown("Calling `get_lr()` outside `step()` also makes PyTorch warn:")
        _torch_says("UserWarning", "\n".join(result.warnings))
    _chart(
        figures.readings_figure(result, log_y=log_y),
        "lab_getlr_chart",
        "get_lr() against get_last_lr() and the LR in use, per scheduler step",
    )
    table = pd.DataFrame(
        {
            "last_epoch": range(len(result.get_lr)),
            "get_last_lr()[0]": result.get_last_lr,
            'param_groups[0]["lr"]': result.param_group_lr,
            "get_lr()[0]": result.get_lr,
            "η₀·γ^⌊t/s⌋": result.closed_form,
            "get_lr() applies one γ too many": [
                "yes" if extra else "" for extra in result.one_gamma_too_many
            ],
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


def _first_difference_text(result: lab.Precision) -> str:
    """Where the two forms first part, as computed (never a general claim)."""
    first = result.first_differing(1)
    if not first:
        return (
            f"with the settings below they agree bit for bit at all "
            f"{len(result.closed_form):,} steps"
        )
    t = first[0]
    return (
        f"with the settings below they first differ at step t = {t}, after "
        f"{_decays(result.first_differing_decays())}, by {int(result.ulps[t])} ulp"
        + ("s" if int(result.ulps[t]) != 1 else "")
    )


def precision_section(base_lr: float) -> None:
    """4. Closed form against torch's repeated multiplication over many steps."""
    st.header(SECTIONS[3], divider="gray")
    intro = st.empty()  # written once the result below is known: its numbers are computed
    cols = st.columns(3)
    gamma = cols[0].number_input(
        "γ",
        min_value=0.01,
        max_value=1.0,
        value=0.9,
        step=0.01,
        key="lab_precision_gamma",
        persist_state=KEPT,
    )
    step_size = cols[1].number_input(
        "s", min_value=1, max_value=100, value=1, key="lab_precision_step", persist_state=KEPT
    )
    steps = cols[2].select_slider(
        "Steps",
        options=[100, 1_000, 5_000, 10_000, lab.MAX_PRECISION_STEPS],
        value=1_000,
        format_func=lambda n: f"{n:,}",
        key="lab_precision_steps",
        persist_state=KEPT,
    )
    result = lab.closed_vs_chainable(base_lr, float(gamma), int(step_size), int(steps))
    intro.markdown(
        "The formula computes η₀·γ^⌊t/s⌋ in one go (torch's own closed form, in Python floats); "
        "PyTorch's `StepLR.step()` instead multiplies the current LR by γ at each decay (the "
        "*chainable* form). Both are exact on paper, but each float multiplication rounds, so "
        f"the two can part in the last bits: {_first_difference_text(result)}. Such gaps are "
        "harmless for training, but a reason to compare LRs with a tolerance."
    )
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
    _chart(
        figures.precision_figure(result),
        "lab_precision_chart",
        "Closed form against chained multiplication: their difference in ulps, step by step",
    )
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


RESUME_COLUMNS = {
    "state_dicts": "both state_dicts loaded",
    "last_epoch": "optimizer state + last_epoch=k−1",
    "initial_lr_by_hand": "initial_lr by hand + last_epoch=k−1",
}


def resume_cases_table(result: lab.Resume, step_size: int) -> pd.DataFrame:
    """One row per k: the LR epoch k trains with each way, ✓ if the whole rest is exact."""
    rows = []
    for case in result.cases:
        k = case.resume_at
        row = {
            "resume at k": f"{k} (decay boundary)" if k % step_size == 0 else f"{k}",
            "uninterrupted": lab.format_lr(case.uninterrupted[0]),
        }
        for way, label in RESUME_COLUMNS.items():
            mark = "✓" if case.exact(way) else "✗"
            row[label] = f"{lab.format_lr(getattr(case, way)[0])} {mark}"
        rows.append(row)
    return pd.DataFrame(rows)


def resume_section(base_lr: float, gamma: float, step_size: int, epochs: int, log_y: bool):
    """5. Resuming: the KeyError, last_epoch's off-by-one-γ trap, an exact state_dict() resume."""
    st.header(SECTIONS[4], divider="gray")
    k = _int_slider(
        "Resume at epoch k", 1, epochs - 1, min(epochs // 2 + 5, epochs - 1), key="lab_resume_at"
    )
    result = lab.resume(base_lr, gamma, step_size, epochs, int(k))
    st.markdown(
        f"`last_epoch` looks like the way to resume, but `StepLR(optimizer, {step_size}, "
        f"{gamma:g}, last_epoch={k - 1})` on a fresh optimizer raises the error below: StepLR "
        "keeps η₀ as `initial_lr` in the optimizer's param groups, which a scheduler writes "
        "there and `optimizer.load_state_dict()` restores. Even then `last_epoch` is a trap: "
        "the constructor takes one `step()` itself, which applies γ once more when k is a "
        f"decay boundary, and {_by_hand_text(gamma, step_size)} "
        "The reliable way is to save `optimizer.state_dict()` and "
        "`scheduler.state_dict()` in the checkpoint and load both into freshly built objects."
    )
    _torch_says("KeyError", result.key_error or "(no KeyError in this version of PyTorch)")
    st.markdown("The LR epoch k trains with after each way of resuming, run by torch now:")
    st.dataframe(resume_cases_table(result, step_size), hide_index=True, width="stretch")
    st.caption(_resume_verdict(result))
    chart_col, side_col = st.columns([3, 2], gap="large")
    with chart_col:
        _chart(
            figures.resume_figure(result, log_y=log_y),
            "lab_resume_chart",
            "Resuming a run: the LR per epoch for each way of resuming",
        )
    with side_col:
        st.metric(
            "Resumed curve = uninterrupted curve",
            "yes, bit for bit" if result.identical else "no",
            help=f"Epochs {k}–{epochs - 1}, compared with ==.",
        )
        st.caption(
            "The code below does it: it trains to epoch k, saves a checkpoint, builds everything "
            "afresh and loads it. It runs as is and prints the LR epoch k trains with."
        )
    code_on_demand(
        "Show the code that resumes at epoch k",
        code_blocks.LAB_RESUME,
        lambda: st.code(lab.resume_code(base_lr, gamma, step_size, int(k)), language="python"),
    )


def _by_hand_text(gamma: float, step_size: int) -> str:
    """What `initial_lr` set by hand gives back (the table's ✓/✗ column, in words)."""
    if gamma == 1.0:
        return (
            "`initial_lr` typed in by hand on a fresh optimizer starts again from η₀, which "
            "with γ = 1 is the LR every epoch trains with anyway."
        )
    return (
        "`initial_lr` typed in by hand on a fresh optimizer starts again from η₀, so of the "
        "decays taken so far just the one γ of the constructor's comes back: it is right while "
        f"at most one decay has been taken (k ≤ s = {step_size}) and one or more decays short "
        "after that."
    )


def _resume_verdict(result: lab.Resume) -> str:
    """Which k each way got wrong, as computed: ✓ means the rest of the run is exact."""
    wrong = {way: [c.resume_at for c in result.cases if not c.exact(way)] for way in RESUME_COLUMNS}
    return (
        "✓: every later epoch equals the uninterrupted run bit for bit; ✗: it does not. "
        f"Wrong here with `last_epoch` and the optimizer's state: {_at_k(wrong['last_epoch'])}; "
        f"with `initial_lr` by hand: {_at_k(wrong['initial_lr_by_hand'])}; "
        f"with both state_dicts: {_at_k(wrong['state_dicts'])}."
    )


def comparison_section(base_lr: float, gamma: float, step_size: int, epochs: int, log_y: bool):
    """6. MultiStepLR, ExponentialLR, CosineAnnealingLR and ReduceLROnPlateau next to StepLR."""
    st.header(SECTIONS[5], divider="gray")
    intro = st.empty()  # the cosine's end is computed below
    left, right = st.columns([3, 2])
    show = left.multiselect(
        "Schedules",
        options=list(lab.SCHEDULES),
        default=list(lab.SCHEDULES),
        key="lab_compare",
        persist_state=KEPT,
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
    cosine = result.curve("CosineAnnealingLR")
    intro.markdown(
        "MultiStepLR with milestones at multiples of s is StepLR; ExponentialLR with γ^(1/s) "
        "decays a little every epoch and meets StepLR at each decay point; CosineAnnealingLR "
        f"(T_max = {epochs}) glides down to {lab.format_lr(cosine[-1])} at the last epoch drawn "
        f"and reaches {lab.format_lr(result.cosine_after_horizon)} one epoch later, at t = "
        f"{epochs}. ReduceLROnPlateau (patience s − 1, factor γ) only decays once the scripted "
        "loss below stops improving. The seed names the last two as the more flexible choices."
    )
    _chart(
        figures.comparison_figure(result, show=show, log_y=log_y),
        "lab_compare_chart",
        "StepLR beside other schedulers: the LR per epoch",
    )
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
        _chart(
            figures.loss_figure(result),
            "lab_compare_loss",
            "The test loss per epoch under each scheduler",
        )
    with side_col:
        gap = result.decay_point_gap()
        st.metric(
            "ExponentialLR vs StepLR at decay points",
            "no decay point to compare"
            if gap is None
            else (f"{gap:.1e} relative" if gap else "equal"),
            help=f"ExponentialLR γ = {gamma:g}^(1/{step_size}) = {result.exponential_gamma:.6g}; "
            f"{len(result.decay_points())} decay points within the horizon compared.",
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


def _quiz() -> lab.Quiz:
    """This session's quiz (the engine keeps its question and score)."""
    if "lab_quiz" not in st.session_state:
        st.session_state["lab_quiz"] = lab.Quiz()
    return st.session_state["lab_quiz"]


def _new_question() -> None:
    _quiz().next_question()
    st.session_state["lab_quiz_answer"] = None  # allowed here: callbacks run before widgets


def _check_answer() -> None:
    _quiz().check(st.session_state.get("lab_quiz_answer"))


def quiz_section() -> None:
    """7. A random (η₀, γ, s, t): type η_t, check it, see ⌊t/s⌋ worked through."""
    st.header(SECTIONS[6], divider="gray")
    quiz = _quiz()
    question = quiz.question
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
        persist_state=KEPT,
        placeholder="type the learning rate",
    )
    check_col.button("Check", key="lab_quiz_check", on_click=_check_answer, type="primary")
    new_col.button("New question", key="lab_quiz_new", on_click=_new_question)
    score_col.metric("Score this session", f"{quiz.right} / {quiz.asked}")
    checked = quiz.last
    if checked is None:
        return
    if checked.given is None:
        st.info("Type a learning rate first, then check it.")
    elif checked.correct:
        st.success(f"Right! {lab.explain(question)}", icon=":material/check_circle:")
    else:
        st.error(
            f"Not quite: you gave {lab.format_lr(checked.given)}. {lab.explain(question)}",
            icon=":material/cancel:",
        )
