"""Paired statistics: two arms run on the same seeds, compared seed by seed.

Every arm of an experiment shares its seeds (the same initial weights and batch order), so the
fair comparison of arm A with arm B is the per-seed difference A − B: its mean, a 95 % interval
from Student's t with n − 1 degrees of freedom, and how many seeds favour each arm.

Student's t quantile is computed here, not tabled: the t distribution's CDF for an integer
number of degrees of freedom has a closed form (Abramowitz and Stegun 26.7.3 and 26.7.4),
inverted by bisection. tests/classroom/test_paired.py checks it against a published table.

>>> round(t_quantile_95(2), 3)
4.303
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "TIE_TOLERANCE",
    "PairedComparison",
    "paired_comparison",
    "t_cdf_two_sided",
    "t_quantile_95",
]

# Two values this close are equal (accuracies are multiples of 100 / test digits: exact in
# spirit, not in floating point): one rule for ties in the verdicts, winners and answers.
TIE_TOLERANCE = 1e-9


def same(a: float, b: float) -> bool:
    """The one tie rule: equal to within TIE_TOLERANCE."""
    return math.isclose(a, b, rel_tol=0.0, abs_tol=TIE_TOLERANCE)


def t_cdf_two_sided(t: float, df: int) -> float:
    """P(|T| ≤ t) for Student's t with `df` (a positive integer) degrees of freedom."""
    if df < 1 or int(df) != df:
        raise ValueError(f"df must be a positive integer, got {df!r}")
    t = abs(t)
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2:  # odd: (2/π)(θ + sin θ (cos θ + 2/3 cos³ θ + ... + ... cos^(df−2) θ))
        if df == 1:
            return 2 * theta / math.pi
        term = math.cos(theta)
        total = term
        for k in range(3, df - 1, 2):  # term_k = term_(k−2) · (k−1)/k · cos² θ
            term *= (k - 1) / k * c2
            total += term
        return 2 / math.pi * (theta + math.sin(theta) * total)
    # even: sin θ (1 + 1/2 cos² θ + 1·3/(2·4) cos⁴ θ + ... + ... cos^(df−2) θ)
    term = total = 1.0
    for k in range(2, df - 1, 2):  # term_k = term_(k−2) · (k−1)/k · cos² θ
        term *= (k - 1) / k * c2
        total += term
    return math.sin(theta) * total


def t_quantile_95(df: int) -> float:
    """The t such that P(|T| ≤ t) = 0.95 (the 0.975 quantile), by bisection to 1e-12."""
    low, high = 0.0, 1.0
    while t_cdf_two_sided(high, df) < 0.95:
        high *= 2
    while high - low > 1e-12 * high:
        mid = (low + high) / 2
        if t_cdf_two_sided(mid, df) < 0.95:
            low = mid
        else:
            high = mid
    return (low + high) / 2


@dataclass(frozen=True)
class PairedComparison:
    """Arm `a` against arm `b` over the seeds both finished: differences are a − b per seed."""

    a: str
    b: str
    seeds: tuple[int, ...]
    differences: tuple[float, ...]
    mean: float
    low: float | None  # the 95 % interval of the mean difference; None with one seed
    high: float | None
    a_better: int  # seeds where a − b > 0
    b_better: int
    ties: int

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def holds_zero(self) -> bool:
        """The interval contains 0 (or there is no interval): no winner can be named."""
        return self.low is None or self.low <= 0.0 <= self.high

    @property
    def all_tied(self) -> bool:
        return self.ties == self.n

    @property
    def winner(self) -> str | None:
        """The arm the interval favours; None when it holds 0, with one seed, or when tied."""
        if self.n < 2 or self.all_tied or self.holds_zero:
            return None
        return self.a if self.mean > 0 else self.b


def paired_comparison(
    a: str, a_by_seed: Mapping[int, float], b: str, b_by_seed: Mapping[int, float]
) -> PairedComparison:
    """Compare two arms' values on the seeds both have (ValueError when they share none)."""
    seeds = tuple(sorted(set(a_by_seed) & set(b_by_seed)))
    if not seeds:
        raise ValueError(f"{a} and {b} share no seed")
    diffs = tuple(float(a_by_seed[s]) - float(b_by_seed[s]) for s in seeds)
    ties = sum(same(d, 0.0) for d in diffs)
    a_better = sum(d > 0 and not same(d, 0.0) for d in diffs)
    mean = statistics.fmean(diffs)
    low = high = None
    if len(diffs) > 1:
        half = t_quantile_95(len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))
        low, high = mean - half, mean + half
    return PairedComparison(
        a, b, seeds, diffs, mean, low, high, a_better, len(diffs) - a_better - ties, ties
    )
