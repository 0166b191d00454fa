"""Clicks that outlive a cut-short run: a button's callback records the click, the page acts on it.

Streamlit hands a button's click to one script run only. When another rerun request reaches the
server while that run is still above the button (the browser reporting its id just after a page
loads, a slider moved right after the click), Streamlit stops the run and starts the next one
without the click: the student pressed Start and nothing happened. A button's callback runs
before the script body, so it sees the click before any of the page's code. It records it here,
and the page acts on it in its next run that gets that far, with that run's widget values (so a
slider moved just before Start counts). A click not acted on when the student leaves the page is
dropped.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

CLICKS_KEY = "_steplr_viz_clicks"  # {button key: what the click carried}, on this page


def record(key: str, value: Any = True) -> None:
    """A button's on_click: remember the press (and what it was for, e.g. the run)."""
    st.session_state.setdefault(CLICKS_KEY, {})[key] = value


def pending() -> dict[str, Any]:
    """The clicks not yet acted on, {button key: what it carried}: pop one to act on it.

    Taking a click from this dict is plain Python, so an action that pops its click and records
    its outcome with no Streamlit call between them cannot be cut in half by a newer rerun.
    """
    return st.session_state.setdefault(CLICKS_KEY, {})


def take(key: str) -> Any:
    """What the button's click carried if it was pressed and not yet acted on, else None; once."""
    return pending().pop(key, None)


def forget() -> None:
    """Drop every click not yet acted on (the session has moved to another page)."""
    st.session_state.pop(CLICKS_KEY, None)
