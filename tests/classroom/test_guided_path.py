"""The guided path: eight steps whose true answers agree with torch run independently here."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch.optim import lr_scheduler

from steplr_viz import lab
from steplr_viz.classroom import guided_path
from steplr_viz.classroom.guided_path import Settings, comparison_answer, step
from steplr_viz.config import TrainConfig
from steplr_viz.schedules import steplr as schedule

SEED = schedule.SEED_EXAMPLE


def _optimizer(lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def _true_choice(number: int, **kwargs) -> str:
    q = step(number, **kwargs).question
    return q.choices[q.answer]


def test_eight_steps_in_order_each_with_a_title_an_idea_a_task_and_a_question():
    path = guided_path.path()
    assert (
        [s.number for s in path] == list(range(1, 9)) == list(range(1, guided_path.STEP_COUNT + 1))
    )
    assert len({s.id for s in path}) == 8
    assert guided_path.step_ids() == tuple(s.id for s in path)
    for s in path:
        assert s.title and s.idea and s.todo
        q = s.question
        assert q is not None and q.text and q.explanation
        assert len(set(q.choices)) == len(q.choices) >= 3, q.choices
        assert q.answer is None or 0 <= q.answer < len(q.choices)
    assert len({s.question.id for s in path}) == 8


@pytest.mark.parametrize("number", [0, 9, -1, 1.5, "2", True])
def test_a_step_outside_the_path_is_refused(number):
    with pytest.raises(ValueError):
        step(number)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        step(2, Settings(gamma=0.0))
    with pytest.raises(ValueError):
        step(2, Settings(step_size=0))


def test_formula_step_shows_the_seed_table_and_torch_answers_its_question():
    s = step(1)
    for row in ("epoch 0–9: 0.1", "epoch 10–19: 0.05", "epoch 20–29: 0.025", "epoch 30–39: 0.0125"):
        assert row in s.idea
    t = guided_path.FORMULA_EPOCH
    truth = schedule.torch_lr_curve(SEED["base_lr"], SEED["gamma"], SEED["step_size"], t + 1)[t]
    assert float(_true_choice(1)) == truth == 0.025


def test_knobs_step_text_follows_the_teachers_settings():
    s = step(2, Settings(base_lr=0.2, gamma=0.1, step_size=5))
    assert "η₀ = 0.2, γ = 0.1, s = 5" in s.idea
    assert "7 decays in 40 epochs" in s.idea  # decays at 5, 10, ..., 35
    lrs = schedule.torch_lr_curve(0.2, 0.1, 5, 40)
    assert f"the last epoch trains at {lab.format_lr(lrs[-1])}." in s.idea


def test_knobs_step_with_gamma_one_says_the_lr_never_changes():
    """γ = 1: torch's StepLR keeps η₀ throughout; no '1 % of η₀ never', no decay counted."""
    s = step(2, Settings(base_lr=0.2, gamma=1.0, step_size=10))
    lrs = schedule.torch_lr_curve(0.2, 1.0, 10, guided_path.HORIZON)
    assert set(lrs) == {0.2}
    assert "the LR never changes: no decay in 40 epochs, every epoch trains at 0.2." in s.idea
    assert "decays in" not in s.idea and "1 %" not in s.idea and "1%" not in s.idea


@pytest.mark.parametrize("number", [2, 3, 4, 5])
def test_the_idea_does_not_give_the_answer_away(number):
    """Steps 2-5: the true choice appears in the explanation, never in the idea shown before."""
    s = step(number)
    truth = s.question.choices[s.question.answer].split(" ")[0]  # "0.0 (underflowed)": 0.0
    assert truth in s.question.explanation
    assert not re.search(rf"(?<![\d.]){re.escape(truth)}(?!\d)", s.idea), (truth, s.idea)


def test_steps_say_how_they_count_epochs_and_batches():
    """Steps 2 and 3 count epochs from 0 (t, as in η_t), step 5 from 1 (the printout), and
    step 4 counts batches from 1; each question says so."""
    assert "epoch t (counted from 0, as in η_t)" in step(2).question.text
    assert "epoch t (counted from 0, as in η_t)" in step(3).question.text
    assert "(its printout counts from 1)" in step(5).question.text
    assert "“Epoch N” trains with η_t at t = N − 1" in step(5).idea
    assert "Batches are counted from 1" in step(4).idea


def test_knobs_question_matches_a_torch_run():
    base, gamma, s = SEED["base_lr"], SEED["gamma"], SEED["step_size"]
    lrs = schedule.torch_lr_curve(base, gamma, s, 200)
    first_low = next(t for t, lr in enumerate(lrs) if lr <= 0.01 * base * (1 + 1e-12))
    assert int(_true_choice(2)) == first_low == 70


def test_call_order_question_matches_a_torch_loop_in_the_wrong_order():
    base, gamma, s = SEED["base_lr"], SEED["gamma"], SEED["step_size"]
    optimizer = _optimizer(base)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=s, gamma=gamma)
    used = []
    with pytest.warns(UserWarning):
        for _ in range(20):
            scheduler.step()  # the pitfall
            used.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
    first = next(t for t, lr in enumerate(used) if lr < base)
    assert int(_true_choice(3)) == first == s - 1
    assert "PyTorch notices and warns" in step(3).idea
    assert f"first trains epoch t = {first}, not t = {s}" in step(3).question.explanation


def test_per_batch_question_matches_a_torch_loop_stepped_every_batch():
    seed = TrainConfig()
    n = guided_path.seed_batches_per_epoch()
    assert n == math.ceil(60_000 / 64)
    optimizer = _optimizer(seed.lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=seed.step_size, gamma=seed.gamma)
    for _ in range(n - 1):  # batch n uses the LR after n - 1 scheduler steps
        optimizer.step()
        scheduler.step()
    last = optimizer.param_groups[0]["lr"]
    truth = _true_choice(4)
    assert truth == ("0.0 (underflowed)" if last == 0.0 else lab.format_lr(last))


def test_per_batch_step_says_when_training_stops_in_effect_and_when_the_lr_is_zero():
    """Torch, stepped every batch: after 10 batches the LR is 1e-08; it is 0.0 from batch 643
    counted from 1 (the lab's table says the same batch)."""
    seed = TrainConfig()
    optimizer = _optimizer(seed.lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=seed.step_size, gamma=seed.gamma)
    used = []
    for _ in range(guided_path.seed_batches_per_epoch()):
        used.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    after_ten, zero = used[guided_path.EARLY_BATCHES], used.index(0.0) + 1
    assert (after_ten, zero) == (pytest.approx(1e-08, rel=1e-12), 643)
    s = step(4)
    assert f"after 10 batches the LR is already {lab.format_lr(after_ten)}" in (
        s.question.explanation
    )
    assert f"exactly 0.0 from batch {zero}." in s.question.explanation
    assert "stops learning" not in s.idea + s.question.explanation


def test_live_run_question_matches_the_seed_schedule():
    seed = TrainConfig()
    epoch = guided_path.LIVE_EPOCH
    lrs = schedule.torch_lr_curve(seed.lr, seed.gamma, seed.step_size, seed.epochs)
    assert float(_true_choice(5)) == lrs[epoch - 1] == pytest.approx(1e-4)
    assert "epochs 1–2: 0.001, epochs 3–4: 0.0001, epoch 5: 1e-05" in step(5).question.explanation


def test_comparison_step_shows_both_sides_with_a_question_for_each():
    from steplr_viz.classroom import presets

    assert guided_path.COMPARE_SIDES == ("seed", "large-lr")
    questions = [guided_path.comparison_question(side) for side in guided_path.COMPARE_SIDES]
    assert step(6).question == questions[0]
    assert len({q.id for q in questions}) == 2  # the class's answers are counted apart
    for side, q in zip(guided_path.COMPARE_SIDES, questions, strict=True):
        chosen = presets.preset(side)
        assert q.answer is None and q.text.startswith(f"{chosen.title}: which γ")
        assert q.choices == tuple(guided_path.comparison_label(g) for g in (1.0, 0.5, 0.1))
        experiment = guided_path.comparison_experiment(side)
        assert experiment.vary == "gamma" and set(experiment.values) == {1.0, 0.5, 0.1}
        n = len(experiment.configs())
        assert n == 3 * len(experiment.seeds) == 15
        # "once all 15 runs", not "all three": every arm over every seed
        assert q.explanation == f"The true answer appears once all {n} runs of this side " \
                                "have finished."  # fmt: skip
        assert chosen.setup in step(6).idea
        # The titles shown before the runs do not give the answer away.
        assert "decay" not in chosen.title.lower() and "decay" not in q.text.lower()
    base = TrainConfig().to_dict()
    for _, config in guided_path.comparison_experiment("seed").configs():
        differing = {k for k, v in config.to_dict().items() if base[k] != v}
        assert differing <= {"gamma", "seed", "experiment"}  # the seed's run but for γ
    assert "(15 runs a side)" in step(6).idea


def test_arm_accuracies_are_the_mean_final_accuracy_per_gamma():
    import pandas as pd

    from steplr_viz.classroom import experiments
    from steplr_viz.store.runs import EPOCH_COLUMNS

    def run(acc_by_epoch):
        return pd.DataFrame(
            [(e + 1, 0.5, 1e-3, 0.4, a, 1.0) for e, a in enumerate(acc_by_epoch)],
            columns=EPOCH_COLUMNS,
        )

    points = experiments.points_frame(
        [
            ("gamma=0.1", 0, "a", run([80, 90])),
            ("gamma=0.1", 1, "b", run([80, 92])),
            ("gamma=1", 0, "c", run([85, 88])),
        ]
    )
    # Over the seeds every arm has finished (seed 0 alone): γ = 0.1's seed 1 waits for γ = 1's.
    assert guided_path.arm_accuracies(points) == [88.0, None, 90.0]
    assert comparison_answer(guided_path.arm_accuracies(points)) is None  # γ = 0.5 not done


@pytest.mark.parametrize(
    ("accuracies", "expected"),
    [
        ([90.0, 92.5, 91.0], 1),
        ([93.0, 92.5, 91.0], 0),
        ([90.0, None, 91.0], None),  # a run still going
        ([92.0, 92.0, 91.0], None),  # a tie names no winner
        ([0.1 + 0.2, 0.3, 0.1], None),  # ... by the training page's rule, not exact ==
        ([float("nan"), 92.0, 91.0], None),
        ([92.0, 91.0], None),
    ],
)
def test_comparison_answer(accuracies, expected):
    assert comparison_answer(accuracies) == expected


def test_alternatives_question_matches_torchs_cosine_and_steplr():
    base, gamma, s, epochs = SEED["base_lr"], SEED["gamma"], SEED["step_size"], SEED["epochs"]
    t = guided_path.ALTERNATIVES_EPOCH
    optimizer = _optimizer(base)
    cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for _ in range(t):
        optimizer.step()
        cosine.step()
    cosine_lr = optimizer.param_groups[0]["lr"]
    step_lr = schedule.step_lr(base, gamma, s, t)
    assert _true_choice(7) == ("cosine annealing" if cosine_lr > step_lr else "StepLR")


def test_warm_up_is_the_training_pages_and_says_its_shift():
    """Step 7's warm-up is the training page's (SequentialLR: LinearLR from η₀/3, then StepLR),
    run here by torch itself: StepLR's decays move WARMUP_EPOCHS epochs later."""
    base, gamma, s = SEED["base_lr"], SEED["gamma"], SEED["step_size"]
    w = guided_path.WARMUP_EPOCHS
    optimizer = _optimizer(base)
    warmup = lr_scheduler.LinearLR(optimizer, start_factor=1 / 3, total_iters=w)
    decay = lr_scheduler.StepLR(optimizer, step_size=s, gamma=gamma)
    sequential = lr_scheduler.SequentialLR(optimizer, [warmup, decay], milestones=[w])
    torch_lrs = []
    for _ in range(guided_path.HORIZON):
        torch_lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        sequential.step()
    curves = dict(guided_path.alternative_curves())
    warm = curves[f"warm-up {w} + StepLR"]
    assert list(warm) == pytest.approx(torch_lrs, rel=1e-12)
    assert warm[0] == pytest.approx(base / 3) and warm[w] == base
    decays = [t for t in range(1, len(torch_lrs)) if torch_lrs[t] < torch_lrs[t - 1]]
    assert decays == [s + w, 2 * s + w, 3 * s + w] == [15, 25, 35]
    idea = step(7).idea
    assert "from η₀/3 at t = 0 to η₀ at t = 5" in idea
    assert "decays come 5 epochs later than without the warm-up: at t = 15, 25, 35" in idea
    assert "10 %" not in idea and "10%" not in idea
    assert guided_path.warmup_config().scheduler == "warmup_steplr"  # the page's scheduler
    assert set(curves) >= {"StepLR", "CosineAnnealingLR", "ReduceLROnPlateau"}


def test_quiz_is_the_same_for_a_class_and_answered_by_torch():
    a, b = step(8, quiz_seed=0xA1B2C3), step(8, quiz_seed=0xA1B2C3)
    assert a == b
    q = guided_path.quiz_question(0xA1B2C3)
    truth = schedule.torch_lr_curve(q.base_lr, q.gamma, q.step_size, q.epoch + 1)[q.epoch]
    assert float(_true_choice(8, quiz_seed=0xA1B2C3)) == pytest.approx(truth, rel=1e-5)
    questions = {step(8, quiz_seed=seed).question.text for seed in range(20)}
    assert len(questions) > 1  # different classes get different quizzes
