"""Experiments: runs that differ in one setting, each arm over the same seeds, and their results.

An Experiment is a base TrainConfig, one varied field (the arms) and the seeds every arm runs,
so the data, the initial weights and the batch order match across arms and only the setting
differs. Its runs carry the experiment id in their config, so the store groups them. The
results (table, per-epoch bands) are computed from the runs' epoch points, over the complete
runs of the seeds every arm completed; classroom/commentary.py says what they show.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from steplr_viz.classroom.paired import same
from steplr_viz.config import TrainConfig
from steplr_viz.store.recorder import StoreRecorder
from steplr_viz.store.registry import ClassFullError, RunManager, class_full_message
from steplr_viz.store.run_view import RunView
from steplr_viz.store.runs import Store, new_run_id
from steplr_viz.training.data import MnistData
from steplr_viz.training.metrics import EPOCH_COLUMNS, FINISHED, Snapshot
from steplr_viz.training.trainer import Trainer

VARIABLE_FIELDS = ("gamma", "step_size", "scheduler", "optimizer")
DEFAULT_SEEDS = 3
# The lesson a class sees first: the seed's γ = 0.1 against γ = 0.5 and a constant LR.
DEFAULT_FIELD = "gamma"
DEFAULT_VALUES = (0.1, 0.5, 1.0)
POINT_COLUMNS = ["arm", "seed", "run_id", *EPOCH_COLUMNS]
# What points_frame adds per row: its run's status and planned epochs (a verdict needs both).
RUN_COLUMNS = ["status", "planned"]

__all__ = [
    "DEFAULT_FIELD",
    "DEFAULT_SEEDS",
    "DEFAULT_VALUES",
    "POINT_COLUMNS",
    "RUN_COLUMNS",
    "VARIABLE_FIELDS",
    "Experiment",
    "ExperimentRun",
    "arm_decays",
    "arm_frames",
    "arm_label",
    "bands",
    "comparable",
    "default_experiment",
    "experiment_run_ids",
    "final_by_seed",
    "points_frame",
    "points_from_runs",
    "points_from_store",
    "points_from_views",
    "ranked",
    "results_table",
    "run_experiment",
    "run_outcomes",
    "submit_experiment",
    "tied_first",
    "varied_field",
    "winners",
]


def arm_label(name: str, value: Any) -> str:
    """An arm's setting as the CLI prints it: gamma=0.1, step_size=3, scheduler=cosine."""
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{name}={shown}"


@dataclass(frozen=True)
class Experiment:
    """A base config, one varied field with its values (the arms) and the seeds of every arm."""

    base: TrainConfig
    vary: str  # the field that differs between arms
    values: tuple[Any, ...]
    seeds: tuple[int, ...] = tuple(range(DEFAULT_SEEDS))
    experiment_id: str = dataclasses.field(default_factory=new_run_id)

    def validated(self) -> Experiment:
        """A checked copy (ValueError naming the problem); each arm's config is validated."""
        if self.vary not in VARIABLE_FIELDS:
            raise ValueError(f"vary must be one of {', '.join(VARIABLE_FIELDS)}; got {self.vary!r}")
        if not self.values:
            raise ValueError(f"{self.vary}: give at least one value to compare")
        if not self.seeds:
            raise ValueError("seeds: give at least one seed")
        # Validating through TrainConfig normalises each value (1 -> 1.0 for gamma).
        values = tuple(getattr(self._config(v, self.seeds[0]), self.vary) for v in self.values)
        seeds = tuple(self._config(values[0], s).seed for s in self.seeds)
        for name, items in ((self.vary, values), ("seeds", seeds)):
            if len(set(items)) != len(items):
                raise ValueError(f"{name}: each value once, got {', '.join(map(str, items))}")
        return dataclasses.replace(self, values=values, seeds=seeds)

    def _config(self, value: Any, seed: int) -> TrainConfig:
        cfg = TrainConfig.from_dict(self.base.to_dict())
        setattr(cfg, self.vary, value)
        cfg.seed = seed
        cfg.experiment = self.experiment_id
        return cfg.validated()

    @property
    def arms(self) -> list[str]:
        """The arm labels, in the order given."""
        return [arm_label(self.vary, v) for v in self.values]

    def configs(self) -> list[tuple[str, TrainConfig]]:
        """(arm label, config) for every run, seed by seed so that the arms progress together."""
        return [
            (arm_label(self.vary, v), self._config(v, seed))
            for seed in self.seeds
            for v in self.values
        ]


def default_experiment(base: TrainConfig | None = None, seeds: int = DEFAULT_SEEDS) -> Experiment:
    """The seed's setup (Adam, lr 1e-3, s = 2, 5 epochs, bundled digits) over γ = 0.1, 0.5, 1."""
    return Experiment(
        base or TrainConfig(), DEFAULT_FIELD, DEFAULT_VALUES, tuple(range(seeds))
    ).validated()


@dataclass(frozen=True)
class ExperimentRun:
    """One finished (or ended) run of an experiment."""

    arm: str
    seed: int
    run_id: str | None
    snapshot: Snapshot = field(compare=False)


def run_experiment(
    experiment: Experiment,
    data: MnistData,
    store: Store | None = None,
    on_run_end: Callable[[ExperimentRun], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_trainer: Callable[[Trainer], None] | None = None,
) -> list[ExperimentRun]:
    """Train every run in this thread, one after another, on the same data (the CLI's way).

    Each run is recorded in `store` if given. `should_stop` is asked before each run;
    `on_trainer` receives each trainer before it starts (to stop it from a signal handler).
    """
    experiment = experiment.validated()
    done: list[ExperimentRun] = []
    for arm, config in experiment.configs():
        if should_stop is not None and should_stop():
            break
        run_id = store.create_run(config) if store is not None else None
        trainer = Trainer(config, data=data, run_id=run_id)
        if store is not None:
            StoreRecorder(store, run_id).attach(trainer)
        if on_trainer is not None:
            on_trainer(trainer)
        result = ExperimentRun(arm, config.seed, run_id, trainer.run())
        done.append(result)
        if on_run_end is not None:
            on_run_end(result)
    return done


def submit_experiment(
    manager: RunManager, experiment: Experiment, started_by: str | None = None
) -> dict[str, tuple[str, int]]:
    """Submit every run through the registry's queue and cap; {run_id: (arm, seed)}.

    All or nothing: ClassFullError if the free slots and queue places cannot take every run.
    `started_by` names the browser that started them (it may control them, as its own runs).
    """
    experiment = experiment.validated()
    configs = experiment.configs()
    running, waiting = manager.active_count(), manager.queued_count()
    free = max(0, manager.max_concurrent - running) + max(0, manager.max_queue - waiting)
    if free < len(configs):
        raise ClassFullError(
            f"{class_full_message(running, waiting)} This experiment needs {len(configs)} places."
        )
    submitted: dict[str, tuple[str, int]] = {}
    try:
        for arm, config in configs:
            submitted[manager.submit(config, started_by=started_by)] = (arm, config.seed)
    except ClassFullError:  # another student took the last places meanwhile
        for run_id in submitted:
            manager.stop(run_id)
        raise
    return submitted


def experiment_run_ids(store: Store, experiment_id: str) -> list[str]:
    """The stored runs of an experiment, oldest first."""
    return [rid for rid, cfg in store.list_configs().items() if cfg.experiment == experiment_id]


def varied_field(configs: Sequence[TrainConfig]) -> str:
    """The field that differs between an experiment's runs (the first listed if none does)."""
    for name in VARIABLE_FIELDS:
        if len({getattr(c, name) for c in configs}) > 1:
            return name
    return VARIABLE_FIELDS[0]


def points_from_store(store: Store, experiment_id: str) -> pd.DataFrame:
    """The epoch points of an experiment's stored runs (live ones so far), one row per epoch."""
    records = [store.get_run(rid) for rid in experiment_run_ids(store, experiment_id)]
    return points_from_views([r for r in records if r is not None])


def points_from_views(views: Sequence[RunView]) -> pd.DataFrame:
    """The epoch points of an experiment's runs as views (stored or live), one row per epoch."""
    name = varied_field([v.config for v in views])
    rows = [
        (
            arm_label(name, getattr(v.config, name)),
            v.config.seed,
            v.run_id,
            v.epochs,
            v.status,
            v.config.epochs,
        )
        for v in views
    ]
    return points_frame(rows)


def points_frame(runs: Iterable[tuple]) -> pd.DataFrame:
    """A long frame (POINT_COLUMNS + RUN_COLUMNS) from each run's epoch points.

    Each run is (arm, seed, run_id, epoch points) or (arm, seed, run_id, epoch points, status,
    planned epochs); without the last two a run counts as finished after its last epoch point.
    Epoch points may be a stored run's epochs frame or a snapshot's EpochPoints; arms keep the
    order in which they first appear.
    """
    frames = []
    for arm, seed, run_id, epochs, *more in runs:
        if not isinstance(epochs, pd.DataFrame):
            epochs = pd.DataFrame([dataclasses.asdict(p) for p in epochs], columns=EPOCH_COLUMNS)
        frame = epochs[EPOCH_COLUMNS].copy()
        if frame.empty:
            # A run with no epoch yet (queued, or ended before its first) still holds its seed
            # out of the verdicts: one row at epoch 0, no metrics.
            frame = pd.DataFrame([{c: 0 if c == "epoch" else math.nan for c in EPOCH_COLUMNS}])
        frame.insert(0, "arm", arm)
        frame.insert(1, "seed", int(seed))
        frame.insert(2, "run_id", run_id)
        status, planned = more if more else (FINISHED, int(frame["epoch"].max()))
        frame["status"] = status
        frame["planned"] = int(planned)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*POINT_COLUMNS, *RUN_COLUMNS])
    points = pd.concat(frames, ignore_index=True)
    order = list(dict.fromkeys(points["arm"]))
    points["arm"] = pd.Categorical(points["arm"], categories=order, ordered=True)
    return points.sort_values(["arm", "seed", "epoch"], kind="stable").reset_index(drop=True)


def points_from_runs(runs: Iterable[ExperimentRun]) -> pd.DataFrame:
    """The epoch points of ended runs (from run_experiment), each with its status."""
    return points_frame(
        (r.arm, r.seed, r.run_id, r.snapshot.epochs, r.snapshot.status, r.snapshot.config.epochs)
        for r in runs
    )


def _with_status(points: pd.DataFrame) -> pd.DataFrame:
    """Points with RUN_COLUMNS; a frame without them counts each run finished at its last epoch."""
    if all(c in points.columns for c in RUN_COLUMNS):
        return points
    points = points.copy()
    points["status"] = FINISHED
    points["planned"] = points.groupby(["arm", "seed"], observed=True)["epoch"].transform("max")
    return points


def run_outcomes(points: pd.DataFrame) -> pd.DataFrame:
    """Per run (arm, seed): its status, epochs planned and reached, and whether it is complete.

    Complete: finished every planned epoch. Only complete runs have a final accuracy; a run
    stopped, diverged, failed or still training does not.
    """
    points = _with_status(points)
    if points.empty:
        return pd.DataFrame(columns=["arm", "seed", "status", "planned", "reached", "complete"])
    runs = points.groupby(["arm", "seed"], observed=True, sort=True).agg(
        status=("status", "first"), planned=("planned", "first"), reached=("epoch", "max")
    )
    runs = runs.reset_index()
    runs["complete"] = (runs["status"] == FINISHED) & (runs["reached"] >= runs["planned"])
    return runs


def comparable(points: pd.DataFrame) -> pd.DataFrame:
    """The points a verdict may use: complete runs, on the seeds that are complete in every arm.

    Every arm is then compared over the same seeds and the same, finished epochs.
    """
    points = _with_status(points)
    runs = run_outcomes(points)
    if runs.empty:
        return points.iloc[0:0]
    done = runs[runs["complete"]]
    seeds = set(runs["seed"])
    for arm in runs["arm"].unique():
        seeds &= set(done.loc[done["arm"] == arm, "seed"])
    pairs = {(str(a), int(s)) for a, s in zip(done["arm"], done["seed"], strict=True) if s in seeds}
    keep = [(str(a), int(s)) in pairs for a, s in zip(points["arm"], points["seed"], strict=True)]
    return points[keep].reset_index(drop=True)


def _spread(values: pd.Series) -> float:
    """Sample standard deviation over seeds; 0 for a single seed."""
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def final_by_seed(points: pd.DataFrame, metric: str = "final_acc") -> dict[str, dict[int, float]]:
    """Per arm of comparable(points), {seed: final (or best) test accuracy}."""
    column = {"final_acc": "last", "best_acc": "max"}[metric]
    per_run = (
        comparable(points)
        .groupby(["arm", "seed"], observed=True, sort=True)["test_acc"]
        .agg(column)
    )
    out: dict[str, dict[int, float]] = {}
    for (arm, seed), value in per_run.items():
        out.setdefault(str(arm), {})[int(seed)] = float(value)
    return out


def results_table(points: pd.DataFrame) -> pd.DataFrame:
    """Per arm, over comparable(points): seeds, epochs, final and best test accuracy.

    Final: the last epoch's accuracy (mean, std, min, max over seeds); best: each run's best
    epoch (picked by looking at the test set).
    """
    per_run = (
        comparable(points)
        .groupby(["arm", "seed"], observed=True, sort=True)
        .agg(
            final_acc=("test_acc", "last"),
            best_acc=("test_acc", "max"),
            final_loss=("test_loss", "last"),
            epochs=("epoch", "max"),
        )
    )
    rows = []
    for arm, runs in per_run.groupby(level="arm", observed=True, sort=True):
        rows.append(
            {
                "arm": str(arm),
                "seeds": len(runs),
                "epochs": int(runs["epochs"].min()),
                "final_acc_mean": float(runs["final_acc"].mean()),
                "final_acc_std": _spread(runs["final_acc"]),
                "final_acc_min": float(runs["final_acc"].min()),
                "final_acc_max": float(runs["final_acc"].max()),
                "best_acc_mean": float(runs["best_acc"].mean()),
                "best_acc_std": _spread(runs["best_acc"]),
                "final_loss_mean": float(runs["final_loss"].mean()),
                "final_acc_by_seed": tuple(float(x) for x in runs["final_acc"]),
                "seed_list": tuple(int(s) for s in runs.index.get_level_values("seed")),
            }
        )
    return pd.DataFrame(rows)


def bands(points: pd.DataFrame) -> pd.DataFrame:
    """Per arm and epoch, over comparable(points): min, mean and max over seeds, and the LR.

    Every epoch of every arm is then a mean over the same seeds.
    """
    grouped = comparable(points).groupby(["arm", "epoch"], observed=True, sort=True)
    out = grouped.agg(
        seeds=("seed", "nunique"),
        test_acc_min=("test_acc", "min"),
        test_acc_mean=("test_acc", "mean"),
        test_acc_max=("test_acc", "max"),
        test_loss_min=("test_loss", "min"),
        test_loss_mean=("test_loss", "mean"),
        test_loss_max=("test_loss", "max"),
        lr=("lr", "mean"),  # the same for every seed unless the schedule watches the loss
    )
    return out.reset_index()


def ranked(table: pd.DataFrame) -> pd.DataFrame:
    """The results table, highest mean final accuracy first (the given order among ties)."""
    return table.sort_values("final_acc_mean", ascending=False, kind="stable")


def winners(table: pd.DataFrame) -> list[str]:
    """The arm(s) with the highest mean final test accuracy (several when tied); [] if none."""
    if table.empty:
        return []
    return list(tied_first(ranked(table))["arm"])


def tied_first(ranked_table: pd.DataFrame) -> pd.DataFrame:
    """The rows level with the first, by the one tie rule (paired.same)."""
    top = ranked_table.iloc[0]["final_acc_mean"]
    return ranked_table[[same(m, top) for m in ranked_table["final_acc_mean"]]]


def arm_frames(band: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per arm of bands(), its rows indexed by epoch."""
    return {str(arm): g.set_index("epoch") for arm, g in band.groupby("arm", observed=True)}


def arm_decays(band: pd.DataFrame) -> dict[str, list[int]]:
    """Per arm (of bands()), the epochs whose LR is below the epoch before's: the decays."""
    out = {}
    for arm, g in arm_frames(band).items():
        epochs = list(g.index)
        out[arm] = [e for e in epochs[1:] if g.at[e, "lr"] < g.at[e - 1, "lr"] * (1 - 1e-9)]
    return out
