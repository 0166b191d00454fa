"""Ids that stay ids: no CSV reader takes a new run or experiment id for a number."""

from __future__ import annotations

import io
import random

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from steplr_viz.store.runs import check_run_id, new_run_id
from steplr_viz.validation import (
    ID_ALPHABET,
    ID_FIRST,
    ID_LEN,
    check_experiment_id,
    is_id,
    new_id,
    reads_as_number,
)

# Every id the new format allows: a non-hex letter, then 11 of the base-32 alphabet.
new_format_ids = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(ID_FIRST),
    st.text(ID_ALPHABET, min_size=ID_LEN - 1, max_size=ID_LEN - 1),
)


def _read_back(text: str) -> pd.Series:
    """The column as pandas reads it from a CSV with default options."""
    return pd.read_csv(io.StringIO(f"run_id\n{text}\n"))["run_id"]


@given(new_format_ids)
def test_no_new_format_id_reads_as_a_number(run_id: str):
    assert not reads_as_number(run_id)
    column = _read_back(run_id)
    assert pd.api.types.is_string_dtype(column) and column.tolist() == [run_id]
    assert check_run_id(run_id) == run_id and check_experiment_id(run_id) == run_id


@given(st.randoms(use_true_random=False))
def test_new_ids_are_of_the_new_format(rng: random.Random):
    run_id = new_id(rng)
    assert len(run_id) == ID_LEN and run_id[0] in ID_FIRST
    assert set(run_id) <= set(ID_ALPHABET) and is_id(run_id)


def test_new_run_ids_come_from_the_system_random_source_in_the_new_format():
    ids = {new_run_id() for _ in range(2_000)}
    assert len(ids) == 2_000
    assert all(i[0] in ID_FIRST and not reads_as_number(i) for i in ids)


@pytest.mark.parametrize("old", ["123456789012", "1234e5678901", "0123456789ab", "abcdefabcdef"])
def test_old_hex_ids_stay_valid(old: str):
    assert check_run_id(old) == old and check_experiment_id(old) == old


@pytest.mark.parametrize(
    ("text", "number"),
    [("123456789012", True), ("1234e5678901", True), ("inf", True), ("nan", True),
     ("0123456789ab", False), ("e12345678901", False), ("", False)],
)  # fmt: skip
def test_reads_as_number_agrees_with_pandas(text: str, number: bool):
    assert reads_as_number(text) is number
    if text:
        assert pd.api.types.is_numeric_dtype(_read_back(text)) is number


@pytest.mark.parametrize("bad", ["g1234567890u", "G12345678901", "gi2345678901", "g1234567890"])
def test_ids_outside_both_formats_are_refused(bad: str):
    with pytest.raises(ValueError, match="run_id"):
        check_run_id(bad)
    with pytest.raises(ValueError, match="experiment"):
        check_experiment_id(bad)
