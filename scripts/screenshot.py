"""Regenerate the README's screenshots: the explorer and every page, at 1400x900, in docs/.

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
)

VIEWPORT = {"width": 1400, "height": 900}


def shot_name(url_path: str) -> str:
    """PNG name for a page: '' -> screenshot-explorer.png, StepLR_lab -> ...-steplr-lab.png."""
    return f"screenshot-{(url_path or 'explorer').lower().replace('_', '-')}.png"


def settle(page) -> None:
    """Let charts, fonts and animations finish so the picture is the page at rest."""
    page.evaluate("() => document.fonts.ready.then(() => true)")
    quiet_pointer(page)
    page.wait_for_timeout(500)  # Plotly's transition and Streamlit's fade-in of stale elements


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
        finally:
            browser.close()
    for path in written:
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
