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
    sections = (
        lambda: lab.call_order_section(base_lr, gamma, step_size, epochs, log_y),
        lambda: lab.stepping_section(base_lr, gamma, step_size),
        lambda: lab.readings_section(base_lr, gamma, step_size, log_y),
        lambda: lab.precision_section(base_lr),
        lambda: lab.resume_section(base_lr, gamma, step_size, epochs, log_y),
        lambda: lab.comparison_section(base_lr, gamma, step_size, epochs, log_y),
        lab.quiz_section,
    )
    # Only the open tab is built: a load or a slider move pays for one section.
    for tab, draw in zip(lab.section_tabs(), sections, strict=True):
        if tab.open:
            with tab:
                draw()


# Streamlit runs a page as __main__; importing it (as tests/test_bad_links.py does) draws nothing.
if __name__ == "__main__":
    main()
