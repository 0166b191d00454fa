"""Class mode in Chromium: a teacher and three students on two replicas of one PostgreSQL store.

The teacher projects presenter mode from replica A and opens a sweep of three cells; two students
join on A, the third on replica B (another server process, its own run manager). Every student's
device follows the teacher over two steps without a reload, their answers are counted on the
projector whichever replica served them, each student starts the run of their own cell, and the
projector's landscape fills with all three cells. Every wait is on what a page shows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from steplr_viz.classroom import guided_path
from steplr_viz.classroom.class_answers import ClassAnswers
from steplr_viz.store.runs import RunStore

from ..postgres import fresh_database
from .harness import (
    REPO,
    SCREENSHOTS,
    assert_no_exception,
    lecture_hall,
    open_page,
    page_state,
    plot_selector,
    plot_traces,
    save_screenshot,
    scroll_into_view,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PAGE = "Present"
CLASS = "c1a55d"
TITLES = [s.title for s in guided_path.path(quiz_seed=int(CLASS, 16))]
PROJECTOR = {"width": 1280, "height": 900}
PHONE = {"width": 412, "height": 915}
DEADLINE_S = 240  # three 1-epoch runs on two shared cores; the bound only stops a hung test
DOCS = REPO / "docs" if os.environ.get("STEPLR_VIZ_UPDATE_DOCS") == "1" else SCREENSHOTS


@pytest.fixture
def hall(server_factory: Any) -> Iterator[tuple[Any, Any, str]]:
    """Two replicas of the app on one fresh PostgreSQL database: (a, b, its URL)."""
    url = fresh_database()
    with lecture_hall(server_factory, url) as (a, b):
        yield a, b, url


@pytest.fixture
def contexts(browser: Any):
    """Browser contexts (one per person: own localStorage, so own browser id), closed after."""
    made = []

    def new(**kwargs: Any) -> Any:
        context = browser.new_context(**kwargs)
        context.set_default_timeout(60_000)
        made.append(context)
        return context.new_page()

    yield new
    for context in made:
        context.close()


def heading(page: Any, number: int) -> None:
    """Wait until the page has drawn step `number`'s heading."""
    page.locator(
        '[data-testid="stMain"] [data-testid="stHeading"]',
        has_text=f"{number} · {TITLES[number - 1]}",
    ).wait_for()


_CELLS_JS = """(sel) => {
  const el = document.querySelector(sel);
  if (!el || !el._fullData) return null;
  const heat = el._fullData.find((t) => t.name === "landscape");
  return heat ? [].concat(...heat.text) : null;
}"""


def landscape_texts(page: Any) -> list[str]:
    """The projector's cell texts, row by row (what the heatmap writes in each cell)."""
    return page.evaluate(_CELLS_JS, plot_selector("sweep_landscape")) or []


def answer_total(page: Any) -> int | None:
    traces = plot_traces(page, "present_answers")
    return None if not traces else sum(int(v) for v in traces[0]["y"])


def tally_report(err: Exception, hall: tuple[Any, Any, str], teacher: Any, students: list) -> str:
    """Why the projector's tally did not reach 3: the store's count, each page, each server."""
    a, b, url = hall
    question = guided_path.step(3).question
    stored = ClassAnswers(RunStore(database_url=url)).counts(
        CLASS, question.id, len(question.choices)
    )
    pages = [("teacher", teacher)] + [(f"student {i}", s) for i, s in enumerate(students)]
    shown = {name: page_state(page) for name, page in pages}
    picture = save_screenshot(teacher, SCREENSHOTS, "class-mode-tally")
    return (
        f"{err}; the store counts {stored}, the projector shows {answer_total(teacher)}; "
        f"pages: {shown}; picture: {picture}\n"
        f"replica A's threads:\n{a.thread_stacks()}\nreplica B's threads:\n{b.thread_stacks()}"
    )


def fill(page: Any, key: str, text: str) -> None:
    field = page.locator(f".st-key-{key} input")
    field.fill(text)
    field.press("Enter")


def test_the_class_follows_the_teacher_and_fills_the_landscape_across_two_replicas(
    hall: tuple[Any, Any, str], contexts: Any
) -> None:
    a, b, _url = hall
    teacher = contexts(viewport=PROJECTOR)
    open_page(teacher, a.page_url(PAGE, f"present=true&class={CLASS}"))
    heading(teacher, 1)
    teacher.get_by_text("Open a class sweep").click()
    fill(teacher, "sweep_x_values_gamma", "0.1, 0.5, 1")
    fill(teacher, "sweep_y_values_step_size", "1")
    fill(teacher, "sweep_epochs", "1")
    teacher.locator(".st-key-sweep_open button").click()
    teacher.get_by_text("Where is the best cell?").wait_for()
    teacher.locator(".st-key-sweep_landscape .js-plotly-plot").wait_for()

    join = f"class={CLASS}&step=1"
    students = [contexts(viewport=PHONE, is_mobile=True) for _ in range(3)]
    for student, server in zip(students, (a, a, b), strict=True):
        open_page(student, server.page_url(PAGE, join))
        heading(student, 1)
        student.get_by_text("Follow the teacher").wait_for()
        student.get_by_text(re.compile(r"Your cell: γ = ")).wait_for()
    cells = {s.get_by_text(re.compile(r"Your cell: ")).inner_text() for s in students}
    assert len(cells) == 3, cells  # no cell given twice until all are given
    teacher.get_by_text(re.compile(r"3 following")).wait_for()

    # Two steps, and no student's page reloads: a marker set now must survive on every one.
    for student in students:
        student.evaluate("() => { window.__noReload = true; }")
    for number in (2, 3):
        teacher.locator(".st-key-present_next button").click()
        heading(teacher, number)
        for student in students:
            heading(student, number)
    for student in students:
        assert student.evaluate("() => window.__noReload === true")
        assert "step=3" in student.url

    # Answers from both replicas reach the projector's one tally.
    for i, student in enumerate(students):
        student.locator(f".st-key-present_answer_{i % 2} button").click()
        student.get_by_text("Your answer:").wait_for()
    try:
        wait_until(lambda: answer_total(teacher) == 3, "three answers", deadline_s=120)
    except AssertionError as err:
        raise AssertionError(tally_report(err, hall, teacher, students)) from err

    # Each student runs their own cell; the landscape fills on the projector.
    for student in students:
        student.locator(".st-key-sweep_start button").click()
    for student in students:
        student.get_by_text("Your run finished").wait_for(timeout=DEADLINE_S * 1000)
    teacher.get_by_text("3 of 3 cells filled").wait_for()
    texts = landscape_texts(teacher)
    assert len(texts) == 3 and all("%<br>1 finished" in t for t in texts), texts
    teacher.get_by_text("Reveal the best cell").click()
    teacher.get_by_text(re.compile(r"Best cell: γ = ")).wait_for()
    scroll_into_view(teacher.locator(".st-key-sweep_landscape"))
    save_screenshot(teacher, DOCS, "screenshot-class-sweep-e2e", full_page=False)
    for page in (teacher, *students):
        assert_no_exception(page)
