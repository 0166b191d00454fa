"""The schedule explorer's sections: each reads its widgets, calls the engine, draws the result.

They live in a module rather than in app.py because a module is compiled once per process, while
a page script is compiled again on every AppTest run; app.py keeps the page's outline.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd
import streamlit as st

from steplr_viz.figures.schedule import PinnedCurve
from steplr_viz.schedules import steplr as schedule
from steplr_viz.schedules.torch_import import import_torch_soon, torch_ready
from steplr_viz.validation import check_int
from ui.chrome import focusable_code
from ui.query import parse_bool, parse_number
from ui.schedule_controls import STEP_SIZE_MAX, schedule_checks, schedule_controls
from ui.widgets import int_input

DEFAULTS = schedule.SEED_EXAMPLE
MAX_PINS = 6
# The horizon slider's end: a drag moves a few epochs per pixel, not 40 (arrow keys step by one).
HORIZON_MAX = 1_000
# The decay table opens first: highlighting the code's Python costs the browser more than
# drawing the chart (~1.5 s of main thread on two busy cores), and a reload must not wait on it.
EXPORT_TABS = ["Decay table", "PyTorch code", "Download CSV"]
# The sliders whose drag the chart follows (ui/drag_preview.py), by the names its script uses.
CONTROL_KEYS = {"baseLr": "lr0", "gamma": "gamma", "stepSize": "step_size", "epochs": "epochs"}

# What each URL-bound widget accepts; a link with anything else gets a warning, never a crash.
URL_CHECKS = {
    **schedule_checks("", STEP_SIZE_MAX),
    "epochs": lambda t: check_int("epochs", parse_number(t), low=1, high=HORIZON_MAX),
    "t": lambda t: check_int("t", parse_number(t), low=0, high=HORIZON_MAX - 1),
    "log_y": parse_bool,
    "show_torch": parse_bool,
}


def controls_ui() -> tuple[float, float, int, int]:
    """Sidebar widgets for η₀, γ, s and the horizon, bound to the URL so a link reproduces them."""
    with st.sidebar:
        st.header("StepLR settings")
        base_lr, gamma, step_size = schedule_controls(
            "", step_size_max=STEP_SIZE_MAX, step_size_label="Step size s (epochs between decays)"
        )
        # A slider like the others, so the chart can follow it while it is dragged.
        epochs = st.slider(
            "Horizon (epochs shown)",
            min_value=1,
            max_value=HORIZON_MAX,
            value=DEFAULTS["epochs"],
            key="epochs",
            bind="query-params",
        )
        st.caption(
            "The seed's example is the default: η₀ = 0.1, γ = 0.5, s = 10. "
            "Copy the page's address to share exactly this view."
        )
    return float(base_lr), float(gamma), int(step_size), int(epochs)


def pinned_curves() -> list[PinnedCurve]:
    """The curves this student pinned (session state: pins are personal, not shared)."""
    return list(st.session_state.setdefault("pins", []))


def _pin(base_lr: float, gamma: float, step_size: int, epochs: int) -> None:
    pins: list[PinnedCurve] = st.session_state.setdefault("pins", [])
    lrs = schedule.lr_curve(base_lr, gamma, step_size, epochs)  # on click only, not every rerun
    pin = PinnedCurve(base_lr, gamma, step_size, tuple(lrs.tolist()))
    if all(p.label != pin.label for p in pins):
        pins.append(pin)
        del pins[:-MAX_PINS]  # keep the newest few: a chart of 50 pins teaches nothing


def _clear_pins() -> None:
    st.session_state["pins"] = []


def chart_controls_ui(
    base_lr: float, gamma: float, step_size: int, epochs: int, *, has_pins: bool
) -> tuple[bool, bool]:
    """One row above the chart: log scale and PyTorch's overlay toggles, pin and clear buttons.

    Returns (log_y, show_torch). The buttons' callbacks run before the next rerun draws.
    """
    row = st.container(horizontal=True, gap="small", vertical_alignment="center")
    log_y = row.toggle("Log scale", key="log_y", bind="query-params")
    show_torch = row.toggle("PyTorch's curve", value=True, key="show_torch", bind="query-params")
    row.button(
        "Pin curve",
        icon=":material/push_pin:",
        key="pin",
        on_click=_pin,
        args=(base_lr, gamma, step_size, epochs),
    )
    if has_pins:  # offered once there is something to clear: one widget less on every rerun
        row.button(
            "Clear pins", icon=":material/clear_all:", key="clear_pins", on_click=_clear_pins
        )
    return log_y, show_torch


# How often the page asks whether torch has finished loading, on a cold start only.
TORCH_POLL_S = 0.5
# The import starts a moment after the first run has drawn, so it leaves the interpreter to the
# messages that carry the first paint.
TORCH_IMPORT_DELAY_S = 0.3


def torch_curve_ready() -> bool:
    """Whether PyTorch's curve can be drawn now; if not, draw a note that reruns once it can.

    On a server's cold start `import torch` takes seconds: the page shows the closed form at
    once, imports torch in the background and reruns when it is there, adding PyTorch's curve.
    """
    if torch_ready():
        return True
    st.fragment(_wait_for_torch, run_every=TORCH_POLL_S)()
    return False


def load_torch_after_paint() -> None:
    """Called at the end of the page: import torch in the background if this run went without."""
    if not torch_ready():
        import_torch_soon(TORCH_IMPORT_DELAY_S)


def _wait_for_torch() -> None:
    if torch_ready():
        st.rerun(scope="app")
    st.caption(":small[Loading PyTorch to draw its own StepLR over the closed form…]")


def formula_section(
    base_lr: float, gamma: float, step_size: int, epochs: int
) -> tuple[int, Callable[[], None]]:
    """The formula with the current numbers, worked examples (epoch t, the seed's).

    Returns t and a function that writes the formulas into the places kept for them: the page
    calls it after drawing the chart, so the chart reaches the browser before the typesetting
    (KaTeX) of the two formulas, which the browser would otherwise do first on every change.
    """
    # Heading and formula in one markdown element, the worked examples in another: each
    # element costs every rerun, and these read as one block anyway.
    formula_slot = st.empty()
    t = int_input("Worked example at epoch t", 0, epochs - 1, min(25, epochs - 1), key="t")
    example_slot = st.empty()

    def write() -> None:
        k = t // step_size
        lr_t = schedule.step_lr(base_lr, gamma, step_size, t)
        formula_slot.markdown(
            "## The formula\n$$\n"
            r"\eta_t = \eta_0 \cdot \gamma^{\lfloor t/s \rfloor}"
            rf" = {base_lr:g} \cdot {gamma:g}^{{\lfloor t/{step_size} \rfloor}}"
            "\n$$"
        )
        example_slot.markdown(
            "$$\n"
            r"\begin{aligned}"
            rf"\lfloor {t}/{step_size} \rfloor &= {k} \\"
            rf"\eta_{{{t}}} &= {base_lr:g} \cdot {gamma:g}^{{{k}}} = {lr_t:.6g}"
            r"\end{aligned}"
            "\n$$\n\n"
            f":small[:gray[{worked_example_sentence(t, k, step_size, gamma)}]]\n\n"
            + seed_example_text()
        )

    return t, write


def worked_example_sentence(t: int, k: int, step_size: int, gamma: float) -> str:
    """Where epoch t sits among the decays, in words (γ = 1: there are none, as the facts say)."""
    listed = ", ".join(str(step_size * i) for i in range(1, min(k, 4) + 1))
    at = f"at epoch{'s' if k > 1 else ''} {listed}{', …' if k > 4 else ''}"
    if gamma == 1.0:
        if not k:
            return f"Epoch {t} trains with η₀, as every epoch does with γ = 1: no decay is counted."
        return (
            f"Epoch {t} follows {k} multiplication{'s' if k > 1 else ''} by γ = 1 ({at}), which "
            f"change{'s' if k == 1 else ''} nothing: the LR is η₀, as in every epoch, and no "
            "decay is counted."
        )
    if not k:
        return f"Epoch {t} comes before the first decay at epoch {step_size}: the LR is still η₀."
    return f"Epoch {t} lies after {k} decay{'s' if k != 1 else ''} ({at})."


# The metric's label says exactly what is counted: "at most", from epoch t (counted from 0).
LOW_METRIC = f"LR ≤ {schedule.LOW_FRACTION:.0%} of η₀ from epoch"


def facts_section(
    base_lr: float,
    gamma: float,
    step_size: int,
    epochs: int,
    lrs: np.ndarray,
    torch_lrs: np.ndarray | None,
) -> None:
    """Derived facts: decays in the horizon, final LR, when it reaches 1%, torch agreement."""
    facts = schedule.schedule_facts(base_lr, gamma, step_size, epochs)
    low = facts["epochs_until_low"]
    row = st.container(horizontal=True)
    row.metric("Decays within the horizon", facts["decays"])
    row.metric(
        "Final LR", f"{facts['final_lr']:.4g}", help=f"η at epoch {epochs - 1}, the last shown"
    )
    row.metric(
        LOW_METRIC,
        "never" if low is None else low,
        help=(
            "The first epoch t whose LR η₀·γ^⌊t/s⌋ is at most η₀ / 100, counted as exact "
            "arithmetic would (0.1² is 1 %, although floats give 0.010000000000000002). "
            "With γ = 1 it never gets there."
        ),
    )
    for note in schedule.schedule_notes(gamma, step_size, epochs):
        st.caption(note)
    if torch_lrs is not None:
        diff = float(np.max(np.abs(lrs - torch_lrs)))
        row.metric(
            "Largest |closed form − PyTorch|",
            f"{diff:.1e}" if diff else "0 (identical)",
            help="PyTorch multiplies by γ step by step, so the last bits can differ.",
        )


@lru_cache(maxsize=1)
def seed_example_text() -> str:
    """The seed's worked example, computed (never typed) so page, docstring and tests agree."""
    ex = schedule.SEED_EXAMPLE
    table = schedule.decay_table(ex["base_lr"], ex["gamma"], ex["step_size"], ex["epochs"])
    return (
        f"**The seed's example** (η₀ = {ex['base_lr']:g}, γ = {ex['gamma']:g}, "
        f"s = {ex['step_size']}): " + " · ".join(table["seed_form"]) + ", and so on."
    )


def export_section(base_lr: float, gamma: float, step_size: int, epochs: int) -> None:
    """Decay table, PyTorch code and CSV download for this schedule, one tab at a time."""
    # Lazy tabs: only the open tab is built, so a slider move pays for one of them.
    table_tab, code_tab, csv_tab = st.tabs(EXPORT_TABS, key="export_tab", on_change="rerun")
    if table_tab.open:
        table = schedule.decay_table(base_lr, gamma, step_size, epochs)
        table_tab.dataframe(
            table,
            hide_index=True,
            width="stretch",
            height=min(38 + 35 * len(table), 320),
            column_order=["epochs", "decays", "lr"],
            column_config={"lr": st.column_config.NumberColumn("learning rate", format="%.6g")},
        )
    if code_tab.open:
        with code_tab:
            st.code(schedule.pytorch_snippet(base_lr, gamma, step_size, epochs), language="python")
            focusable_code("explorer")
    if csv_tab.open:
        csv_tab.write("Every epoch's learning rate from the closed form and from PyTorch's StepLR.")
        csv_tab.download_button(
            "Download CSV",
            icon=":material/download:",
            # Built only when clicked: a rerun never pays for it.
            data=lambda: schedule_csv(base_lr, gamma, step_size, epochs),
            file_name=f"steplr_lr{base_lr:g}_g{gamma:g}_s{step_size}_{epochs}ep.csv",
            mime="text/csv",
            key="download_csv",
            on_click="ignore",
        )


def schedule_csv(base_lr: float, gamma: float, step_size: int, epochs: int) -> str:
    """CSV of epoch, closed-form LR and PyTorch's LR (full precision)."""
    frame = pd.DataFrame(
        {
            "epoch": np.arange(epochs),
            "closed_form_lr": schedule.lr_curve(base_lr, gamma, step_size, epochs),
            "pytorch_lr": schedule.torch_lr_curve(base_lr, gamma, step_size, epochs),
        }
    )
    return frame.to_csv(index=False, float_format="%.17g")
