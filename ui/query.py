"""Check the values a link carries before the widgets bound to them read the URL."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st
from streamlit.errors import StreamlitAPIException

_WARNINGS_KEY = "_steplr_viz_link_warnings"  # per page: what its link carried that was dropped


def parse_number(text: str) -> float | int:
    """Parse a URL value as an int or float; ValueError for anything else (no eval, ever)."""
    text = text.strip()
    # No real setting is that long; and Python would read non-ASCII digits such as "１０".
    if len(text) > 32 or not text.isascii():
        raise ValueError("not a number")
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_bool(text: str) -> bool:
    """Parse a toggle's URL value the way Streamlit does: true or false, any case."""
    lowered = text.strip().lower()
    if lowered not in {"true", "false"}:
        raise ValueError("must be true or false")
    return lowered == "true"


def one_of(labels, what: str) -> Callable[[str], str]:
    """A check that a URL value is one of a widget's option labels, spelt as Streamlit spells them.

    Streamlit matches a bound choice widget's URL value against its formatted labels, so "2e-2"
    is not the option "0.02": the check must compare the same text.
    """
    allowed = [str(label) for label in labels]

    def check(text: str) -> str:
        if text not in allowed:
            shown = ", ".join(allowed) if len(allowed) <= 8 else f"{allowed[0]}, …, {allowed[-1]}"
            raise ValueError(f"{what} must be one of {shown}")
        return text

    return check


def warn_bad_query_params(checks: Mapping[str, Callable[[str], object]]) -> list[str]:
    """Warn about each bound URL parameter whose value the page will not use, and drop it.

    `checks` maps a widget key to a function that raises ValueError for a value the widget
    cannot take. Call this before the widgets are drawn. A bad value is removed from the link
    and the script reruns at once, so every widget shows its default: Streamlit itself would
    seed some widgets with values the checks reject (fullwidth digits such as "１０", the last of
    a repeated parameter). The warning is shown on that rerun and on every later run of the page
    in this session: a rerun the student did not ask for (PyTorch's curve arriving) must not
    hide it. Returns the warnings shown.
    """
    # The page's own list: the set of keys it checks tells the pages apart.
    store_key = f"{_WARNINGS_KEY}:{','.join(sorted(checks))}"
    problems = list(st.session_state.get(store_key, []))
    dropped = False
    for key, check in checks.items():
        values = st.query_params.get_all(key)
        if not values:
            continue
        if len(values) > 1:
            problem = f"`{key}` appears {len(values)} times in the link"
        else:
            try:
                check(values[0])
                continue
            except (ValueError, TypeError, OverflowError) as err:
                # The value itself is never echoed: it may be 10,000 characters or markup.
                problem = f"`{key}` in the link is not valid ({_reason(err)})"
        if problem not in problems:
            problems.append(problem)
        try:
            del st.query_params[key]
        except StreamlitAPIException:
            continue  # already bound to a drawn widget: only warn (Streamlit validates it)
        dropped = True
    if problems:
        st.session_state[store_key] = problems
    if dropped:
        # The widgets read the link as it was when this run began: start again without it.
        st.rerun()
    if problems:
        st.warning(
            "Some settings in the link could not be used as given: "
            + "; ".join(problems)
            + ". The controls show the values in use.",
            icon=":material/warning:",
        )
    return problems


_PLAIN_REASONS = {"must be true or false", "not a number", "not one of the choices"}


def _reason(err: Exception) -> str:
    message = str(err)
    # Our engine's messages end in ", got <value>": keep the rule, drop the echoed value.
    if ", got " in message:
        return message.split(", got ")[0]
    if message in _PLAIN_REASONS:
        return message
    # one_of's rule names the choices, never the value given: it is the clearest reason.
    if " must be one of " in message:
        return message
    # list.index says "<value> is not in list": a value that is not one of the choices.
    return "not one of the choices" if message.endswith("is not in list") else "not a number"
