"""Start the app under Streamlit and drive it in Debian's Chromium (shared by tests and scripts).

Nothing here imports pytest: `scripts/screenshot.py` and `benchmarks/bench_browser.py` use it too.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PAGES_DIR = REPO / "pages"
SCREENSHOTS = REPO / "artifacts" / "screenshots"  # git-ignored test artifacts

# Flags for Debian's chromium in a sandbox-less container with no network to phone home to.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

SERVER_START_TIMEOUT_S = 90.0  # a cold start imports torch, pandas and plotly on 2 cores
APP_IDLE_TIMEOUT_MS = 30_000


def free_port() -> int:
    """A TCP port that was free a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    """One `streamlit run <script>` on a fixed port; start, stop, kill and start again."""

    script: str = "app.py"
    port: int = field(default_factory=free_port)
    runs_dir: Path | None = None
    data_dir: Path | None = None
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # Runtime folders never default to ./runs or ./data: a test must not touch the checkout's.
        if self.runs_dir is None or self.data_dir is None or self.log_path is None:
            root = Path(tempfile.mkdtemp(prefix="steplr-e2e-"))
            self.runs_dir = self.runs_dir or root / "runs"
            self.data_dir = self.data_dir or root / "data"
            self.log_path = self.log_path or root / "server.log"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, url_path: str = "", query: str = "") -> str:
        """The address of a page (url_path "" is the main script), with an optional query."""
        return f"{self.url}/{url_path}" + (f"?{query.lstrip('?')}" if query else "")

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            self.script,
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(self.port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]

    def start(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> StreamlitServer:
        """Start the server and wait for /_stcore/health to answer ok; raise with its output."""
        if self.running:
            return self
        return self.launch().wait_healthy(timeout_s)

    def launch(self) -> StreamlitServer:
        """Start the process without waiting for it (start_servers waits for several at once)."""
        if self.running:
            return self
        env = {
            **os.environ,
            "STEPLR_VIZ_RUNS_DIR": str(self.runs_dir),
            "STEPLR_VIZ_DATA_DIR": str(self.data_dir),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        with open(self.log_path, "ab") as log:  # append: a restart keeps the earlier output
            self.proc = subprocess.Popen(
                self.command(),
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so teardown reaches children
            )
        return self

    def wait_healthy(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> StreamlitServer:
        """Wait for /_stcore/health to answer ok; raise with the server's output otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise RuntimeError(
                    f"streamlit exited with {code} before it was healthy:\n" + self.output()
                )
            if self._healthy():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"streamlit was not healthy on port {self.port} after {timeout_s:.0f}s:\n"
            + self.output()
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace_s: float = 10.0) -> None:
        """Terminate the server (and anything it spawned), then kill it if it lingers."""
        if self.proc is None:
            return
        self._signal(signal.SIGTERM)
        self.wait_stopped(grace_s)

    def wait_stopped(self, grace_s: float = 10.0) -> None:
        """Wait for a terminated server to exit; kill it if it lingers past grace_s."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout=grace_s)
        self.proc = None

    def kill(self) -> None:
        """Kill the server at once, as a crash would (for restart tests)."""
        if self.proc is None:
            return
        self._signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> StreamlitServer:
        """Stop and start again on the same port with the same runs and data folders."""
        self.stop()
        return self.start(timeout_s)

    def output(self) -> str:
        """Everything the server has printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "<no server output>"

    def thread_stacks(self) -> str:
        """Every thread's Python stack in the server now (py-spy), to explain a page that hangs."""
        spy = shutil.which("py-spy")
        if not self.running or spy is None:
            return "<no stacks: the server has stopped or py-spy is not installed>"
        done = subprocess.run(
            [spy, "dump", "--pid", str(self.proc.pid)], capture_output=True, text=True, timeout=60
        )
        return done.stdout + done.stderr

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                return resp.status == 200 and resp.read().strip() == b"ok"
        except (urllib.error.URLError, OSError):
            return False

    def _signal(self, sig: int) -> None:
        # The group is the one start_new_session made for this server: only what we started.
        # Once the server has been reaped its pid may be reused, so signal only a live one.
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- Chromium -----------------------------------------------------------------------------------


def browser_unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        return f"the Python package playwright is not importable ({err})"
    if shutil.which("chromium") is None:
        return "Debian's chromium is not on PATH (apt-get install chromium)"
    return None


def launch_chromium(playwright: Any) -> Any:
    """Launch Debian's chromium through playwright (no `playwright install` needed)."""
    return playwright.chromium.launch(
        executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
    )


# --- Pages --------------------------------------------------------------------------------------


def page_files() -> list[Path]:
    """The multipage app's page scripts in Streamlit's own order."""
    from streamlit.source_util import page_sort_key

    return sorted(PAGES_DIR.glob("*.py"), key=page_sort_key)


def page_url_path(script: Path) -> str:
    """The URL path Streamlit gives a file in pages/ (pages/2_StepLR_lab.py -> StepLR_lab)."""
    # Streamlit's own rule: numeric prefix, separators and a leading emoji dropped.
    from streamlit.source_util import page_icon_and_name

    return page_icon_and_name(script)[1]


# --- In-page reads ------------------------------------------------------------------------------

EXCEPTION = '[data-testid="stException"]'

_PLOT_JS = """(sel) => {
  const el = document.querySelector(sel);
  if (!el || !el._fullData) return null;
  const arr = (v) => (v == null ? null : Array.from(v));
  return el._fullData.map((t) => ({name: t.name, type: t.type, mode: t.mode,
                                   x: arr(t.x), y: arr(t.y)}));
}"""

_LAYOUT_JS = """([sel, path]) => {
  const el = document.querySelector(sel);
  if (!el || !el._fullLayout) return null;
  let v = el._fullLayout;
  for (const p of path.split('.')) { if (v == null) return null; v = v[p]; }
  return v === undefined ? null : v;
}"""


def write_full_mnist_stand_in(data_dir: Path) -> Path:
    """Full MNIST's size (60,000 / 10,000) in torchvision's raw layout, offline: the bundled
    digits repeated. A 30-epoch run on it lasts minutes, where the bundled set's lasts seconds:
    time enough to hold a trainer, queue behind it, or kill the server mid-run."""
    import numpy as np

    from steplr_viz.training.data import (
        IMAGES_MAGIC,
        LABELS_MAGIC,
        RAW_FILES,
        load_mnist,
        raw_folder,
    )

    bundled = load_mnist("bundled")
    folder = raw_folder(data_dir)
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, magic: int, array: np.ndarray) -> None:
        header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
        (folder / RAW_FILES[name]).write_bytes(header + array.astype(np.uint8).tobytes())

    for split, x, y, copies in (
        ("train", bundled.train_x, bundled.train_y, 60_000 // bundled.n_train),
        ("test", bundled.test_x, bundled.test_y, 10_000 // len(bundled.test_y)),
    ):
        pixels = np.rint(x.numpy() * 255).reshape(-1, 28, 28)
        write(f"{split}_images", IMAGES_MAGIC, np.tile(pixels, (copies, 1, 1)))
        write(f"{split}_labels", LABELS_MAGIC, np.tile(y.numpy(), copies))
    return folder


def wait_until(
    check: Callable[[], Any], what: str, *, deadline_s: float, poll_s: float = 0.2
) -> Any:
    """Poll check() until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"gave up after {deadline_s:.0f}s waiting for {what}"
        time.sleep(poll_s)


def plot_selector(key: str) -> str:
    """The Plotly element of the chart with this widget key."""
    return f".st-key-{key} .js-plotly-plot"


def wait_app_idle(page: Any, timeout_ms: int = APP_IDLE_TIMEOUT_MS) -> None:
    """Wait until the script has finished its run (Streamlit marks stApp with the state)."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms
    )


def scroll_into_view(locator: Any, tries: int = 5) -> None:
    """Scroll an element into view, again if a poll's redraw replaced it meanwhile.

    Playwright resolves the element, then waits for it to be stable: on a page whose fragments
    rerun every second (a class's landscape, a live run) the element can be swapped in between,
    and playwright then fails with "not attached to the DOM" instead of resolving it again.
    """
    from playwright.sync_api import Error

    for attempt in range(tries):
        try:
            locator.scroll_into_view_if_needed()
            return
        except Error as err:
            if "not attached" not in str(err) or attempt == tries - 1:
                raise


def wait_rendered(page: Any, timeout_ms: int = APP_IDLE_TIMEOUT_MS) -> None:
    """Wait until no element is still a loading skeleton (charts load their code lazily)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout_ms
    )


def open_page(page: Any, url: str, timeout_ms: int = APP_IDLE_TIMEOUT_MS) -> None:
    """Go to a page of the app, wait for its first run to finish and its elements to render."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_app_idle(page, timeout_ms)
    wait_rendered(page, timeout_ms)


def open_pages(
    visits: list[tuple[Any, str]],
    timeout_ms: int = APP_IDLE_TIMEOUT_MS,
    *,
    rendered: bool = True,
) -> None:
    """Open several pages at once, as a class joins, then wait for each as open_page does
    (the browser and the server overlap the loads instead of queueing them); with
    rendered=False only for each page's script run (charts may still be drawing)."""
    for page, url in visits:
        page.goto(url, wait_until="commit", timeout=timeout_ms)
    for page, _ in visits:
        wait_app_idle(page, timeout_ms)
        if rendered:
            wait_rendered(page, timeout_ms)


def plot_traces(page: Any, key: str) -> list[dict] | None:
    """The plotted traces (name, type, mode, x, y) of a keyed Plotly chart, read from the page."""
    return page.evaluate(_PLOT_JS, plot_selector(key))


def plot_layout(page: Any, key: str, path: str) -> Any:
    """One value of a keyed Plotly chart's full layout, e.g. path="yaxis.type"."""
    return page.evaluate(_LAYOUT_JS, [plot_selector(key), path])


def trace_named(traces: list[dict], prefix: str) -> dict:
    """The one trace whose name starts with prefix."""
    found = [t for t in traces if (t["name"] or "").startswith(prefix)]
    if len(found) != 1:
        names = [t["name"] for t in traces]
        raise AssertionError(f"expected one trace named {prefix!r}…, found {names}")
    return found[0]


def slider_track(page: Any, key: str) -> dict[str, float]:
    """The bounding box of a keyed slider's track (x, y, width, height), for mouse drags."""
    track = page.locator(f".st-key-{key} [role=group] > [data-orientation=horizontal]")
    return track.bounding_box()


def exception_texts(page: Any) -> list[str]:
    """Text of every Streamlit exception element on the page (empty when there is none)."""
    return page.locator(EXCEPTION).all_inner_texts()


# What the browser knows about its script runs: elements left from an older run, the top
# right status widget ("Running...", "Connecting"), and the connection error dialog.
_PAGE_STATE_JS = """() => ({
  stale: document.querySelectorAll('[data-stale="true"]').length,
  status: (document.querySelector('[data-testid="stStatusWidget"]') || {}).innerText || '',
  dialog: (document.querySelector('[role="dialog"]') || {}).innerText || '',
  url: location.href,
})"""


def page_state(page: Any) -> dict[str, Any]:
    """The page's stale element count, status widget, open dialog and address (for failures)."""
    try:
        return page.evaluate(_PAGE_STATE_JS)
    except Exception as err:  # a closed or crashed page says so instead
        return {"error": repr(err)}


def quiet_pointer(page: Any) -> None:
    """Park the mouse in a corner so no hover label or tooltip ends up in a screenshot."""
    page.mouse.move(1, 1)


def assert_no_exception(page: Any) -> None:
    """Fail if the page shows any Streamlit exception element."""
    texts = exception_texts(page)
    assert not texts, "the page shows a Streamlit exception:\n" + "\n---\n".join(texts)


_CONTENT_HEIGHT_JS = """() => Math.max(document.documentElement.scrollHeight,
  ...['stMain', 'stAppViewContainer', 'stSidebarContent'].map((id) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    return el ? el.scrollHeight : 0;
  }))"""


def save_screenshot(page: Any, folder: Path, name: str, *, full_page: bool = True) -> Path | None:
    """Write a screenshot of the page to <folder>/<name>.png; None if the page is gone.

    Streamlit scrolls inside its main container, not the document, so a full-page picture is
    taken by growing the viewport to the content's height for the moment of the shot.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    try:
        settle(page)
        viewport = page.viewport_size
        height = page.evaluate(_CONTENT_HEIGHT_JS) if full_page else viewport["height"]
        if height > viewport["height"]:
            page.set_viewport_size({"width": viewport["width"], "height": min(height, 12_000)})
            # Elements re-render at the new size; charts show a skeleton until they are back.
            page.wait_for_timeout(300)
            with contextlib.suppress(Exception):  # a late chart still beats no picture
                wait_rendered(page, timeout_ms=10_000)
        try:
            page.screenshot(path=str(path))
        finally:
            page.set_viewport_size(viewport)
    except Exception:  # a closed or crashed page has nothing to show; the test says why
        return None
    return path


# True while the page is at rest: no script run, no CSS transition under way, checked over a few
# frames in a row, because a component or a query parameter may start a second run after the
# first. A page that polls (presenter mode, a live run) may rarely rest on a busy machine, so the
# wait is bounded and then goes on: what follows must not depend on it (see _NO_STALE_FADE_JS).
_QUIET_FRAMES_JS = """([frames, timeoutMs]) => new Promise((resolve) => {
  let calm = 0;
  const deadline = performance.now() + timeoutMs;
  const tick = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const still = app && app.dataset.testScriptState === 'notRunning'
      && !document.getAnimations().some((a) => a instanceof CSSTransition);
    calm = still ? calm + 1 : 0;
    if (calm >= frames) resolve(true);
    else if (performance.now() > deadline) resolve(false);
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""

# While a run or a poll is under way Streamlit fades the elements it has not re-sent yet (they
# are marked data-stale): a transient look, not the page's. Pictures and accessibility scans of a
# page that polls would catch it at random, so for them stale elements keep full opacity.
_NO_STALE_FADE_JS = """() => {
  if (document.getElementById('steplr-test-no-stale-fade')) return;
  const style = document.createElement('style');
  style.id = 'steplr-test-no-stale-fade';
  style.textContent = '[data-stale="true"] { opacity: 1 !important; transition: none !important; }';
  document.head.appendChild(style);
}"""


def wait_quiet(page: Any, frames: int = 3, timeout_ms: int = 10_000) -> bool:
    """Wait (bounded) until the page has rested for a few frames; False if it never did."""
    return bool(page.evaluate(_QUIET_FRAMES_JS, [frames, timeout_ms]))


def settle(page: Any, timeout_ms: int = 10_000) -> None:
    """Wait for web fonts (emoji included), a page at rest, and park the pointer, so a picture
    (or an accessibility scan) shows the page as a student sees it. A page that polls (a class's
    present mode reruns fragments every second) rests only between polls: on a loaded machine
    it may not within `timeout_ms`, and then this goes on (stale elements are not faded)."""
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.evaluate(_NO_STALE_FADE_JS)
    quiet_pointer(page)
    wait_quiet(page, timeout_ms=timeout_ms)


# --- Several servers at once --------------------------------------------------------------------
# A server's start and stop are mostly waiting (imports on the other core, a graceful shutdown):
# two replicas, or a session's servers at its end, overlap those waits instead of queueing them.


def start_servers(servers: list[StreamlitServer]) -> list[StreamlitServer]:
    """Launch every server, then wait for each to be healthy (stopping all if one fails)."""
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_healthy()
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: list[StreamlitServer], grace_s: float = 10.0) -> None:
    """Terminate every server at once, then wait for each (killing any that lingers)."""
    for server in servers:
        if server.proc is not None:
            server._signal(signal.SIGTERM)
    for server in servers:
        server.wait_stopped(grace_s)


LIVE_STATUSES = ("queued", "running", "paused")


def stop_live_runs(database_url: str) -> None:
    """Ask every live run in a lecture hall's store to stop, so none keeps a trainer busy."""
    from steplr_viz.store.runs import RunStore

    store = RunStore(database_url=database_url)
    try:
        for run_id in store.list_runs()["run_id"]:
            if store.get_run(run_id).status in LIVE_STATUSES:
                store.request_control(run_id, "stop")
    finally:
        store.close()


@contextlib.contextmanager
def lecture_hall(
    new_server: Callable[..., StreamlitServer], database_url: str
) -> Iterator[tuple[StreamlitServer, StreamlitServer]]:
    """Two replicas of the app on one PostgreSQL store, started together; at the end their live
    runs are stopped and both servers with them. `new_server(script, extra_env=..., start=False)`
    makes a server without starting it (the e2e server_factory does)."""
    from steplr_viz.store.dialects import DATABASE_URL_ENV

    env = {DATABASE_URL_ENV: database_url}
    replicas = [new_server("app.py", extra_env=env, start=False) for _ in range(2)]
    start_servers(replicas)
    try:
        yield replicas[0], replicas[1]
    finally:
        try:
            stop_live_runs(database_url)
        finally:
            stop_servers(replicas)


# --- Pages shared by tests that only look -------------------------------------------------------

DESKTOP_VIEWPORT = {"width": 1400, "height": 900}
PHONE_VIEWPORT = {"width": 390, "height": 844}


class SharedPages:
    """Loaded pages that tests which only look (scan, read, measure) share, one per (screen,
    address, variant), so a page is loaded once instead of once per case.

    A page load costs Chromium ~5-8 CPU-s (Streamlit's and Plotly's script parsed and run); a
    switch of the system colour scheme costs under 1 s. Each screen has one browser context: a
    1400×900 desktop, and a 390×844 phone with touch (is_mobile, has_touch: a viewport size alone
    is not a phone). `get` sets the colour scheme the test asks for (Streamlit's automatic theme
    follows the media change live, charts included) and returns the page at rest. A test that
    changes a page must not use these: it takes a fresh page. Sharing pays where a page is
    costly to bring into its state (a finished run); a plain load in a reused tab (conftest
    `tab`) costs ~2 CPU-s, and a new page in a context ~6. Do not share a page that polls the
    server (a class's present mode reruns a fragment every second, ~0.13 CPU-s a second while
    open; an idle page costs ~0.006).
    """

    def __init__(self, browser: Any, timeout_ms: int = APP_IDLE_TIMEOUT_MS) -> None:
        self.browser = browser
        self.timeout_ms = timeout_ms
        self._contexts: dict[str, Any] = {}
        self._pages: dict[tuple[str, str, str], Any] = {}
        self.handed_out: list[tuple[str, str, str]] = []  # keys in the order tests got them

    def _context(self, screen: str) -> Any:
        if screen not in self._contexts:
            phone = screen == "phone"
            context = self.browser.new_context(
                viewport=PHONE_VIEWPORT if phone else DESKTOP_VIEWPORT,
                is_mobile=phone,
                has_touch=phone,
                accept_downloads=True,
            )
            context.set_default_timeout(self.timeout_ms)
            self._contexts[screen] = context
        return self._contexts[screen]

    def get(
        self,
        url: str,
        *,
        screen: str = "desktop",
        theme: str = "light",
        variant: str = "",
        prepare: Callable[[Any], None] | None = None,
    ) -> Any:
        """The page at `url` on `screen` in the colour scheme `theme`, loaded on first use and
        at rest; `prepare(page)` runs once after the load (a variant: a page in a given state)."""
        key = (screen, url, variant)
        page = self._pages.get(key)
        if page is None or page.is_closed():
            page = self._context(screen).new_page()
            page.emulate_media(color_scheme=theme)  # the first paint in the asked-for theme
            open_page(page, url, self.timeout_ms)
            if prepare is not None:
                prepare(page)
            self._pages[key] = page
        else:
            page.emulate_media(color_scheme=theme)
        wait_app_idle(page, self.timeout_ms)
        wait_rendered(page, self.timeout_ms)
        settle(page, self.timeout_ms)
        self.handed_out.append(key)
        return page

    def page(self, key: tuple[str, str, str]) -> Any | None:
        """The open page under a key that `handed_out` lists, or None once discarded."""
        page = self._pages.get(key)
        return None if page is None or page.is_closed() else page

    def discard(self, key: tuple[str, str, str]) -> None:
        """Close a page (one a failed test left in an unknown state); the next get reloads it."""
        page = self._pages.pop(key, None)
        if page is not None and not page.is_closed():
            with contextlib.suppress(Exception):
                page.close()

    def close(self) -> None:
        """Close every page and context."""
        self._pages.clear()
        for context in self._contexts.values():
            with contextlib.suppress(Exception):
                context.close()
        self._contexts.clear()


def forget(page: Any) -> None:
    """Leave a reused tab as a new one would be: on about:blank, its origin's storage and the
    context's cookies cleared, so the next load starts a new Streamlit session with nothing
    remembered (the browser id in localStorage included)."""
    if page.url.startswith("http"):
        page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
    page.context.clear_cookies()
    page.emulate_media(color_scheme="null")  # the context's own colour scheme again
    page.goto("about:blank")
