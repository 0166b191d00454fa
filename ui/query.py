"""Check the values a link carries before the widgets bound to them read the URL."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st


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


def warn_bad_query_params(checks: Mapping[str, Callable[[str], object]]) -> list[str]:
    """Warn once about each bound URL parameter whose value the page will not use.

    `checks` maps a widget key to a function that raises ValueError for a value the widget
    cannot take. Streamlit then drops (or rounds) that value and the widget shows what it uses;
    this only tells the student why. Returns the warnings shown (for tests).
    """
    problems = []
    for key, check in checks.items():
        values = st.query_params.get_all(key)
        if not values:
            continue
        if len(values) > 1:
            problems.append(f"`{key}` appears {len(values)} times in the link")
            continue
        try:
            check(values[0])
        except (ValueError, TypeError, OverflowError) as err:
            # The value itself is never echoed: it may be 10,000 characters or markup.
            problems.append(f"`{key}` in the link is not valid ({_reason(err)})")
    if problems:
        st.warning(
            "Some settings in the link could not be used as given: "
            + "; ".join(problems)
            + ". The controls show the values in use.",
            icon="⚠️",
        )
    return problems


def _reason(err: Exception) -> str:
    message = str(err)
    # Our engine's messages end in ", got <value>": keep the rule, drop the echoed value.
    if ", got " in message:
        return message.split(", got ")[0]
    return message if message in {"must be true or false", "not a number"} else "not a number"
