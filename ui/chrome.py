"""Page chrome shared by every page: config, and a sidebar menu with readable names."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

# (script, label, icon): Streamlit would name the home page "app" after its file.
PAGES = [
    ("app.py", "Schedule explorer", ":material/trending_down:"),
    ("pages/1_Live_training.py", "Live training", ":material/model_training:"),
    ("pages/2_StepLR_lab.py", "StepLR lab", ":material/science:"),
    ("pages/3_Present.py", "Presenter mode", ":material/co_present:"),
]


def page_setup(title: str, icon: str) -> None:
    """Set the page config and draw the menu at the top of the sidebar."""
    st.set_page_config(page_title=f"{title} · steplr-viz", page_icon=icon, layout="wide")
    with st.sidebar:
        for script, label, page_icon in PAGES:
            try:
                st.page_link(script, label=label, icon=page_icon)
            except StreamlitAPIException:  # AppTest runs one page alone, without the others
                st.caption(f"{page_icon} {label}")
        st.divider()
