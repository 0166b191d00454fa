"""Speed as a student sees it in Chromium: slider-to-chart time and live-update lag.

Run from the repo root: python benchmarks/bench_browser.py [--repeats 20] [--epochs 5]
                                                             [--skip-slider] [--skip-live]
Prints two figures (issue 5):
1. slider change (ArrowRight on γ) to redrawn chart, median of --repeats, app.py against
   benchmarks/minimal_page.py (one slider, one Plotly chart), as a ratio; target <= 1.5;
2. live-update lag on the Live training page: from the trainer finishing an epoch (its row
   appearing in the runs database) to that epoch's point appearing in the page's epoch chart;
   target: within the page's polling interval plus 0.5 s.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

from steplr_viz.store.run_view import POLL_SECONDS
from tests.e2e.harness import (  # noqa: E402
    StreamlitServer,
    browser_unavailable_reason,
    launch_chromium,
    open_page,
    plot_selector,
    wait_app_idle,
)

VIEWPORT = {"width": 1400, "height": 900}
SLIDER_TARGET = 1.5
LAG_MARGIN_S = 0.5
WARMUP = 2

# The plotted closed form as one string: the explorer names its trace "closed form …",
# the minimal page has a single unnamed trace.
_SIGNATURE_JS = """(sel) => {
  const el = document.querySelector(sel);
  if (!el || !el._fullData || !el._fullData.length) return null;
  const t = el._fullData.find((d) => (d.name || '').startsWith('closed form')) || el._fullData[0];
  return Array.from(t.y).join(',');
}"""

_CHANGED_JS = """([sel, before]) => {
  const el = document.querySelector(sel);
  if (!el || !el._fullData || !el._fullData.length) return false;
  const t = el._fullData.find((d) => (d.name || '').startsWith('closed form')) || el._fullData[0];
  if (Array.from(t.y).join(',') === before) return false;
  window.__bench.changed = performance.now();
  return true;
}"""

# The server's figure (not the explorer's in-page preview of a key press) shows the change.
_SERVER_CHANGED_JS = """([sel, before]) => {
  const el = document.querySelector(sel);
  if (!el || !el._fullData || !el._fullData.length) return false;
  if ((el.layout || {}).meta === 'drag preview') return false;
  const t = el._fullData.find((d) => (d.name || '').startsWith('closed form')) || el._fullData[0];
  if (Array.from(t.y).join(',') === before) return false;
  window.__bench.server = performance.now();
  return true;
}"""

# In-page marks (performance.now() ms): the key press, and when the script rerun began.
_MARKS_JS = """() => {
  window.__bench = {};
  document.addEventListener('keydown', () => { window.__bench = {press: performance.now()}; },
                            true);
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    const b = window.__bench;
    if (b.press && !b.running && app.dataset.testScriptState === 'running') {
      b.running = performance.now();
    }
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


# --- 1. slider to redrawn chart -----------------------------------------------------------------


def slider_round(page: Any) -> dict[str, float]:
    """Press ArrowRight on γ; seconds from the key press until the plotted closed form changed
    (the explorer draws the new staircase in the page first) and until the server's figure did.

    Timed inside the page (keydown to the animation frame that sees the new data), so the
    remote-control round trips of playwright are not counted. Also returns the split: key press
    to the rerun starting (the widget's debounce and the websocket) and rerun to redrawn chart.
    """
    sel = plot_selector("staircase")
    before = page.evaluate(_SIGNATURE_JS, sel)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(_CHANGED_JS, arg=[sel, before], polling="raf", timeout=30_000)
    page.wait_for_function(_SERVER_CHANGED_JS, arg=[sel, before], polling="raf", timeout=30_000)
    marks = page.evaluate("() => window.__bench")
    # Let the rest of the script run finish, so the next press starts from a quiet page.
    wait_app_idle(page)
    running = marks.get("running", marks["changed"])
    return {
        "total": (marks["changed"] - marks["press"]) / 1000,
        "to_server_chart": (marks["server"] - marks["press"]) / 1000,
        "to_rerun": (running - marks["press"]) / 1000,
        "rerun_to_chart": (marks["changed"] - running) / 1000,
    }


def bench_slider(browser: Any, repeats: int) -> dict[str, dict[str, float]]:
    """Median slider-to-chart seconds (and the split) for app.py and the minimal page."""
    scripts = {"minimal": "benchmarks/minimal_page.py", "app": "app.py"}
    servers = {name: StreamlitServer(script) for name, script in scripts.items()}
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in scripts}
    try:
        pages = {}
        for name, server in servers.items():
            server.start()
            page = browser.new_context(viewport=VIEWPORT).new_page()
            open_page(page, server.page_url())
            page.wait_for_selector(plot_selector("staircase"))
            page.evaluate(_MARKS_JS)
            page.locator(".st-key-gamma input[type=range]").focus()
            pages[name] = page
        for i in range(WARMUP + repeats):
            for name, page in pages.items():  # in turns: load on the machine hits both alike
                result = slider_round(page)
                if i >= WARMUP:
                    rounds[name].append(result)
    finally:
        for server in servers.values():
            server.stop()
    return {
        name: {k: statistics.median(r[k] for r in values) for k in values[0]}
        for name, values in rounds.items()
    }


# --- 2. live-update lag -------------------------------------------------------------------------

# Records, in the page, the wall-clock time at which the epoch chart first shows n points.
_RECORD_EPOCHS_JS = """(sel) => {
  window.__epochSeen = {};
  let last = 0;
  const tick = () => {
    const el = document.querySelector(sel);
    let n = 0;
    if (el && el._fullData) for (const t of el._fullData) n = Math.max(n, t.x ? t.x.length : 0);
    const now = Date.now() / 1000;
    for (let k = last + 1; k <= n; k++) window.__epochSeen[k] = now;
    last = Math.max(last, n);
    requestAnimationFrame(tick);
  };
  tick();
}"""


class EpochWatcher(threading.Thread):
    """Polls the runs database and notes the wall-clock time each epoch row first appears."""

    def __init__(self, db_path: Path, interval_s: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.db_path, self.interval_s = db_path, interval_s
        self.seen: dict[int, float] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            count = self._count()
            now = time.time()
            for k in range(len(self.seen) + 1, count + 1):
                self.seen[k] = now
            time.sleep(self.interval_s)

    def _count(self) -> int:
        if not self.db_path.exists():
            return 0
        try:
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=1)
            try:
                return conn.execute("SELECT COUNT(*) FROM epochs").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error:  # not created yet, or busy for a moment
            return len(self.seen)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def bench_live_lag(browser: Any, epochs: int, timeout_s: float = 600.0) -> list[float]:
    """Per-epoch lag (s) from the trainer's epoch row to the point in the page's epoch chart."""
    server = StreamlitServer("app.py")
    watcher = EpochWatcher(server.runs_dir / "runs.sqlite3")
    try:
        server.start()
        page = browser.new_context(viewport=VIEWPORT).new_page()
        query = f"train_epochs={epochs}&train_data_source=bundled"
        open_page(page, server.page_url("Live_training", query))
        page.evaluate(_RECORD_EPOCHS_JS, plot_selector("train_epoch_chart"))
        watcher.start()
        page.locator(".st-key-train_start button").click()
        deadline = time.monotonic() + timeout_s
        while len(page.evaluate("() => window.__epochSeen")) < epochs or len(watcher.seen) < epochs:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"run did not show {epochs} epochs in {timeout_s:.0f}s: page "
                    f"{page.evaluate('() => window.__epochSeen')}, database {watcher.seen}"
                )
            time.sleep(0.25)
        in_page = {int(k): v for k, v in page.evaluate("() => window.__epochSeen").items()}
    finally:
        watcher.stop()
        server.stop()
    return [in_page[k] - watcher.seen[k] for k in range(1, epochs + 1)]


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="slider presses per page")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the live run")
    parser.add_argument("--skip-slider", action="store_true")
    parser.add_argument("--skip-live", action="store_true")
    args = parser.parse_args(argv)
    reason = browser_unavailable_reason()
    if reason:
        print(f"cannot run the browser benchmark: {reason}", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            if not args.skip_slider:
                med = bench_slider(browser, args.repeats)
                ratio = med["app"]["total"] / med["minimal"]["total"]
                print(f"slider -> redrawn chart, median of {args.repeats} (timed in the page):")
                for name, label in (("minimal", "minimal page"), ("app", "app.py      ")):
                    m = med[name]
                    print(
                        f"  {label}: {m['total'] * 1000:.0f} ms  (key -> rerun starts "
                        f"{m['to_rerun'] * 1000:.0f} ms, rerun -> chart "
                        f"{m['rerun_to_chart'] * 1000:.0f} ms)"
                    )
                verdict = "ok" if ratio <= SLIDER_TARGET else "OVER TARGET"
                print(f"  ratio app/minimal: {ratio:.2f} (target <= {SLIDER_TARGET}) {verdict}")
            if not args.skip_live:
                poll = POLL_SECONDS
                lags = bench_live_lag(browser, args.epochs)
                target = poll + LAG_MARGIN_S
                print(f"live-update lag, trainer epoch -> point in page ({args.epochs} epochs):")
                print("  per epoch: " + ", ".join(f"{lag:.2f}" for lag in lags) + " s")
                verdict = "ok" if max(lags) <= target else "OVER TARGET"
                print(
                    f"  median {statistics.median(lags):.2f} s, max {max(lags):.2f} s "
                    f"(target <= polling {poll:g} s + {LAG_MARGIN_S} s = {target:g} s) {verdict}"
                )
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
