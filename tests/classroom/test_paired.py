"""Paired statistics: Student's t against a published table, verdicts computed by hand."""

from __future__ import annotations

import math

import pytest

from steplr_viz.classroom.paired import paired_comparison, t_cdf_two_sided, t_quantile_95

# NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.2 "Critical values of the Student's t
# distribution", column 0.025 (upper tail), ν = 1..30: the two-sided 95 % quantiles.
PUBLISHED_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@pytest.mark.parametrize("df", range(1, 31))
def test_t_quantiles_match_the_published_table(df):
    assert round(t_quantile_95(df), 3) == PUBLISHED_T975[df - 1]
    assert t_cdf_two_sided(t_quantile_95(df), df) == pytest.approx(0.95, abs=1e-12)


def _pdf_integral(t: float, df: int, steps: int = 20_000) -> float:
    """P(|T| ≤ t) by Simpson's rule over the density (lgamma for the constant)."""
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def f(x: float) -> float:
        return math.exp(log_c - (df + 1) / 2 * math.log1p(x * x / df))

    h = t / steps
    s = f(0) + f(t) + sum((4 if i % 2 else 2) * f(i * h) for i in range(1, steps))
    return 2 * s * h / 3


@pytest.mark.parametrize(("t", "df"), [(0.5, 1), (1.0, 2), (2.0, 3), (1.7, 4), (3.1, 7), (2.2, 12)])
def test_the_closed_form_cdf_is_the_densitys_integral(t, df):
    assert t_cdf_two_sided(t, df) == pytest.approx(_pdf_integral(t, df), abs=1e-9)


def test_bad_degrees_of_freedom_are_refused():
    for df in (0, -1, 2.5):
        with pytest.raises(ValueError, match="df must be a positive integer"):
            t_cdf_two_sided(1.0, df)


def test_a_hand_computed_interval_that_excludes_zero():
    # d = (3, 4, 5): mean 4, sd 1, half width t(2) / √3 = 4.3027 / 1.7321 = 2.484:
    # the interval (1.516, 6.484) excludes 0, so a wins.
    c = paired_comparison("a", {0: 93.0, 1: 94.0, 2: 95.0}, "b", {0: 90.0, 1: 90.0, 2: 90.0})
    assert c.differences == (3.0, 4.0, 5.0) and c.mean == 4.0
    half = 4.302652729911275 / math.sqrt(3)
    assert c.low == pytest.approx(4 - half) and c.high == pytest.approx(4 + half)
    assert (c.a_better, c.b_better, c.ties) == (3, 0, 0)
    assert not c.holds_zero and c.winner == "a"


def test_an_interval_that_holds_zero_names_no_winner():
    c = paired_comparison("a", {0: 91.0, 1: 92.0, 2: 93.0}, "b", {0: 90.0, 1: 90.0, 2: 90.0})
    assert c.differences == (1.0, 2.0, 3.0)
    half = 4.302652729911275 / math.sqrt(3)  # sd 1
    assert (c.low, c.high) == pytest.approx((2 - half, 2 + half))
    assert c.low < 0 < c.high and c.holds_zero and c.winner is None
    assert (c.a_better, c.b_better) == (3, 0)  # every seed one way, still within the noise


def test_all_seeds_one_way_with_little_spread_names_the_other_arm():
    c = paired_comparison("a", {0: 90.0, 1: 90.1, 2: 89.9}, "b", {0: 92.0, 1: 92.0, 2: 92.0})
    assert (c.a_better, c.b_better, c.ties) == (0, 3, 0)
    assert c.mean == pytest.approx(-2.0) and c.high < 0
    assert c.winner == "b"


def test_ties_count_as_neither_and_all_ties_name_no_winner():
    # 90.1 − 90.0 is not exactly 0.1 in floating point; 0.3 − 0.2 − 0.1 is not 0: the tie
    # tolerance makes such seeds ties.
    c = paired_comparison("a", {0: 0.3 - 0.2, 1: 90.0}, "b", {0: 0.1, 1: 90.0})
    assert (c.a_better, c.b_better, c.ties) == (0, 0, 2)
    assert c.all_tied and c.winner is None
    mixed = paired_comparison("a", {0: 91.0, 1: 90.0, 2: 89.0}, "b", {0: 90.0, 1: 90.0, 2: 90.0})
    assert (mixed.a_better, mixed.b_better, mixed.ties) == (1, 1, 1)
    assert mixed.mean == 0.0 and mixed.holds_zero


def test_zero_spread_gives_a_zero_width_interval():
    c = paired_comparison("a", {0: 90.04, 1: 91.04}, "b", {0: 90.0, 1: 91.0})
    assert c.low == pytest.approx(c.high) == pytest.approx(0.04)
    assert c.winner == "a"


def test_one_seed_has_no_interval_and_no_winner():
    c = paired_comparison("a", {3: 95.0}, "b", {3: 90.0})
    assert c.n == 1 and c.low is None and c.high is None
    assert c.holds_zero and c.winner is None and c.a_better == 1


def test_only_the_seeds_both_arms_have_are_paired():
    c = paired_comparison("a", {0: 91.0, 1: 92.0, 2: 99.0}, "b", {0: 90.0, 1: 90.0})
    assert c.seeds == (0, 1) and c.differences == (1.0, 2.0)
    with pytest.raises(ValueError, match="share no seed"):
        paired_comparison("a", {0: 1.0}, "b", {1: 1.0})
