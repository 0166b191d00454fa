"""axe-core, the standard accessibility engine, run inside a page of the app in Chromium.

axe-core comes from npm (tests/e2e/package.json pins it; `npm ci --prefix tests/e2e` installs
it, as scripts/test.sh does when it is missing). `python -m tests.e2e.axe` prints every page's
violations in both themes at desktop and phone width, for a before/after table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ui import lab as lab_ui

from .harness import DESKTOP_VIEWPORT, PHONE_VIEWPORT

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = json.loads((HERE / "package.json").read_text())["dependencies"]["axe-core"]
BLOCKING = ("serious", "critical")  # impacts the test fails on
LOAD_TIMEOUT_MS = 120_000  # bounds a page load on a loaded 2-core machine; no assertion

THEMES = ("light", "dark")
WIDTHS = {"desktop": DESKTOP_VIEWPORT, "phone": PHONE_VIEWPORT}  # the screens SharedPages has
# (name, url path, query): every page, and the presenter page as the projector shows it.
PAGES = [
    ("explorer", "", ""),
    ("training", "Live_training", ""),
    ("present", "Present", ""),
    ("present mode", "Present", "present=true&class=a11a11"),
]
# The lab builds only its open tab: each section is a page of its own (?lab_section=...).
LAB_PAGE = "StepLR_lab"
LAB_SECTIONS = [
    (f"lab: {tab}", LAB_PAGE, urlencode({lab_ui.SECTION_KEY: tab})) for tab in lab_ui.TABS
]


def axe_unavailable_reason() -> str | None:
    """Why axe-core cannot be injected here, or None when it can."""
    if not AXE_JS.is_file():
        return f"axe-core is not installed ({AXE_JS} is missing): npm ci --prefix tests/e2e"
    return None


@dataclass(frozen=True)
class Violation:
    """One rule axe found broken, with the elements that break it."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    summaries: tuple[str, ...]

    def __str__(self) -> str:
        lines = [f"{self.impact} {self.rule} ({len(self.targets)}): {self.help}"]
        for target, summary in zip(self.targets, self.summaries, strict=True):
            lines.append(f"  {target}: {summary.splitlines()[-1] if summary else ''}")
        return "\n".join(lines)


_RUN_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return {version: axe.version, violations: result.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary || ''})),
  }))};
}"""


def run_axe(page: Any) -> list[Violation]:
    """Inject axe-core into the page and return every violation it finds."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text())
    found = page.evaluate(_RUN_JS)
    assert found["version"] == AXE_VERSION, found["version"]
    return [
        Violation(
            rule=v["rule"],
            impact=v["impact"] or "",
            help=v["help"],
            targets=tuple(n["target"] for n in v["nodes"]),
            summaries=tuple(n["summary"] for n in v["nodes"]),
        )
        for v in found["violations"]
    ]


def blocking(violations: list[Violation]) -> list[Violation]:
    """The serious and critical violations."""
    return [v for v in violations if v.impact in BLOCKING]


def _report() -> None:
    """Print each page's violations per theme and width (a table for issue notes)."""
    from playwright.sync_api import sync_playwright

    from . import harness

    with harness.StreamlitServer() as server, sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        rows = []
        try:
            for name, path, query in PAGES + LAB_SECTIONS:
                for theme in THEMES:
                    for width, viewport in WIDTHS.items():
                        context = browser.new_context(
                            viewport=viewport,
                            color_scheme=theme,
                            is_mobile=width == "phone",
                            has_touch=width == "phone",
                        )
                        context.set_default_timeout(LOAD_TIMEOUT_MS)
                        page = context.new_page()
                        harness.open_page(page, server.page_url(path, query), LOAD_TIMEOUT_MS)
                        harness.settle(page)
                        found = run_axe(page)
                        context.close()
                        counts = {
                            i: sum(len(v.targets) for v in found if v.impact == i)
                            for i in ("critical", "serious", "moderate", "minor")
                        }
                        rows.append((name, theme, width, counts))
                        print(f"== {name} / {theme} / {width}: {counts}")
                        for v in found:
                            print(v)
        finally:
            browser.close()
    print("\npage | theme | width | critical | serious | moderate | minor")
    for name, theme, width, c in rows:
        print(f"{name} | {theme} | {width} | " + " | ".join(str(n) for n in c.values()))


if __name__ == "__main__":
    _report()
