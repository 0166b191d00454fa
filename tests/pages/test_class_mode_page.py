"""AppTest of class mode: students follow the teacher, and the class sweeps a grid together."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from steplr_viz.classroom import permissions
from steplr_viz.classroom.class_state import ClassRoom
from steplr_viz.figures.sweep import BEST_NAME, LANDSCAPE_TRACE, MINE_NAME
from steplr_viz.training.metrics import FINISHED
from tests import apptest_pages
from tests.apptest_pages import REPO, TRAINING_PAGE, poll_until, private_run_manager

PAGE = REPO / "pages" / "3_Present.py"
CLASS = "c1a55e"
TEACHER_KEY = "front-row-secret"


@pytest.fixture(autouse=True, scope="module")
def isolated_manager(tmp_path_factory):
    with private_run_manager(tmp_path_factory.mktemp("runs")):
        yield


@pytest.fixture
def class_id():
    """A fresh class per test (the store is the module's)."""
    from steplr_viz.classroom.class_answers import new_class_id

    return new_class_id()


def room() -> ClassRoom:
    from ui.run_registry import get_manager

    return ClassRoom(get_manager().store)


def teacher(class_id: str, **query: str) -> AppTest:
    return apptest_pages.open_page(
        PAGE, {"present": "true", "class": class_id, **query}, browser="teacher-browser"
    )


def student(class_id: str, n: int = 1, **query: str) -> AppTest:
    return apptest_pages.open_page(PAGE, {"class": class_id, **query}, browser=f"student-{n}")


def step_shown(at: AppTest) -> int:
    return int(at.header[0].value.split(" ")[0])


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def test_a_student_follows_the_teachers_step_and_settings_without_a_reload(class_id):
    lead = teacher(class_id)
    assert not lead.exception
    follower = student(class_id)
    assert not follower.exception
    assert follower.toggle(key="class_follow").value is True
    assert step_shown(follower) == 1
    lead.button(key="present_next").click().run()
    lead.button(key="present_next").click().run()
    assert step_shown(lead) == 3
    follower.run()  # the follower's poll: the same session, no new page
    assert step_shown(follower) == 3
    assert follower.query_params["step"] in ("3", ["3"])
    lead.slider(key="gamma").set_value(0.25).run()
    follower.run()
    assert follower.slider(key="gamma").value == 0.25
    lead.run()
    assert "**1** following" in markdown_text(lead)


def test_a_student_stops_following_and_rejoins_with_one_control(class_id):
    lead = teacher(class_id)
    follower = student(class_id)
    follower.toggle(key="class_follow").set_value(False).run()
    lead.button(key="present_next").click().run()
    follower.run()
    assert step_shown(follower) == 1  # exploring alone: the teacher's move does not pull
    lead.run()
    assert "**0** following" in markdown_text(lead)
    follower.toggle(key="class_follow").set_value(True).run()
    follower.run()
    assert step_shown(follower) == 2


def test_a_students_own_click_stays_until_the_teacher_moves(class_id):
    lead = teacher(class_id)
    follower = student(class_id)
    follower.button(key="present_next").click().run()
    follower.run()
    assert step_shown(follower) == 2
    lead.button(key="present_next").click().run()
    lead.button(key="present_next").click().run()
    follower.run()
    assert step_shown(follower) == 3


def test_only_the_leader_moves_the_class(class_id):
    teacher(class_id)
    intruder = apptest_pages.open_page(
        PAGE, {"present": "true", "class": class_id, "step": "5"}, browser="student-9"
    )
    assert "Another screen leads this class" in markdown_text(intruder)
    assert room().view(class_id).step == 1


def test_junk_class_ids_are_dropped_with_a_warning():
    for junk in ("ZZZZZZ", "x" * 10_000, "c1a55e\n", "../../etc"):
        at = apptest_pages.open_page(PAGE, {"class": junk})
        assert not at.exception
        assert any("class must be 6 lowercase hex digits" in w.value for w in at.warning)
        assert not [t for t in at.toggle if t.key == "class_follow"]


def landscape(at: AppTest) -> dict:
    spec = next(
        json.loads(c.proto.spec) for c in at.get("plotly_chart") if "sweep_landscape" in c.proto.id
    )
    return spec


def open_sweep(lead: AppTest, x_values: str = "0.5, 1", y_values: str = "2") -> AppTest:
    lead.text_input(key="sweep_x_values_gamma").input(x_values)
    lead.text_input(key="sweep_y_values_step_size").input(y_values)
    lead.number_input(key="sweep_epochs").set_value(1)
    return lead.button(key="sweep_open").click().run()


def test_junk_sweeps_are_refused_in_plain_words(class_id):
    lead = teacher(class_id)
    open_sweep(lead, "0.5, abc")
    assert any("'abc' is not a number" in e.value for e in lead.error)
    open_sweep(lead, "0.5, 2")
    assert any("γ values must be between 0.01 and 1" in e.value for e in lead.error)
    open_sweep(lead, ", ".join(str(v / 100) for v in range(1, 10)))
    assert any("at most 8 values of γ" in e.value for e in lead.error)
    assert room().current_sweep(class_id) is None
    assert not lead.exception


def test_the_class_sweeps_a_grid_and_the_landscape_fills(class_id):
    lead = teacher(class_id)
    open_sweep(lead)
    assert room().current_sweep(class_id) is not None
    assert LANDSCAPE_TRACE in [t["name"] for t in landscape(lead)["data"]]
    students = [student(class_id, n) for n in (1, 2, 3)]
    texts = [markdown_text(s) for s in students]
    assert "Your cell: γ = 0.5, s = 2" in texts[0]
    assert "Your cell: γ = 1, s = 2" in texts[1]
    assert "Your cell: γ = 0.5, s = 2** (seed 1)" in texts[2]  # a repeat: the next seed
    # Each student's own cell is framed on their picture.
    shapes = landscape(students[1])["layout"]["shapes"]
    assert [(s["name"], s["x0"]) for s in shapes] == [(MINE_NAME, 0.5)]
    students[0].selectbox(key=next(s.key for s in students[0].selectbox)).set_value(1).run()
    for s in students:
        s.button(key="sweep_start").click().run()
        assert not s.error
    for s in students:
        poll_until(s, lambda at: "Your run finished" in "".join(x.value for x in at.success))
    sweep_id = room().current_sweep(class_id)
    cells = room().cells(sweep_id)
    assert (cells["status"] == FINISHED).all() and cells["run_id"].notna().all()
    lead.run()
    spec = landscape(lead)
    heat = next(t for t in spec["data"] if t["name"] == LANDSCAPE_TRACE)
    assert all(v is not None for v in heat["z"][0])
    assert "2 finished" in heat["text"][0][0] and "1 predicted" in heat["text"][0][1]
    assert "2 of 2 cells filled" in markdown_text(lead)
    assert not spec["layout"].get("shapes")  # the best cell waits for the reveal
    lead.toggle(key=f"sweep_reveal_{sweep_id}").set_value(True).run()
    assert [s["name"] for s in landscape(lead)["layout"]["shapes"]] == [BEST_NAME]
    assert "Best cell:" in markdown_text(lead)
    students[1].run()
    assert {s["name"] for s in landscape(students[1])["layout"]["shapes"]} == {
        BEST_NAME,
        MINE_NAME,
    }


def test_the_teacher_opens_a_sweep_from_the_training_page(monkeypatch):
    monkeypatch.setenv(permissions.TEACHER_KEY_ENV, TEACHER_KEY)
    at = apptest_pages.open_page(TRAINING_PAGE, browser="teacher-browser")
    assert not [e for e in at.expander if "Class sweep" in e.label]
    at.text_input(key="teacher_key").input(TEACHER_KEY).run()
    assert [e for e in at.expander if "Class sweep" in e.label]
    at.button(key="train_sweep_open").click().run()
    assert not at.exception
    class_id = at.session_state["train_sweep_class"]
    sweep_id = room().current_sweep(class_id)
    assert room().sweep(sweep_id)[0].n_cells == 16
    assert any("The sweep is open" in s.value for s in at.success)
