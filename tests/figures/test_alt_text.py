"""Every chart has a text alternative: built from the figure, and stable while numbers move."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from steplr_viz.figures.alt_text import describe
from steplr_viz.figures.schedule import staircase_figure
from steplr_viz.schedules import steplr as schedule
from tests.apptest_pages import REPO, open_page
from ui import lab as lab_ui

UI_CODE = [
    REPO / "app.py",
    *sorted((REPO / "pages").glob("*.py")),
    *sorted((REPO / "ui").glob("*.py")),
]


def _plotly_chart_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "plotly_chart"
    ]


@pytest.mark.parametrize("path", UI_CODE, ids=lambda p: str(p.relative_to(REPO)))
def test_charts_go_through_show_chart_which_sets_alt_text(path: Path):
    calls = _plotly_chart_calls(path)
    if path.name == "charts.py":
        assert len(calls) == 1  # the one call, with alt=
        return
    assert not calls, f"st.plotly_chart called directly at lines {calls}: use ui.charts.show_chart"


def test_the_staircase_alt_text_names_its_curves_and_axes():
    lrs = schedule.lr_curve(0.1, 0.5, 10, 40)
    fig = staircase_figure(lrs, torch_curve=lrs, decay_epochs=[10, 20, 30], log_y=True)
    text = describe(fig, "The StepLR staircase")
    assert text.startswith("The StepLR staircase.")
    assert "Learning rate (log scale) against epoch t." in text
    assert "PyTorch StepLR (line)" in text and "decay (× γ) (points)" in text


def test_the_alt_text_does_not_move_with_the_numbers():
    # Streamlit remounts a chart whose alt changes: a slider move must not change it.
    first = staircase_figure(schedule.lr_curve(0.1, 0.5, 10, 40), decay_epochs=[10, 20, 30])
    second = staircase_figure(schedule.lr_curve(0.02, 0.9, 3, 60), decay_epochs=[3, 6, 9])
    assert describe(first) == describe(second)


# The lab builds only its open tab: a link opens each one that has charts (the quiz has none).
PAGES = [pytest.param(p, None, id=p) for p in ("app.py", "pages/1_Live_training.py")] + [
    pytest.param("pages/2_StepLR_lab.py", {lab_ui.SECTION_KEY: tab}, id=f"lab-{tab}")
    for tab in lab_ui.TABS
    if tab != "Quiz"
]


@pytest.mark.parametrize(("page", "query"), PAGES)
def test_every_chart_on_the_page_carries_alt_text(page, query):
    at = open_page(REPO / page, query)
    charts = at.get("plotly_chart")
    assert charts
    for chart in charts:
        assert len(chart.proto.alt) > 20, chart.proto.alt
