"""Experiment wall time: a 3-arm x 3-seed experiment against 9x one run's, as a ratio.

Run from the repo root: python benchmarks/bench_experiment.py [--rounds 3]
The default experiment (the seed's setup, γ = 0.1 / 0.5 / 1, seeds 0-2, 5 epochs, bundled digits)
is timed three ways: in this process one run after another (the CLI's way), through the registry
with one slot per core (the page's way), and end to end as `python -m steplr_viz.compare
--no-store` (process start, imports and data loading included; target: within 15 s on 2
cores; its CPU time is printed too: on a shared machine the wall time includes waiting for a core).
Rounds are interleaved so load on the machine hits all alike; the best and the median are shown.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from steplr_viz.classroom.experiments import default_experiment, run_experiment, submit_experiment
from steplr_viz.config import TrainConfig
from steplr_viz.store.registry import RunManager
from steplr_viz.store.runs import InMemoryRunStore
from steplr_viz.training.data import load_mnist
from steplr_viz.training.trainer import Trainer

TARGET_CLI_S = 15.0


def one_run(data) -> float:
    start = time.perf_counter()
    Trainer(TrainConfig(), data=data).run()
    return time.perf_counter() - start


def in_process(data) -> float:
    start = time.perf_counter()
    run_experiment(default_experiment(), data)
    return time.perf_counter() - start


def through_registry() -> float:
    manager = RunManager(InMemoryRunStore(), max_concurrent=os.cpu_count() or 1)
    start = time.perf_counter()
    submit_experiment(manager, default_experiment())
    while manager.live_run_ids():
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    manager.shutdown()
    return elapsed


def cli() -> tuple[float, float]:
    """Wall time and CPU time (user + system) of the CLI's process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "steplr_viz.compare", "--no-store"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the app's trainers and the CLI run
    data = load_mnist("bundled")
    one_run(data)  # warm-up: the first optimizer imports torch._dynamo (~2 s)
    times: dict[str, list[float]] = {"one": [], "seq": [], "reg": [], "cli": [], "cpu": []}
    for _ in range(args.rounds):
        times["one"].append(statistics.median(one_run(data) for _ in range(3)))
        times["seq"].append(in_process(data))
        times["reg"].append(through_registry())
        wall, cpu = cli()
        times["cli"].append(wall)
        times["cpu"].append(cpu)
    one = statistics.median(times["one"])
    print(f"cores: {os.cpu_count()}, torch threads: 1, rounds: {args.rounds}")
    print(f"one run (5 epochs):          median {one:6.2f} s")
    for key, label in (
        ("seq", "3x3 in process, sequential"),
        ("reg", "3x3 through the registry"),
        ("cli", "3x3 CLI end to end"),
    ):
        best, med = min(times[key]), statistics.median(times[key])
        print(
            f"{label:<28} best {best:6.2f} s  median {med:6.2f} s  "
            f"ratio to 9x one run {med / (9 * one):.2f}"
        )
    cli_med = statistics.median(times["cli"])
    verdict = "within" if cli_med <= TARGET_CLI_S else "OVER"
    print(f"CLI target: {verdict} {TARGET_CLI_S:.0f} s ({cli_med:.1f} s median wall)")
    # On a shared machine the wall time includes waiting for a core; the CPU time does not.
    print(f"CLI CPU time (user + system): median {statistics.median(times['cpu']):.1f} s")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
