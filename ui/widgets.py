"""Widget variants that stay safe when a link seeds them."""

from __future__ import annotations

import streamlit as st


def int_input(
    label: str, min_value: int, max_value: int, value: int, *, key: str, step: int = 1, **kwargs
) -> int:
    """An integer number input bound to the URL that a link cannot crash.

    Streamlit 1.67's *int* number_input raises OverflowError when a link seeds it with "inf" or
    "1e999"; its float variant drops such values. So this is a float input shown as an integer.
    """
    number = st.number_input(
        label,
        min_value=float(min_value),
        max_value=float(max_value),
        value=float(value),
        step=float(step),
        format="%.0f",  # "%d" on a float input makes Streamlit log a warning every run
        key=key,
        bind="query-params",
        **kwargs,
    )
    return int(number)
