"""Who is looking: a browser id shared by all of a student's tabs, and the teacher key."""

from __future__ import annotations

import uuid

import streamlit as st

from steplr_viz.classroom import permissions

# The browser keeps a random id in localStorage, so every tab of one browser reports the same
# one; nothing is fetched and no cookie is set. The store keeps only its digest (starter_id).
_BROWSER_ID_JS = """
export default function (component) {
  const KEY = "steplr-viz-browser-id";
  let id = window.localStorage.getItem(KEY);
  if (!id) {
    id = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now());
    window.localStorage.setItem(KEY, id);
  }
  if (component.data !== id) component.setStateValue("browser_id", id);
}
"""

_browser_id = st.components.v2.component("steplr_viz.browser_id", js=_BROWSER_ID_JS)


def browser_secret() -> str:
    """This browser's id; before its first report (and in AppTest) this session's own id."""
    result = _browser_id(
        key="browser_id",
        data=st.session_state.get("_browser_secret"),
        on_browser_id_change=lambda: None,
    )
    reported = getattr(result, "browser_id", None)
    if isinstance(reported, str) and 8 <= len(reported) <= 64:
        st.session_state["_browser_secret"] = reported
        st.session_state.pop("_browser_secret_stand_in", None)
    if "_browser_secret" not in st.session_state:
        st.session_state["_browser_secret_stand_in"] = True
    return st.session_state.setdefault("_browser_secret", uuid.uuid4().hex)


def browser_known() -> bool:
    """Whether the browser has reported its id (a page's first run has only a stand-in).

    Class mode waits for it: a cell given to, or a class led by, the stand-in would be lost
    when the browser's own id arrives a moment later. Call after viewer() or browser_secret().
    """
    state = st.session_state
    return "_browser_secret" in state and not state.get("_browser_secret_stand_in", False)


def viewer() -> permissions.Viewer:
    """This session's viewer: the browser's starter id, and teacher rights if the key was given."""
    given = st.session_state.get("teacher_key", "")
    return permissions.Viewer(
        starter=permissions.starter_id(browser_secret()),
        is_teacher=permissions.is_teacher_key(given),
    )


def teacher_key_ui() -> None:
    """A password field for the teacher key, shown only when the server was started with one."""
    if not permissions.teacher_key_set():
        return
    with st.sidebar.expander("Teacher", icon=":material/school:"):
        st.text_input("Teacher key", type="password", key="teacher_key")
        if permissions.is_teacher_key(st.session_state.get("teacher_key", "")):
            st.caption("You control every run.")
        elif st.session_state.get("teacher_key"):
            st.caption("That is not the key this server was started with.")
