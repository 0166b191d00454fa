"""Suite-wide settings: hypothesis that fails fast, a per-test timeout that really stops, and
AppTest's scan of the installed packages done once."""

from __future__ import annotations

import functools
import os
import signal
import threading

import pytest
import pytest_timeout
from hypothesis import Phase, settings
from streamlit.components.v2 import manifest_scanner

# The throwaway PostgreSQL server's plugin: its log in a failed postgres test's report, and each
# test's databases dropped when the test ends.
pytest_plugins = ("tests.postgres", "tests.stores")

# A failure must report in seconds. Hypothesis's explain phase once spent 25+ minutes diffing
# two 300-float lists, and shrinking re-runs a torch simulation hundreds of times: neither runs
# here. A failure reports the first failing example as generated (the strategies are bounded).
settings.register_profile(
    "fast-fail",
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    deadline=None,
    print_blob=False,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast-fail"))

# Every new AppTest scans the metadata of every installed package (about 1,900 here) for
# components-v2 manifests: about 0.15 s of each page opened in a test, most of the inner loop's
# AppTest time. A server scans once, at its start; the packages do not change during a test
# session, so the suite scans once too. (The app's own components are inline: no manifest.)
manifest_scanner.scan_component_manifests = functools.cache(
    manifest_scanner.scan_component_manifests
)

# Seconds a timed-out test gets to unwind after its first interruption before the run is ended.
TIMEOUT_GRACE_SECONDS = float(os.environ.get("STEPLR_TIMEOUT_GRACE_SECONDS", "30"))


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):  # noqa: F811 (hypothesis's settings is another name)
    """pytest-timeout's signal method, with a second alarm for tests that swallow the first.

    The first SIGALRM fails the test as pytest-timeout does. Hypothesis catches that failure and
    replays the example, which hangs again with no alarm left: seen here, a 3-second timeout
    stopped a stuck hypothesis test after 105 s. So the alarm repeats: if the test is still
    running TIMEOUT_GRACE_SECONDS later, the stacks are dumped and the run ends (the thread
    method's hard stop).
    """
    if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
        return None  # pytest-timeout's own implementation
    alarms = []

    def handler(signum, frame):
        __tracebackhide__ = True
        alarms.append(signum)
        if len(alarms) == 1:
            pytest_timeout.timeout_sigalrm(item, settings)  # raises Failed in the test
        else:
            pytest_timeout.timeout_timer(item, settings)  # dumps stacks, os._exit(1)

    def cancel():
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, settings.timeout, TIMEOUT_GRACE_SECONDS)
    return True
