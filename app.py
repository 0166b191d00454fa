"""Schedule explorer: move η₀, γ or s and the StepLR staircase redraws at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from steplr_viz import schedule
from steplr_viz.figures.schedule import PinnedCurve, staircase_figure
from steplr_viz.validation import MAX_EPOCHS, check_epochs, check_int
from ui.chrome import page_setup
from ui.query import parse_bool, parse_number, warn_bad_query_params
from ui.schedule_controls import schedule_checks, schedule_controls
from ui.widgets import int_input

STEP_SIZE_MAX = 100
DEFAULTS = schedule.SEED_EXAMPLE
MAX_PINS = 6

# What each URL-bound widget accepts; a link with anything else gets a warning, never a crash.
URL_CHECKS = {
    **schedule_checks("", STEP_SIZE_MAX),
    "epochs": lambda t: check_epochs(parse_number(t)),
    "t": lambda t: check_int("t", parse_number(t), low=0, high=MAX_EPOCHS - 1),
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
        epochs = int_input(
            "Horizon (epochs shown)", 1, MAX_EPOCHS, DEFAULTS["epochs"], step=10, key="epochs"
        )
        st.divider()
        st.caption(
            "The seed's example is the default: η₀ = 0.1, γ = 0.5, s = 10. "
            "Copy the page's address to share exactly this view."
        )
    return float(base_lr), float(gamma), int(step_size), int(epochs)


def view_options_ui() -> tuple[bool, bool]:
    """Chart toggles: log scale and PyTorch's overlay."""
    left, right = st.columns(2)
    log_y = left.toggle("Log scale", key="log_y", bind="query-params")
    show_torch = right.toggle("PyTorch's curve", value=True, key="show_torch", bind="query-params")
    return log_y, show_torch


def pins_ui(base_lr: float, gamma: float, step_size: int, lrs: np.ndarray) -> list[PinnedCurve]:
    """Pin the current curve for comparison; pins are this student's, kept in session state."""
    pins: list[PinnedCurve] = st.session_state.setdefault("pins", [])
    left, right = st.columns(2)
    if left.button("📌 Pin this curve", key="pin", width="stretch"):
        pin = PinnedCurve(base_lr, gamma, step_size, tuple(lrs.tolist()))
        if all((p.base_lr, p.gamma, p.step_size) != (base_lr, gamma, step_size) for p in pins):
            pins.append(pin)
            del pins[:-MAX_PINS]  # keep the newest few: a chart of 50 pins teaches nothing
    if right.button("🧹 Clear pins", key="clear_pins", disabled=not pins, width="stretch"):
        pins.clear()
    return list(pins)


def formula_section(base_lr: float, gamma: float, step_size: int, epochs: int) -> None:
    """The formula with the current numbers, and a worked example for an epoch t."""
    st.subheader("The formula")
    st.latex(
        r"\eta_t = \eta_0 \cdot \gamma^{\lfloor t/s \rfloor}"
        rf" = {base_lr:g} \cdot {gamma:g}^{{\lfloor t/{step_size} \rfloor}}"
    )
    t = int_input("Worked example at epoch t", 0, epochs - 1, min(25, epochs - 1), key="t")
    k = int(t) // step_size
    lr_t = schedule.step_lr(base_lr, gamma, step_size, int(t))
    st.latex(
        r"\begin{aligned}"
        rf"\lfloor {t}/{step_size} \rfloor &= {k} \\"
        rf"\eta_{{{t}}} &= {base_lr:g} \cdot {gamma:g}^{{{k}}} = {lr_t:.6g}"
        r"\end{aligned}"
    )
    st.caption(
        f"Epoch {t} lies after {k} decay{'s' if k != 1 else ''} "
        f"(at epochs {', '.join(str(step_size * i) for i in range(1, min(k, 4) + 1))}"
        f"{', …' if k > 4 else ''})."
        if k
        else f"Epoch {t} comes before the first decay at epoch {step_size}: the LR is still η₀."
    )
    return int(t)


def facts_section(base_lr, gamma, step_size, epochs, lrs, torch_lrs) -> None:
    """Derived facts: decays in the horizon, final LR, when it falls below 1%, torch agreement."""
    facts = schedule.schedule_facts(base_lr, gamma, step_size, epochs)
    low = facts["epochs_until_low"]
    cols = st.columns(4)
    cols[0].metric("Decays within the horizon", facts["decays"])
    cols[1].metric(
        "Final LR", f"{facts['final_lr']:.4g}", help=f"η at epoch {epochs - 1}, the last shown"
    )
    cols[2].metric(
        "Below 1% of η₀ from epoch",
        "never" if low is None else low,
        help="The first epoch whose LR is under η₀ / 100. With γ = 1 it never gets there.",
    )
    if torch_lrs is not None:
        diff = float(np.max(np.abs(lrs - torch_lrs)))
        cols[3].metric(
            "Largest |closed form − PyTorch|",
            f"{diff:.1e}" if diff else "0 (identical)",
            help="PyTorch multiplies by γ step by step, so the last bits can differ.",
        )


def seed_example_section() -> None:
    """The seed's worked example, computed (never typed) so page, docstring and tests agree."""
    st.markdown(_seed_example_text())


@st.cache_data(show_spinner=False)
def _seed_example_text() -> str:
    ex = schedule.SEED_EXAMPLE
    table = schedule.decay_table(ex["base_lr"], ex["gamma"], ex["step_size"], ex["epochs"])
    return (
        f"**The seed's example** (η₀ = {ex['base_lr']:g}, γ = {ex['gamma']:g}, "
        f"s = {ex['step_size']}): " + " · ".join(table["seed_form"]) + ", and so on."
    )


def export_section(base_lr, gamma, step_size, epochs, lrs, torch_lrs) -> None:
    """Decay table, CSV download and the PyTorch code for this schedule."""
    table_tab, csv_tab, code_tab = st.tabs(["Decay table", "Download CSV", "PyTorch code"])
    with table_tab:
        table = schedule.decay_table(base_lr, gamma, step_size, epochs)
        st.dataframe(
            table[["epochs", "decays", "lr"]],
            hide_index=True,
            width="stretch",
            height=min(38 + 35 * len(table), 320),
            column_config={"lr": st.column_config.NumberColumn("learning rate", format="%.6g")},
        )
    with csv_tab:
        st.write("Every epoch's learning rate from the closed form and from PyTorch's StepLR.")
        st.download_button(
            "⬇️ Download CSV",
            # Built only when clicked: a rerun never pays for it.
            data=lambda: schedule_csv(base_lr, gamma, step_size, epochs),
            file_name=f"steplr_lr{base_lr:g}_g{gamma:g}_s{step_size}_{epochs}ep.csv",
            mime="text/csv",
            key="download_csv",
            on_click="ignore",
        )
    with code_tab:
        st.code(schedule.pytorch_snippet(base_lr, gamma, step_size, epochs), language="python")


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


def main() -> None:
    page_setup("StepLR explorer", "📉")
    st.title("📉 StepLR explorer")
    st.caption(
        "PyTorch's `StepLR` multiplies the learning rate by γ every s epochs. "
        "Move the sliders: the staircase, the formula and PyTorch's own curve follow at once."
    )
    warn_bad_query_params(URL_CHECKS)
    base_lr, gamma, step_size, epochs = controls_ui()
    lrs = schedule.lr_curve(base_lr, gamma, step_size, epochs)

    chart_col, side_col = st.columns([3, 2], gap="large")
    with side_col:
        t = formula_section(base_lr, gamma, step_size, epochs)
        seed_example_section()
    with chart_col:
        log_y, show_torch = view_options_ui()
        torch_lrs = (
            schedule.torch_lr_curve(base_lr, gamma, step_size, epochs) if show_torch else None
        )
        chart_slot = st.container()  # the chart sits above the pin buttons that feed it
        pins = pins_ui(base_lr, gamma, step_size, lrs)
        fig = staircase_figure(
            lrs,
            torch_curve=torch_lrs,
            decay_epochs=schedule.decay_epochs(step_size, epochs),
            pinned=pins,
            log_y=log_y,
            highlight_epoch=t,
        )
        chart_slot.plotly_chart(fig, key="staircase", width="stretch")
    facts_section(base_lr, gamma, step_size, epochs, lrs, torch_lrs)
    export_section(base_lr, gamma, step_size, epochs, lrs, torch_lrs)


# Streamlit runs a page as __main__; tests import it (runpy) to read its URL_CHECKS.
if __name__ == "__main__":
    main()
