"""The rules for shared runs: starter or teacher controls, everyone watches."""

from __future__ import annotations

from steplr_viz.classroom import permissions
from steplr_viz.classroom.permissions import Viewer, can_control

KEY = {permissions.TEACHER_KEY_ENV: "s3cret-key"}


def test_the_starter_controls_from_any_tab_and_others_do_not():
    alice = permissions.starter_id("alice-browser")
    assert can_control(Viewer(alice), alice)  # a second tab of the same browser: same starter id
    assert not can_control(Viewer(permissions.starter_id("bob-browser")), alice)
    assert not can_control(Viewer(None), alice)  # a session whose browser id is not known yet


def test_the_teacher_controls_every_run_and_starterless_runs_are_theirs():
    alice = permissions.starter_id("alice-browser")
    assert can_control(Viewer(None, is_teacher=True), alice)
    assert can_control(Viewer(None, is_teacher=True), None)
    assert not can_control(Viewer(alice), None)


def test_the_teacher_key_is_checked_against_the_environment_only():
    assert permissions.is_teacher_key("s3cret-key", KEY)
    assert not permissions.is_teacher_key("s3cret-kez", KEY)
    assert not permissions.is_teacher_key("", KEY)
    assert not permissions.is_teacher_key("", {})  # no key set: nobody is the teacher
    assert not permissions.is_teacher_key("anything", {})
    assert permissions.teacher_key_set(KEY) and not permissions.teacher_key_set({})


def test_the_store_never_sees_the_browser_secret():
    starter = permissions.starter_id("alice-browser")
    assert "alice" not in starter
    assert (
        starter == permissions.starter_id("alice-browser") != permissions.starter_id("bob-browser")
    )


def test_hints_say_why_controls_are_missing():
    alice = permissions.starter_id("alice-browser")
    assert permissions.control_hint(Viewer(alice), alice) is None
    assert "Another student" in permissions.control_hint(Viewer("bob"), alice)
    assert "only the teacher" in permissions.control_hint(Viewer("bob"), None)
