"""Schedule explorer: move η₀, γ or s and the StepLR staircase redraws at once."""

from __future__ import annotations

import streamlit as st

from steplr_viz.figures.schedule import staircase_figure
from steplr_viz.schedules import steplr as schedule
from ui import explorer
from ui.charts import show_chart
from ui.chrome import page_setup
from ui.drag_preview import follow_drag
from ui.query import warn_bad_query_params


def main() -> None:
    page_setup("StepLR explorer", ":material/trending_down:")
    st.title(":material/trending_down: StepLR explorer")
    st.caption(
        "PyTorch's `StepLR` multiplies the learning rate by γ every s epochs. "
        "Drag the sliders: the staircase follows as you drag; the formula and PyTorch's own "
        "curve follow when you let go."
    )
    warn_bad_query_params(explorer.URL_CHECKS)
    base_lr, gamma, step_size, epochs = explorer.controls_ui()
    lrs = schedule.lr_curve(base_lr, gamma, step_size, epochs)

    chart_col, side_col = st.columns([3, 2], gap="large")
    with side_col:  # the formulas are written after the chart, into places kept here
        t, write_formulas = explorer.formula_section(base_lr, gamma, step_size, epochs)
    with chart_col:
        pins = explorer.pinned_curves()
        log_y, show_torch = explorer.chart_controls_ui(
            base_lr, gamma, step_size, epochs, has_pins=bool(pins)
        )
        # PyTorch's curve waits for torch: on a cold start the closed form paints first.
        torch_lrs = (
            schedule.torch_lr_curve(base_lr, gamma, step_size, epochs)
            if show_torch and explorer.torch_curve_ready()
            else None
        )
        fig = staircase_figure(
            lrs,
            torch_curve=torch_lrs,
            decay_epochs=schedule.decay_epochs(step_size, epochs, gamma),
            pinned=pins,
            log_y=log_y,
            highlight_epoch=t,
        )
        show_chart(fig, key="staircase", subject="The StepLR staircase: the LR each epoch")
    write_formulas()
    with st.sidebar:  # draws nothing; mounted after the chart, so it finds the chart in place
        follow_drag("staircase", explorer.CONTROL_KEYS, base_lr, gamma, step_size, epochs)
    explorer.facts_section(base_lr, gamma, step_size, epochs, lrs, torch_lrs)
    explorer.export_section(base_lr, gamma, step_size, epochs)
    explorer.load_torch_after_paint()  # on a cold start: PyTorch's curve follows


main()
