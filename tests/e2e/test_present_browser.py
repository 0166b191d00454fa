"""Presenter mode in Chromium at 1280×720: walk the path by keys and buttons, and a second
browser's answer changes the count on the projected screen.

Screenshots go to the test artifacts; with STEPLR_VIZ_UPDATE_DOCS=1 they replace the README's
pictures in docs/ (a test run leaves the checkout as it was)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest

from steplr_viz.classroom import guided_path

from .harness import (
    REPO,
    SCREENSHOTS,
    assert_no_exception,
    open_page,
    plot_traces,
    save_screenshot,
    wait_until,
)

pytestmark = pytest.mark.e2e

PROJECTOR = {"width": 1280, "height": 720}
DOCS = REPO / "docs" if os.environ.get("STEPLR_VIZ_UPDATE_DOCS") == "1" else SCREENSHOTS
CLASS = "e2ec1a"
TITLES = [s.title for s in guided_path.path(quiz_seed=int(CLASS, 16))]
DEADLINE_S = 60


@pytest.fixture
def contexts(browser: Any):
    """Browser contexts made by the test (teacher, student), closed at the end."""
    made = []

    def new(**kwargs: Any) -> Any:
        context = browser.new_context(**kwargs)
        context.set_default_timeout(30_000)
        made.append(context)
        return context.new_page()

    yield new
    for context in made:
        context.close()


def heading(page: Any, number: int) -> Any:
    """Wait for step `number`'s heading: the page has drawn that step."""
    locator = page.locator(
        '[data-testid="stMain"] [data-testid="stHeading"]',
        has_text=f"{number} · {TITLES[number - 1]}",
    )
    locator.wait_for()
    return locator


def step_in_url(page: Any) -> str:
    return parse_qs(urlsplit(page.url).query).get("step", ["1"])[0]


def answer_counts(page: Any) -> list[int] | None:
    traces = plot_traces(page, "present_answers")
    return None if not traces else [int(v) for v in traces[0]["y"]]


def test_teacher_walks_the_path_and_sees_a_students_answer(app_server: Any, contexts: Any) -> None:
    teacher = contexts(viewport=PROJECTOR)
    open_page(teacher, app_server.page_url("Present", f"present=true&class={CLASS}"))
    heading(teacher, 1)
    assert_no_exception(teacher)
    # Present mode: the sidebar starts collapsed and the text is projector-sized.
    sidebar = teacher.locator('[data-testid="stSidebar"]')
    assert sidebar.get_attribute("data-collapsed") == "true"
    size = teacher.evaluate(
        """() => parseFloat(getComputedStyle(document.querySelector(
            '[data-testid="stMain"] [data-testid="stMarkdownContainer"] p')).fontSize)"""
    )
    assert size >= 22, f"body text is {size}px"
    save_screenshot(teacher, DOCS, "screenshot-present-formula", full_page=False)

    # The arrow keys move through the path; each step has its own address.
    teacher.keyboard.press("ArrowRight")
    heading(teacher, 2)
    assert step_in_url(teacher) == "2"
    teacher.keyboard.press("ArrowRight")
    heading(teacher, 3)
    teacher.keyboard.press("ArrowLeft")
    heading(teacher, 2)
    teacher.locator(".st-key-present_next button").click()
    heading(teacher, 3)
    assert step_in_url(teacher) == "3"
    wait_until(lambda: answer_counts(teacher) == [0, 0, 0], "no answers", deadline_s=DEADLINE_S)

    # The join code's address, opened on this machine (the test server listens on 127.0.0.1).
    teacher.get_by_text("Join the class").click()
    code = teacher.locator('[data-testid="stPopoverBody"] code').first
    code.wait_for()
    join_url = code.inner_text().strip()
    parts = urlsplit(join_url)
    assert parts.hostname not in ("localhost", "127.0.0.1")
    query = parse_qs(parts.query)
    assert query["step"] == ["3"] and query["class"] == [CLASS] and "present" not in query
    qr = teacher.locator('[data-testid="stPopoverBody"] [data-testid="stImage"] img')
    qr.wait_for()
    teacher.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=qr.element_handle()
    )
    save_screenshot(teacher, DOCS, "screenshot-present-join", full_page=False)
    teacher.keyboard.press("Escape")

    student = contexts(viewport={"width": 412, "height": 915}, is_mobile=True)
    local = urlunsplit(("http", f"127.0.0.1:{app_server.port}", parts.path, parts.query, ""))
    open_page(student, local)
    heading(student, 3)
    question = guided_path.step(3).question
    student.locator(".st-key-present_answer_0 button").click()
    student.get_by_text(f"Your answer: {question.choices[0]}").wait_for()

    # The projected counts follow within a poll of the counts fragment: wait on what it shows.
    wait_until(
        lambda: answer_counts(teacher) == [1, 0, 0], "the student's answer", deadline_s=DEADLINE_S
    )
    teacher.get_by_text("Show the answer").click()
    teacher.get_by_text(f"Answer: {question.choices[question.answer]}.").wait_for()
    # Arrow keys still move on after the toggle took the focus.
    teacher.keyboard.press("ArrowRight")
    heading(teacher, 4)
    teacher.keyboard.press("ArrowLeft")
    heading(teacher, 3)
    # Back on the step, the answer is still shown: the teacher revealed it once.
    teacher.get_by_text(f"Answer: {question.choices[question.answer]}.").wait_for()
    save_screenshot(teacher, DOCS, "screenshot-present-answers", full_page=False)

    # The rest of the path, by the Next button, to the closing quiz (Next then disabled).
    for number in range(4, guided_path.STEP_COUNT + 1):
        teacher.locator(".st-key-present_next button").click()
        heading(teacher, number)
        assert_no_exception(teacher)
    assert teacher.locator(".st-key-present_next button").is_disabled()
    assert_no_exception(student)
