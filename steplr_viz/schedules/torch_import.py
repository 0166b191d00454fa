"""Import torch once per process in a background thread, so a page can paint before it is loaded.

On a cold start `import torch` takes several seconds, most of the explorer's first load. The
explorer draws the closed form at once and adds PyTorch's own curve when `torch_ready()` says so.
"""

from __future__ import annotations

import sys
import threading

_ready = threading.Event()
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _load() -> None:
    try:
        import torch.optim.lr_scheduler  # noqa: F401  (the part the curves use)
    finally:
        _ready.set()  # a failed import raises again, with its message, where torch is called


def torch_ready() -> bool:
    """True once torch is imported; otherwise start importing it in the background (once)."""
    global _thread
    if _ready.is_set():
        return True
    with _lock:
        if _thread is None:
            if "torch" in sys.modules:
                # Imported, or being imported, by another page of this process: wait for it.
                _load()
                return True
            _thread = threading.Thread(target=_load, name="steplr-viz-torch-import", daemon=True)
            _thread.start()
    return _ready.is_set()


def wait_for_torch(timeout_s: float | None = None) -> bool:
    """Block until torch is imported (starting the import if needed); False on timeout."""
    torch_ready()
    return _ready.wait(timeout_s)
