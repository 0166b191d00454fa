"""Presenter mode: a teacher leads the class through eight steps; students answer on their own."""

from __future__ import annotations

import streamlit as st

from steplr_viz.classroom import guided_path
from ui import class_mode, present, present_steps
from ui.chrome import page_setup
from ui.identity import teacher_key_ui, viewer
from ui.query import warn_bad_query_params

URL_CHECKS = present.URL_CHECKS  # what a link may set; tests/test_bad_links.py reads it here


def main() -> None:
    page_setup("Presenter mode", ":material/co_present:")
    warn_bad_query_params(URL_CHECKS)
    class_mode.apply_follow()  # the teacher's latest view, before any widget is drawn
    settings = present.settings_ui()
    teacher_key_ui()
    number = present.current_step()
    is_present, nav_row = present.nav_ui(number)
    present.present_mode(is_present)
    class_id = present.class_session(is_present)
    me = viewer()
    if is_present:
        present.join_ui(number, class_id, nav_row)
        class_mode.lead_ui(class_id, number, settings, me, nav_row)
    else:
        class_mode.follow_ui(class_id, number, settings)
    step = guided_path.step(number, settings, quiz_seed=present.quiz_seed(class_id))

    st.header(f"{number} · {step.title}", anchor=False)
    present_steps.todo_ui(step)
    body_col, side_col = st.columns([3, 2], gap="large")
    with body_col:
        question = present_steps.body_ui(step, settings, is_present)
    with side_col:
        present.question_ui(question, class_id, is_present)
    class_mode.sweep_section(class_id, me, is_present)


# Streamlit runs a page as __main__; tests import it (runpy) to read its URL_CHECKS.
if __name__ == "__main__":
    main()
