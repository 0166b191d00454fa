"""Compare runs that differ in one setting: `python -m steplr_viz.compare --vary gamma=1,0.5,0.1`.

Trains every arm over the same seeds (in this process, one run after another, on the same data),
prints one line per arm beginning with its setting, then the ranking and, on a line of its own
per pair of arms, the paired verdict (mean per-seed difference, its 95 % interval, the seeds
favouring each arm). The `train` CLI's flags set everything held fixed; `--preset` runs one of
the named presets instead (`--preset seed`, `--preset large-lr`).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch

from steplr_viz.classroom.commentary import commentary
from steplr_viz.classroom.experiments import (
    DEFAULT_FIELD,
    DEFAULT_SEEDS,
    DEFAULT_VALUES,
    VARIABLE_FIELDS,
    Experiment,
    ExperimentRun,
    points_from_runs,
    results_table,
    run_experiment,
)
from steplr_viz.classroom.presets import PRESETS, preset, preset_of
from steplr_viz.cli.train import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    _fail,
    _one_line,
    build_parser,
    config_from_args,
)
from steplr_viz.store.dialects import database_url
from steplr_viz.store.runs import open_store
from steplr_viz.training.data import DataError, load_mnist
from steplr_viz.training.metrics import FINISHED
from steplr_viz.training.trainer import Trainer

MAX_SEEDS = 20
_CASTS = {"gamma": float, "step_size": int, "scheduler": str, "optimizer": str}
DEFAULT_VARY = f"{DEFAULT_FIELD}=" + ",".join(f"{v:g}" for v in DEFAULT_VALUES)


def parse_vary(text: str) -> tuple[str, tuple[Any, ...]]:
    """'gamma=1,0.5,0.1' -> ('gamma', (1.0, 0.5, 0.1)); ValueError says what is wrong."""
    name, sep, values = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in VARIABLE_FIELDS:
        raise ValueError(
            f"expected FIELD=V1,V2,... with FIELD one of {', '.join(VARIABLE_FIELDS)}; got {text!r}"
        )
    parts = [p.strip() for p in values.split(",") if p.strip()]
    if not parts:
        raise ValueError(f"{name}: give at least one value to compare")
    try:
        return name, tuple(_CASTS[name](p) for p in parts)
    except ValueError:
        kind = "numbers" if name == "gamma" else "integers"
        raise ValueError(f"{name} values must be {kind}, got {values!r}") from None


def build_compare_parser() -> argparse.ArgumentParser:
    """The train CLI's flags (held fixed across arms) plus --vary and --seeds."""
    p = build_parser()
    p.prog = "python -m steplr_viz.compare"
    p.description = (
        "Train runs that differ in one setting, each over the same seeds, and compare them seed "
        "by seed: for each pair of arms the mean difference, its 95 % interval and how many "
        "seeds favour each. The other flags are held fixed; --seed is the first seed."
    )
    p.add_argument(
        "--vary",
        default=DEFAULT_VARY,
        help=f"the setting to compare, FIELD=V1,V2,... (FIELD: {', '.join(VARIABLE_FIELDS)})",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=None,
        help=f"seeds per arm, 1..{MAX_SEEDS} (default: {DEFAULT_SEEDS}, or the preset's)",
    )
    p.add_argument(
        "--preset",
        choices=[x.id for x in PRESETS],
        default=None,
        help="run a named preset instead: "
        + "; ".join(f"{x.id}: {x.name} ({x.setup})" for x in PRESETS)
        + ". Its settings replace --vary and the training flags",
    )
    return p


def arm_lines(table: pd.DataFrame) -> list[str]:
    """One line per arm: its setting, final accuracy mean ± std (n seeds), best, the seeds."""
    width = max(len(a) for a in table["arm"])
    lines = []
    for _, row in table.iterrows():
        n = row["seeds"]
        by_seed = " / ".join(f"{x:.1f}" for x in row["final_acc_by_seed"])
        lines.append(
            f"{row['arm']:<{width}}  final test accuracy {row['final_acc_mean']:.2f} % "
            f"± {row['final_acc_std']:.2f} ({n} seed{'' if n == 1 else 's'})  "
            f"best {row['best_acc_mean']:.2f} %  seeds: {by_seed}"
        )
    return lines


def _experiment_from_args(args: argparse.Namespace) -> Experiment:
    if args.seeds is not None and not 1 <= args.seeds <= MAX_SEEDS:
        raise ValueError(f"argument --seeds: must be an integer in [1, {MAX_SEEDS}]")
    if args.preset is not None:
        chosen = preset(args.preset).experiment()
        if args.seeds is not None:
            chosen = Experiment(chosen.base, chosen.vary, chosen.values, tuple(range(args.seeds)))
        return chosen.validated()
    base = config_from_args(args)
    try:
        vary, values = parse_vary(args.vary)
    except ValueError as exc:
        raise ValueError(f"argument --vary: {exc}") from exc
    seeds = tuple(base.seed + i for i in range(args.seeds or DEFAULT_SEEDS))
    try:
        # --experiment ID adds these runs to an earlier experiment (more seeds, say).
        same_id = {"experiment_id": base.experiment} if base.experiment else {}
        return Experiment(base, vary, values, seeds, **same_id).validated()
    except ValueError as exc:
        raise ValueError(f"argument --vary: {exc}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, train the arms, print the table and the verdict; returns the exit code."""
    args = build_compare_parser().parse_args(argv)
    if not args.no_store:
        try:  # a URL that is not postgresql:// is a flag error: refused before the data loads
            database_url(args.database_url)
        except ValueError as exc:
            _fail(str(exc), EXIT_USAGE)
    try:
        experiment = _experiment_from_args(args)
    except ValueError as exc:
        _fail(str(exc), EXIT_USAGE)
    try:
        data = load_mnist(
            experiment.base.data_source, data_dir=args.data_dir, download=args.download
        )
    except DataError as exc:
        _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        print("Interrupted while loading the data; nothing was recorded.", file=sys.stderr)
        return EXIT_INTERRUPTED

    store = None
    if not args.no_store:
        try:
            store, reason = open_store(args.runs_dir, args.database_url)
        except ValueError as exc:  # a database URL that is not postgresql://
            _fail(str(exc), EXIT_USAGE)
        if reason:
            print(f"note: {_one_line(reason)}", file=sys.stderr, flush=True)

    n_runs = len(experiment.values) * len(experiment.seeds)
    current: list[Trainer] = []
    interrupted = False
    stopped_by = signal.SIGINT  # or SIGTERM: which signal stopped the runs

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal interrupted, stopped_by
        if interrupted:  # a second one: stop waiting for the batch to end
            raise KeyboardInterrupt
        interrupted, stopped_by = True, signum
        if current:
            current[-1].stop()  # within one batch; the store records "stopped"

    def progress(run: ExperimentRun) -> None:
        snap = run.snapshot
        acc = f"{snap.epochs[-1].test_acc:.2f} %" if snap.epochs else "no epoch"
        print(f"  {run.arm} seed {run.seed}: {snap.status}, {acc}", file=sys.stderr, flush=True)

    print(
        f"Training {n_runs} runs: {', '.join(experiment.arms)} x seeds "
        f"{', '.join(map(str, experiment.seeds))}",
        file=sys.stderr,
        flush=True,
    )
    # One run at a time on a model this small: a second intra-op thread only adds contention.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    # Ctrl-C and SIGTERM (a service manager, `kill`) end the runs alike.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        runs = run_experiment(
            experiment,
            data,
            store=store,
            on_run_end=progress,
            should_stop=lambda: interrupted,
            on_trainer=current.append,
        )
    except KeyboardInterrupt:
        runs = []
        interrupted = True
        if store is not None and current and current[-1].run_id:
            store.set_status(current[-1].run_id, "stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        torch.set_num_threads(threads)

    points = points_from_runs(runs)
    table = results_table(points) if not points.empty else None
    if table is not None and not table.empty:  # a stop before any run finished leaves none
        for line in arm_lines(table):
            print(line)
        configs = [r.snapshot.config for r in runs]
        for line in commentary(points, preset=preset_of(configs)):
            print(line)
    if store is not None:
        print(f"Recorded as experiment {experiment.experiment_id}.", flush=True)
    if interrupted:
        how = "SIGTERM" if stopped_by == signal.SIGTERM else "Ctrl-C"
        print(f"Stopped by {how} after {len(runs)} of {n_runs} runs.", file=sys.stderr)
        return EXIT_TERMINATED if stopped_by == signal.SIGTERM else EXIT_INTERRUPTED
    failed = [r for r in runs if r.snapshot.status != FINISHED]
    if failed:
        names = ", ".join(f"{r.arm} seed {r.seed} ({r.snapshot.status})" for r in failed)
        _fail(f"{len(failed)} of {n_runs} runs did not finish: {names}", EXIT_FAILED)
    return 0
