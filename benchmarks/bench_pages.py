"""Every page against a bare page, in one run: the table of issue 24, as ratios.

Run from the repo root: python benchmarks/bench_pages.py [--reloads 5] [--starts 2]
    [--presses 10] [--drags 4] [--reruns 40] [--skip ROW ...]
The bare page is benchmarks/minimal_page.py: the explorer's four sliders and one Plotly chart.
Each figure is measured on both, in turns (load on a shared machine falls on both alike), and
printed as a ratio to the bare page:

  reload -> chart      page.reload() to the first Plotly chart drawn, timed in the page (median)
  start -> chart       `streamlit run` started to the first chart drawn in a new tab (median)
  arrow key -> chart   ArrowRight on γ to the redrawn chart (bench_browser.py's figure): the
                       explorer draws it in the page, before its rerun
  ... server's chart   the same press to the rerun's figure (PyTorch's curve included)
  release -> chart     end of a 1-second mouse drag of γ to the server's chart (bench_drag.py's)
  AppTest rerun        a rerun after moving γ, in AppTest (bench_schedule_page.py's)
  <page> reload        the training, lab and presenter pages: reload to their first chart

Targets: the explorer <= 1.3 on every row; the other pages' reloads <= 1.5.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

from benchmarks.bench_browser import _MARKS_JS, slider_round  # noqa: E402
from benchmarks.bench_drag import drag_round  # noqa: E402
from benchmarks.bench_schedule_page import median_reruns  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    StreamlitServer,
    browser_unavailable_reason,
    launch_chromium,
    open_page,
    plot_selector,
    wait_app_idle,
)

VIEWPORT = {"width": 1400, "height": 900}
BARE = "benchmarks/minimal_page.py"
EXPLORER_TARGET = 1.3
PAGE_TARGET = 1.5
# The pages whose reload is timed, by URL path on the app's server ("" is the explorer).
PAGES = {
    "explorer": "",
    "training": "Live_training",
    "lab": "StepLR_lab",
    "presenter": "Present",
}
FIRST_VISIT_MS = 300_000
ROWS = ["reload", "start", "key", "release", "apptest", "pages"]

# performance.now() (ms since the navigation began) once a Plotly chart has been drawn.
_CHART_DRAWN_JS = """() => {
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    if (el._fullData && el._fullData.length) return performance.now();
  }
  return null;
}"""


def time_to_chart(page: Any, timeout_ms: int = 60_000) -> float:
    """Seconds from this navigation's start until the page's first Plotly chart is drawn."""
    handle = page.wait_for_function(_CHART_DRAWN_JS, polling="raf", timeout=timeout_ms)
    return handle.json_value() / 1000


def bench_reloads(browser: Any, app: StreamlitServer, bare: StreamlitServer, repeats: int):
    """Median reload -> first chart for the bare page and each page of the app, in turns."""
    urls = {"bare": bare.page_url(), **{n: app.page_url(p) for n, p in PAGES.items()}}
    pages, times = {}, {name: [] for name in urls}
    for name, url in urls.items():
        pages[name] = browser.new_context(viewport=VIEWPORT).new_page()
        # The first visit fills the browser's cache, as a reload finds it (and imports the page's
        # modules on the server: minutes on a loaded machine).
        open_page(pages[name], url, FIRST_VISIT_MS)
    for i in range(1 + repeats):
        for name, page in pages.items():
            page.reload(wait_until="commit")
            seconds = time_to_chart(page)
            wait_app_idle(page)
            if i:
                times[name].append(seconds)
    for page in pages.values():
        page.context.close()
    return {name: statistics.median(values) for name, values in times.items()}


def bench_starts(browser: Any, repeats: int) -> dict[str, float]:
    """Median seconds from `streamlit run` to the first chart drawn, each a fresh server."""
    times: dict[str, list[float]] = {"bare": [], "explorer": []}
    for _ in range(repeats):
        for name, script in (("bare", BARE), ("explorer", "app.py")):
            server = StreamlitServer(script)
            context = browser.new_context(viewport=VIEWPORT)
            try:
                start = time.perf_counter()
                server.start(timeout_s=300)
                page = context.new_page()
                page.goto(server.page_url(), wait_until="commit")
                page.wait_for_function(_CHART_DRAWN_JS, polling="raf", timeout=FIRST_VISIT_MS)
                times[name].append(time.perf_counter() - start)
            finally:
                context.close()
                server.stop()
    return {name: statistics.median(values) for name, values in times.items()}


def _slider_pages(browser: Any, servers: dict[str, StreamlitServer]) -> dict[str, Any]:
    pages = {}
    for name, server in servers.items():
        page = browser.new_context(viewport=VIEWPORT).new_page()
        open_page(page, server.page_url(), FIRST_VISIT_MS)
        page.wait_for_selector(plot_selector("staircase"))
        pages[name] = page
    return pages


def bench_keys(browser: Any, servers: dict[str, StreamlitServer], repeats: int):
    """Median ArrowRight on γ -> redrawn chart and -> the server's chart (seconds), in the page."""
    pages = _slider_pages(browser, servers)
    times: dict[str, list[dict[str, float]]] = {name: [] for name in pages}
    for page in pages.values():
        page.evaluate(_MARKS_JS)
        page.locator(".st-key-gamma input[type=range]").focus()
    for i in range(2 + repeats):
        for name, page in pages.items():
            result = slider_round(page)
            if i >= 2:
                times[name].append(result)
    for page in pages.values():
        page.context.close()
    return {
        part: {name: statistics.median(r[part] for r in rounds) for name, rounds in times.items()}
        for part in ("total", "to_server_chart")
    }


def bench_releases(browser: Any, servers: dict[str, StreamlitServer], repeats: int):
    """Median end of a γ drag -> the server's chart (seconds)."""
    pages = _slider_pages(browser, servers)
    times: dict[str, list[float]] = {name: [] for name in pages}
    for i in range(1 + repeats):
        start, end = (0.9, 0.1) if i % 2 == 0 else (0.1, 0.9)
        for name, page in pages.items():
            seconds = drag_round(page, start, end, 120)["release_ms"] / 1000
            if i:
                times[name].append(seconds)
    for page in pages.values():
        page.context.close()
    return {name: statistics.median(values) for name, values in times.items()}


def report(label: str, bare: float, page: float, target: float, unit: str = "s") -> str:
    scale, fmt = (1000, "{:.1f} ms") if unit == "ms" else (1, "{:.2f} s")
    ratio = page / bare
    verdict = "ok" if ratio <= target else "OVER"
    return (
        f"| {label} | {fmt.format(page * scale)} | {fmt.format(bare * scale)} | "
        f"{ratio:.2f} | <= {target} {verdict} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=5, help="reloads per page")
    parser.add_argument("--starts", type=int, default=2, help="server starts per script")
    parser.add_argument("--presses", type=int, default=10, help="arrow-key presses per page")
    parser.add_argument("--drags", type=int, default=4, help="mouse drags per page")
    parser.add_argument("--reruns", type=int, default=40, help="AppTest reruns per page")
    parser.add_argument("--skip", nargs="*", default=[], choices=ROWS, help="rows to leave out")
    args = parser.parse_args(argv)
    reason = browser_unavailable_reason()
    if reason:
        print(f"cannot run the browser benchmark: {reason}", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    rows: list[str] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        servers = {"bare": StreamlitServer(BARE), "explorer": StreamlitServer("app.py")}
        try:
            for server in servers.values():
                server.start(timeout_s=300)
            if "reload" not in args.skip or "pages" not in args.skip:
                med = bench_reloads(browser, servers["explorer"], servers["bare"], args.reloads)
                if "reload" not in args.skip:
                    rows.append(
                        report("reload -> chart", med["bare"], med["explorer"], EXPLORER_TARGET)
                    )
                if "pages" not in args.skip:
                    for name in ("training", "lab", "presenter"):
                        rows.append(
                            report(f"{name} reload -> chart", med["bare"], med[name], PAGE_TARGET)
                        )
            if "key" not in args.skip:
                med = bench_keys(browser, servers, args.presses)
                for part, label in (
                    ("total", "arrow key -> chart"),
                    ("to_server_chart", "arrow key -> server's chart"),
                ):
                    bare, app = med[part]["bare"], med[part]["explorer"]
                    rows.append(report(label, bare, app, EXPLORER_TARGET, "ms"))
            if "release" not in args.skip:
                med = bench_releases(browser, servers, args.drags)
                rows.append(
                    report(
                        "drag release -> chart", med["bare"], med["explorer"], EXPLORER_TARGET, "ms"
                    )
                )
        finally:
            for server in servers.values():
                server.stop()
        try:
            if "start" not in args.skip:
                med = bench_starts(browser, args.starts)
                rows.append(
                    report("server start -> chart", med["bare"], med["explorer"], EXPLORER_TARGET)
                )
        finally:
            browser.close()
    if "apptest" not in args.skip:
        bare, app = median_reruns([REPO / BARE, REPO / "app.py"], args.reruns)
        rows.append(report("AppTest rerun", bare, app, EXPLORER_TARGET, "ms"))
    print("| figure | page | bare page | ratio | target |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
