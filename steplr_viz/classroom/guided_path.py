"""The guided path a teacher presents: eight steps, each one idea, one question, one thing to do.

Every number in a step's text, choices and true answer is computed here from the engine
(schedule, lab, trainer defaults) when the step is built, never typed in. The seed's example:

>>> [c for c in step(1).question.choices]
['0.1', '0.05', '0.025', '0.0125']
>>> step(1).question.answer  # η_25 = 0.1 · 0.5^⌊25/10⌋ = 0.025
2
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import pandas as pd

from steplr_viz import lab
from steplr_viz.classroom import experiments, presets
from steplr_viz.classroom.paired import same
from steplr_viz.config import TrainConfig
from steplr_viz.schedules import choices as schedule_choices
from steplr_viz.schedules import steplr as schedule
from steplr_viz.validation import check_base_lr, check_gamma, check_int, check_step_size

SEED = schedule.SEED_EXAMPLE  # η₀ = 0.1, γ = 0.5, s = 10 over 40 epochs
HORIZON = SEED["epochs"]
FORMULA_EPOCH = 25  # the worked example's epoch: after two decays
PLATEAU_AT = 15  # where the scripted loss flattens for ReduceLROnPlateau
WARMUP_EPOCHS = 5  # the training page's warm-up (LinearLR from η₀/3, then StepLR), 5 epochs
ALTERNATIVES_EPOCH = 20  # half-way: where cosine and StepLR are compared
LIVE_EPOCH = 3  # the live run's epoch (1-based, as the training page counts) asked about
# Step 6 shows both sides with the two presets (classroom/presets.py), each over γ = 1, 0.5
# and 0.1 on the same seeds: constant LR, a gentle and a sharp StepLR.
COMPARE_GAMMAS = tuple(sorted(experiments.DEFAULT_VALUES, reverse=True))
COMPARE_SIDES = tuple(p.id for p in presets.PRESETS)  # the seed's setup first


@dataclass(frozen=True)
class Settings:
    """The teacher's η₀, γ and s (the knobs step draws them; the seed's example by default)."""

    base_lr: float = SEED["base_lr"]
    gamma: float = SEED["gamma"]
    step_size: int = SEED["step_size"]

    def validated(self) -> Settings:
        return Settings(
            check_base_lr(self.base_lr), check_gamma(self.gamma), check_step_size(self.step_size)
        )


@dataclass(frozen=True)
class Question:
    """A prediction question: its choices and the index of the true one (None: not known yet)."""

    id: str  # stable: the class's answers are counted under it
    text: str
    choices: tuple[str, ...]
    answer: int | None
    explanation: str


@dataclass(frozen=True)
class Step:
    """One screen of the path: one idea, one question, one thing to do."""

    number: int  # 1-based, as in the URL (?step=3)
    id: str
    title: str
    idea: str  # markdown
    todo: str
    question: Question | None


def _lr_text(value: float) -> str:
    """A learning rate as a choice reads: 6 significant figures, an underflow named."""
    return "0.0 (underflowed)" if value == 0.0 else lab.format_lr(value)


def _value_question(
    qid: str, text: str, values: Sequence[float], truth: float, explanation: str
) -> Question:
    """A question whose choices are learning rates, largest first; the truth is one of them."""
    labels = list(dict.fromkeys(_lr_text(v) for v in sorted({*values, truth}, reverse=True)))
    return Question(qid, text, tuple(labels), labels.index(_lr_text(truth)), explanation)


def _seed_table_text() -> str:
    table = schedule.decay_table(SEED["base_lr"], SEED["gamma"], SEED["step_size"], HORIZON)
    return " · ".join(table["seed_form"])


# --------------------------------------------------------------------------- the eight steps


def _formula(settings: Settings, quiz_seed: int) -> Step:
    base, gamma, s = SEED["base_lr"], SEED["gamma"], SEED["step_size"]
    t = FORMULA_EPOCH
    k = t // s
    truth = schedule.step_lr(base, gamma, s, t)
    question = _value_question(
        "formula-t25",
        f"η₀ = {base:g}, γ = {gamma:g}, s = {s}: which learning rate does epoch {t} use "
        "(epochs counted from 0, as the scheduler counts them)?",
        [base * gamma**j for j in range(4)],
        truth,
        f"⌊{t}/{s}⌋ = {k} decays, so η_{t} = {base:g} · {gamma:g}^{k} = {lab.format_lr(truth)}.",
    )
    idea = (
        r"$$\eta_t = \eta_0 \cdot \gamma^{\lfloor t/s \rfloor}$$"
        f"\n\nEvery s epochs the learning rate is multiplied by γ. The seed's example "
        f"(η₀ = {base:g}, γ = {gamma:g}, s = {s}): {_seed_table_text()}."
    )
    return Step(
        0,
        "formula",
        "The formula and the seed's example",
        idea,
        f"Work out ⌊{t}/{s}⌋ before you answer.",
        question,
    )


def _knobs(settings: Settings, quiz_seed: int) -> Step:
    base, gamma, s = settings.base_lr, settings.gamma, settings.step_size
    facts = schedule.schedule_facts(base, gamma, s, HORIZON)
    final = lab.format_lr(facts["final_lr"])
    if gamma == 1.0:
        shape = (
            f"γ = 1 multiplies by 1, so the LR never changes: no decay in {HORIZON} epochs, "
            f"every epoch trains at {final}."
        )
    else:
        decays = facts["decays"]
        shape = (
            f"{decays} decay{'s' if decays != 1 else ''} in {HORIZON} epochs, and the last "
            f"epoch trains at {final}."
        )
    # The question's answer (the seed's 1 % epoch) is left to the explanation, not told here.
    idea = (
        f"**γ sets how deep each step is, s how long each stair lasts.** With η₀ = {base:g}, "
        f"γ = {gamma:g}, s = {s}: {shape}"
    )
    seed_low = schedule.epochs_until_low(SEED["gamma"], SEED["step_size"])
    step_s = SEED["step_size"]
    choices = [str(seed_low + d * step_s) for d in (-2, -1, 0, 1)]
    question = Question(
        "knobs-low",
        f"γ = {SEED['gamma']:g}, s = {step_s}: from which epoch t (counted from 0, as in η_t) "
        f"is the LR at most {schedule.LOW_FRACTION:.0%} of η₀?",
        tuple(choices),
        choices.index(str(seed_low)),
        f"{SEED['gamma']:g}^k ≤ {schedule.LOW_FRACTION:g} first for k = {seed_low // step_s}, "
        f"reached after {seed_low // step_s} × {step_s} = {seed_low} epochs: from t = {seed_low}.",
    )
    return Step(
        0,
        "knobs",
        "What γ and s do",
        idea,
        "Move γ and s in the sidebar and watch the staircase.",
        question,
    )


def _call_order(settings: Settings, quiz_seed: int) -> Step:
    base, gamma, s = SEED["base_lr"], SEED["gamma"], SEED["step_size"]
    result = lab.call_order(base, gamma, s, HORIZON)
    wrong_first = first_decayed(result.wrong)
    right_first = first_decayed(result.right)
    choices = [str(right_first + d) for d in (-1, 0, 1)]
    warned = (
        f" PyTorch notices and warns: “{result.warning.split('. ')[0].rstrip('.')}.”"
        if result.warning
        else ""
    )
    # The mechanism, not its outcome: where the first decay lands is the question's answer.
    idea = (
        "**`optimizer.step()` first, then `scheduler.step()`.** Swapped, the scheduler takes "
        f"a step before any training has happened.{warned}"
    )
    question = Question(
        "call-order",
        f"StepLR(step_size={s}, gamma={gamma:g}), and `scheduler.step()` is called before "
        "`optimizer.step()`: which epoch t (counted from 0, as in η_t) is the first to train "
        "with the decayed LR?",
        tuple(choices),
        choices.index(str(wrong_first)) if str(wrong_first) in choices else None,
        f"Torch's run: the decayed LR first trains epoch t = {wrong_first}, not t = "
        f"{right_first}: every decay comes one epoch early.",
    )
    return Step(
        0,
        "call_order",
        "The call-order pitfall",
        idea,
        "Find the two step() calls in your own training loop: which comes first?",
        question,
    )


def first_decayed(lrs: Sequence[float]) -> int | None:
    """The first epoch whose LR is below the first epoch's (None: it never decays)."""
    return next((i for i, lr in enumerate(lrs) if lr < lrs[0]), None)


def seed_batches_per_epoch() -> int:
    """len(DataLoader) for full MNIST at the seed's batch size (938)."""
    return lab.batches_per_epoch(lab.MNIST_TRAIN_SIZE, lab.SEED_BATCH_SIZE)


EARLY_BATCHES = 10  # step 4: the LR after this many batches shows training has all but stopped


def _per_batch(settings: Settings, quiz_seed: int) -> Step:
    seed = TrainConfig()
    n = seed_batches_per_epoch()
    result = lab.per_batch_stepping(seed.lr, seed.gamma, seed.step_size, 2, n)
    last_of_first = result.per_batch[n - 1]
    early = result.per_batch[EARLY_BATCHES]  # the LR after EARLY_BATCHES scheduler steps
    zero = result.first_zero_batch()
    zero_text = (
        f"it is exactly 0.0 from batch {lab.batch_number(zero):,}"
        if zero is not None
        else "it stays > 0"
    )
    # The per-batch outcome is the question's answer: the idea says only what is counted.
    idea = (
        f"**`step_size` counts `scheduler.step()` calls, not epochs.** The seed's "
        f"StepLR(step_size={seed.step_size}, gamma={seed.gamma:g}) stepped once per epoch keeps "
        f"lr = {seed.lr:g} for all {n:,} batches of epoch 1. Stepped after every batch, it "
        f"counts batches instead. Batches are counted from 1 here: batch 1 is the first."
    )
    question = _value_question(
        "per-batch",
        f"StepLR(step_size={seed.step_size}, gamma={seed.gamma:g}) stepped after every batch: "
        f"which LR does batch {n:,}, the last of epoch 1, use?",
        [seed.lr, seed.lr * seed.gamma, seed.lr * seed.gamma**10],
        last_of_first,
        f"{n - 1:,} scheduler steps = {(n - 1) // seed.step_size} decays by {seed.gamma:g}: "
        f"{_lr_text(last_of_first)}. Training had in effect stopped long before: after "
        f"{EARLY_BATCHES} batches the LR is already {_lr_text(early)}, and {zero_text}.",
    )
    return Step(
        0,
        "per_batch",
        "Per batch or per epoch?",
        idea,
        "Check where `scheduler.step()` sits: inside the batch loop or after it?",
        question,
    )


def _live_run(settings: Settings, quiz_seed: int) -> Step:
    seed = TrainConfig()
    table = schedule.decay_table(seed.lr, seed.gamma, seed.step_size, seed.epochs)
    # The training page counts epochs from 1; the formula's t counts from 0.
    spans = ", ".join(
        f"epochs {a + 1}–{b + 1}: {lab.format_lr(lr)}" if a != b else f"epoch {a + 1}: {lr:g}"
        for a, b, lr in zip(table["first_epoch"], table["last_epoch"], table["lr"], strict=True)
    )
    truth = schedule.step_lr(seed.lr, seed.gamma, seed.step_size, LIVE_EPOCH - 1)
    # The schedule itself answers the question: it goes to the explanation.
    idea = (
        f"**The seed's script, live:** a `Linear(784, 10)` learns MNIST with Adam "
        f"(lr = {seed.lr:g}) and StepLR(step_size={seed.step_size}, gamma={seed.gamma:g}) for "
        f"{seed.epochs} epochs. Its printout counts epochs from 1 (“Epoch 1” to "
        f"“Epoch {seed.epochs}”), the formula's t from 0: “Epoch N” trains with η_t at t = N − 1."
    )
    question = _value_question(
        "live-lr3",
        f"Which learning rate does “Epoch {LIVE_EPOCH}” of the seed's run (its printout counts "
        "from 1) train with?",
        [seed.lr * seed.gamma**j for j in range(3)],
        truth,
        f"“Epoch {LIVE_EPOCH}” is t = {LIVE_EPOCH - 1}: ⌊{LIVE_EPOCH - 1}/{seed.step_size}⌋ = "
        f"{(LIVE_EPOCH - 1) // seed.step_size} decay, lr = {lab.format_lr(truth)}. The whole "
        f"schedule: {spans}.",
    )
    return Step(
        0,
        "live_run",
        "A live run of the seed's script",
        idea,
        "Press Start and watch the LR drop while the accuracy climbs.",
        question,
    )


def comparison_experiment(side: str = COMPARE_SIDES[0]) -> experiments.Experiment:
    """One side's preset over γ = 1, 0.5 and 0.1, each arm on the same seeds (a fresh id)."""
    return presets.preset(side).experiment()


def arm_accuracies(points: pd.DataFrame) -> list[float | None]:
    """Mean final test accuracy per arm, in COMPARE_GAMMAS order (None: no complete seed yet).

    Over the runs that finished, on the seeds every arm finished (experiments.comparable).
    """
    table = experiments.results_table(points) if len(points) else pd.DataFrame()
    means = dict(zip(table.get("arm", []), table.get("final_acc_mean", []), strict=True))
    return [means.get(experiments.arm_label(experiments.DEFAULT_FIELD, g)) for g in COMPARE_GAMMAS]


def comparison_label(gamma: float) -> str:
    """How an arm of the comparison is named in choices and legends."""
    return "constant LR (γ = 1)" if gamma == 1.0 else f"StepLR γ = {gamma:g}"


def comparison_answer(final_accuracies: Sequence[float | None]) -> int | None:
    """The arm with the best (mean) final test accuracy; None until all finished, or on a tie.

    A tie is the training page's tie (paired.same), so both pages name the same winners.
    """
    if len(final_accuracies) != len(COMPARE_GAMMAS) or any(
        a is None or not math.isfinite(a) for a in final_accuracies
    ):
        return None
    best = max(final_accuracies)
    winners = [i for i, a in enumerate(final_accuracies) if same(a, best)]
    return winners[0] if len(winners) == 1 else None


def check_side(side: object) -> str:
    """A side of step 6 (a preset id); ValueError naming the choices otherwise."""
    if side not in COMPARE_SIDES:
        raise ValueError(f"side must be one of {', '.join(COMPARE_SIDES)}")
    return str(side)


def comparison_question(side: str) -> Question:
    """One side's prediction question; its answer is known only once its runs have ended."""
    chosen = presets.preset(side)
    runs = len(comparison_experiment(side).configs())
    return Question(
        f"compare-{side}",
        f"{chosen.title}: which γ ends with the highest mean final test accuracy?",
        tuple(comparison_label(g) for g in COMPARE_GAMMAS),
        None,  # the runs tell: see comparison_answer
        f"The true answer appears once all {runs} runs of this side have finished.",
    )


def _compare(settings: Settings, quiz_seed: int) -> Step:
    sides = [presets.preset(side) for side in COMPARE_SIDES]
    experiment = comparison_experiment(COMPARE_SIDES[0])
    arms = ", ".join(comparison_label(g) for g in COMPARE_GAMMAS)
    listed = " ".join(
        f"**Side {i}, {p.title[0].lower()}{p.title[1:]}:** {p.setup}."
        for i, p in enumerate(sides, 1)
    )
    idea = (
        f"**Does StepLR help? Two setups, a prediction for each.** {listed} Each side runs "
        f"{arms} on the same {len(experiment.seeds)} seeds ({len(experiment.configs())} runs a "
        "side): same data, same initial weights, same batch order, so the arms are compared "
        "seed by seed, and the spread over seeds shows how much is noise."
    )
    return Step(
        0,
        "compare",
        "Does StepLR help?",
        idea,
        "Predict each side's winner, then start its runs.",
        comparison_question(COMPARE_SIDES[0]),
    )


def _alternatives(settings: Settings, quiz_seed: int) -> Step:
    curves = dict(alternative_curves())
    t = ALTERNATIVES_EPOCH
    cosine, step_lr = curves["CosineAnnealingLR"][t], curves["StepLR"][t]
    choices = ("cosine annealing", "StepLR", "the same")
    same = math.isclose(cosine, step_lr, rel_tol=1e-9)
    answer = 2 if same else (0 if cosine > step_lr else 1)
    names = ", ".join(name for name, _ in alternative_curves())
    idea = (
        f"**StepLR is one choice among many:** {names}. Cosine annealing glides down instead of "
        "jumping; ReduceLROnPlateau waits for the loss to stall. A warm-up, the Live training "
        f"page's own (η₀ = {SEED['base_lr']:g}, γ = {SEED['gamma']:g}, s = {SEED['step_size']}, "
        f"{WARMUP_EPOCHS} epochs): {schedule_choices.warmup_note(warmup_config())}"
    )
    question = Question(
        "alt-cosine20",
        f"η₀ = {SEED['base_lr']:g} over {HORIZON} epochs: at epoch {t}, which LR is higher, cosine "
        f"annealing or StepLR (γ = {SEED['gamma']:g}, s = {SEED['step_size']})?",
        choices,
        answer,
        f"At epoch {t}: cosine {lab.format_lr(cosine)}, StepLR {lab.format_lr(step_lr)}.",
    )
    return Step(
        0,
        "alternatives",
        "The alternatives",
        idea,
        "Name one reason to prefer each schedule.",
        question,
    )


def alternative_curves() -> tuple[tuple[str, tuple[float, ...]], ...]:
    """Torch's StepLR and its alternatives on the seed's example, warm-up + StepLR last."""
    base, gamma, s = SEED["base_lr"], SEED["gamma"], SEED["step_size"]
    comparison = lab.compare_schedules(base, gamma, s, HORIZON, PLATEAU_AT)
    return (*comparison.curves, (f"warm-up {WARMUP_EPOCHS} + StepLR", _warmup_curve()))


def warmup_config() -> TrainConfig:
    """The warm-up step 7 shows: the training page's LinearLR + StepLR, on the seed's example."""
    return TrainConfig(
        scheduler="warmup_steplr",
        lr=SEED["base_lr"],
        gamma=SEED["gamma"],
        step_size=SEED["step_size"],
        warmup_epochs=WARMUP_EPOCHS,
        epochs=HORIZON,
    )


def _warmup_curve() -> tuple[float, ...]:
    """The training page's warm-up (SequentialLR: LinearLR, then StepLR), as torch runs it."""
    return tuple(float(lr) for lr in schedule_choices.predicted_lr_curve(warmup_config()))


def quiz_question(quiz_seed: int) -> lab.Question:
    """The closing quiz's (η₀, γ, s, t, answer), the same for everyone sharing quiz_seed."""
    seed = check_int("quiz_seed", quiz_seed, low=0, high=2**63)
    return lab.make_question(random.Random(seed))


def _quiz(settings: Settings, quiz_seed: int) -> Step:
    q = quiz_question(quiz_seed)
    k = q.epoch // q.step_size
    values = [q.base_lr * q.gamma**j for j in range(max(0, k - 1), k + 3)]
    question = _value_question(
        "quiz",
        f"η₀ = {q.base_lr:g}, γ = {q.gamma:g}, s = {q.step_size}: which LR does epoch "
        f"{q.epoch} use?",
        values,
        q.answer,
        lab.explain(q),
    )
    idea = (
        "**Closing quiz.** One question, drawn at random for this class: count the decays with "
        "⌊t/s⌋, then multiply η₀ by γ that many times."
    )
    return Step(
        0,
        "quiz",
        "Closing quiz",
        idea,
        "Answer on your own device, then explain your answer to a neighbour.",
        question,
    )


_BUILDERS: tuple[Callable[[Settings, int], Step], ...] = (
    _formula,
    _knobs,
    _call_order,
    _per_batch,
    _live_run,
    _compare,
    _alternatives,
    _quiz,
)
STEP_COUNT = len(_BUILDERS)


def step(number: int, settings: Settings | None = None, quiz_seed: int = 0) -> Step:
    """Build step `number` (1-based) for these settings; only that step is computed."""
    number = check_int("step", number, low=1, high=STEP_COUNT)
    settings = (settings or Settings()).validated()
    return replace(_BUILDERS[number - 1](settings, quiz_seed), number=number)


def path(settings: Settings | None = None, quiz_seed: int = 0) -> tuple[Step, ...]:
    """Every step, in order."""
    return tuple(step(n, settings, quiz_seed) for n in range(1, STEP_COUNT + 1))


def step_ids() -> tuple[str, ...]:
    """The steps' ids in order (cheap: the default settings' path is cached)."""
    return _step_ids()


@lru_cache(maxsize=1)
def _step_ids() -> tuple[str, ...]:
    return tuple(s.id for s in path())
