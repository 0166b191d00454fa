"""Median AppTest rerun time after a slider change: app.py against a one-slider page.

Run from the repo root: python benchmarks/bench_schedule_page.py [--repeats 60]
Prints both medians and their ratio (target: app.py / minimal <= 2).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def median_reruns(scripts: list[Path], repeats: int) -> list[float]:
    """Median seconds of a rerun triggered by moving the gamma slider, for each script.

    The scripts take turns at each step, so load on the machine falls on all of them alike.
    """
    apps = [AppTest.from_file(str(s), default_timeout=60).run(timeout=120) for s in scripts]
    times: list[list[float]] = [[] for _ in scripts]
    for i in range(repeats + 3):
        gamma = round(0.3 + 0.01 * (i % 60), 2)  # a new value each time, as a student's drag
        for at, bucket in zip(apps, times, strict=True):
            start = time.perf_counter()
            at.slider(key="gamma").set_value(gamma).run()
            if i >= 3:  # the first reruns warm imports
                bucket.append(time.perf_counter() - start)
            assert not at.exception, at.exception
    return [statistics.median(bucket) for bucket in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 60: single reruns on a shared VM spread over +-30%; the medians settle by then.
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    minimal, app = median_reruns(
        [ROOT / "benchmarks" / "minimal_page.py", ROOT / "app.py"], args.repeats
    )
    print(f"minimal page: median rerun {minimal * 1000:.1f} ms")
    print(f"app.py:       median rerun {app * 1000:.1f} ms")
    print(f"ratio app/minimal: {app / minimal:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
