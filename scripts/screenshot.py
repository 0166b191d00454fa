"""Regenerate the README's screenshots: the explorer and every page, at 1400x900, in docs/.

The Live training page is shown after a short run on the bundled digits has finished (12
epochs, γ = 0.5, s = 3), with a second picture of its weights, digits and confusion matrix.
Usage: python scripts/screenshot.py [--out docs]
Starts its own server (runs and data folders in a temporary directory) and stops it on exit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

from tests.e2e.harness import (  # noqa: E402
    StreamlitServer,
    browser_unavailable_reason,
    exception_texts,
    launch_chromium,
    open_page,
    page_files,
    page_url_path,
    plot_selector,
    quiet_pointer,
    wait_until,
)

VIEWPORT = {"width": 1400, "height": 900}
TRAINING = "Live_training"
# A run that shows several decays in its LR chart and finishes in seconds on the bundled data.
TRAINING_QUERY = "train_epochs=12&train_gamma=0.5&train_step_size=3&train_batch_size=32"
RUN_DEADLINE_S = 300


def shot_name(url_path: str) -> str:
    """PNG name for a page: '' -> screenshot-explorer.png, StepLR_lab -> ...-steplr-lab.png."""
    return f"screenshot-{(url_path or 'explorer').lower().replace('_', '-')}.png"


def settle(page) -> None:
    """Let charts, fonts and animations finish so the picture is the page at rest."""
    page.evaluate("() => document.fonts.ready.then(() => true)")
    quiet_pointer(page)
    page.wait_for_timeout(500)  # Plotly's transition and Streamlit's fade-in of stale elements


def finish_a_run(page, server) -> None:
    """Open the training page with TRAINING_QUERY, press Start and wait for the run to finish."""
    open_page(page, server.page_url(TRAINING, TRAINING_QUERY))
    page.locator(".st-key-train_start button").click()
    wait_until(
        lambda: "finished" in " ".join(page.locator('[data-testid="stMain"] h2').all_inner_texts()),
        "the run to finish",
        deadline_s=RUN_DEADLINE_S,
    )
    page.wait_for_selector(plot_selector("train_confusion"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs", help="folder for the PNGs")
    args = parser.parse_args(argv)
    reason = browser_unavailable_reason()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    written = []
    with StreamlitServer("app.py") as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            for url_path in ["", *(page_url_path(p) for p in page_files())]:
                if url_path == TRAINING:
                    finish_a_run(page, server)
                else:
                    open_page(page, server.page_url(url_path))
                if url_path == "":
                    page.wait_for_selector(plot_selector("staircase"))
                errors = exception_texts(page)
                if errors:
                    print(f"/{url_path} shows an exception:\n" + "\n".join(errors), file=sys.stderr)
                    return 1
                settle(page)
                path = args.out / shot_name(url_path)
                page.screenshot(path=str(path))
                written.append(path)
                if url_path == TRAINING:  # and the pictures further down
                    page.get_by_text("What the model sees").scroll_into_view_if_needed()
                    settle(page)
                    path = args.out / shot_name(f"{url_path}_pictures")
                    page.screenshot(path=str(path))
                    written.append(path)
        finally:
            browser.close()
    for path in written:
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
