"""Experiments: runs that differ in one setting, each arm over the same seeds, and what they show.

An Experiment is a base TrainConfig, one varied field (the arms) and the seeds every arm runs,
so the data, the initial weights and the batch order match across arms and only the setting
differs. Its runs carry the experiment id in their config, so the store groups them. The
results (table, per-epoch bands, commentary) are computed from the runs' epoch points.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from steplr_viz.config import TrainConfig
from steplr_viz.store.recorder import StoreRecorder
from steplr_viz.store.registry import ClassFullError, RunManager, class_full_message
from steplr_viz.store.run_view import RunView
from steplr_viz.store.runs import Store, new_run_id
from steplr_viz.training.data import MnistData
from steplr_viz.training.metrics import EPOCH_COLUMNS, FINISHED, EpochPoint, Snapshot
from steplr_viz.training.trainer import Trainer

VARIABLE_FIELDS = ("gamma", "step_size", "scheduler", "optimizer")
DEFAULT_SEEDS = 3
# The lesson a class sees first: the seed's γ = 0.1 against γ = 0.5 and a constant LR.
DEFAULT_FIELD = "gamma"
DEFAULT_VALUES = (0.1, 0.5, 1.0)
# A loss fall after a decay below this fraction of the reference fall (an arm that kept the LR,
# else the epoch before) counts as a stall.
STALL_FRACTION = 0.25
MAX_DECAYS_DESCRIBED = 3  # per arm; an exponential schedule decays every epoch
POINT_COLUMNS = ["arm", "seed", "run_id", *EPOCH_COLUMNS]

__all__ = [
    "DEFAULT_FIELD",
    "DEFAULT_SEEDS",
    "DEFAULT_VALUES",
    "POINT_COLUMNS",
    "VARIABLE_FIELDS",
    "Experiment",
    "ExperimentRun",
    "arm_label",
    "bands",
    "commentary",
    "default_experiment",
    "experiment_run_ids",
    "points_frame",
    "points_from_runs",
    "points_from_store",
    "results_table",
    "run_experiment",
    "submit_experiment",
    "varied_field",
    "winners",
    "arm_decays",
    "points_from_views",
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
        (arm_label(name, getattr(v.config, name)), v.config.seed, v.run_id, v.epochs) for v in views
    ]
    return points_frame(rows)


def points_frame(
    runs: Iterable[tuple[str, int, str | None, pd.DataFrame | Sequence[EpochPoint]]],
) -> pd.DataFrame:
    """A long frame (POINT_COLUMNS) from (arm, seed, run_id, epoch points) per run.

    Epoch points may be a stored run's epochs frame or a snapshot's EpochPoints; arms keep the
    order in which they first appear.
    """
    frames = []
    for arm, seed, run_id, epochs in runs:
        if not isinstance(epochs, pd.DataFrame):
            epochs = pd.DataFrame([dataclasses.asdict(p) for p in epochs], columns=EPOCH_COLUMNS)
        frame = epochs[EPOCH_COLUMNS].copy()
        frame.insert(0, "arm", arm)
        frame.insert(1, "seed", int(seed))
        frame.insert(2, "run_id", run_id)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=POINT_COLUMNS)
    points = pd.concat(frames, ignore_index=True)
    order = list(dict.fromkeys(points["arm"]))
    points["arm"] = pd.Categorical(points["arm"], categories=order, ordered=True)
    return points.sort_values(["arm", "seed", "epoch"], kind="stable").reset_index(drop=True)


def points_from_runs(runs: Iterable[ExperimentRun]) -> pd.DataFrame:
    """The epoch points of finished runs (from run_experiment)."""
    return points_frame(
        (r.arm, r.seed, r.run_id, r.snapshot.epochs) for r in runs if r.snapshot.status == FINISHED
    )


def _spread(values: pd.Series) -> float:
    """Sample standard deviation over seeds; 0 for a single seed."""
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def results_table(points: pd.DataFrame) -> pd.DataFrame:
    """Per arm: seeds, epochs reached, final and best test accuracy (mean, std, min, max)."""
    per_run = points.groupby(["arm", "seed"], observed=True, sort=True).agg(
        final_acc=("test_acc", "last"),
        best_acc=("test_acc", "max"),
        final_loss=("test_loss", "last"),
        epochs=("epoch", "max"),
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
            }
        )
    return pd.DataFrame(rows)


def bands(points: pd.DataFrame) -> pd.DataFrame:
    """Per arm and epoch: min, mean and max over seeds of test accuracy and test loss, and LR."""
    grouped = points.groupby(["arm", "epoch"], observed=True, sort=True)
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


def _points(value: float) -> str:
    return f"{value:.1f} point" + ("" if round(value, 1) == 1.0 else "s")


def commentary(points: pd.DataFrame) -> list[str]:
    """Sentences computed from the runs: the winner and by how much, noise, loss after decays."""
    table = results_table(points)
    if table.empty:
        return ["No epoch has finished yet."]
    lines = [_winner_sentence(table)]
    if len(table) > 1:
        lines.append(_noise_sentence(table))
    lines.extend(_decay_sentences(bands(points)))
    return lines


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values("final_acc_mean", ascending=False, kind="stable")


def winners(table: pd.DataFrame) -> list[str]:
    """The arm(s) with the highest mean final test accuracy (several when tied); [] if none."""
    if table.empty:
        return []
    return list(_tied_first(_ranked(table))["arm"])


def _tied_first(ranked: pd.DataFrame) -> pd.DataFrame:
    top = ranked.iloc[0]["final_acc_mean"]
    return ranked[[math.isclose(m, top, rel_tol=1e-12) for m in ranked["final_acc_mean"]]]


def _winner_sentence(table: pd.DataFrame) -> str:
    ranked = _ranked(table)
    best = ranked.iloc[0]
    top = best["final_acc_mean"]
    seeds = f"{best['seeds']} seed" + ("" if best["seeds"] == 1 else "s")
    if len(ranked) == 1:
        return f"{best['arm']} reached a mean final test accuracy of {top:.1f} % over {seeds}."
    tied = _tied_first(ranked)
    rest = ranked.iloc[len(tied) :]
    head = f"{' and '.join(tied['arm'])} tied first" if len(tied) > 1 else f"{best['arm']} won"
    others = [
        f"{_points(top - row['final_acc_mean'])} above {row['arm']} ({row['final_acc_mean']:.1f} %)"
        for _, row in rest.iterrows()
    ]
    return (
        f"{head}: mean final test accuracy {top:.1f} % over {seeds}"
        + "".join(f", {o}" for o in others)
        + "."
    )


def _noise_sentence(table: pd.DataFrame) -> str:
    ranked = _ranked(table)
    first, second = ranked.iloc[0], ranked.iloc[1]
    gap = first["final_acc_mean"] - second["final_acc_mean"]
    if min(first["seeds"], second["seeds"]) < 2:
        return (
            f"With one seed in an arm there is no seed-to-seed spread to judge the "
            f"{_points(gap)} gap against: run more seeds."
        )
    ranges = {
        arm: row["final_acc_max"] - row["final_acc_min"]
        for arm, row in ((first["arm"], first), (second["arm"], second))
    }
    widest = max(ranges, key=ranges.get)
    spread = ranges[widest]
    about = (
        f"The gap between {first['arm']} and {second['arm']} ({_points(gap)}) is "
        f"{'larger than' if gap > spread else 'within'} the seed-to-seed spread "
        f"(the range of {widest}'s seeds: {_points(spread)})"
    )
    if gap > spread:
        apart = first["final_acc_min"] > second["final_acc_max"]
        tail = (
            f"; even {first['arm']}'s worst seed ({first['final_acc_min']:.1f} %) beats "
            f"{second['arm']}'s best ({second['final_acc_max']:.1f} %)"
            if apart
            else ""
        )
        return about + tail + ": more than noise."
    return about + ": with these seeds the difference could be noise."


def _arm_frames(band: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(arm): g.set_index("epoch") for arm, g in band.groupby("arm", observed=True)}


def arm_decays(band: pd.DataFrame) -> dict[str, list[int]]:
    """Per arm (of bands()), the epochs whose LR is below the epoch before's: the decays."""
    out = {}
    for arm, g in _arm_frames(band).items():
        epochs = list(g.index)
        out[arm] = [e for e in epochs[1:] if g.at[e, "lr"] < g.at[e - 1, "lr"] * (1 - 1e-9)]
    return out


def _decay_sentences(band: pd.DataFrame) -> list[str]:
    """What the mean test loss did in the epoch after each LR decay, per arm."""
    lines = []
    frames = _arm_frames(band)
    for arm, decays in arm_decays(band).items():
        g = frames[arm]
        for e in decays[:MAX_DECAYS_DESCRIBED]:
            lines.append(_one_decay(arm, g, e, frames))
        if len(decays) > MAX_DECAYS_DESCRIBED:
            more = len(decays) - MAX_DECAYS_DESCRIBED
            lines.append(f"{arm}: {more} more decay{'' if more == 1 else 's'} not described.")
    return lines


def _one_decay(arm: str, g: pd.DataFrame, e: int, frames: dict[str, pd.DataFrame]) -> str:
    """One decay: the loss change in the epoch after it, against a reference change.

    The reference is the same epoch in an arm that kept this arm's LR from before the decay
    (what would have happened without it, on the same seeds), else this arm's own epoch before.
    """
    loss = g["test_loss_mean"]
    change = loss[e] - loss[e - 1]
    ref, ref_name = None, ""
    kept = g.at[e - 1, "lr"]
    for other, h in frames.items():
        same = other != arm and e in h.index and (e - 1) in h.index
        if same and math.isclose(h.at[e - 1, "lr"], kept) and math.isclose(h.at[e, "lr"], kept):
            ref = h.at[e, "test_loss_mean"] - h.at[e - 1, "test_loss_mean"]
            ref_name = f"in {other} (no decay) that epoch"
            break
    if ref is None and (e - 2) in loss.index:
        ref = loss[e - 1] - loss[e - 2]
        ref_name = f"in epoch {e - 1}, before the decay"
    head = (
        f"{arm}: the LR fell from {g.at[e - 1, 'lr']:.3g} to {g.at[e, 'lr']:.3g} for epoch {e}; "
        f"the test loss (mean over seeds)"
    )
    if change >= 0:
        what = f" stalled: it rose by {change:.4f}"
        if ref is not None:
            what += f", against a change of {ref:+.4f} {ref_name}"
    elif ref is not None and ref < 0:
        share = change / ref
        verdict = "stalled" if share < STALL_FRACTION else "dropped"
        what = (
            f" {verdict}: it fell by {-change:.4f}, {share:.0%} of the {-ref:.4f} fall {ref_name}"
        )
    else:
        what = f" dropped: it fell by {-change:.4f}"
    return head + what + "."
