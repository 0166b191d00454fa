"""Page chrome shared by every page: config, and a sidebar menu with readable names."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

# (script, label, icon): Streamlit would name the home page "app" after its file.
PAGES = [
    ("app.py", "Schedule explorer", "📉"),
    ("pages/1_Live_training.py", "Live training", "🏋️"),
    ("pages/2_StepLR_lab.py", "StepLR lab", "🧪"),
]


# Pages this process could not link to: AppTest runs one page alone, without the others. Kept so
# that later reruns skip the failing call (raising it cost 1-2 ms a link on every AppTest rerun).
_UNLINKABLE: set[str] = set()


def page_setup(title: str, icon: str) -> None:
    """Set the page config and draw the menu at the top of the sidebar."""
    st.set_page_config(page_title=f"{title} · steplr-viz", page_icon=icon, layout="wide")
    with st.sidebar:
        for script, label, page_icon in PAGES:
            if script not in _UNLINKABLE:
                try:
                    st.page_link(script, label=label, icon=page_icon)
                    continue
                except StreamlitAPIException:
                    _UNLINKABLE.add(script)
            st.caption(f"{page_icon} {label}")
        st.divider()
