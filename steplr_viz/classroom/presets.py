"""Named experiments that show both sides of "does StepLR help?" on the bundled digits.

Each preset is one click: γ = 0.1, 0.5 and 1 (a constant LR) over the same five seeds. On the
seed's setup the decay comes too early and a constant LR wins; with a large SGD learning rate
the decay lets the weights settle and γ = 0.1 wins on every seed. The numbers behind the
second preset were found by measurement (README, "Both sides of the evidence"); the tests
train both presets and check the verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from steplr_viz.classroom.experiments import Experiment
from steplr_viz.config import TrainConfig

__all__ = ["PRESETS", "TOGETHER", "Preset", "preset", "preset_of"]

PRESET_SEEDS = 5
GAMMAS = (0.1, 0.5, 1.0)


@dataclass(frozen=True)
class Preset:
    """A named experiment: a base config, γ values as the arms, the seeds, and what it shows."""

    id: str  # stable, short: a link or a CLI flag names it
    title: str  # neutral, shown before the runs: it must not give the answer away
    name: str  # the title with what the runs show, once they have shown it
    base: TrainConfig
    values: tuple[float, ...]
    seeds: int
    expected: str  # the arm this preset's runs show winning (checked against the verdict)
    setup: str  # what differs from the seed's script, in words
    lesson: str  # why the expected arm wins, in one sentence

    def experiment(self) -> Experiment:
        """A fresh experiment of this preset (a new id each call)."""
        base = TrainConfig.from_dict(self.base.to_dict())
        return Experiment(base, "gamma", self.values, tuple(range(self.seeds))).validated()

    def matches(self, configs: Sequence[TrainConfig]) -> bool:
        """True when these runs' configs are this preset's (any experiment id, its seeds)."""
        if not configs:
            return False
        want = {
            (round(cfg.gamma, 12), cfg.seed): self._key(cfg)
            for _, cfg in self.experiment().configs()
        }
        got = {(round(c.gamma, 12), c.seed): self._key(c) for c in configs}
        return len(got) == len(configs) and got == want

    @staticmethod
    def _key(cfg: TrainConfig) -> tuple:
        d = cfg.to_dict()
        d.pop("experiment")
        return tuple(sorted((k, str(v)) for k, v in d.items()))


PRESETS = (
    Preset(
        id="seed",
        title="The seed's setup",
        name="The seed's setup: decays too early",
        base=TrainConfig(),
        values=GAMMAS,
        seeds=PRESET_SEEDS,
        expected="gamma=1",
        setup="the seed's settings: Adam, lr 0.001, StepLR s = 2, 5 epochs",
        lesson=(
            "After 2 epochs Adam at lr 0.001 is still improving quickly, so cutting the LR "
            "tenfold there (and again after epoch 4) slows the learning before it has arrived, "
            "while the constant LR keeps improving."
        ),
    ),
    Preset(
        id="large-lr",
        title="A large LR",
        name="A large LR: the decay lets it settle",
        base=TrainConfig(optimizer="sgd", lr=0.5, momentum=0.9, step_size=3, epochs=6),
        values=GAMMAS,
        seeds=PRESET_SEEDS,
        expected="gamma=0.1",
        setup="SGD with momentum 0.9 at lr 0.5, StepLR s = 3, 6 epochs",
        lesson=(
            "At lr 0.5 each SGD step overshoots, so the weights keep bouncing around good ones "
            "without settling; cut tenfold after epoch 3, the steps shrink and the weights "
            "settle."
        ),
    ),
)

TOGETHER = (
    "Together the two presets show that StepLR is neither good nor bad: it helps when the LR "
    "is too large to settle, and hurts when it cuts a rate that was still making progress. "
    "When the decay comes matters as much as how deep it is."
)


def preset(preset_id: str) -> Preset:
    """The preset with this id (ValueError listing the ids otherwise)."""
    for p in PRESETS:
        if p.id == preset_id:
            return p
    raise ValueError(f"preset must be one of {', '.join(p.id for p in PRESETS)}; got {preset_id!r}")


def preset_of(configs: Sequence[TrainConfig]) -> Preset | None:
    """The preset these runs are (all of its runs, nothing else), if any."""
    return next((p for p in PRESETS if p.matches(configs)), None)
