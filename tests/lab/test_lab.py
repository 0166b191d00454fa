"""The lab's simulations (steplr_viz.lab) against fresh runs of PyTorch itself."""

from __future__ import annotations

import contextlib
import copy
import io
import math
import random
import re
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from steplr_viz import lab
from steplr_viz.lab import common, order
from steplr_viz.schedules import steplr as schedule


def _sgd(base_lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)


def _torch_curve(make, base_lr: float, epochs: int, losses=None) -> list[float]:
    """A fresh torch run in the right order: the LR each epoch trains with."""
    optimizer = _sgd(base_lr)
    scheduler = make(optimizer)
    lrs = []
    for epoch in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step(*([] if losses is None else [losses[epoch]]))
    return lrs


# --------------------------------------------------------------------------- 1. call order


def test_wrong_order_warning_is_the_text_torch_emits():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizer = _sgd(0.1)
        scheduler = lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
        scheduler.step()
        optimizer.step()
    fresh = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    result = lab.call_order(0.1, 0.5, 10, 40)
    assert fresh and result.warning == fresh[0]
    assert "before `optimizer.step()`" in result.warning
    assert result.right_warnings == ()  # the right order is silent


def test_wrong_order_runs_one_epoch_ahead():
    result = lab.call_order(0.1, 0.5, 10, 40)
    np.testing.assert_array_equal(result.right, schedule.torch_lr_curve(0.1, 0.5, 10, 40))
    # Epoch t trains with η_{t+1}: the seed's first decay arrives at epoch 9, not 10.
    expected = [schedule.step_lr(0.1, 0.5, 10, t + 1) for t in range(40)]
    np.testing.assert_allclose(result.wrong, expected, rtol=1e-12, atol=0)
    assert result.wrong[8] == 0.1 and result.wrong[9] == 0.05 and result.right[9] == 0.1


@pytest.mark.parametrize(
    ("gamma", "step_size", "epochs", "first"),
    [(0.5, 10, 40, 9), (0.5, 40, 40, 39), (0.5, 41, 40, None), (1.0, 10, 40, None)],
)
def test_first_difference_of_the_call_orders(gamma, step_size, epochs, first):
    result = lab.call_order(0.1, gamma, step_size, epochs)
    assert result.first_difference() == first
    differ = [t for t in range(epochs) if result.wrong[t] != result.right[t]]
    assert (differ[0] if differ else None) == first


def _interfere(monkeypatch, interfere) -> None:
    """Run `interfere` whenever lab builds an optimizer or reads its LR, as another thread might."""
    build, read = common.new_optimizer, common.current_lr

    def interfering(real):
        def call(arg):
            interfere()
            return real(arg)

        return call

    monkeypatch.setattr(common, "new_optimizer", interfering(build))
    monkeypatch.setattr(common, "current_lr", interfering(read))


def test_an_empty_warning_capture_is_not_cached(monkeypatch):
    args = (0.3, 0.7, 4, 12)  # used by no other test: the first call below computes
    # Another thread's filter change lands inside the capture: torch's warning is lost.
    _interfere(monkeypatch, lambda: warnings.simplefilter("ignore"))
    with warnings.catch_warnings():  # undo the filter changes made outside lab's capture
        assert lab.call_order(*args).wrong_warnings == ()
        assert lab.lr_readings(*args).warnings == ()
    monkeypatch.undo()
    # Not cached: the next call runs torch again and captures the warnings.
    assert "before `optimizer.step()`" in lab.call_order(*args).warning
    assert lab.lr_readings(*args).warnings == lab.lr_readings(0.1, 0.5, 3, 10).warnings != ()
    hits = order._call_order.cache_info().hits
    assert lab.call_order(*args).warning  # a full capture is cached as before
    assert order._call_order.cache_info().hits == hits + 1


def test_warnings_from_elsewhere_are_left_out(monkeypatch):
    def stray():
        warnings.warn("not from the scheduler", UserWarning, stacklevel=1)
        warnings.warn("nor this", RuntimeWarning, stacklevel=1)

    _interfere(monkeypatch, stray)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # strays from outside lab's capture: not this test's point
        result = lab.call_order(0.3, 0.7, 5, 12)  # arguments no other test uses
        readings = lab.lr_readings(0.3, 0.7, 5, 12)
        # What the stray-free calls give; inside the filter too, since in some orders no test
        # has cached them yet and they run torch beside the strays.
        expected_wrong = (lab.call_order(0.1, 0.5, 10, 40).warning,)
        expected_readings = lab.lr_readings(0.1, 0.5, 3, 10).warnings
    assert result.wrong_warnings == expected_wrong
    assert result.right_warnings == ()
    assert readings.warnings == expected_readings


def test_call_order_rejects_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        lab.call_order(0.1, float("nan"), 10, 40)
    with pytest.raises(ValueError, match="epochs"):
        lab.call_order(0.1, 0.5, 10, lab.LAB_MAX_EPOCHS + 1)


# --------------------------------------------------------------------------- 2. per batch


def test_batches_per_epoch_match_the_loaders():
    assert lab.batches_per_epoch(60_000) == math.ceil(60_000 / 64) == 938
    full = torch.utils.data.TensorDataset(torch.zeros(60_000, 1))
    assert lab.batches_per_epoch(60_000) == len(torch.utils.data.DataLoader(full, batch_size=64))
    assert lab.batches_per_epoch(4_000) == 63
    with pytest.raises(ValueError, match="batch_size"):
        lab.batches_per_epoch(100, 0)


def test_bundled_train_size_is_the_bundled_split():
    from steplr_viz.training import data

    assert lab.bundled_train_size() == data.load_mnist("bundled").n_train == 4_000
    assert lab.loaders()["full"][1] == lab.MNIST_TRAIN_SIZE


def test_per_batch_stepping_collapses_within_the_first_epoch():
    sim = lab.per_batch_stepping(0.1, 0.5, 10, 5, 938)
    assert len(sim.per_epoch) == 5 and len(sim.per_batch) == 5 * 938
    np.testing.assert_array_equal(sim.per_epoch, schedule.torch_lr_curve(0.1, 0.5, 10, 5))
    steps = np.arange(len(sim.per_batch))
    closed = schedule.step_lr(0.1, 0.5, 10, steps)
    normal = closed >= np.finfo(float).tiny
    np.testing.assert_allclose(np.asarray(sim.per_batch)[normal], closed[normal], rtol=1e-12)
    # 0.5**7 < 1% <= 0.5**6: below 1% after 7 decays, i.e. at batch 70 of epoch 0.
    assert sim.first_low_batch() == 70
    assert sim.first_low_epoch() is None  # per epoch it is still 0.1 after 5 epochs
    assert sim.first_zero_batch() is None
    assert sim.start_of_epoch(1) == (0.1, sim.per_batch[938])
    assert math.isclose(sim.per_batch[938], 0.1 * 0.5**93, rel_tol=1e-12)  # ⌊938/10⌋ decays


def test_low_means_at_most_as_the_explorer_counts_it():
    """The seed's schedule (1e-3, γ = 0.1, s = 2): torch's LR at t = 4 is exactly 1 % of η₀."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.001)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
    torch_lrs = []
    for _ in range(5):
        torch_lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    sim = lab.per_batch_stepping(0.001, 0.1, 2, 5, 938)
    assert list(sim.per_epoch) == torch_lrs and torch_lrs[4] == 0.01 * 0.001
    assert sim.first_low_epoch() == 4 == schedule.epochs_until_low(0.1, 2)
    assert sim.first_low_batch() == 4  # index 4: batch 5 counted from 1
    assert lab.batch_number(sim.first_low_batch()) == 5
    assert lab.batch_number(sim.first_zero_batch()) == 643


def test_per_batch_stepping_underflows_to_zero():
    sim = lab.per_batch_stepping(0.1, 0.5, 1, 2, 938)
    lr, expected = 0.1, 0
    while lr > 0.0:  # the batch at which repeated halving reaches exactly 0.0
        lr *= 0.5
        expected += 1
    zero = sim.first_zero_batch()
    assert zero == expected and 938 < zero < 2 * 938  # early in the second epoch
    assert sim.per_batch[zero] == 0.0 and sim.per_batch[zero - 1] > 0.0


def test_per_batch_stepping_on_the_bundled_loader():
    sim = lab.per_batch_stepping(0.001, 0.1, 2, 2, lab.batches_per_epoch(4_000))
    assert sim.batches_per_epoch == 63 and len(sim.per_batch) == 126
    # The seed's schedule (γ = 0.1, s = 2) stepped per batch: 31 decays in the first epoch.
    assert math.isclose(sim.start_of_epoch(1)[1], 0.001 * 0.1**31, rel_tol=1e-12)


# --------------------------------------------------------------------------- 3. get_lr


def test_get_lr_applies_one_gamma_too_many_only_at_decay_boundaries():
    result = lab.lr_readings(0.1, 0.5, 3, 10)
    assert [i for i, extra in enumerate(result.one_gamma_too_many) if extra] == [3, 6, 9]
    for i in (3, 6, 9):
        assert result.get_lr[i] == result.get_last_lr[i] * 0.5
    assert result.get_last_lr == result.param_group_lr
    np.testing.assert_allclose(result.get_last_lr, result.closed_form, rtol=1e-12)
    assert result.closed_form == tuple(0.1 * 0.5 ** (t // 3) for t in range(10))  # Python power


def test_get_lr_warning_is_the_text_torch_emits():
    optimizer = _sgd(0.1)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler.get_lr()
    assert lab.lr_readings(0.1, 0.5, 3, 10).warnings == tuple({str(w.message) for w in caught})


# --------------------------------------------------------------------------- 4. precision


def test_chainable_is_torch_and_repeated_multiplication():
    result = lab.closed_vs_chainable(0.1, 0.9, 1, 1000)
    lr, chain = 0.1, []
    for _ in range(1000):
        chain.append(lr)
        lr *= 0.9
    assert result.chainable == tuple(chain)  # bit for bit
    assert result.chainable == tuple(
        _torch_curve(lambda o: lr_scheduler.StepLR(o, 1, 0.9), 0.1, 1000)
    )
    assert result.closed_form == tuple(0.1 * 0.9**t for t in range(1000))


def test_closed_form_is_pythons_float_power_on_every_cpu():
    # On AVX-512 CPUs np.power(0.9, 12) rounds differently; torch's closed form is Python's.
    assert lab.closed_vs_chainable(0.1, 0.9, 1, 13).closed_form[12] == 0.028242953648100012
    for gamma, s in [(0.9, 1), (0.37, 3), (0.99, 7), (0.5, 2)]:
        steps = 5_000
        result = lab.closed_vs_chainable(0.3, gamma, s, steps)
        expected = tuple(0.3 * gamma ** (t // s) for t in range(steps))
        assert result.closed_form == expected
        scheduler = lr_scheduler.StepLR(_sgd(0.3), step_size=s, gamma=gamma)
        for t in (0, s, 12 * s, steps - 1):
            scheduler.last_epoch = t
            assert result.closed_form[t] == scheduler._get_closed_form_lr()[0]  # torch's own


def test_first_difference_is_counted_in_decays():
    result = lab.closed_vs_chainable(0.1, 0.9, 3, 1000)
    first = result.first_differing(1)[0]
    assert result.closed_form[first] != result.chainable[first]
    assert result.closed_form[:first] == result.chainable[:first]
    assert result.first_differing_decays() == first // 3 >= 1
    assert lab.closed_vs_chainable(1.0, 0.5, 1, 100).first_differing_decays() is None


def test_closed_vs_chainable_statistics():
    result = lab.closed_vs_chainable(0.1, 0.9, 1, 1000)
    closed, chain = np.asarray(result.closed_form), np.asarray(result.chainable)
    assert result.compared == 1000
    assert result.differing == int(np.sum(closed != chain)) > 0
    assert result.max_relative_error == float(np.max(np.abs(chain - closed) / closed))
    assert 0 < result.max_relative_error < 1e-12
    # Count the ulps of the worst step by walking with nextafter.
    worst = int(np.argmax(result.ulps))
    lo, hi = sorted((closed[worst], chain[worst]))
    walked = 0
    while lo < hi:
        lo = np.nextafter(lo, np.inf)
        walked += 1
    assert result.max_ulps == walked > 1


def test_precision_arrays_are_built_once_and_read_only():
    result = lab.closed_vs_chainable(0.1, 0.9, 1, 1000)
    assert result.ulps is result.ulps and result.relative_errors is result.relative_errors
    assert not result.ulps.flags.writeable and not result.relative_errors.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        result.ulps[0] = 5
    pairs = zip(result.closed_form, result.chainable, strict=True)
    differ = [t for t, (closed, chain) in enumerate(pairs) if closed != chain]
    assert result.first_differing(8) == differ[:8] and len(differ) > 8


def test_closed_vs_chainable_leaves_underflow_out():
    result = lab.closed_vs_chainable(1.0, 0.5, 1, 2000)
    assert result.compared == 1023  # 0.5**1022 is the smallest normal float
    assert result.differing == 0  # powers of two multiply exactly
    assert result.max_relative_error == 0.0


# --------------------------------------------------------------------------- 5. resuming


def test_key_error_is_the_text_torch_raises():
    with pytest.raises(KeyError) as raised:
        lr_scheduler.StepLR(_sgd(0.1), step_size=10, gamma=0.5, last_epoch=19)
    result = lab.resume(0.1, 0.5, 10, 40, 20)
    assert result.key_error == raised.value.args[0]
    assert "initial_lr" in result.key_error


def test_resume_from_state_dict_reproduces_the_curve():
    result = lab.resume(0.1, 0.5, 10, 40, 15)
    whole = schedule.torch_lr_curve(0.1, 0.5, 10, 40)
    assert result.identical and result.uninterrupted == tuple(whole)
    assert result.resumed == tuple(whole[15:])
    assert result.restarted == tuple(whole[:25])  # a restart forgets the decays so far
    with pytest.raises(ValueError, match="resume_at"):
        lab.resume(0.1, 0.5, 10, 40, 40)


def _checkpoint(base_lr, gamma, s, k):
    """Optimizer and scheduler state after k epochs of a fresh torch run (as torch.load gives)."""
    optimizer = _sgd(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=s, gamma=gamma)
    _torch_curve_from(optimizer, scheduler, k)
    return copy.deepcopy(optimizer.state_dict()), copy.deepcopy(scheduler.state_dict())


def _torch_curve_from(optimizer, scheduler, epochs: int) -> list[float]:
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_resume_cases_are_torch_runs():
    result = lab.resume(0.1, 0.5, 10, 40, 25)
    assert [c.resume_at for c in result.cases] == [10, 20, 25, 30]  # boundaries and the chosen k
    whole = _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 0.5), 0.1, 40)
    for case in result.cases:
        k = case.resume_at
        optimizer_state, scheduler_state = _checkpoint(0.1, 0.5, 10, k)
        optimizer = _sgd(0.1)
        optimizer.load_state_dict(optimizer_state)  # restores initial_lr: no KeyError
        scheduler = lr_scheduler.StepLR(optimizer, 10, 0.5, last_epoch=k - 1)
        assert case.last_epoch == tuple(_torch_curve_from(optimizer, scheduler, 40 - k))
        by_hand = _sgd(0.1)
        by_hand.param_groups[0]["initial_lr"] = 0.1
        scheduler = lr_scheduler.StepLR(by_hand, 10, 0.5, last_epoch=k - 1)
        assert case.initial_lr_by_hand == tuple(_torch_curve_from(by_hand, scheduler, 40 - k))
        assert case.uninterrupted == tuple(whole[k:]) == case.state_dicts
        assert case.exact("state_dicts")


def test_last_epoch_resumes_one_gamma_low_exactly_at_decay_boundaries():
    result = lab.resume(0.1, 0.5, 10, 40, 25)
    first = {c.resume_at: c for c in result.cases}
    # The numbers: k = 20 should train with 0.025 and gets 0.0125.
    assert first[20].uninterrupted[0] == 0.025 and first[20].last_epoch[0] == 0.0125
    assert [k for k, c in first.items() if not c.exact("last_epoch")] == [10, 20, 30]
    assert first[25].exact("last_epoch")  # off a boundary it happens to be right
    # initial_lr by hand: the optimizer starts at η₀, so the decays so far are lost.
    assert first[25].initial_lr_by_hand[0] == 0.1
    assert [k for k, c in first.items() if not c.exact("initial_lr_by_hand")] == [20, 25, 30]


def test_resume_cases_without_a_boundary_in_the_horizon():
    result = lab.resume(0.1, 0.5, 50, 40, 7)
    assert [c.resume_at for c in result.cases] == [7]
    assert all(result.cases[0].exact(way) for way in lab.RESUME_WAYS)


# --------------------------------------------------------------------------- 6. other schedules


def test_compared_curves_are_torch_schedulers():
    result = lab.compare_schedules(0.1, 0.5, 10, 40, 13)
    makers = {
        "StepLR": lambda o: lr_scheduler.StepLR(o, 10, 0.5),
        "MultiStepLR": lambda o: lr_scheduler.MultiStepLR(o, [10, 20, 30], 0.5),
        "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, 0.5**0.1),
        "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=40),
    }
    for name, make in makers.items():
        assert result.curve(name) == tuple(_torch_curve(make, 0.1, 40)), name
    loss = lab.scripted_loss(40, 13)
    plateau = _torch_curve(
        lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=9), 0.1, 40, loss
    )
    assert result.curve("ReduceLROnPlateau") == tuple(plateau)
    assert [n for n, _ in result.curves] == list(lab.SCHEDULES)


def test_multistep_at_multiples_of_s_is_steplr():
    result = lab.compare_schedules(0.2, 0.3, 7, 100, 50)
    assert result.milestones == tuple(range(7, 100, 7))
    assert result.curve("MultiStepLR") == result.curve("StepLR")


@pytest.mark.parametrize(
    ("gamma", "step_size", "epochs"), [(0.5, 10, 40), (0.1, 2, 60), (0.9, 50, 500), (0.37, 7, 500)]
)
def test_exponential_meets_steplr_at_every_decay_point(gamma, step_size, epochs):
    result = lab.compare_schedules(0.1, gamma, step_size, epochs, epochs // 2)
    step = np.asarray(result.curve("StepLR"))
    expo = np.asarray(result.curve("ExponentialLR"))
    points = np.arange(0, epochs, step_size)
    np.testing.assert_allclose(expo[points], step[points], rtol=1e-12, atol=0)
    assert result.decay_point_gap() <= 1e-12
    between = points[:-1] + step_size // 2
    if step_size > 1:  # in between, ExponentialLR is strictly below the staircase
        assert np.all(expo[between] < step[between])


def test_plateau_decays_at_steplr_rhythm_once_the_loss_is_flat():
    base_lr, gamma, s, epochs, plateau_at = 0.1, 0.5, 5, 60, 20
    result = lab.compare_schedules(base_lr, gamma, s, epochs, plateau_at)
    # Flat from epoch 20: with patience s − 1 the first cut lands on epoch 20 + s + 1.
    expected = [base_lr * gamma ** max(0, (t - plateau_at - 1) // s) for t in range(epochs)]
    np.testing.assert_allclose(result.curve("ReduceLROnPlateau"), expected, rtol=1e-12)


def test_scripted_loss_falls_then_stays_flat():
    loss = lab.scripted_loss(30, 10)
    assert all(a > b for a, b in zip(loss[:10], loss[1:11], strict=True))
    assert len(set(loss[10:])) == 1


def test_gamma_one_leaves_plateau_out():
    result = lab.compare_schedules(0.1, 1.0, 10, 40, 10)
    assert "ReduceLROnPlateau" not in dict(result.curves)
    assert set(result.curve("StepLR")) == {0.1}
    assert result.plateau_eps is None and not result.plateau_held_by_eps()


def test_plateau_levels_off_at_torchs_eps():
    result = lab.compare_schedules(1e-5, 0.5, 10, 500, 166)
    assert result.plateau_eps == lr_scheduler.ReduceLROnPlateau(_sgd(0.1)).eps == 1e-8
    plateau = np.asarray(result.curve("ReduceLROnPlateau"))
    # Torch stopped cutting: the last 100 epochs of flat loss brought no decay.
    assert plateau[-100] == plateau[-1] == 1e-5 * 0.5**9  # 1.95e-8: half of it is under eps
    assert result.curve("StepLR")[-1] < 1e-19
    assert result.plateau_held_by_eps()
    assert not lab.compare_schedules(0.1, 0.5, 10, 40, 13).plateau_held_by_eps()


@pytest.mark.parametrize("epochs", [40, 7, 500])
def test_cosine_reaches_zero_one_epoch_after_the_last_epoch_drawn(epochs):
    result = lab.compare_schedules(0.1, 0.5, 10, epochs, 1)
    longer = _torch_curve(
        lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=epochs), 0.1, epochs + 1
    )
    assert result.curve("CosineAnnealingLR") == tuple(longer[:epochs])
    assert result.cosine_after_horizon == longer[epochs] == 0.0
    assert min(result.curve("CosineAnnealingLR")) > 0.0  # not at the horizon drawn


def test_no_decay_point_means_no_gap_to_report():
    assert lab.compare_schedules(0.1, 0.5, 40, 40, 13).decay_point_gap() is None  # s >= horizon
    assert lab.compare_schedules(0.1, 0.5, 10, 40, 13).decay_points().tolist() == [10, 20, 30]


# --------------------------------------------------------------------------- 7. quiz


def test_questions_are_reproducible_and_answered_by_torch():
    first = [lab.make_question(random.Random(7)) for _ in range(2)]
    assert first[0] == first[1]
    rng = random.Random(1)
    for _ in range(200):
        q = lab.make_question(rng)
        assert q.base_lr in lab.QUIZ_BASE_LRS and q.gamma in lab.QUIZ_GAMMAS
        assert q.epoch // q.step_size <= lab.QUIZ_MAX_DECAYS
        assert q.answer == schedule.torch_lr_curve(q.base_lr, q.gamma, q.step_size, q.epoch + 1)[-1]
        assert math.isclose(
            q.answer, q.base_lr * q.gamma ** (q.epoch // q.step_size), rel_tol=1e-12
        )
        assert lab.check_answer(q.answer, q.answer)
        base_lr, gamma, s, t, answer = q  # unpacks as the 5-tuple the page reads


@pytest.mark.parametrize(
    ("given", "answer", "right"),
    [
        (0.025, 0.025, True),
        (0.025000000000000005, 0.025, True),  # the last bits never matter
        (0.0250249, 0.025, True),  # within 0.1%
        (0.0250251, 0.025, False),  # just outside 0.1%, and not 0.025 rounded
        (0.0123, 0.0123456, True),  # 3 significant figures, 0.37% off
        (0.0124, 0.0123456, False),
        (0.012, 0.0123456, False),  # 2 significant figures are not enough
        (0.059, 0.059049, True),  # 0.08% off
        (0.0590, 0.059049, True),
        (0.0592, 0.059049, False),
        (0.25, 0.025, False),  # a misplaced decimal point
        (None, 0.025, False),
        ("0.025", 0.025, False),
        (float("nan"), 0.025, False),
        (float("inf"), 0.025, False),
        (True, 1.0, False),
    ],
)
def test_check_answer(given, answer, right):
    assert lab.check_answer(given, answer) is right


def test_quiz_rule_states_what_check_answer_does():
    percent = float(re.search(r"within ([0-9.]+)%", lab.QUIZ_RULE).group(1)) / 100
    figures = int(re.search(r"(\d+) significant figures", lab.QUIZ_RULE).group(1))
    answer = 0.0123456
    assert lab.check_answer(answer * (1 + 0.99 * percent), answer)
    assert not lab.check_answer(answer * (1 + 1.01 * percent), answer)
    rounded = float(f"{answer:.{figures}g}")  # 0.0123: 0.37% off, right by rounding
    assert abs(rounded - answer) > percent * answer and lab.check_answer(rounded, answer)
    assert not lab.check_answer(float(f"{answer:.{figures - 1}g}"), answer)
    assert lab.check_answer(float("1.23456e-2"), answer)  # scientific notation is just a float


def test_explanation_goes_through_floor_t_over_s():
    question = lab.Question(0.1, 0.5, 10, 25, 0.025)
    text = lab.explain(question)
    assert "⌊25/10⌋ = 2" in text and "0.1 × 0.5^2 = 0.025" in text
    assert "no decay yet" in lab.explain(lab.Question(0.1, 0.5, 10, 9, 0.1))


def test_quiz_scores_each_question_once():
    quiz = lab.Quiz(random.Random(3))
    assert (quiz.right, quiz.asked, quiz.last) == (0, 0, None)
    assert quiz.question == lab.make_question(random.Random(3))
    assert quiz.check(None) == lab.Checked(None, False)  # nothing typed: not scored
    assert (quiz.right, quiz.asked) == (0, 0)
    answer = quiz.question.answer
    assert quiz.check(answer * 10) == lab.Checked(answer * 10, False)
    assert quiz.check(answer).correct  # a second check is shown but not scored
    assert (quiz.right, quiz.asked) == (0, 1)
    quiz.next_question()
    assert quiz.last is None
    assert quiz.check(float(f"{quiz.question.answer:.3g}")).correct
    assert (quiz.right, quiz.asked) == (1, 2)


@pytest.mark.parametrize(
    ("base_lr", "gamma", "step_size", "resume_at"),
    [(0.1, 0.5, 10, 20), (0.1, 0.5, 10, 25), (1e-5, 0.01, 1, 499), (0.02, 1.0, 50, 1)],
)
def test_every_code_block_runs_as_is(tmp_path, monkeypatch, base_lr, gamma, step_size, resume_at):
    monkeypatch.chdir(tmp_path)  # the resume snippet writes checkpoint.pt where it runs
    blocks = lab.code_blocks(base_lr, gamma, step_size, resume_at)
    assert set(blocks) == {"resume"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks["resume"], "<resume snippet>", "exec"), {"__name__": "__main__"})  # noqa: S102
    make = lambda o: lr_scheduler.StepLR(o, step_size, gamma)  # noqa: E731
    expected = _torch_curve(make, base_lr, resume_at + 1)[-1]  # the uninterrupted run's LR
    assert out.getvalue() == f"epoch {resume_at} trains with lr {expected}\n"


def test_decay_point_gap_ignores_underflowed_points():
    result = lab.compare_schedules(1e-5, 0.01, 1, 500, 100)
    assert result.curve("StepLR")[-1] == 0.0  # 1e-5 · 0.01^499 underflows
    assert result.decay_point_gap() <= 1e-12


def test_every_lab_figure_passes_plotly_validation():
    import plotly.graph_objects as go

    from steplr_viz.figures import lab as figures

    comparison = lab.compare_schedules(0.1, 0.5, 10, 40, 13)
    built = [
        figures.call_order_figure(lab.call_order(0.1, 0.5, 10, 40), highlight_epoch=9),
        figures.stepping_figure(lab.per_batch_stepping(0.1, 0.5, 10, 2, 63)),
        figures.readings_figure(lab.lr_readings(0.1, 0.5, 10, 31), log_y=True),
        figures.precision_figure(lab.closed_vs_chainable(0.1, 0.9, 1, 100)),
        figures.resume_figure(lab.resume(0.1, 0.5, 10, 40, 15)),
        figures.comparison_figure(comparison, show=["StepLR", "MultiStepLR"]),
        figures.loss_figure(comparison),
    ]
    for fig in built:
        # The builders skip validation for speed; a validated copy must accept the same spec.
        go.Figure(fig.to_plotly_json())
    assert [t.name for t in built[5].data] == ["StepLR", "MultiStepLR"]
    assert built[2].layout.yaxis.type == "log" and built[0].layout.shapes[0].x0 == 9
