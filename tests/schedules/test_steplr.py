"""The closed form against torch's StepLR, the seed's example, and every invalid input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from steplr_viz.schedules import steplr as schedule

SEED_TABLE = ["epoch 0–9: 0.1", "epoch 10–19: 0.05", "epoch 20–29: 0.025", "epoch 30–39: 0.0125"]

configs = st.tuples(
    st.floats(min_value=1e-6, max_value=10.0, allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e-3, max_value=1.0, allow_nan=False, allow_infinity=False),
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=1, max_value=300),
)


def _torch_closed_form(base_lr: float, gamma: float, step_size: int, epochs: int) -> list[float]:
    """torch's own closed form, StepLR._get_closed_form_lr, epoch by epoch."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    values = []
    for epoch in range(epochs):
        scheduler.last_epoch = epoch
        values.append(scheduler._get_closed_form_lr()[0])
    return values


@settings(max_examples=150, deadline=None)
@given(configs)
def test_closed_form_equals_torch_closed_form_bit_for_bit(config):
    base_lr, gamma, step_size, epochs = config
    ours = schedule.lr_curve(base_lr, gamma, step_size, epochs)
    assert ours.tolist() == _torch_closed_form(base_lr, gamma, step_size, epochs)
    assert [schedule.step_lr(base_lr, gamma, step_size, t) for t in range(epochs)] == ours.tolist()


def test_closed_form_is_pythons_float_power_where_numpy_may_differ():
    # On AVX-512 CPUs np.power(0.9, 12) is 0.28242953648100005: one ulp off Python's (and
    # torch's) 0.9 ** 12. The app must show Python's value on every CPU.
    assert 0.9**12 == 0.2824295364810001
    assert schedule.gamma_powers(0.9, 12)[12] == 0.2824295364810001
    assert schedule.lr_curve(0.1, 0.9, 1, 13)[12] == 0.1 * 0.9**12 == 0.028242953648100012
    assert schedule.lr_per_step(0.1, 0.9, 1, 13, 2)[-1] == 0.1 * 0.9**12
    assert schedule.decay_table(0.1, 0.9, 1, 13)["lr"].iloc[-1] == 0.1 * 0.9**12


@settings(max_examples=150)
@given(configs, st.integers(min_value=1, max_value=5), st.booleans())
def test_every_array_form_equals_pythons_float_power(config, batches, per_batch):
    base_lr, gamma, step_size, epochs = config
    curve = schedule.lr_curve(base_lr, gamma, step_size, epochs).tolist()
    assert curve == [base_lr * gamma ** (t // step_size) for t in range(epochs)]
    steps = schedule.lr_per_step(base_lr, gamma, step_size, epochs, batches, per_batch=per_batch)
    counters = [i if per_batch else i // batches for i in range(epochs * batches)]
    assert steps.tolist() == [base_lr * gamma ** (c // step_size) for c in counters]


def test_gamma_powers_past_underflow_are_zero():
    powers = schedule.gamma_powers(0.001, 200)
    assert powers.tolist() == [0.001**k for k in range(201)]
    assert powers[-1] == 0.0


@settings(max_examples=150, deadline=None)
@given(configs)
def test_closed_form_matches_recorded_torch_steplr(config):
    base_lr, gamma, step_size, epochs = config
    ours = schedule.lr_curve(base_lr, gamma, step_size, epochs)
    recorded = schedule.torch_lr_curve(base_lr, gamma, step_size, epochs)
    # torch multiplies by γ at each decay; the closed form raises γ to a power: last bits only
    # (and subnormals below float64's normal range, where relative precision runs out).
    np.testing.assert_allclose(recorded, ours, rtol=1e-12, atol=np.finfo(np.float64).tiny)


def _sgd_training_loop_lrs(base_lr: float, gamma: float, step_size: int, epochs: int) -> list:
    """The LR each epoch uses in a plain SGD training loop with StepLR, in the right order."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a wrong call order would warn, and fail here
        for _ in range(epochs):
            lrs.append(optimizer.param_groups[0]["lr"])
            param.grad = torch.ones(1)  # a real update, as in training
            optimizer.step()
            scheduler.step()
    return lrs


def test_torch_curve_is_recorded_from_a_real_scheduler_with_the_right_call_order():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recorded = schedule.torch_lr_curve(0.3, 0.7, 3, 25).tolist()
    assert recorded == _sgd_training_loop_lrs(0.3, 0.7, 3, 25)


@settings(max_examples=100, deadline=None)
@given(configs)
def test_torch_curve_equals_an_sgd_training_loop_bit_for_bit(config):
    # The page records through a parameter-free optimizer (8x faster); the LRs must not differ.
    assert schedule.torch_lr_curve(*config).tolist() == _sgd_training_loop_lrs(*config)


def test_seed_example():
    assert schedule.lr_curve(0.1, 0.5, 10, 40)[[0, 9, 10, 19, 20, 29, 30, 39]].tolist() == [
        0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125,
    ]  # fmt: skip
    table = schedule.decay_table(0.1, 0.5, 10, 40)
    assert table["seed_form"].tolist() == SEED_TABLE
    assert table["decays"].tolist() == [0, 1, 2, 3]


def test_decay_table_cuts_the_last_range_at_the_horizon():
    table = schedule.decay_table(1.0, 0.5, 4, 10)
    assert table["epochs"].tolist() == ["0–3", "4–7", "8–9"]
    assert schedule.decay_table(1.0, 0.5, 3, 7)["epochs"].tolist() == ["0–2", "3–5", "6"]


def test_decay_epochs_and_facts():
    assert schedule.decay_epochs(10, 40) == [10, 20, 30]
    assert schedule.decay_epochs(10, 10) == []
    assert schedule.decay_epochs(10, 40, gamma=1.0) == []  # × 1 is no decay
    assert schedule.decay_epochs(10, 40, gamma=0.5) == [10, 20, 30]
    facts = schedule.schedule_facts(0.1, 0.5, 10, 40)
    assert facts["decays"] == 3
    assert facts["final_lr"] == 0.0125
    # 0.5^7 = 0.0078 < 1% while 0.5^6 = 0.0156 is not: the 7th decay, at epoch 70.
    assert facts["epochs_until_low"] == 70


@pytest.mark.parametrize("gamma", [0.05, 0.1, 0.3, 0.5, 0.9, 0.99, 0.999])
@pytest.mark.parametrize("step_size", [1, 7])
def test_epochs_until_low_is_the_first_epoch_at_most_one_percent(gamma, step_size):
    t = schedule.epochs_until_low(gamma, step_size)
    limit = 0.01 * (1 + schedule.LOW_TOLERANCE)  # float rounding of an exact 1 % still counts
    lr_at = schedule.step_lr(1.0, gamma, step_size, t)
    lr_before = schedule.step_lr(1.0, gamma, step_size, t - 1)
    assert lr_at <= limit < lr_before


def test_an_exact_one_percent_counts_despite_float_rounding():
    # The seed's script: γ = 0.1, s = 2. 0.1 ** 2 is 0.010000000000000002, yet η_4 is 1 % of η₀.
    assert 0.1**2 > 0.01
    assert schedule.epochs_until_low(0.1, 2) == 4
    assert schedule.epochs_until_low(0.5, 10) == 70  # 0.5^7 = 0.0078 <= 1 % < 0.5^6 = 0.0156


def test_schedule_notes_say_what_the_chart_cannot():
    assert schedule.schedule_notes(0.5, 10, 80) == []  # 1 % at epoch 70, in view
    assert "never changes" in schedule.schedule_notes(1.0, 10, 40)[0]
    first, low = schedule.schedule_notes(0.5, 50, 40)
    assert "epoch 50, after the last epoch shown (39)" in first
    assert "epoch 350" in low
    assert schedule.schedule_facts(0.1, 1.0, 10, 40)["decays"] == 0


def test_epochs_until_low_is_never_without_decay():
    assert schedule.epochs_until_low(1.0, 5) is None
    assert schedule.schedule_facts(0.1, 1.0, 5, 30)["epochs_until_low"] is None


def test_lr_choices_is_a_1_2_5_series_over_five_decades():
    choices = schedule.lr_choices()
    assert choices[0] == 1e-5 and choices[-1] == 1.0 and len(choices) == 16
    assert choices[:4] == [1e-5, 2e-5, 5e-5, 1e-4]
    assert all(b > a for a, b in zip(choices, choices[1:], strict=False))


def test_pytorch_snippet_runs_and_reproduces_the_schedule():
    code = schedule.pytorch_snippet(0.1, 0.5, 2, 6)
    assert code.index("optimizer.step()") < code.index("scheduler.step()")
    assert "StepLR(optimizer, step_size=2, gamma=0.5)" in code
    assert "lr=0.1" in code


BAD = [
    ("base_lr", 0.0), ("base_lr", -1.0), ("base_lr", math.nan), ("base_lr", math.inf),
    ("base_lr", True), ("base_lr", "0.1"), ("base_lr", None),
    ("gamma", 0.0), ("gamma", 1.5), ("gamma", -0.5), ("gamma", math.nan), ("gamma", math.inf),
    ("gamma", False),
    ("step_size", 0), ("step_size", -5), ("step_size", 2.5), ("step_size", math.nan),
    ("step_size", True), ("step_size", "10"),
    ("epochs", 0), ("epochs", 10_001), ("epochs", 1_000_000_000), ("epochs", math.inf),
    ("epochs", 3.5), ("epochs", True),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value"), BAD)
@pytest.mark.parametrize("func", [schedule.lr_curve, schedule.torch_lr_curve, schedule.decay_table])
def test_invalid_inputs_raise_value_error_naming_the_parameter(func, name, value):
    kwargs = {"base_lr": 0.1, "gamma": 0.5, "step_size": 10, "epochs": 40, name: value}
    with pytest.raises(ValueError, match=rf"^{name} must be .*(\(|\[).*(\)|\])"):
        func(**kwargs)


def test_step_lr_rejects_negative_or_fractional_epochs():
    with pytest.raises(ValueError, match="epoch"):
        schedule.step_lr(0.1, 0.5, 10, -1)
    with pytest.raises(ValueError, match="epoch"):
        schedule.step_lr(0.1, 0.5, 10, np.array([0.5]))
    assert schedule.step_lr(0.1, 0.5, 10, np.array([0, 10])).tolist() == [0.1, 0.05]


def test_valid_edges_are_accepted():
    assert schedule.lr_curve(10.0, 1.0, 1, 1).tolist() == [10.0]
    assert len(schedule.lr_curve(1e-9, 1e-9, 100_000, 10_000)) == 10_000
    assert schedule.lr_curve(0.1, 0.5, 10.0, 11)[-1] == 0.05  # a whole float is a valid int


def test_lr_per_step_holds_each_epoch_or_counts_batches():
    per_epoch = schedule.lr_per_step(0.001, 0.1, 2, 5, 3)
    assert per_epoch.tolist() == [
        lr for lr in schedule.lr_curve(0.001, 0.1, 2, 5).tolist() for _ in range(3)
    ]
    per_batch = schedule.lr_per_step(0.001, 0.1, 2, 2, 3, per_batch=True)
    assert per_batch.tolist() == schedule.lr_curve(0.001, 0.1, 2, 6).tolist()
