"""A class at once: total training throughput and how late a student's page update gets.

Run from the repo root: python benchmarks/bench_classroom.py [--students 1 5 10 30]
    [--max-seconds 150] [--poll 1.0] [--epochs 1] [--batch-size 256]
    [--replicas 1 2 [--database-url postgresql://...]]

For each class size, that many student threads each submit a bundled run (1 epoch, batch 256 by
default) to one RunManager (cap = CPU count, a queue for everyone) and then poll it the way the
live page does: take a snapshot and draw the page's figures from it through the page's own
process-wide caches (snapshot_view for the tables, view_charts for the loss, LR and per-epoch
charts, rebuilt only when the run has new points, and view_pictures for the weights, digits and
at the end the confusion matrix, built once per run and epoch). Like the page, a live run
(queued, running or paused) is polled every --poll seconds (default: the page's). A student
stops polling once it has seen its run end. The default runs end within
a poll or two; --epochs 30 (and --batch-size 16 for 7,500-batch runs) keeps a class polling.

Reported per class size:
- total samples/s: the training samples of every run (the trainer's own count) over the wall
  time from the moment all students press Start to the last run's end as the store recorded
  it (or to --max-seconds, when it stops early);
- page update delay: from a poll's start to its figures built (p50, p95, max); and the same with
  the figures serialised as Streamlit does (plotly.io.to_json), which the real page also pays;
- later p95: the same p95 without each student's first poll (the Start burst, when the whole
  class polls at once; with fewer polls per run it weighs more in the plain p95);
- server time per poll: the CPU time of the polling thread (time.thread_time, JSON included),
  which contention does not inflate: mean ms of a running run's poll (CPU run) and of a queued
  or paused one's (CPU wait: nothing new, so nothing is built; the JSON is still paid); and
  polling's share of the machine: all polls' CPU time over the wall time, in cores (2 cores is
  the whole of a 2-core server);
- KB per poll: the size of those figures as JSON, what one poll sends to the browser (mean).
Everyone presses Start at the same moment (a barrier), so the polls come in step: the
classroom's worst second. The runs are stored in SQLite in a temporary folder, as in the app.

With --replicas (a lecture hall), each class size runs once per replica count R: R server
processes, each a RunManager on one PostgreSQL store (--database-url, else a throwaway server
started as the postgres tests do) with that many students of its own, so R x n students in all,
sharing one queue and one cap (CPU count). Reported per R: update p95 over every student, total
samples/s, and samples/s per trainer (each run's digits over its own epoch seconds, from the
store, mean over runs): what one trainer gets once R servers share the machine.
Nothing here is a test: it prints figures for the README and the issue.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import plotly.io  # noqa: E402
import torch  # noqa: E402

from steplr_viz.config import TrainConfig
from steplr_viz.figures.cache import view_charts, view_pictures  # noqa: E402
from steplr_viz.store.registry import RunManager
from steplr_viz.store.run_view import POLL_SECONDS, RunView, poll_seconds
from steplr_viz.store.runs import RunStore
from steplr_viz.training.data import load_mnist
from steplr_viz.training.metrics import PAUSED, QUEUED, RUNNING
from steplr_viz.training.run_plan import evaluation_digits, run_batches_per_epoch

BATCH = 256


@dataclass
class Student:
    """One simulated student: its run and the delays of its page updates."""

    run_id: str | None = None
    delays: list[float] = field(default_factory=list)  # poll start -> figures built
    delays_json: list[float] = field(default_factory=list)  # ... -> figures as JSON
    cpu: list[float] = field(default_factory=list)  # CPU seconds of each poll (this thread)
    statuses: list[str] = field(default_factory=list)  # the run's status at each poll
    sent: list[int] = field(default_factory=list)  # bytes of JSON per poll
    ended_at: float | None = None
    error: str | None = None


def build_figures(run_id: str, manager: RunManager) -> tuple[RunView, list]:
    """What the live page's fragment builds on each poll (its charts and pictures)."""
    view = manager.view(run_id)  # live, else from the store, as the page reads it
    # As the page: the charts are built again only when there are new points.
    charts = view_charts(view, run_batches_per_epoch(view))
    figures = [charts.loss, charts.lr, charts.epochs]
    if view.weights is not None and view.test_predictions is not None:
        # As the page: the pictures are built once per epoch, then shared.
        pictures = view_pictures(view, *evaluation_digits(view.config))
        figures += [pictures.weights, pictures.digits]
        if pictures.confusion is not None:
            figures.append(pictures.confusion)
    return view, figures


def student(
    manager: RunManager,
    config: TrainConfig,
    me: Student,
    go: threading.Barrier,
    poll_s: float,
    stop_at: list[float],
) -> None:
    """Submit one run, then poll it like a page until it has ended (or the bench stops)."""
    try:
        go.wait()
        me.run_id = manager.submit(config)
        while True:
            start, cpu_start = time.perf_counter(), time.thread_time()
            view, figures = build_figures(me.run_id, manager)
            built = time.perf_counter()
            sent = 0
            for fig in figures:  # what st.plotly_chart sends
                sent += len(plotly.io.to_json(fig.to_dict(), validate=False))
            me.delays.append(built - start)
            me.delays_json.append(time.perf_counter() - start)
            me.cpu.append(time.thread_time() - cpu_start)
            me.statuses.append(view.status)
            me.sent.append(sent)
            if view.ended:
                me.ended_at = time.perf_counter()
                return
            next_poll = start + poll_seconds(view.status, poll_s)  # live: it has not ended
            if next_poll >= stop_at[0]:
                return
            time.sleep(max(0.0, next_poll - time.perf_counter()))
    except Exception as exc:  # reported in the table, never a silent thread death
        me.error = f"{type(exc).__name__}: {exc}"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_class(
    n: int,
    config: TrainConfig,
    poll_s: float,
    max_seconds: float,
    database_url: str | None = None,
    ready: Callable[[], None] | None = None,
    max_queue: int | None = None,
) -> dict:
    """One class of n students on a fresh manager and store; returns the row of the table.

    With `database_url` the store is that shared database, and `ready` is called (to wait for
    the other replicas) just before the students press Start.
    """
    with tempfile.TemporaryDirectory(prefix="steplr-bench-") as folder:
        store = RunStore(folder) if database_url is None else RunStore(database_url=database_url)
        manager = RunManager(
            store=store,
            max_concurrent=os.cpu_count() or 1,
            max_queue=n if max_queue is None else max_queue,  # a hall's queue is everyone's
            keep_runs=10 * (max_queue or n) + 10,
        )
        students = [Student() for _ in range(n)]
        go = threading.Barrier(n + 1)
        stop_at = [float("inf")]
        threads = [
            threading.Thread(
                target=student,
                args=(manager, config, s, go, poll_s, stop_at),
                daemon=True,
            )
            for s in students
        ]
        for t in threads:
            t.start()
        if ready is not None:
            ready()
        t0, t0_wall = time.perf_counter(), time.time()
        stop_at[0] = t0 + max_seconds
        go.wait()
        for t in threads:
            t.join(timeout=max(0.0, stop_at[0] - time.perf_counter()) + 30)
        ends = [s.ended_at for s in students]
        finished_all = all(e is not None for e in ends)
        samples, last_finish = 0.0, t0_wall
        for s in students:
            if s.run_id is None:
                continue
            snap = manager.snapshot(s.run_id) or manager.final_snapshot(s.run_id)
            if snap is not None:
                samples += snap.samples_per_sec * snap.elapsed  # the trainer's own count
            record = manager.store.get_run(s.run_id)
            if record is not None and record.finished is not None:
                last_finish = max(last_finish, record.finished.timestamp())
        # Training wall time: to the last run's end as the store recorded it (a page only sees
        # it at its next poll, which would add up to one poll interval).
        wall = last_finish - t0_wall if finished_all else time.perf_counter() - t0
        if database_url is not None:  # another replica's trainer may not have ended yet
            deadline = time.monotonic() + max_seconds
            while manager.live_run_ids() and time.monotonic() < deadline:
                time.sleep(0.2)
        per_trainer = trainer_rates(manager.store, [s.run_id for s in students if s.run_id])
        manager.shutdown()
    delays = [d for s in students for d in s.delays]
    delays_json = [d for s in students for d in s.delays_json]
    later = [d for s in students for d in s.delays[1:]]
    cpu = [c for s in students for c in s.cpu]
    polled = [(c, st) for s in students for c, st in zip(s.cpu, s.statuses, strict=True)]
    cpu_running = [c for c, st in polled if st == RUNNING]
    cpu_waiting = [c for c, st in polled if st in (QUEUED, PAUSED)]
    sent = [b for s in students for b in s.sent]
    return {
        "students": n,
        "finished": sum(e is not None for e in ends),
        "wall": wall,
        "stopped_early": not finished_all,
        "samples_per_s": samples / wall if wall > 0 else float("nan"),
        "polls": len(delays),
        "p50": 1000 * percentile(delays, 50),
        "p95": 1000 * percentile(delays, 95),
        "max": 1000 * max(delays, default=float("nan")),
        "p95_json": 1000 * percentile(delays_json, 95),
        "p95_later": 1000 * percentile(later, 95),
        "cpu_running": 1000 * float(np.mean(cpu_running)) if cpu_running else float("nan"),
        "cpu_waiting": 1000 * float(np.mean(cpu_waiting)) if cpu_waiting else float("nan"),
        "cores": sum(cpu) / wall if wall > 0 else float("nan"),
        "kb_per_poll": float(np.mean(sent)) / 1000 if sent else float("nan"),
        "errors": [s.error for s in students if s.error],
        "delays": delays,
        "per_trainer": per_trainer,
        "t0": t0_wall,
        "last_finish": last_finish,
    }


def trainer_rates(store: RunStore, run_ids: list[str]) -> list[float]:
    """Each finished run's samples/s over its own epoch seconds (evaluation included)."""
    n_train = load_mnist("bundled").n_train
    rates = []
    for run_id in run_ids:
        record = store.get_run(run_id)
        if record is not None and len(record.epochs) and record.epochs["seconds"].sum() > 0:
            rates.append(n_train * len(record.epochs) / float(record.epochs["seconds"].sum()))
    return rates


def replica_worker(args: argparse.Namespace, config: TrainConfig) -> None:
    """One replica of a lecture hall: its class on the shared store, its row as JSON."""

    def ready() -> None:  # the parent says go once every replica is ready
        print("ready", flush=True)
        sys.stdin.readline()

    run_class(1, config, args.poll, args.max_seconds)  # warm-up, on its own SQLite store
    row = run_class(
        args.worker,
        config,
        args.poll,
        args.max_seconds,
        args.database_url,
        ready=ready,
        max_queue=args.hall_size,
    )
    print(json.dumps(row), flush=True)


def run_hall(replicas: int, n: int, args: argparse.Namespace, url: str) -> dict:
    """R replica processes, n students each, one store; the combined row."""
    command = [sys.executable, __file__, "--worker", str(n), "--database-url", url,
               "--poll", str(args.poll), "--max-seconds", str(args.max_seconds),
               "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
               "--torch-threads", str(args.torch_threads),
               "--hall-size", str(n * replicas)]  # fmt: skip
    procs = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(replicas)
    ]
    for proc in procs:  # every replica has warmed up and its students wait at the barrier
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    rows = [json.loads(proc.communicate()[0].strip().splitlines()[-1]) for proc in procs]
    delays = [d for r in rows for d in r["delays"]]
    rates = [x for r in rows for x in r["per_trainer"]]
    wall = max(r["last_finish"] for r in rows) - min(r["t0"] for r in rows)
    samples = sum(r["samples_per_s"] * r["wall"] for r in rows)  # local trainers' samples
    return {
        "replicas": replicas,
        "students": n * replicas,
        "finished": sum(r["finished"] for r in rows),
        "wall": wall,
        "p95": 1000 * percentile(delays, 95),
        "p95_later": max(r["p95_later"] for r in rows),
        "samples_per_s": samples / wall if wall > 0 else float("nan"),
        "per_trainer": float(np.mean(rates)) if rates else float("nan"),
        "errors": [e for r in rows for e in r["errors"]],
    }


def hall_main(args: argparse.Namespace) -> None:
    """The lecture-hall table: each replica count at each class size (students per replica)."""
    url = args.database_url
    if url is None:  # a throwaway server, as the postgres tests start one
        from tests.postgres import fresh_database

        url = fresh_database()
    print(f"lecture hall on {url.split('?')[0]}; {os.cpu_count()} CPUs in all")
    rows = []
    for n in args.students:
        for replicas in args.replicas:
            rows.append(run_hall(replicas, n, args, url))
            print(f"  {replicas} x {n} students done in {rows[-1]['wall']:.1f} s", flush=True)
    header = (
        f"{'replicas':>8} {'students':>8} {'finished':>8} {'wall s':>7} {'update p95 ms':>14} "
        f"{'samples/s':>10} {'samples/s per trainer':>22}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['replicas']:>8} {r['students']:>8} {r['finished']:>8} {r['wall']:>7.1f} "
            f"{r['p95']:>14.1f} {r['samples_per_s']:>10,.0f} {r['per_trainer']:>22,.0f}"
        )
        for error in r["errors"]:
            print(f"         error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 5, 10, 30])
    parser.add_argument(
        "--max-seconds", type=float, default=150.0, help="stop measuring a class after this long"
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=POLL_SECONDS,
        help="poll interval of a live run: queued, running or paused (s; default: the page's)",
    )
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run (default 1)")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=BATCH,
        help=f"batch size (default {BATCH}; 16 gives 250 batches an epoch, long runs to draw)",
    )
    parser.add_argument(
        "--torch-threads", type=int, default=1, help="intra-op threads (the app sets 1)"
    )
    parser.add_argument(
        "--replicas",
        type=int,
        nargs="+",
        default=None,
        help="a lecture hall: replica counts to compare on one PostgreSQL store, e.g. 1 2",
    )
    parser.add_argument(
        "--database-url", default=None, help="the shared store (default: a throwaway server)"
    )
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--hall-size", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.torch_threads)  # as ui.run_registry.get_manager does in the app
    # The seed's model, optimizer and schedule; one epoch of the bundled digits by default.
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size).validated()
    if args.worker:
        replica_worker(args, config)
        return
    if args.replicas:
        hall_main(args)
        return

    data = load_mnist("bundled")  # loaded once per process, as in the server
    print(
        f"{os.cpu_count()} CPUs, torch threads: {torch.get_num_threads()}; {data.description}; "
        f"each run: {config.epochs} epoch(s), batch {config.batch_size}; poll every "
        f"{args.poll:g} s while queued, running or paused"
    )
    # Warm-up: first-run costs (imports, data, torch kernels) stay out of the table.
    run_class(1, config, args.poll, args.max_seconds)

    rows = []
    for n in args.students:
        row = run_class(n, config, args.poll, args.max_seconds)
        rows.append(row)
        print(f"  {n} students done in {row['wall']:.1f} s", flush=True)

    header = (
        f"{'students':>8} {'finished':>8} {'wall s':>7} {'samples/s':>10} {'polls':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'p95+json ms':>12} {'later p95':>10} "
        f"{'CPU run':>8} {'CPU wait':>8} {'cores':>6} {'KB/poll':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in rows:
        wall = f"{r['wall']:.1f}" + ("*" if r["stopped_early"] else "")
        print(
            f"{r['students']:>8} {r['finished']:>8} {wall:>7} {r['samples_per_s']:>10,.0f} "
            f"{r['polls']:>6} {r['p50']:>7.1f} {r['p95']:>7.1f} {r['max']:>7.1f} "
            f"{r['p95_json']:>12.1f} {r['p95_later']:>10.1f} {r['cpu_running']:>8.1f} "
            f"{r['cpu_waiting']:>8.1f} {r['cores']:>6.2f} {r['kb_per_poll']:>8.0f}"
        )
        for error in r["errors"]:
            print(f"         error: {error}")
    if any(r["stopped_early"] for r in rows):
        print(f"* stopped at --max-seconds {args.max_seconds:g}: samples/s over that time")
    single = rows[0]["samples_per_s"] if rows and rows[0]["students"] == 1 else None
    if single:
        ratios = ", ".join(f"{r['students']}: {r['samples_per_s'] / single:.2f}x" for r in rows)
        print(f"throughput relative to one student: {ratios}")


if __name__ == "__main__":
    main()
