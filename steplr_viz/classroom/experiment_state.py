"""Where a submitted experiment stands: its runs as the run manager sees them, and their points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from steplr_viz.classroom import experiments
from steplr_viz.classroom.presets import Preset, preset_of
from steplr_viz.config import TrainConfig
from steplr_viz.store.registry import RunManager
from steplr_viz.store.run_view import RunView

__all__ = ["ArmLrs", "ExperimentState", "experiment_state"]


@dataclass(frozen=True)
class ArmLrs:
    """The LR each optimizer step of an arm used (its lowest seed's run, as far as it got)."""

    arm: str
    steps: np.ndarray
    lrs: np.ndarray


@dataclass(frozen=True)
class ExperimentState:
    """An experiment's runs now: views, how many are live, their epoch points."""

    experiment_id: str
    views: list[RunView]
    live: int  # runs queued, running or paused

    @property
    def runs(self) -> int:
        return len(self.views)

    @property
    def done(self) -> bool:
        """Every run has ended (submission is all or nothing, so every run is counted)."""
        return bool(self.views) and self.live == 0

    @property
    def progress(self) -> float:
        """Epochs finished over epochs planned, across every run."""
        planned = sum(v.config.epochs for v in self.views)
        return sum(len(v.epochs) for v in self.views) / planned if planned else 0.0

    @property
    def configs(self) -> list[TrainConfig]:
        return [v.config for v in self.views]

    @property
    def preset(self) -> Preset | None:
        """The named preset these runs are, if they are one."""
        return preset_of(self.configs)

    @property
    def points(self) -> pd.DataFrame:
        """The runs' epoch points (experiments.POINT_COLUMNS)."""
        return experiments.points_from_views(self.views)

    def arm_lrs(self) -> list[ArmLrs]:
        """Per arm, in arm order, the LR per optimizer step of its lowest seed's run."""
        name = experiments.varied_field([v.config for v in self.views])
        first: dict[str, RunView] = {}
        for view in sorted(self.views, key=lambda v: v.config.seed):
            first.setdefault(experiments.arm_label(name, getattr(view.config, name)), view)
        order = [str(a) for a in self.points["arm"].cat.categories] if len(self.points) else []
        arms = order + [a for a in first if a not in order]
        return [
            ArmLrs(arm, first[arm].batches["step"].to_numpy(), first[arm].batches["lr"].to_numpy())
            for arm in arms
            if arm in first
        ]


def experiment_state(manager: RunManager, experiment_id: str) -> ExperimentState:
    """The experiment's runs as the manager has them now (live from trainers, else stored)."""
    run_ids = experiments.experiment_run_ids(manager.store, experiment_id)
    views = [v for v in map(manager.view, run_ids) if v is not None]
    live = len(set(run_ids) & set(manager.live_run_ids()))
    return ExperimentState(experiment_id, views, live)
