"""Trainer callbacks that write a run to a run store as it trains."""

from __future__ import annotations

import threading
import time
from typing import Any

from steplr_viz.store.runs import Store, check_run_id
from steplr_viz.training.metrics import FINISHED, TERMINAL_STATUSES, BatchPoint, EpochPoint
from steplr_viz.training.model import state_dict_bytes

__all__ = ["StoreRecorder"]


class StoreRecorder:
    """Trainer callbacks that write a run to a store as it goes.

    Batches are buffered and flushed every `flush_every` batches or `flush_seconds`, whichever
    comes first, at each epoch end and at the end of the run; each epoch and each status is
    written at once. So a page reading the store (another app server's) sees a run's batches
    within about `flush_seconds`, a crash loses at most that much, and one write per batch
    (a round trip to a database server) never slows the trainer.
    """

    def __init__(
        self, store: Store, run_id: str, flush_every: int = 200, flush_seconds: float = 0.5
    ) -> None:
        self.store = store
        self.run_id = check_run_id(run_id)
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self._last_flush = time.monotonic()
        self._buffer: list[BatchPoint] = []
        self._lock = threading.Lock()
        self.enabled = True  # set False when the run is deleted: late writes are dropped

    def attach(self, trainer: Any) -> None:
        """Register on_batch_end, on_epoch_end and on_status on the trainer."""
        trainer.add_callback("on_batch_end", self.on_batch_end)
        trainer.add_callback("on_epoch_end", self.on_epoch_end)
        trainer.add_callback("on_status", self.on_status)

    def flush(self) -> None:
        """Write the buffered batches."""
        with self._lock:
            points, self._buffer = self._buffer, []
            self._last_flush = time.monotonic()
        if points and self.enabled:
            self.store.add_batches(self.run_id, points)

    def on_batch_end(self, trainer: Any, point: BatchPoint) -> None:
        """Buffer one batch; flush when the buffer is full or has waited flush_seconds."""
        with self._lock:
            self._buffer.append(point)
            full = (
                len(self._buffer) >= self.flush_every
                or time.monotonic() - self._last_flush >= self.flush_seconds
            )
        if full:
            self.flush()

    def on_epoch_end(self, trainer: Any, point: EpochPoint) -> None:
        """Flush the epoch's batches and record the epoch."""
        self.flush()
        if self.enabled:
            self.store.add_epoch(self.run_id, point)

    def on_status(self, trainer: Any, status: str) -> None:
        """Record the status (flushing first), with the error if the run ended with one."""
        error = None
        # Flushed at every status, pause included: a paused run looks the same on every server.
        self.flush()
        if status in TERMINAL_STATUSES:
            error = _trainer_error(trainer)
        if self.enabled:
            if status == FINISHED and getattr(trainer, "final_state", None) is not None:
                # Before the final status: whoever sees "finished" can download the model.
                self.store.save_model(self.run_id, state_dict_bytes(trainer.final_state))
            self.store.set_status(self.run_id, status, error)


def _trainer_error(trainer: Any) -> str | None:
    """The run's error message, if the trainer has one yet."""
    metrics = getattr(trainer, "metrics", None)
    return getattr(metrics, "error", None)
