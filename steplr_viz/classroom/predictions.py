"""Predict, then reveal: a student names the arm they expect to win; the runs say; a score."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from steplr_viz.classroom.experiments import winners

__all__ = ["Predictions", "Reveal"]


class Reveal(NamedTuple):
    """An experiment's outcome against the student's prediction (None: no prediction made)."""

    winners: tuple[str, ...]
    predicted: str | None
    correct: bool | None


@dataclass
class Predictions:
    """One student's predictions by experiment id, and the score (each experiment once)."""

    predicted: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, bool] = field(default_factory=dict)

    def predict(self, experiment_id: str, arm: str | None) -> None:
        """Record a prediction before the experiment runs (none: nothing to score)."""
        if arm is not None and experiment_id not in self.outcomes:
            self.predicted[experiment_id] = arm

    def reveal(self, experiment_id: str, table: pd.DataFrame) -> Reveal:
        """The winner(s) from a finished experiment's results table; scored the first time."""
        best = tuple(winners(table))
        guess = self.predicted.get(experiment_id)
        if guess is None or not best:
            return Reveal(best, guess, None)
        correct = self.outcomes.setdefault(experiment_id, guess in best)
        return Reveal(best, guess, correct)

    @property
    def right(self) -> int:
        return sum(self.outcomes.values())

    @property
    def asked(self) -> int:
        return len(self.outcomes)
