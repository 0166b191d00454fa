"""Predict, then reveal: the winner from a results table, scored once per experiment."""

from __future__ import annotations

import pandas as pd

from steplr_viz.classroom import experiments
from steplr_viz.classroom.predictions import Predictions


def table(final: dict[str, list[float]]) -> pd.DataFrame:
    """A results table from each arm's final test accuracy per seed (2 epochs each)."""
    rows = [
        (arm, seed, None, epoch, 0.5, 1e-3, 0.4, acc - (2 - epoch), 1.0)
        for arm, accs in final.items()
        for seed, acc in enumerate(accs)
        for epoch in (1, 2)
    ]
    return experiments.results_table(pd.DataFrame(rows, columns=experiments.POINT_COLUMNS))


def test_a_right_prediction_scores_once():
    results = table({"gamma=0.1": [86.0, 87.0], "gamma=1": [90.0, 90.5]})
    game = Predictions()
    game.predict("e1", "gamma=1")
    first = game.reveal("e1", results)
    assert first.winners == ("gamma=1",) and first.correct is True
    assert game.reveal("e1", results) == first  # revealed again on every rerun
    assert (game.right, game.asked) == (1, 1)


def test_a_wrong_prediction_counts_as_asked():
    game = Predictions()
    game.predict("e2", "gamma=0.1")
    assert game.reveal("e2", table({"gamma=0.1": [80.0], "gamma=1": [90.0]})).correct is False
    assert (game.right, game.asked) == (0, 1)


def test_no_prediction_is_not_scored_and_a_late_one_cannot_change_the_score():
    results = table({"gamma=0.1": [80.0], "gamma=1": [90.0]})
    game = Predictions()
    assert game.reveal("e3", results).correct is None
    game.predict("e4", "gamma=0.1")
    game.reveal("e4", results)
    game.predict("e4", "gamma=1")  # after the reveal: ignored
    assert game.reveal("e4", results).correct is False and game.asked == 1


def test_a_tie_counts_either_tied_arm_as_right():
    results = table({"a=1": [90.0], "a=2": [90.0], "a=3": [80.0]})
    assert experiments.winners(results) == ["a=1", "a=2"]
    game = Predictions()
    game.predict("e5", "a=2")
    assert game.reveal("e5", results).correct is True
