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

        from steplr_viz.schedules.lr_holder import LrHolder

        # torch imports torch._dynamo (~2 s) when the first optimizer is built: here, in the
        # background, rather than in the page run that draws PyTorch's first curve.
        LrHolder(1.0)
    finally:
        _ready.set()  # a failed import raises again, with its message, where torch is called


def torch_ready() -> bool:
    """True once torch is imported (by us or by another page of this process)."""
    if _ready.is_set():
        return True
    with _lock:
        if _thread is None and "torch" in sys.modules:
            # Imported, or being imported, by another page of this process: wait for it.
            _load()
    return _ready.is_set()


def import_torch_soon(delay_s: float = 0.0) -> None:
    """Start importing torch in a background thread after `delay_s` (once per process).

    A page calls this once its script has drawn everything: an import started earlier would
    share the interpreter with the script run and the messages that carry the first paint.
    """
    global _thread
    with _lock:
        if _thread is None and not _ready.is_set():
            _thread = threading.Timer(delay_s, _load)
            _thread.name, _thread.daemon = "steplr-viz-torch-import", True
            _thread.start()


def wait_for_torch(timeout_s: float | None = None) -> bool:
    """Block until torch is imported (starting the import if needed); False on timeout."""
    if not torch_ready():
        import_torch_soon()
    return _ready.wait(timeout_s)
