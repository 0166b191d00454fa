"""The commentary: a winner only over equal, finished epochs, paired verdicts, decays read
against their noise, numbers that never round to a false statement."""

from __future__ import annotations

import math

from steplr_viz.classroom import presets
from steplr_viz.classroom.commentary import (
    commentary,
    first_place_note,
    lesson_shown,
    pair_comparisons,
    points_text,
)
from steplr_viz.classroom.experiments import points_frame
from tests.classroom.test_experiments import CONSTANT, STALLED, arm_runs, ep

T2 = 4.302652729911275  # Student's t, 95 %, 2 degrees of freedom


def test_the_ranking_the_paired_verdict_final_and_best_and_a_stall():
    lines = commentary(points_frame(STALLED + CONSTANT))
    assert lines[0] == (
        "By mean final test accuracy over seeds 0, 1, 2, after all 3 epochs: gamma=1 comes "
        "first with 91.00 %, 5.00 points above gamma=0.1 (86.00 %)."
    )
    assert lines[1] == (
        "gamma=1 vs gamma=0.1, paired by seed: mean difference +5.00 points (95 % interval "
        "+5.00 to +5.00), seeds favouring gamma=1: 3 of 3, gamma=0.1: 0: gamma=1 wins by 5.00 "
        "points, on every seed."
    )
    assert lines[2].startswith("The verdicts use each run's final test accuracy")
    assert lines[2].endswith("which ranks the arms the same way.")
    assert lines[3] == (
        "gamma=0.1, epoch 3 (counted from 1): the LR fell from 0.001 to 0.0001; the test loss "
        "fell by 0.0100 (mean over 3 seeds), against a fall of 0.1000 in gamma=1, which kept "
        "the LR at 0.001: with the decay the fall stalled at 10% of that, beyond the "
        "seed-to-seed noise (per-seed difference +0.0900, 95 % interval +0.0900 to +0.0900)."
    )
    assert len(lines) == 4  # the constant arm has no decay to describe


def test_an_interval_that_holds_zero_could_be_noise():
    wide = arm_runs("gamma=1", [1e-3] * 3, [0.5, 0.4, 0.3], [86.0, 90.0, 94.0])
    narrow = arm_runs("gamma=0.5", [1e-3] * 3, [0.5, 0.4, 0.3], [88.0, 89.0, 90.0])
    lines = commentary(points_frame(wide + narrow))
    # differences -2, +1, +4: mean 1, sd 3, half width t(2) · 3 / √3
    half = T2 * 3 / math.sqrt(3)
    assert lines[1] == (
        f"gamma=1 vs gamma=0.5, paired by seed: mean difference +1.00 points (95 % interval "
        f"{1 - half:+.2f} to {1 + half:+.2f}), seeds favouring gamma=1: 2 of 3, gamma=0.5: 1: "
        "the interval holds 0, so with these seeds the difference could be noise."
    )
    assert first_place_note(points_frame(wide + narrow)) == (
        "Paired by seed, its lead over gamma=0.5 could be noise."
    )


def test_one_seed_has_nothing_to_judge_the_noise_by():
    one = [r for r in STALLED + CONSTANT if r[1] == 0]
    lines = commentary(points_frame(one))
    assert lines[1] == (
        "gamma=1 vs gamma=0.1, paired by seed (seed 0 alone): a difference of +5.00 points; "
        "with one seed there is nothing to judge the noise by: run more seeds."
    )
    assert "with one seed the two cannot be told apart from noise" in lines[-1]
    assert commentary(points_frame([])) == ["No epoch has finished yet."]


def test_no_winner_while_runs_train():
    # Arm A has finished its 3 epochs, arm B is at epoch 1: no winner, and so it says.
    a = arm_runs("A", [1e-3] * 3, [0.5, 0.4, 0.3], [90.0])
    b = [("B", 0, None, [ep(1, 1e-3, 0.9, 82.0)], "running", 3)]
    lines = commentary(points_frame(a + b), live=1)
    assert lines == [
        "1 run still to finish: a winner is named only over equal, finished epochs, once every "
        "run has ended. Until then the table and the charts hold the seeds that every arm has "
        "finished (0 so far)."
    ]


def test_stopped_and_diverged_runs_are_left_out_by_name_with_their_seed():
    nan = float("nan")
    runs = [
        *arm_runs("gamma=1", [1e-3] * 3, [0.5, 0.4, 0.3], [90.0, 91.0, 92.0]),
        ("gamma=0.1", 0, None, [ep(1, 1e-3, 0.5, 80.0), ep(2, 1e-3, 0.4, 84.0),
                                ep(3, 1e-4, 0.39, 85.0)], "finished", 3),
        ("gamma=0.1", 1, None, [ep(1, 1e-3, 0.5, 97.0)], "stopped", 3),
        ("gamma=0.1", 2, None, [ep(1, 1e-3, 0.5, 80.0), ep(2, 1e-3, nan, 9.8)], "diverged", 3),
    ]  # fmt: skip
    lines = commentary(points_frame(runs))
    assert lines[0] == (
        "Left out: gamma=0.1 seed 1 (stopped at epoch 1 of 3), gamma=0.1 seed 2 (diverged at "
        "epoch 2 of 3). A run that did not finish has no final accuracy, so seeds 1, 2 are "
        "left out of every arm, and the arms are compared on the same seeds: 0."
    )
    assert lines[1].startswith("By mean final test accuracy over seed 0, after all 3 epochs: ")
    assert "gamma=1 comes first with 90.00 %" in lines[1]
    assert not any("nan" in line for line in lines)


def test_a_rise_is_a_rise_and_no_change_never_prints_as_zero():
    rose = arm_runs("gamma=0.2", [1e-3, 1e-3, 2e-4], [0.5, 0.4, 0.45], [80.0, 81.0, 82.0])
    line = commentary(points_frame(rose + CONSTANT))[-1]
    assert "the test loss rose by 0.0500" in line and "stalled" not in line
    assert "the loss rose where, without the decay, it fell" in line
    tiny = arm_runs("gamma=0.2", [1e-3, 1e-3, 2e-4], [0.5, 0.4, 0.40002], [80.0, 81.0, 82.0])
    line = commentary(points_frame(tiny + CONSTANT))[-1]
    assert "rose by 2.0e-05" in line and "0.0000" not in line
    flat = arm_runs("gamma=0.2", [1e-3, 1e-3, 2e-4], [0.5, 0.4, 0.4], [80.0, 81.0, 82.0])
    assert "the test loss did not change" in commentary(points_frame(flat + CONSTANT))[-1]


def test_a_decay_within_the_noise_cannot_be_told_apart():
    # Per seed the decayed arm's fall is 0.09, 0.11, 0.10 against the constant arm's 0.10.
    noisy = [
        ("g=0.5", s, None, [ep(1, 1e-3, 0.5, 80.0), ep(2, 5e-4, 0.5 - f, 85.0)])
        for s, f in enumerate((0.09, 0.11, 0.10))
    ]
    flat = [("g=1", s, None, [ep(1, 1e-3, 0.5, 80.0), ep(2, 1e-3, 0.4, 85.0)]) for s in range(3)]
    line = commentary(points_frame(noisy + flat))[-1]
    assert line.startswith("g=0.5, epoch 2 (counted from 1): the LR fell from 0.001 to 0.0005;")
    assert "against a fall of 0.1000 in g=1, which kept the LR at 0.001: the two cannot be " \
           "told apart (per-seed difference" in line and "which holds 0)." in line  # fmt: skip


def test_a_later_decay_is_read_against_the_no_decay_arm_not_its_own_slowing():
    # gamma=0.1's second decay (epoch 4) has no arm that kept 1e-4; the constant arm, which did
    # not decay that epoch, shows the ordinary slowing (its fall shrank as well).
    two = arm_runs("gamma=0.1", [1e-3, 1e-3, 1e-4, 1e-5], [0.5, 0.4, 0.35, 0.34],
                   [85.0, 86.0, 87.0], (80.0, 84.0, 85.0))  # fmt: skip
    const = arm_runs("gamma=1", [1e-3] * 4, [0.5, 0.4, 0.3, 0.29],
                     [90.0, 91.0, 92.0], (80.0, 84.0, 88.0))  # fmt: skip
    line = next(x for x in commentary(points_frame(two + const)) if "epoch 4" in x)
    assert "against a fall of 0.0100 in gamma=1, which did not decay that epoch (its LR: " \
           "0.001)" in line and "before the decay" not in line  # fmt: skip
    # Alone, an arm can only be read against its own epoch before, and says what that misses.
    alone = commentary(points_frame(two))
    assert "in its own epoch 3, before the decay" in alone[-1]
    assert alone[-1].endswith("one arm alone cannot tell the decay's effect from ordinary slowing.")


def test_a_small_gap_prints_as_what_it_is():
    a = arm_runs("a", [1e-3] * 3, [0.5, 0.4, 0.3], [90.04, 91.04])
    b = arm_runs("b", [1e-3] * 3, [0.5, 0.4, 0.3], [90.0, 91.0])
    lines = commentary(points_frame(a + b))
    assert "0.04 points above b" in lines[0]
    assert "a wins by 0.04 points, on every seed" in lines[1]
    assert points_text(0.004) == "0.004" and points_text(-0.004, signed=True) == "-0.004"
    assert points_text(0.0) == "0.00"


def test_level_arms_tie_for_first():
    twin = arm_runs("plateau", [1e-3] * 3, [0.5, 0.4, 0.3], [90.0, 91.0, 92.0])
    lines = commentary(points_frame(CONSTANT + twin + STALLED))
    assert "gamma=1 and plateau tie for first with 91.00 %, 5.00 points above gamma=0.1" in lines[0]
    tie = next(c for c in pair_comparisons(points_frame(CONSTANT + twin)))
    assert tie.all_tied
    assert commentary(points_frame(CONSTANT + twin))[1] == (
        "gamma=1 vs plateau, paired by seed: the same final test accuracy on all 3 seeds: a tie."
    )


def test_a_presets_lesson_is_said_only_when_the_runs_show_it():
    seed = presets.preset("seed")
    gamma1 = arm_runs("gamma=1", [1e-3] * 3, [0.5, 0.4, 0.3], [90.0, 91.0, 92.0])
    gamma01 = arm_runs("gamma=0.1", [1e-3] * 3, [0.5, 0.4, 0.3], [85.0, 86.5, 87.0])
    shown = points_frame(gamma01 + gamma1)
    assert lesson_shown(seed, shown)
    lines = commentary(shown, preset=seed)
    assert lines[-2] == f"{seed.name}. {seed.lesson}" and lines[-1] == presets.TOGETHER
    other = presets.preset("large-lr")
    assert not lesson_shown(other, shown)
    assert commentary(shown, preset=other)[-1] == (
        f"{other.name}: these runs do not show gamma=0.1 ahead of every other arm beyond the "
        "noise, as this preset usually does."
    )
