"""AppTest of the presenter page: every step, both modes, the URL flags, answers and runs."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from steplr_viz.classroom import guided_path, join
from steplr_viz.classroom.class_answers import CLASS_ID_RE
from steplr_viz.figures.present import ANSWERS_TRACE, PROJECTOR_FONT_SIZE
from tests import apptest_pages
from tests.apptest_pages import REPO, poll_until, private_run_manager

PAGE = REPO / "pages" / "3_Present.py"
CLASS = "c1a55e"
PUBLIC = "http://class.example.org:8501"
STEPS = range(1, guided_path.STEP_COUNT + 1)


@pytest.fixture(autouse=True, scope="module")
def isolated_manager(tmp_path_factory):
    with private_run_manager(tmp_path_factory.mktemp("runs")):
        yield


@pytest.fixture(autouse=True)
def fresh_tally():
    from steplr_viz.classroom.class_answers import forget_class
    from ui.run_registry import get_manager

    def forget_all() -> None:
        with get_manager().store.class_transaction() as conn:
            for (class_id,) in conn.execute("SELECT class_id FROM class_sessions").fetchall():
                forget_class(conn, class_id)

    forget_all()
    yield
    forget_all()


def open_page(query: dict[str, str] | None = None) -> AppTest:
    return apptest_pages.open_page(PAGE, query)


def heading(at: AppTest) -> str:
    return at.header[0].value


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly specs by the chart's widget key."""
    found = {}
    for chart in at.get("plotly_chart"):
        key = re.sub(r"^.*-", "", chart.proto.id) if "-" in chart.proto.id else chart.proto.id
        found[key] = json.loads(chart.proto.spec)
    return found


def answers_chart(at: AppTest) -> dict:
    spec = next(
        json.loads(c.proto.spec) for c in at.get("plotly_chart") if "present_answers" in c.proto.id
    )
    return next(t for t in spec["data"] if t["name"] == ANSWERS_TRACE)


def param(at: AppTest, key: str) -> str:
    """One URL parameter as the page left it (AppTest keeps lists or plain strings)."""
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not at.warning, [w.value for w in at.warning]
    return at


@pytest.mark.parametrize("number", STEPS)
def test_every_step_for_a_student_shows_its_idea_question_and_answer_buttons(number):
    at = ok(open_page({"step": str(number), "class": CLASS}))
    step = guided_path.step(number, quiz_seed=int(CLASS, 16))
    assert heading(at) == f"{number} · {step.title}"
    text = markdown_text(at)
    assert step.idea in text
    assert step.question.text in text
    assert f"**To do:** {step.todo}" in text
    labels = [b.label for b in at.button if b.key and b.key.startswith("present_answer_")]
    assert labels == list(step.question.choices)
    assert at.button(key="present_prev").disabled == (number == 1)
    assert at.button(key="present_next").disabled == (number == guided_path.STEP_COUNT)
    assert not at.toggle(key="present").value
    assert "present_answers" not in "".join(c.proto.id for c in at.get("plotly_chart"))


@pytest.mark.parametrize("number", STEPS)
def test_every_step_in_present_mode_shows_live_counts_and_the_join_code(number, monkeypatch):
    monkeypatch.setenv(join.PUBLIC_URL_ENV, PUBLIC)
    at = ok(open_page({"present": "true", "step": str(number), "class": CLASS}))
    step = guided_path.step(number, quiz_seed=int(CLASS, 16))
    assert heading(at) == f"{number} · {step.title}"
    assert at.toggle(key="present").value
    assert not [b for b in at.button if b.key and b.key.startswith("present_answer_")]
    bars = answers_chart(at)
    assert bars["y"] == [0] * len(step.question.choices)
    assert len(bars["x"]) == len(step.question.choices)
    # Projector-sized: one font size for every figure, lines at least 5 px.
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        assert spec["layout"]["font"]["size"] == PROJECTOR_FONT_SIZE
        for trace in spec["data"]:
            if trace.get("type") == "scatter" and "line" in trace and "width" in trace["line"]:
                assert trace["line"]["width"] >= 5, trace["name"]
    # Large type: a style block only in present mode.
    assert any("font-size" in h.proto.body for h in at.get("html"))
    # The join code: this step, this class, the teacher's address; never present mode.
    expected = join.join_url(PUBLIC, "Present", {"step": str(number), "class": CLASS})
    assert f"`{expected}`" in markdown_text(at)
    assert len(at.get("image")) == 1


def test_student_mode_has_no_large_type_style():
    at = ok(open_page({"class": CLASS}))
    from ui.present import PRESENT_CSS

    bodies = [h.proto.body for h in at.get("html")]
    assert bodies  # the page's shared styles are there; present mode's large type is not
    assert PRESENT_CSS not in bodies and not any("2.3rem" in b for b in bodies)


def test_next_and_previous_move_the_step_in_the_link():
    at = ok(open_page({"class": CLASS}))
    at.button(key="present_next").click().run()
    assert param(at, "step") == "2"
    assert heading(at).startswith("2 · ")
    at.button(key="present_next").click().run()
    at.button(key="present_prev").click().run()
    assert param(at, "step") == "2"
    assert param(at, "class") == CLASS  # the class stays in the link


def test_present_mode_without_a_class_starts_one_in_the_link():
    at = ok(open_page({"present": "true"}))
    class_id = param(at, "class")
    assert CLASS_ID_RE.match(class_id)
    assert f"class `{class_id}`" in "\n".join(c.value for c in at.caption)


def test_a_student_without_a_class_link_answers_in_the_open_class():
    from ui.present import OPEN_CLASS, get_class_answers

    at = ok(open_page())
    assert "class" not in at.query_params
    at.button(key="present_answer_1").click().run()
    question = guided_path.step(1).question
    assert get_class_answers().counts(OPEN_CLASS, question.id, len(question.choices))[1] == 1


def test_a_students_answer_reaches_the_projected_counts_and_can_change():
    question = guided_path.step(3).question
    teacher = ok(open_page({"present": "true", "step": "3", "class": CLASS}))
    student = ok(open_page({"step": "3", "class": CLASS}))
    other = ok(open_page({"step": "3", "class": CLASS}))
    student.button(key="present_answer_0").click().run()
    other.button(key="present_answer_0").click().run()
    assert "Your answer: **9**" in student.success[0].value
    teacher.run()  # the counts fragment's next tick
    assert answers_chart(teacher)["y"] == [2, 0, 0]
    student.button(key="present_answer_2").click().run()  # changed their mind: moved, not added
    teacher.run()
    assert answers_chart(teacher)["y"] == [1, 0, 1]
    assert len(question.choices) == 3
    # Another class's projector sees none of it.
    elsewhere = ok(open_page({"present": "true", "step": "3", "class": "0fed01"}))
    assert answers_chart(elsewhere)["y"] == [0, 0, 0]


def test_the_true_answer_shows_once_revealed():
    question = guided_path.step(1).question
    at = ok(open_page({"present": "true", "step": "1", "class": CLASS}))
    truth = question.choices[question.answer]
    assert not any(x.startswith("✓") for x in answers_chart(at)["x"])
    at.toggle(key=f"present_reveal_{question.id}").set_value(True).run()
    assert answers_chart(at)["x"][question.answer] == f"✓ {truth}"
    assert f"**Answer: {truth}.**" in markdown_text(at)
    assert question.explanation in markdown_text(at)
    # Still revealed after a visit to the next step and back.
    at.button(key="present_next").click().run()
    at.button(key="present_prev").click().run()
    assert answers_chart(at)["x"][question.answer] == f"✓ {truth}"


def test_the_teachers_settings_drive_the_knobs_step():
    at = ok(open_page({"step": "2", "class": CLASS, "gamma": "0.1", "step_size": "5"}))
    assert "7 decays in 40 epochs" in markdown_text(at)
    assert at.slider(key="gamma").value == 0.1
    traces = {t["name"]: t for t in charts(at)["present_chart_knobs"]["data"]}
    assert len(traces["decay (× γ)"]["x"]) == 7


def test_gamma_one_never_decays_on_the_knobs_step():
    at = ok(open_page({"step": "2", "class": CLASS, "gamma": "1"}))
    text = markdown_text(at)
    assert "the LR never changes: no decay in 40 epochs, every epoch trains at 0.1" in text
    assert "% of η₀ never" not in text  # the old "at most 1 % of η₀ never"
    names = [t["name"] for t in charts(at)["present_chart_knobs"]["data"]]
    assert not any(name.startswith("decay") for name in names)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"step": "9"}, "step"),
        ({"step": "0"}, "step"),
        ({"step": "two"}, "step"),
        ({"present": "yes"}, "present"),
        ({"class": "NOT-A-CLASS"}, "class"),
        ({"run": "zzz"}, "run"),
        ({"exp": "abc-def"}, "exp"),
    ],
)
def test_junk_flags_warn_and_fall_back(query, named):
    at = open_page({**query})
    assert not at.exception
    assert f"`{named}`" in "\n".join(w.value for w in at.warning)
    assert named not in at.query_params or named == "class"
    assert heading(at).startswith("1 · ")


def test_a_bad_class_in_present_mode_gets_a_fresh_one():
    at = open_page({"present": "true", "class": "NOPE"})
    assert "`class`" in at.warning[0].value
    assert CLASS_ID_RE.match(param(at, "class"))


def test_a_public_address_on_localhost_is_refused(monkeypatch):
    monkeypatch.setenv(join.PUBLIC_URL_ENV, "http://localhost:8501")
    at = open_page({"present": "true", "class": CLASS})
    assert "localhost" in at.warning[0].value
    assert not at.get("image")


def _finished(at: AppTest) -> bool:
    return any(m.value == "finished" for m in at.metric)


def test_live_run_step_starts_the_seeds_run_and_follows_it():
    at = ok(open_page({"step": "5", "class": CLASS}))
    at.button(key="present_start_run").click().run()
    run_id = param(at, "run")
    poll_until(at, _finished)
    ok(at)
    from ui.run_registry import get_manager

    record = get_manager().store.get_run(run_id)
    assert record.status == "finished"
    assert record.config.to_dict() == guided_path.TrainConfig().validated().to_dict()
    assert f"{record.epochs['test_acc'].iloc[-1]:.1f} %" in [m.value for m in at.metric]
    assert not at.button(key="present_start_run").disabled
    assert any("present_chart_live_lr" in c.proto.id for c in at.get("plotly_chart"))


def _cheap_presets(monkeypatch):
    """Both presets at 2 seeds, 2 epochs and big batches: the page runs what they say."""
    import dataclasses

    from steplr_viz.classroom import presets

    cheap = tuple(
        dataclasses.replace(
            p, base=dataclasses.replace(p.base, epochs=2, step_size=1, batch_size=512), seeds=2
        )
        for p in presets.PRESETS
    )
    monkeypatch.setattr(presets, "PRESETS", cheap)
    return cheap


@pytest.mark.parametrize("side", guided_path.COMPARE_SIDES)
def test_comparison_step_runs_each_side_and_names_its_winner(side, monkeypatch):
    from steplr_viz.classroom import experiments, presets
    from steplr_viz.classroom.commentary import commentary
    from ui.present_steps import SIDE_KEYS
    from ui.run_registry import get_manager

    cheap = {p.id: p for p in _cheap_presets(monkeypatch)}
    at = ok(open_page({"present": "true", "step": "6", "class": CLASS, "side": side}))
    question = guided_path.comparison_question(side)
    assert question.text in markdown_text(at)
    assert f"once all {3 * 2} runs of this side" in question.explanation
    start = f"present_start_compare_{side}"
    at.button(key=start).click().run()
    experiment_id = param(at, SIDE_KEYS[side])
    seeds = cheap[side].seeds

    def all_done(at: AppTest) -> bool:
        # Start is offered again once no run of the side is live; every seed has 2 epochs.
        if at.button(key=start).disabled or not at.dataframe:
            return False
        table = at.dataframe[0].value
        return list(table["seeds"]) == [seeds] * 3 and list(table["epochs"]) == [2, 2, 2]

    poll_until(at, all_done)
    ok(at)
    store = get_manager().store
    records = [store.get_run(i) for i in experiments.experiment_run_ids(store, experiment_id)]
    assert len(records) == 3 * seeds and {r.status for r in records} == {"finished"}
    assert presets.preset_of([r.config for r in records]) == cheap[side]
    # The table's means are the runs' own final accuracies, averaged per γ.
    table = at.dataframe[0].value
    by_label = dict(zip(table["γ"], table["final test accuracy (%)"], strict=True))
    for gamma in guided_path.COMPARE_GAMMAS:
        finals = [r.epochs["test_acc"].iloc[-1] for r in records if r.config.gamma == gamma]
        label = guided_path.comparison_label(gamma)
        assert by_label[label] == pytest.approx(sum(finals) / len(finals))
    # The paired verdicts, as the training page and the CLI say them.
    points = experiments.points_from_store(store, experiment_id)
    bullets = "\n".join(f"- {line}" for line in commentary(points, brief=True))
    assert bullets in markdown_text(at) and "paired by seed" in bullets
    accuracies = [by_label[guided_path.comparison_label(g)] for g in guided_path.COMPARE_GAMMAS]
    at.toggle(key=f"present_reveal_{question.id}").set_value(True).run()
    truth = guided_path.comparison_answer(accuracies)
    if truth is None:
        assert "the highest mean final test accuracies are tied" in markdown_text(at)
    else:
        assert f"**Answer: {question.choices[truth]}.**" in markdown_text(at)
        assert answers_chart(at)["x"][truth].startswith("✓")


def test_comparison_step_keeps_each_sides_runs_and_answers_apart(monkeypatch):
    _cheap_presets(monkeypatch)
    at = ok(open_page({"step": "6", "class": CLASS}))
    first = guided_path.comparison_question("seed")
    assert first.text in markdown_text(at)
    at.button(key="present_answer_0").click().run()
    at = ok(open_page({"step": "6", "class": CLASS, "side": "large-lr"}))
    second = guided_path.comparison_question("large-lr")
    assert second.text in markdown_text(at) and first.text not in markdown_text(at)
    assert second.id != first.id
    # A link with a side that does not exist warns and shows the first side.
    at = open_page({"step": "6", "class": CLASS, "side": "bogus"})
    assert any("`side`" in w.value for w in at.warning)
    assert first.text in markdown_text(at)
