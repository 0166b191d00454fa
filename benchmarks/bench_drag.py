"""A 1-second mouse drag of γ in Chromium: does the explorer's staircase follow it? (issue 15)

Run from the repo root: python benchmarks/bench_drag.py [--repeats 6] [--rate 120]
Drags γ across its track for one second (pointer moves at --rate per second, as a mouse sends
them), in turns on app.py and on benchmarks/minimal_page.py (one slider, one Plotly chart), and
prints medians over --repeats drags:
1. distinct chart states drawn during the drag, per second of drag (target >= 30);
2. p95 time from a pointer event that moved γ to the animation frame whose chart shows it,
   timed in the page on requestAnimationFrame timestamps (target <= 50 ms), and to the moment
   the chart was drawn in that frame;
3. server reruns during the drag and after the release (target: none, then at most one);
4. release -> the server's chart, app.py against the bare page, as a ratio (bench_browser.py
   times the same for a key press).
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

from tests.e2e.harness import (  # noqa: E402
    StreamlitServer,
    browser_unavailable_reason,
    launch_chromium,
    open_page,
    plot_selector,
    slider_track,
    wait_app_idle,
)

VIEWPORT = {"width": 1400, "height": 900}
DRAG_S = 1.0
STATES_TARGET = 30
P95_TARGET_MS = 50
RERUNS_TARGET = 1
WARMUP = 1

# Records, in the page, every pointer event, every value γ's slider takes (with the pointer
# event behind it), every chart drawn (its frame's requestAnimationFrame timestamp, what it
# shows, whether it is the drag preview) and every script run that starts.
_RECORD_JS = """([sel, key]) => {
  const input = document.querySelector(`.st-key-${key} input[type=range]`);
  const app = document.querySelector('[data-testid="stApp"]');
  // The whole main area: a rerun may put the chart in a new element.
  const main = document.querySelector('[data-testid="stMain"]');
  const rec = {pointer: null, pointers: 0, down: null, up: null, moves: [], frames: [], runs: []};
  window.__drag = rec;
  const onPointer = (e) => { rec.pointer = e.timeStamp; rec.pointers += 1; };
  const onDown = (e) => { rec.down = e.timeStamp; onPointer(e); };
  const onUp = (e) => { rec.up = e.timeStamp; };
  document.addEventListener('pointermove', onPointer, true);
  document.addEventListener('pointerdown', onDown, true);
  window.addEventListener('pointerup', onUp, true);
  const moved = new MutationObserver(() => {
    const value = Number(input.value);
    const prev = rec.moves[rec.moves.length - 1];
    if (!prev || prev.value !== value) {
      rec.moves.push({value, pointer: rec.pointer, at: performance.now()});
    }
  });
  moved.observe(input, {attributes: true, attributeFilter: ['aria-valuetext']});
  const runs = new MutationObserver(() => {
    if (app.dataset.testScriptState === 'running') rec.runs.push(performance.now());
  });
  runs.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  // Called as Plotly changes the chart's DOM: a preview is drawn inside an animation frame,
  // whose requestAnimationFrame timestamp document.timeline.currentTime gives.
  let last = null;
  const drawn = new MutationObserver(() => {
    const gd = document.querySelector(sel);
    if (!gd || !gd._fullData || !gd._fullData.length) return;
    const t = gd._fullData.find((d) => (d.name || '').startsWith('closed form')) || gd._fullData[0];
    const preview = (gd.layout || {}).meta === 'drag preview';
    const shows = Array.from(t.y).join(',') + (preview ? '' : ' server');
    if (shows === last) return;
    last = shows;
    rec.frames.push({frame: document.timeline.currentTime, drawn: performance.now(), shows,
                     preview});
  });
  drawn.observe(main, {subtree: true, childList: true, attributes: true});
  window.__dragStop = () => {
    document.removeEventListener('pointermove', onPointer, true);
    document.removeEventListener('pointerdown', onDown, true);
    window.removeEventListener('pointerup', onUp, true);
    for (const o of [moved, runs, drawn]) o.disconnect();
  };
}"""

_SERVER_CHART_JS = """() => {
  const r = window.__drag;
  return r.up !== null && r.frames.some((f) => !f.preview && f.drawn > r.up);
}"""


def drag(page: Any, key: str, start: float, end: float, rate: float) -> None:
    """Press on the slider's track at fraction `start` and move to `end` over DRAG_S seconds."""
    box = slider_track(page, key)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    t0 = time.perf_counter()
    tick = 0
    while (elapsed := time.perf_counter() - t0) < DRAG_S:
        page.mouse.move(box["x"] + box["width"] * (start + (end - start) * elapsed / DRAG_S), y)
        tick += 1
        time.sleep(max(0.0, t0 + tick / rate - time.perf_counter()))
    page.mouse.move(box["x"] + box["width"] * end, y)
    page.mouse.up()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else 0.0


def drag_round(page: Any, start: float, end: float, rate: float) -> dict[str, float]:
    """One drag of γ; what the page drew during it and after the release."""
    page.evaluate(_RECORD_JS, [plot_selector("staircase"), "gamma"])
    drag(page, "gamma", start, end, rate)
    page.wait_for_function(_SERVER_CHART_JS, polling="raf", timeout=60_000)
    wait_app_idle(page)
    rec = page.evaluate("() => { window.__dragStop(); return window.__drag; }")
    during = [f for f in rec["frames"] if f["preview"] and f["drawn"] <= rec["up"]]
    states = len({f["shows"] for f in during})
    to_frame, to_drawn = [], []
    for move in rec["moves"]:
        if move["pointer"] is None or move["at"] > rec["up"]:
            continue
        # The first chart drawn after the value changed shows it (or a later value).
        shown = next((f for f in during if f["drawn"] >= move["at"]), None)
        if shown is not None:
            to_frame.append(max(0.0, shown["frame"] - move["pointer"]))
            to_drawn.append(shown["drawn"] - move["pointer"])
    server = next(f for f in rec["frames"] if not f["preview"] and f["drawn"] > rec["up"])
    drag_s = (rec["up"] - rec["down"]) / 1000
    return {
        "states_per_s": states / drag_s,
        "moves": len(rec["moves"]),
        "p95_frame_ms": p95(to_frame),
        "p95_drawn_ms": p95(to_drawn),
        "missed": sum(1 for m in rec["moves"] if m["at"] <= rec["up"]) - len(to_frame),
        "runs_during": sum(1 for t in rec["runs"] if t <= rec["up"]),
        "runs_after": sum(1 for t in rec["runs"] if t > rec["up"]),
        "pointers": rec["pointers"],
        # Drawn, not its frame: a rerun's chart is drawn outside requestAnimationFrame.
        "release_ms": server["drawn"] - rec["up"],
    }


def bench(browser: Any, repeats: int, rate: float) -> dict[str, dict[str, float]]:
    """Median figures of --repeats drags on app.py and on the minimal page, in turns."""
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
            pages[name] = page
        for i in range(WARMUP + repeats):
            start, end = (0.9, 0.1) if i % 2 == 0 else (0.1, 0.9)  # γ 0.9 -> 0.1 and back
            for name, page in pages.items():
                result = drag_round(page, start, end, rate)
                if i >= WARMUP:
                    rounds[name].append(result)
    finally:
        for server in servers.values():
            server.stop()
    return {
        name: {k: statistics.median(r[k] for r in values) for k in values[0]}
        for name, values in rounds.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=6, help="drags per page")
    parser.add_argument("--rate", type=float, default=120, help="pointer moves per second")
    args = parser.parse_args(argv)
    reason = browser_unavailable_reason()
    if reason:
        print(f"cannot run the browser benchmark: {reason}", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            med = bench(browser, args.repeats, args.rate)
        finally:
            browser.close()
    app, bare = med["app"], med["minimal"]
    print(f"1-second mouse drag of γ, median of {args.repeats} drags (timed in the page):")
    for name, m in (("minimal page", bare), ("app.py      ", app)):
        print(
            f"  {name}: {m['states_per_s']:.0f} chart states/s ({m['pointers']:.0f} pointer "
            f"events, {m['moves']:.0f} slider values); pointer -> frame p95 "
            f"{m['p95_frame_ms']:.0f} ms (drawn {m['p95_drawn_ms']:.0f} ms); reruns during "
            f"{m['runs_during']:.0f}, after release {m['runs_after']:.0f}; release -> server "
            f"chart {m['release_ms']:.0f} ms"
        )
    checks = [
        (app["states_per_s"] >= STATES_TARGET, f"states/s >= {STATES_TARGET}"),
        (app["p95_frame_ms"] <= P95_TARGET_MS, f"p95 <= {P95_TARGET_MS} ms"),
        (app["runs_during"] == 0 and app["runs_after"] <= RERUNS_TARGET, "<= 1 rerun a release"),
    ]
    for ok, what in checks:
        print(f"  app.py {what}: {'ok' if ok else 'OVER TARGET'}")
    ratio = app["release_ms"] / bare["release_ms"]
    print(f"  release -> server chart, ratio app/minimal: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
