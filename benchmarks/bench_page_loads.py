"""What one page load costs the machine: CPU-seconds in a fresh browser context and in a reused tab.

Run from the repo root: python benchmarks/bench_page_loads.py [--loads 4]

On a 2-core machine the browser tests are bound by CPU, not by waiting, so a load's cost in
CPU-seconds (Chromium's processes, the playwright driver and the app's server together: every
process this one started) is what a test's page loads add to `bash .ci/run`. For the bare page
(benchmarks/minimal_page.py) and each page of the app, loaded as tests load them (open_page:
until the script run has ended and the elements are drawn), it prints the median of:

  fresh context   a new browser context's first load (a student of their own: the class tests)
  reused tab      the same address loaded again in that tab: still a full load and a new
                  session, but in a context that has loaded the app (the tab fixtures)
  script -> chart in the reused tab, from the end of the page's first script run to its first
                  Plotly chart drawn (ms, timed in the page): the browser's share of a reload,
                  after the server's (a page's elements appear together at the run's end)

and ratios: fresh over reused (what reusing a tab saves) and each page over the bare page.
Nothing here is a test: it prints figures for the README and the issues (23 and 24).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

from tests.e2e.harness import (  # noqa: E402
    StreamlitServer,
    browser_unavailable_reason,
    launch_chromium,
    open_page,
)

VIEWPORT = {"width": 1400, "height": 900}
BARE = "benchmarks/minimal_page.py"
FIRST_VISIT_MS = 300_000
# URL paths on the app's server ("" is the explorer); the bare page has its own server.
PAGES = {
    "explorer": "",
    "training": "Live_training",
    "lab": "StepLR_lab",
    "presenter": "Present",
}
TICKS = os.sysconf("SC_CLK_TCK")

# Before any script of the page: note when the first script run ends and when a chart is drawn.
_MARKS_INIT_JS = """
window.__loadMarks = {};
new MutationObserver(() => {
  const marks = window.__loadMarks;
  const app = document.querySelector('[data-testid="stApp"]');
  const state = app && app.getAttribute('data-test-script-state');
  if (state === 'running') marks.running = marks.running || performance.now();
  if (state === 'notRunning' && marks.running && !marks.ended) marks.ended = performance.now();
  if (!marks.chart) {
    for (const el of document.querySelectorAll('.js-plotly-plot')) {
      if (el._fullData && el._fullData.length) { marks.chart = performance.now(); break; }
    }
  }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""
_CHART_MARKED_JS = "() => Boolean(window.__loadMarks && window.__loadMarks.chart)"


def descendants_cpu(root: int) -> float:
    """CPU-seconds (user + system) of the live processes below `root` (Linux /proc)."""
    children: dict[int, list[tuple[int, float]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:  # it ended while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
        cpu = (int(fields[11]) + int(fields[12])) / TICKS
        children.setdefault(int(fields[1]), []).append((int(entry), cpu))
    total, stack = 0.0, [root]
    while stack:
        for pid, cpu in children.get(stack.pop(), []):
            total += cpu
            stack.append(pid)
    return total


def costed(load: Callable[[], Any]) -> float:
    """CPU-seconds that every process this one started spent while `load` ran."""
    before = descendants_cpu(os.getpid())
    load()
    return descendants_cpu(os.getpid()) - before


def new_tab(browser: Any) -> Any:
    """A tab in a new browser context, marking its loads' script end and first chart."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(_MARKS_INIT_JS)
    return context.new_page()


def script_to_chart_ms(page: Any) -> float:
    """Milliseconds from the page's first script run's end to its first chart drawn."""
    page.wait_for_function(_CHART_MARKED_JS, polling="raf", timeout=FIRST_VISIT_MS)
    marks = page.evaluate("() => window.__loadMarks")
    return marks["chart"] - marks["ended"]


def bench_page(browser: Any, url: str, loads: int) -> dict[str, float]:
    """Median CPU-seconds of a fresh context's load and of a reused tab's; script -> chart."""
    fresh, reused, gaps = [], [], []
    for _ in range(loads):
        page = new_tab(browser)
        fresh.append(costed(lambda page=page: open_page(page, url, FIRST_VISIT_MS)))
        # The same address again: still a full load (a new session), as a test's goto is.
        reused.append(costed(lambda page=page: open_page(page, url, FIRST_VISIT_MS)))
        gaps.append(script_to_chart_ms(page))  # as a reload sees it: scripts in the cache
        page.context.close()
    return {
        "fresh": statistics.median(fresh),
        "reused": statistics.median(reused),
        "gap_ms": statistics.median(gaps),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=4, help="loads of each kind per page")
    args = parser.parse_args(argv)
    reason = browser_unavailable_reason()
    if reason:
        print(f"cannot run the browser benchmark: {reason}", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    bare, app = StreamlitServer(BARE), StreamlitServer("app.py")
    results: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for server in (bare, app):
                server.start(timeout_s=300)
            urls = {"bare": bare.page_url(), **{n: app.page_url(p) for n, p in PAGES.items()}}
            # Every page once first: the server imports its modules (and torch) on a first visit.
            warm = new_tab(browser)
            for url in urls.values():
                open_page(warm, url, FIRST_VISIT_MS)
            warm.context.close()
            for name, url in urls.items():
                results[name] = bench_page(browser, url, args.loads)
        finally:
            browser.close()
            app.stop()
            bare.stop()

    base = results["bare"]
    print(f"\n{args.loads} loads of each kind per page, {time.perf_counter() - started:.0f} s")
    print("| page | fresh context | reused tab | fresh / reused | fresh / bare | script -> chart |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['fresh']:.2f} CPU-s | {r['reused']:.2f} CPU-s "
            f"| {r['fresh'] / r['reused']:.2f} | {r['fresh'] / base['fresh']:.2f} "
            f"| {r['gap_ms']:.0f} ms ({r['gap_ms'] / base['gap_ms']:.2f} x bare) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
