"""Keep the link parameters the server set through reruns the browser asked for before it had them.

Streamlit reruns a page with the link (query string) the browser sends. When the server changes
the link (Start puts `run=<id>` in it), a rerun the browser asked for before that change reached
it (the browser reporting its id, a quick second click or key press) carries the old link, and
the page would forget what it has just done: the run it started, the step it moved to. So a value
the server sets is pinned: while the link shows a value the server has replaced, the page puts
its own back. Any other value is a link the student followed, and wins; so does every link
that brings the student to a page from another one, or back and forward in the browser's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

_PINS_KEY = "_steplr_viz_link_pins"  # {parameter: _Pin}, of the page the session is on
PAGE_KEY = "_steplr_viz_link_page"  # the page this session's previous run was of
_MAX_REPLACED = 32  # a presenter's steps, a student's runs: the values a late rerun may carry


@dataclass
class _Pin:
    value: str | None  # None: the server removed the parameter
    replaced: list[str | None] = field(default_factory=list)  # older values, oldest first


def _page() -> str:
    ctx = get_script_run_ctx()
    return ctx.page_script_hash if ctx is not None else ""


def _pins() -> dict[str, _Pin]:
    """The pins of the page this session is on (a page reached from another starts with none)."""
    return st.session_state.setdefault(_PINS_KEY, {})


def set_param(key: str, value: str | None) -> None:
    """Put value into the link (None removes the parameter) and keep it through late reruns."""
    pinner(key)(value)
    write(key, value)


def pinner(key: str) -> Callable[[str | None], None]:
    """A function that pins a value for key with plain Python only; then write() it to the link.

    Every Streamlit call is a point where a newer rerun may cut the run short. Reading what a pin
    needs here, before an action, lets the action and its pin happen with no such point between
    them: the next run then puts the pinned value into the link even if this one stops early.
    """
    pins = _pins()
    before = st.query_params.get(key)

    def pin(value: str | None) -> None:
        old = pins.get(key)
        replaced = [v for v in (old.replaced if old else []) + [before] if v != value]
        pins[key] = _Pin(value, list(dict.fromkeys(replaced))[-_MAX_REPLACED:])

    return pin


def restore_params() -> bool:
    """Call first on every page: put back each pinned value that a late rerun's link replaced.

    Returns whether the session has just come from another page or through the browser's
    history (the link is then the student's choice, and nothing of the page before carries over).
    """
    ctx = get_script_run_ctx()
    arrived = st.session_state.get(PAGE_KEY, _page()) != _page()
    st.session_state[PAGE_KEY] = _page()
    if arrived or (ctx is not None and ctx.is_history_navigation):
        # From another page (the menu, "Watch your run"), or back or forward: a late rerun is
        # always of the page the browser is on, so this link is the one the student chose.
        _pins().clear()
        return True
    pins = _pins()
    for key, pin in list(pins.items()):
        shown = st.query_params.get(key)
        if shown == pin.value:
            continue
        if shown in pin.replaced:
            write(key, pin.value)
        else:  # a link the student followed here: theirs from now on
            del pins[key]
    return False


def write(key: str, value: str | None) -> None:
    """Put value into the link (None removes the parameter), without pinning it."""
    if value is None:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = value
