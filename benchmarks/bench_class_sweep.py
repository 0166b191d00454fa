"""A class sweep end to end: how soon the landscape is full, how late a cell, how late a follower.

Run from the repo root: python benchmarks/bench_class_sweep.py [--students 30] [--epochs 5]
    [--poll 1.0] [--follow-poll 0.5] [--teacher-every 3.0] [--max-seconds 300]
    [--database-url postgresql://...]

The teacher opens the default sweep (γ × s, 4 × 4 = 16 cells) on the bundled digits; at the same
moment (a barrier) every simulated student is given a cell (ClassRoom.assign, as the page does),
presses Start (RunManager.submit: the usual queue and the cap, CPU count) and records the run on
their cell. Then, as the pages do:
- the projector polls every --poll seconds (the page's LANDSCAPE_POLL_SECONDS): reads the cells
  and their runs from the store, computes the landscape and builds the heatmap as JSON;
- every student's page polls the same landscape every --poll seconds until their run ends;
- every student also follows the teacher: a poll every --follow-poll seconds (the page's
  FOLLOW_POLL_SECONDS) reads the class's view (and beats every 5 s), while the teacher moves
  to the next step every --teacher-every seconds.

Reported:
- time to full landscape: from the sweep's opening to the projector's first poll that shows
  every cell with a finished run;
- run-finished-to-cell delay: from a run's end as the store recorded it to the projector's first
  poll that shows it (p50, p95, max): what a student waits to see their cell on the projector;
- follow delay: from the teacher's move (stored) to each follower's poll that sees it (p50, p95,
  max over every move and follower). A real page then reruns itself (the rerun's own time, a
  few hundred ms on a loaded server, comes on top; the AppTest and e2e tests check the rerun).
The store is SQLite in a temporary folder (the app's default) or --database-url (PostgreSQL).
Nothing here is a test: it prints figures for the README and the issue.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import plotly.io  # noqa: E402

from steplr_viz.classroom import sweeps  # noqa: E402
from steplr_viz.classroom.class_state import FOLLOWER_BEAT_S, ClassRoom, new_follower  # noqa: E402
from steplr_viz.classroom.permissions import starter_id  # noqa: E402
from steplr_viz.figures.sweep import landscape_figure  # noqa: E402
from steplr_viz.store.registry import RunManager  # noqa: E402
from steplr_viz.store.runs import RunStore  # noqa: E402
from steplr_viz.training.data import load_mnist  # noqa: E402
from steplr_viz.training.metrics import FINISHED, TERMINAL_STATUSES  # noqa: E402

CLASS = "be4c40"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--follow-poll", type=float, default=0.5)
    parser.add_argument("--teacher-every", type=float, default=3.0)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    load_mnist(source="bundled")  # the digits once, before the clock (the app has them cached)
    tmp = tempfile.TemporaryDirectory()
    store = RunStore(database_url=args.database_url) if args.database_url else RunStore(tmp.name)
    manager = RunManager(store, max_queue=max(50, args.students))
    room = ClassRoom(store)
    teacher = starter_id("teacher")
    room.open_class(CLASS, teacher)
    room.lead(CLASS, 1, 0.1, 0.5, 10)
    spec = sweeps.default_spec(epochs=args.epochs)

    # The reference: one cell's run alone on the machine, nothing polling (after a warm-up run:
    # the first run in a process pays torch's and the data's one-time costs).
    for config in (replace(spec.config(0, 98), epochs=1), spec.config(0, 99)):
        began = time.time()
        alone = manager.submit(config)
        while manager.view(alone).status not in TERMINAL_STATUSES:
            time.sleep(0.05)
        one_run = time.time() - began
        if manager.view(alone).status != FINISHED:
            print(
                f"the reference run ended {manager.view(alone).status}: {manager.view(alone).error}"
            )

    stop = threading.Event()
    start = threading.Barrier(args.students + 1)
    moves: dict[int, float] = {}  # view version -> when the teacher's move was stored
    follow_delays: list[float] = []
    seen_at: dict[str, float] = {}  # run id -> the projector's first poll that showed it
    full_at: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def landscape_json(sweep_id: str, mine: int | None):
        table = sweeps.landscape(spec, room.cells(sweep_id))
        plotly.io.to_json(landscape_figure(spec, table, mine=mine))
        return table

    def projector(sweep_id: str, opened: float) -> None:
        while not stop.is_set():
            began = time.time()
            cells = room.cells(sweep_id)
            table = sweeps.landscape(spec, cells)
            plotly.io.to_json(landscape_figure(spec, table, predictions=[0] * spec.n_cells))
            seen = time.time()
            with lock:
                for run_id in cells.loc[cells["status"] == FINISHED, "run_id"]:
                    seen_at.setdefault(run_id, seen)
                if not full_at and sweeps.filled(table) == spec.n_cells:
                    full_at.append(seen - opened)
            stop.wait(max(0.0, args.poll - (time.time() - began)))

    def lead() -> None:
        step = 1
        while not stop.wait(args.teacher_every):
            step = step % 8 + 1
            view = room.lead(CLASS, step, 0.1, 0.5, 10)
            with lock:
                moves[view.version] = time.time()

    def follower(n: int) -> None:
        token, last_beat, version = new_follower(), -1e9, None
        while not stop.is_set():
            began = time.monotonic()
            if began - last_beat >= FOLLOWER_BEAT_S:
                room.beat(CLASS, token)
                last_beat = began
            view = room.view(CLASS)
            now = time.time()
            if version is not None and view.version != version:
                with lock:
                    moved = moves.get(view.version)
                if moved is not None:
                    follow_delays.append(now - moved)
            version = view.version
            stop.wait(max(0.0, args.follow_poll - (time.monotonic() - began)))

    def student(n: int, sweep_id: str) -> None:
        me = starter_id(f"student {n}")
        start.wait()
        try:
            mine = room.assign(sweep_id, me)
            run_id = manager.submit(spec.config(mine.cell, mine.seed), started_by=me)
            room.attach_run(mine, me, run_id)
            while not stop.is_set():
                began = time.monotonic()
                landscape_json(sweep_id, mine.cell)
                view = manager.view(run_id)
                if view is not None and view.status in TERMINAL_STATUSES:
                    return
                stop.wait(max(0.0, args.poll - (time.monotonic() - began)))
        except Exception as exc:  # noqa: BLE001 - report, do not hang the benchmark
            errors.append(f"student {n}: {exc!r}")

    sweep_id = room.open_sweep(CLASS, spec)
    opened = time.time()
    threads = [threading.Thread(target=student, args=(n, sweep_id)) for n in range(args.students)]
    threads += [threading.Thread(target=follower, args=(n,)) for n in range(args.students)]
    threads += [
        threading.Thread(target=projector, args=(sweep_id, opened)),
        threading.Thread(target=lead),
    ]
    for t in threads:
        t.start()
    start.wait()
    deadline = opened + args.max_seconds
    students = threads[: args.students]
    while any(t.is_alive() for t in students) and time.time() < deadline:
        time.sleep(0.2)
    all_done = time.time() - opened
    time.sleep(args.poll * 1.5)  # the projector's poll after the last run
    stop.set()
    for t in threads:
        t.join()

    cells = room.cells(sweep_id)
    delays = []
    for run_id in cells["run_id"].dropna():
        view = store.get_run(run_id)
        if view is None or view.status != FINISHED or view.finished is None:
            continue
        if run_id in seen_at:
            delays.append(seen_at[run_id] - view.finished.timestamp())
    finished = int((cells["status"] == FINISHED).sum())
    manager.shutdown()
    store.close()
    tmp.cleanup()

    ms = [d * 1000 for d in delays]
    follow_ms = [d * 1000 for d in follow_delays]
    print(
        f"class sweep: {args.students} students, {spec.n_cells} cells ({spec.x} × {spec.y}), "
        f"{args.epochs} epochs on the bundled digits, {os.cpu_count()} cores, "
        f"cap {manager.max_concurrent}, store {'PostgreSQL' if args.database_url else 'SQLite'}"
    )
    print(f"runs finished: {finished} of {len(cells)}; all runs ended after {all_done:.1f} s")
    floor = -(-spec.n_cells // manager.max_concurrent) * one_run
    print(
        f"one run alone: {one_run:.1f} s; {spec.n_cells} cells at cap {manager.max_concurrent}, "
        f"as {-(-spec.n_cells // manager.max_concurrent)} rounds of that: {floor:.1f} s"
    )
    full = (
        f"{full_at[0]:.1f} s ({full_at[0] / floor:.2f}x those rounds)" if full_at else "not reached"
    )
    print(f"time to full landscape: {full}  (target <= 60 s)")
    print(
        f"run-finished-to-cell delay: p50 {percentile(ms, 50):.0f} ms, "
        f"p95 {percentile(ms, 95):.0f} ms, max {max(ms, default=float('nan')):.0f} ms "
        f"over {len(ms)} runs  (target p95 <= 2000 ms)"
    )
    print(
        f"follow delay ({args.students} followers, {len(moves)} moves): "
        f"p50 {percentile(follow_ms, 50):.0f} ms, p95 {percentile(follow_ms, 95):.0f} ms, "
        f"max {max(follow_ms, default=float('nan')):.0f} ms over {len(follow_ms)} updates  "
        "(target p95 <= 2000 ms)"
    )
    for error in errors:
        print("error:", error)


if __name__ == "__main__":
    main()
