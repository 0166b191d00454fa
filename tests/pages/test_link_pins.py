"""A value the server puts in the link survives a rerun the browser asked for with its old link."""

from __future__ import annotations

from types import SimpleNamespace

from streamlit.testing.v1 import AppTest

import ui.link_pins


def stepper() -> None:
    """A page whose Next button moves a step kept in the link (as presenter mode does)."""
    import streamlit as st

    from ui import link_pins

    link_pins.restore_params()
    if st.button("Next", key="next"):
        link_pins.set_param("step", str(int(st.query_params.get("step", "1")) + 1))
    if st.button("Clear", key="clear"):
        link_pins.set_param("step", None)
    st.markdown(f"step {st.query_params.get('step', '1')}")


def shown(at: AppTest) -> str:
    return at.markdown[0].value


def test_a_late_rerun_with_the_old_link_keeps_the_servers_value():
    at = AppTest.from_function(stepper).run()
    at.button(key="next").click().run()
    assert shown(at) == "step 2"
    # The browser clicks again before the link with step=2 reached it: its link has no step.
    at.query_params.pop("step")
    at.button(key="next").click().run()
    assert shown(at) == "step 3" and at.query_params["step"] == "3"
    # A rerun that still carries any link the server replaced keeps step 3.
    for late in (None, "2"):
        at.query_params.pop("step")
        if late is not None:
            at.query_params["step"] = late
        at.run()
        assert shown(at) == "step 3" and at.query_params["step"] == "3"


def test_a_link_the_student_followed_wins_and_is_theirs_from_then_on():
    at = AppTest.from_function(stepper).run()
    at.button(key="next").click().run()
    at.query_params["step"] = "7"  # never a value of this session: a link the student followed
    at.run()
    assert shown(at) == "step 7"
    at.query_params["step"] = "1"  # and so is this one now: the pin was let go
    at.run()
    assert shown(at) == "step 1"


def test_a_removed_parameter_stays_removed():
    at = AppTest.from_function(stepper).run()
    at.button(key="next").click().run()
    at.button(key="clear").click().run()
    assert "step" not in at.query_params
    at.query_params["step"] = "2"  # the link from before Clear
    at.run()
    assert shown(at) == "step 1" and "step" not in at.query_params


def test_back_and_forward_show_the_link_the_browser_went_to(monkeypatch):
    at = AppTest.from_function(stepper).run()
    at.button(key="next").click().run()
    at.button(key="next").click().run()
    real = ui.link_pins.get_script_run_ctx

    def history_navigation():  # the run Streamlit starts for the browser's back button
        return SimpleNamespace(is_history_navigation=True, page_script_hash=real().page_script_hash)

    monkeypatch.setattr(ui.link_pins, "get_script_run_ctx", history_navigation)
    at.query_params["step"] = "2"
    at.run()
    assert shown(at) == "step 2"
    monkeypatch.undo()
    at.query_params["step"] = "1"  # no pin is left to put step 3 back
    at.run()
    assert shown(at) == "step 1"


def test_a_link_from_another_page_wins_even_with_an_old_value():
    at = AppTest.from_function(stepper).run()
    at.button(key="next").click().run()
    at.button(key="next").click().run()
    # The student comes back to this page by a link that carries an old step (a page link from
    # another page: Streamlit's page changed since the session's previous run).
    at.session_state["_steplr_viz_link_page"] = "another page"
    at.query_params["step"] = "2"
    at.run()
    assert shown(at) == "step 2"
