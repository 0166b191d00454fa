"""Every chart goes on a page through here, with its text alternative."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from steplr_viz.figures.alt_text import describe


def show_chart(fig: go.Figure, *, key: str, subject: str = "", **kwargs) -> None:
    """st.plotly_chart full width, with alt text that screen readers announce."""
    kwargs.setdefault("width", "stretch")
    st.plotly_chart(fig, key=key, alt=describe(fig, subject), **kwargs)
