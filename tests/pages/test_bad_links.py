"""Junk in a link never crashes a page: every page, every URL-bound key, every kind of junk.

Pages are found on disk (app.py and pages/*.py) and their bound keys by running them once (a
widget bound to the URL carries `query_param_key` in its proto) plus the checks the page hands
to warn_bad_query_params on that run, so a page or widget added later is covered without
edits. For speed, all of a page's keys get the same junk in one run. Each run must render with
no exception, warn naming every key, and show exactly the widgets and values of a clean run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_pages import open_page, private_run_manager

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]

JUNK = {
    "text": "abc",
    "nan": "nan",
    "inf": "inf",
    "-inf": "-inf",
    "negative": "-3",
    "zero": "0",
    "huge-float": "1e999",
    "huge-int": "9" * 400,
    "empty": "",
    "10k-chars": "x" * 10_000,
    "unicode": "γ½🙂",
    "fullwidth-digits": "１０",
    "repeated": ["1", "2"],
}
# Junk that some key may legitimately accept (e.g. epoch t = 0, seed = 0): such a key must then
# take that value and not be warned about; every other key must be warned about and default.
MAYBE_VALID = {"zero": 0.0}


def page_id(path: Path) -> str:
    return path.name


@contextmanager
def recorded_checks() -> Iterator[set[str]]:
    """The keys of every URL check handed to warn_bad_query_params while this block runs."""
    import ui.query

    real = ui.query.warn_bad_query_params
    keys: set[str] = set()

    def recording(checks):
        keys.update(checks)
        return real(checks)

    mp = pytest.MonkeyPatch()
    # The page, or a ui module it calls, may have imported the function by name: patch it there.
    for module in list(sys.modules.values()):
        if getattr(module, "warn_bad_query_params", None) is real:
            mp.setattr(module, "warn_bad_query_params", recording)
    try:
        yield keys
    finally:
        mp.undo()


def url_check_keys(path: Path) -> set[str]:
    """The keys the page checks in a link (its URL_CHECKS), as recorded on its clean run."""
    return clean_run(path)[2]


def walk(node: Any):
    """Every element under an AppTest block, depth first."""
    children = getattr(node, "children", None) or {}
    for child in children.values() if isinstance(children, dict) else children:
        yield child
        yield from walk(child)


def keyed_widgets(at: AppTest) -> dict[str, Any]:
    """Widget key -> element, for every keyed widget with a value in the sidebar and main area."""
    found = {}
    for root in (at.sidebar, at.main):
        for el in walk(root):
            key = getattr(el, "key", None)
            if key and hasattr(el, "value") and type(el).__name__ != "UnknownElement":
                found[key] = el
    return found


def bound_params(at: AppTest) -> dict[str, str]:
    """URL parameter -> widget key, for the widgets bound to the URL."""
    params = {}
    for key, el in keyed_widgets(at).items():
        param = getattr(getattr(el, "proto", None), "query_param_key", "")
        if param:
            params[param] = key
    return params


def values(at: AppTest) -> dict[str, Any]:
    return {key: el.value for key, el in keyed_widgets(at).items()}


def warning_text(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


@pytest.fixture(scope="module", autouse=True)
def isolated_manager(tmp_path_factory):
    """The training page makes the process-wide run manager: give it a temporary store."""
    with private_run_manager(tmp_path_factory.mktemp("runs")):
        yield


_CLEAN: dict[Path, tuple[dict[str, str], dict[str, Any], set[str]]] = {}


def clean_run(path: Path) -> tuple[dict[str, str], dict[str, Any], set[str]]:
    """(bound params, widget values, checked keys) of the page opened with no query, once."""
    if path not in _CLEAN:
        with recorded_checks() as checked:
            at = open_page(path)
        assert not at.exception, f"{path.name} fails with no query at all"
        assert not at.warning, f"{path.name} warns with no query at all"
        _CLEAN[path] = (bound_params(at), values(at), checked)
    return _CLEAN[path]


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_every_bound_widget_has_a_url_check(path: Path) -> None:
    """A widget bound to the URL without a check would take junk with no warning."""
    params, _, _ = clean_run(path)
    assert params or not url_check_keys(path), f"{path.name} has URL_CHECKS but no bound widget"
    missing = set(params) - url_check_keys(path)
    assert not missing, f"{path.name}: bound to the URL but not in URL_CHECKS: {sorted(missing)}"


@pytest.mark.parametrize("junk_id", list(JUNK))
@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_junk_link_renders_the_defaults_with_a_warning(path: Path, junk_id: str) -> None:
    params, clean, _ = clean_run(path)
    keys = set(params) | url_check_keys(path)  # URL_CHECKS may hold non-widget keys ("run")
    if not keys:
        pytest.skip(f"{path.name} reads nothing from the URL")
    junk = JUNK[junk_id]
    at = open_page(path, {key: junk for key in keys})

    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    warned = warning_text(at)
    # Only key names and rules are shown: never the junk itself (10,000 chars, markup).
    assert "x" * 40 not in warned and "9" * 40 not in warned
    shown = values(at)
    assert set(shown) == set(clean), "the junk link changed which widgets are drawn"
    valid_as = MAYBE_VALID.get(junk_id)
    for key in sorted(keys):
        widget = params.get(key)
        named = f"`{key}`" in warned
        if valid_as is not None and not named and widget is not None:
            # Accepted without a warning: then the widget must really use it.
            assert shown[widget] == valid_as, f"{key}: silently {shown[widget]!r}"
            continue
        assert named, f"no warning names `{key}` for {junk_id} junk:\n{warned}"
        if widget is not None:
            assert shown[widget] == clean[widget], f"{key}: {shown[widget]!r} is not the default"
        assert key not in at.query_params, f"the link still carries the rejected `{key}`"
    # Widgets not bound to the URL are untouched too.
    for key, value in clean.items():
        if key not in params.values():
            assert shown[key] == value, key


def _has_max(proto: Any) -> bool:
    """A slider always has a max; a number input says so in has_max."""
    return bool(getattr(proto, "has_max", True))


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_a_valid_link_is_used_without_a_warning(path: Path) -> None:
    """The control for the tests above: good values reach the widgets, so defaults mean junk."""
    at = open_page(path)
    params = bound_params(at)
    widgets = keyed_widgets(at)
    # Every numeric bound widget (slider, number input) at its maximum, written as a link would.
    query, expected = {}, {}
    for param, key in params.items():
        widget = widgets[key]
        if type(widget).__name__ in ("Slider", "NumberInput") and _has_max(widget.proto):
            top = float(widget.proto.max)
            query[param], expected[key] = str(int(top)) if top.is_integer() else repr(top), top
    if not query:
        pytest.skip(f"{path.name} has no numeric widget bound to the URL")
    at = open_page(path, query)
    assert not at.exception and not at.warning, warning_text(at)
    shown = values(at)
    for key, top in expected.items():
        value = shown[key][-1] if isinstance(shown[key], tuple | list) else shown[key]
        assert float(value) == top, f"{key}: link asked for {top:g}, page shows {shown[key]!r}"


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_the_warning_stays_through_later_reruns(path: Path) -> None:
    """A rerun the student did not ask for (the explorer's, when PyTorch's curve arrives) keeps
    the warning about the link: it is not gone before it can be read."""
    keys = set(bound_params(open_page(path))) | url_check_keys(path)
    if not keys:
        pytest.skip(f"{path.name} reads nothing from the URL")
    at = open_page(path, {key: "junk" for key in keys})
    warned = warning_text(at)
    assert warned and not at.exception
    at.run()
    at.run()
    assert warning_text(at) == warned
    assert not at.exception
