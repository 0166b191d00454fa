"""Take the README's picture of a filled class sweep: docs/screenshot-class-sweep.png.

Starts its own server (runs in a temporary folder), fills the default sweep (γ × s, 16 cells)
with 20 real runs on the bundled digits as 20 students would (a cell each, four repeats with
the next seed, a few predictions), then shows the projector with the best cell revealed.
Usage: python scripts/screenshot_class_sweep.py [--out docs] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

from steplr_viz.classroom import sweeps  # noqa: E402
from steplr_viz.classroom.class_answers import ClassAnswers  # noqa: E402
from steplr_viz.classroom.class_state import ClassRoom  # noqa: E402
from steplr_viz.classroom.permissions import starter_id  # noqa: E402
from steplr_viz.store.registry import RunManager  # noqa: E402
from steplr_viz.store.runs import RunStore  # noqa: E402
from steplr_viz.training.metrics import TERMINAL_STATUSES  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    StreamlitServer,
    browser_unavailable_reason,
    exception_texts,
    launch_chromium,
    open_page,
    plot_selector,
    quiet_pointer,
)

CLASS = "5ee0c1"
TEACHER_BROWSER = "screenshot-teacher-browser"
VIEWPORT = {"width": 1400, "height": 1000}


def fill_sweep(runs_dir: Path, epochs: int, students: int) -> None:
    """The class's runs, trained here on the server's store (SQLite in its runs folder)."""
    store = RunStore(runs_dir)
    manager = RunManager(store)
    room = ClassRoom(store)
    room.open_class(CLASS, starter_id(TEACHER_BROWSER))
    room.lead(CLASS, 1, 0.1, 0.5, 10)
    spec = sweeps.default_spec(epochs=epochs)
    sweep_id = room.open_sweep(CLASS, spec)
    answers = ClassAnswers(store)
    run_ids = []
    for n in range(students):
        me = starter_id(f"student {n}")
        mine = room.assign(sweep_id, me)
        run_id = manager.submit(spec.config(mine.cell, mine.seed), started_by=me)
        room.attach_run(mine, me, run_id)
        run_ids.append(run_id)
        answers.answer(CLASS, f"sweep-{sweep_id}", spec.n_cells, (n * 5) % spec.n_cells)
    while any(manager.view(r).status not in TERMINAL_STATUSES for r in run_ids):
        time.sleep(0.5)
    manager.shutdown()
    store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs", help="folder for the PNG")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--students", type=int, default=20)
    args = parser.parse_args(argv)
    reason = browser_unavailable_reason()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with StreamlitServer("app.py") as server, sync_playwright() as playwright:
        fill_sweep(server.runs_dir, args.epochs, args.students)
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            context.add_init_script(
                f"localStorage.setItem('steplr-viz-browser-id', {json.dumps(TEACHER_BROWSER)})"
            )
            page = context.new_page()
            open_page(page, server.page_url("Present", f"present=true&class={CLASS}"))
            page.get_by_text("Reveal the best cell").click()
            page.get_by_text("Best cell:").wait_for()
            page.wait_for_selector(plot_selector("sweep_landscape"))
            errors = exception_texts(page)
            if errors:
                print("the page shows an exception:\n" + "\n".join(errors), file=sys.stderr)
                return 1
            page.get_by_text("Class sweep").scroll_into_view_if_needed()
            page.evaluate("() => document.fonts.ready.then(() => true)")
            quiet_pointer(page)
            page.wait_for_timeout(800)  # Plotly's transition and Streamlit's fade-in
            page.locator(".st-key-sweep_landscape").scroll_into_view_if_needed()
            path = args.out / "screenshot-class-sweep.png"
            page.screenshot(path=str(path))
        finally:
            browser.close()
    print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
