"""The lab's quiz: random StepLR questions answered by torch, checked and scored here."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import NamedTuple

from steplr_viz.lab.common import format_lr
from steplr_viz.schedules import steplr as schedule
from steplr_viz.validation import check_float

QUIZ_BASE_LRS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.01, 0.001)
QUIZ_GAMMAS = (0.1, 0.2, 0.25, 0.5, 0.8, 0.9)
QUIZ_MAX_DECAYS = 4
QUIZ_REL_TOL = 1e-3
QUIZ_SIG_FIGS = 3
QUIZ_RULE = (
    "Decimals and scientific notation (1.25e-4) both work, and rounding is allowed: an answer "
    f"counts as right within {QUIZ_REL_TOL:.1%} of torch's value, or as that value rounded to "
    f"{QUIZ_SIG_FIGS} significant figures."
)


class Question(NamedTuple):
    """A quiz question: what is η_t for these η₀, γ, s? The answer is torch's StepLR value."""

    base_lr: float
    gamma: float
    step_size: int
    epoch: int
    answer: float


def make_question(rng: random.Random) -> Question:
    """A random (η₀, γ, s, t, answer) from `rng`; 0 to 4 decays deep."""
    base_lr = rng.choice(QUIZ_BASE_LRS)
    gamma = rng.choice(QUIZ_GAMMAS)
    step_size = rng.randint(2, 12)
    epoch = rng.randint(0, QUIZ_MAX_DECAYS) * step_size + rng.randint(0, step_size - 1)
    answer = float(schedule.torch_lr_curve(base_lr, gamma, step_size, epoch + 1)[epoch])
    return Question(base_lr, gamma, step_size, epoch, answer)


def check_answer(given, answer: float) -> bool:
    """True if `given` is within QUIZ_REL_TOL of `answer` or is it rounded to 3 sig. figures."""
    try:
        given = check_float("answer", given, low=-math.inf, high=math.inf)
    except ValueError:
        return False  # no answer, text, NaN or inf is never right
    if math.isclose(given, answer, rel_tol=QUIZ_REL_TOL, abs_tol=0.0):
        return True
    rounded = float(f"{answer:.{QUIZ_SIG_FIGS}g}")
    return math.isclose(given, rounded, rel_tol=1e-9, abs_tol=0.0)


def explain(question: Question) -> str:
    """The worked answer through ⌊t/s⌋, in plain text."""
    base_lr, gamma, s, t, answer = question
    k = t // s
    decays = "no decay yet" if k == 0 else f"{k} decay{'s' if k > 1 else ''}"
    return (
        f"⌊t/s⌋ = ⌊{t}/{s}⌋ = {k} ({decays}), so "
        f"η_{t} = {base_lr:g} × {gamma:g}^{k} = {format_lr(answer)}."
    )


class Checked(NamedTuple):
    """One check of an answer: what was given (None: nothing typed yet) and whether it is right."""

    given: float | None
    correct: bool


@dataclass
class Quiz:
    """One student's quiz: the question, the last check and the score (each question once)."""

    rng: random.Random = field(default_factory=random.Random)
    question: Question = field(init=False)
    last: Checked | None = field(init=False, default=None)
    right: int = 0
    asked: int = 0
    _scored: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.question = make_question(self.rng)

    def next_question(self) -> None:
        """A new question; the score stays."""
        self.question = make_question(self.rng)
        self.last, self._scored = None, False

    def check(self, given) -> Checked:
        """Check `given` against the question; only a question's first real check is scored."""
        if given is None:
            self.last = Checked(None, False)
            return self.last
        correct = check_answer(given, self.question.answer)
        if not self._scored:
            self.asked += 1
            self.right += int(correct)
            self._scored = True
        self.last = Checked(float(given), correct)
        return self.last
