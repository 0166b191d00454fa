"""StepLR lab: what the formula alone does not teach, shown by running real PyTorch."""

from __future__ import annotations

import streamlit as st

from ui import lab
from ui.chrome import page_setup
from ui.lab import URL_CHECKS
from ui.query import warn_bad_query_params


def main() -> None:
    page_setup("StepLR lab", ":material/science:")
    st.title(":material/science: StepLR lab")
    st.caption(
        "How `StepLR` behaves inside real PyTorch: the pitfalls and comparisons the formula "
        "η_t = η₀·γ^⌊t/s⌋ alone does not show. Each section runs torch's own schedulers."
    )
    warn_bad_query_params(URL_CHECKS)
    base_lr, gamma, step_size, epochs, log_y = lab.controls_ui()
    order, stepping, readings, precision, resume, compare, quiz = lab.section_tabs()
    # Only the open tab is built: a load or a slider move pays for one section.
    if order.open:
        with order:
            lab.call_order_section(base_lr, gamma, step_size, epochs, log_y)
    if stepping.open:
        with stepping:
            lab.stepping_section(base_lr, gamma, step_size)
    if readings.open:
        with readings:
            lab.readings_section(base_lr, gamma, step_size, log_y)
    if precision.open:
        with precision:
            lab.precision_section(base_lr)
    if resume.open:
        with resume:
            lab.resume_section(base_lr, gamma, step_size, epochs, log_y)
    if compare.open:
        with compare:
            lab.comparison_section(base_lr, gamma, step_size, epochs, log_y)
    if quiz.open:
        with quiz:
            lab.quiz_section()


# Streamlit runs a page as __main__; importing it (as tests/test_bad_links.py does) draws nothing.
if __name__ == "__main__":
    main()
