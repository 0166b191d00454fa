"""Code blocks built only when the student opens them, so a page's first paint stays light."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui.chrome import focusable_code

# Keys of the expanders that hold code (tests/test_code_blocks.py opens them all to run the code).
LAB_RESUME = "lab_resume_code_open"
SEED_SCRIPT = "train_seed_script_open"
LOAD_MODEL = "train_load_model_open"
KEYS = (LAB_RESUME, SEED_SCRIPT, LOAD_MODEL)


def code_on_demand(label: str, key: str, build: Callable[[], None]) -> None:
    """An expander whose content (st.code and what goes with it) is built only while it is open.

    Any st.code on a page makes the browser load Streamlit's syntax highlighter (about 1.5 MB of
    JavaScript), which costs more than a Plotly chart on a reload. A closed expander with
    on_change="rerun" sends nothing, so the highlighter loads only when a student asks for code.
    """
    box = st.expander(label, icon=":material/code:", key=key, on_change="rerun")
    if box.open:
        with box:
            build()
            focusable_code(key)
