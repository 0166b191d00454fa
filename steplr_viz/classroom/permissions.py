"""Who may do what with a shared run: its starter from any of their tabs, or the teacher.

Runs belong to the server, so every student sees every run. Watching, comparing and
downloading are open to all; pausing, resuming, stopping and deleting a run are for the
browser that started it, and for whoever gives the teacher key set at server start.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

# The teacher key is given to the server in this environment variable, never in a URL.
TEACHER_KEY_ENV = "STEPLR_VIZ_TEACHER_KEY"


@dataclass(frozen=True)
class Viewer:
    """Someone looking at a page: their browser's starter id, and whether they are the teacher."""

    starter: str | None
    is_teacher: bool = False


def starter_id(browser_secret: str) -> str:
    """What the store keeps for a browser: a digest, so the secret itself is never stored."""
    return hashlib.sha256(f"steplr-viz starter {browser_secret}".encode()).hexdigest()[:32]


def teacher_key_set(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the server was started with a teacher key."""
    return bool((environ if environ is not None else os.environ).get(TEACHER_KEY_ENV))


def is_teacher_key(given: str, environ: Mapping[str, str] | None = None) -> bool:
    """True when `given` is the server's teacher key (compared in constant time)."""
    expected = (environ if environ is not None else os.environ).get(TEACHER_KEY_ENV, "")
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def can_control(viewer: Viewer, started_by: str | None) -> bool:
    """May this viewer pause, resume, stop or delete a run started by `started_by`?

    A run with no starter (started from the CLI, or before starters were kept) is the teacher's.
    """
    if viewer.is_teacher:
        return True
    return started_by is not None and viewer.starter is not None and viewer.starter == started_by


def control_hint(viewer: Viewer, started_by: str | None) -> str | None:
    """Why the controls are missing, in a sentence; None when the viewer may use them."""
    if can_control(viewer, started_by):
        return None
    if started_by is None:
        return (
            "This run was started outside the page: only the teacher can pause, stop or delete it."
        )
    return (
        "Another student started this run: you can watch, compare and download it; "
        "only they (from any of their tabs) or the teacher can pause, stop or delete it."
    )


def can_lead(viewer: Viewer, leader: str | None) -> bool:
    """May this viewer lead a class (move its followers, open a sweep)?

    The browser that opened the class in present mode leads it, and the teacher may too.
    """
    if viewer.is_teacher:
        return True
    return leader is not None and viewer.starter is not None and viewer.starter == leader
