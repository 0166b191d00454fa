"""Which process owns a live run: ids that outlive a reused pid, and whether that process runs."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

# Identifies this process's runs in a store file, so that a second store (or the CLI in another
# process) opening the same file never marks runs that are still training as interrupted.
_PROCESS_TOKEN = uuid.uuid4().hex
_OWNER_CACHE: dict[int, str] = {}  # pid -> owner id; keyed by pid so a forked child differs

__all__ = ["current_owner", "owner_alive", "process_token"]


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), None if unknown."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _owner_id(pid: int) -> str:
    """pid plus start time, so a reused pid does not pass for the process that died."""
    return f"{pid}:{_process_start(pid) or ''}"


def current_owner() -> str:
    """This process's owner id (pid and start time)."""
    pid = os.getpid()
    if pid not in _OWNER_CACHE:
        _OWNER_CACHE[pid] = _owner_id(pid)
    return _OWNER_CACHE[pid]


def process_token() -> str:
    """A token unique to this process (a forked child gets its own)."""
    return f"{_PROCESS_TOKEN}-{os.getpid()}"


def owner_alive(owner: str | None) -> bool:
    """Whether the process that wrote `owner` (see current_owner) still runs."""
    pid_text, _, start = (owner or "").partition(":")
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # Our own pid under another token is a previous life of this pid (e.g. a container
        # restart where the app is pid 1 again): that process is gone.
        return False
    if start:
        return _process_start(pid) == start
    if os.name != "posix":
        return False  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OSError:
        return False
    return True
