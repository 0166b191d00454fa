"""The background Trainer: the model, optimizer and scheduler in a thread that publishes metrics."""

from __future__ import annotations

import atexit
import logging
import math
import random
import signal
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import LRScheduler

from steplr_viz.config import TrainConfig
from steplr_viz.schedules.choices import make_scheduler, step_epoch
from steplr_viz.schedules.steplr import batches_per_epoch
from steplr_viz.training.data import MnistData, load_mnist
from steplr_viz.training.metrics import (
    DIVERGED,
    FAILED,
    FINISHED,
    INTERRUPTED,
    PAUSED,
    RUNNING,
    STOPPED,
    TERMINAL_STATUSES,
    BatchPoint,
    EpochPoint,
    RunMetrics,
    Snapshot,
)
from steplr_viz.training.model import SimpleNet

logger = logging.getLogger(__name__)

__all__ = [
    "EVENTS",
    "Trainer",
    "build_optimizer",
    "evaluate",
    "interrupt_all",
    "set_seed",
    "stop_on_sigterm",
]


def set_seed(seed: int) -> None:
    """Seed torch, numpy and random (called once per run)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# torch's default RNG is process-wide: seeding and the model's init happen under one lock so
# two runs starting at once in different threads cannot interleave and swap their inits.
_INIT_LOCK = threading.Lock()
EVENTS = ("on_batch_end", "on_epoch_end", "on_status")
EVAL_CHUNK = 10_000  # the whole test set in one or a few big batches
EXIT_JOIN_TIMEOUT_S = 10.0  # how long the process's exit waits for its trainers (one batch)
EXIT_MESSAGE = "The app stopped while this run was training; it was marked interrupted."

# Trainers training in a background thread of this process, stopped and joined at its exit.
_LIVE: weakref.WeakSet[Trainer] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


def interrupt_all(timeout: float = EXIT_JOIN_TIMEOUT_S) -> None:
    """Interrupt every trainer training in a thread of this process and join them (bounded).

    Runs at the process's exit (atexit), while threads still run: a daemon thread killed inside
    torch at finalisation aborts the process ("terminate called without an active exception").
    """
    with _LIVE_LOCK:
        trainers = list(_LIVE)
    for trainer in trainers:
        trainer.interrupt(EXIT_MESSAGE)
    deadline = time.monotonic() + timeout
    for trainer in trainers:
        trainer.join(timeout=max(0.0, deadline - time.monotonic()))


# Registered after torch's import: atexit runs last-registered first, so trainers stop before
# torch's own exit handlers run.
atexit.register(interrupt_all)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds the main thread; atexit then stops the trainers


def stop_on_sigterm() -> None:
    """Make SIGTERM end this process as an exit does (trainers interrupted, threads joined).

    Only where SIGTERM still has its default action (which skips atexit) and only from the main
    thread: a host with its own handler (Streamlit, the train CLI) keeps it.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
    except ValueError:  # no signals here (an embedded interpreter)
        pass


class _Diverged(Exception):
    """Internal: the loss stopped being finite."""


class _CallbackError(Exception):
    """Internal: a user callback raised."""


def _describe(exc: BaseException) -> str:
    """A one-line message for an exception; DataError messages are already user-facing."""
    from steplr_viz.training.data import DataError

    if isinstance(exc, DataError | _CallbackError):
        return str(exc)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def build_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """Adam (the seed) or SGD with momentum, at the config's initial LR."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    return torch.optim.Adam(model.parameters(), lr=config.lr)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, np.ndarray]:
    """Mean test loss, accuracy in percent and predictions, in a few big batches."""
    was_training = model.training
    model.eval()
    loss_sum = 0.0
    correct = 0
    preds = []
    for start in range(0, x.shape[0], EVAL_CHUNK):
        xb, yb = x[start : start + EVAL_CHUNK], y[start : start + EVAL_CHUNK]
        out = model(xb)
        loss_sum += F.cross_entropy(out, yb, reduction="sum").item()
        pred = out.argmax(dim=1)
        correct += int((pred == yb).sum().item())
        preds.append(pred)
    model.train(was_training)
    n = max(1, int(x.shape[0]))
    return loss_sum / n, 100.0 * correct / n, torch.cat(preds).numpy().copy()


class Trainer:
    """Trains SimpleNet with StepLR in a daemon thread (or the caller's); publishes metrics."""

    def __init__(
        self,
        config: TrainConfig,
        data: MnistData | None = None,
        run_id: str | None = None,
        *,
        data_dir: str | Path | None = None,
    ) -> None:
        # The one check on a config's way to training, on a private copy: the caller mutating
        # its config later cannot change a live run.
        self.config = TrainConfig.from_dict(config.to_dict()).validated()
        self.run_id = run_id
        self.metrics = RunMetrics(self.config)
        self.data_dir = data_dir
        self.data = data  # the digits to train on; None: loaded in the run's thread
        self.final_state: dict[str, torch.Tensor] | None = None  # a finished run's weights
        self._callbacks: dict[str, list[Callable[..., Any]]] = {e: [] for e in EVENTS}
        self._stop_evt = threading.Event()
        self._resume_evt = threading.Event()  # cleared while a pause is requested
        self._resume_evt.set()
        self._done_evt = threading.Event()
        self._stopped_as: tuple[str, str | None] = (STOPPED, None)  # interrupt() changes it
        self._start_lock = threading.Lock()
        self._started = False
        self._thread: threading.Thread | None = None

    # --- control -------------------------------------------------------------------------------
    def add_callback(self, event: str, fn: Callable[..., Any]) -> None:
        """Register fn(trainer, arg) for on_batch_end / on_epoch_end / on_status."""
        if event not in self._callbacks:
            raise ValueError(f"event must be one of {', '.join(EVENTS)}; got {event!r}")
        self._callbacks[event].append(fn)

    def _claim_start(self) -> bool:
        with self._start_lock:
            if self._started or self.status in TERMINAL_STATUSES:
                return False
            self._started = True
            return True

    def start(self) -> None:
        """Start training in a daemon thread and return at once (no-op if started or ended)."""
        if not self._claim_start():
            return
        name = f"steplr-trainer-{self.run_id or hex(id(self))}"
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        with _LIVE_LOCK:
            _LIVE.add(self)
        stop_on_sigterm()
        self._thread.start()

    def run(self) -> Snapshot:
        """Train in the calling thread and return the final snapshot (Ctrl-C -> stopped)."""
        if not self._claim_start():
            if self._thread is not None:
                raise RuntimeError("this trainer is already running in a background thread")
            return self.metrics.snapshot()
        self._main()
        return self.metrics.snapshot()

    def pause(self) -> bool:
        """Ask the run to pause at the next batch boundary; False if it has ended."""
        if self.status in TERMINAL_STATUSES or self._stop_evt.is_set():
            return False
        self._resume_evt.clear()
        return True

    def resume(self) -> bool:
        """Let a paused run continue; False if it has ended."""
        if self.status in TERMINAL_STATUSES:
            return False
        self._resume_evt.set()
        return True

    def stop(self) -> bool:
        """Ask the run to stop at the next batch boundary (a run not yet started stops now)."""
        if self.status in TERMINAL_STATUSES:
            return False
        self._stop_evt.set()
        self._resume_evt.set()  # wake a paused run so it can stop
        with self._start_lock:
            never_started = not self._started
            if never_started:
                self._started = True  # start() and run() become no-ops
        if never_started:
            self._finish(*self._stopped_as)
            self._done_evt.set()
        return True

    def interrupt(self, reason: str) -> bool:
        """Stop the run at the next batch boundary as "interrupted" with this reason (the
        process is going away, not the student's choice); False if it has ended."""
        if self.status in TERMINAL_STATUSES:
            return False
        self._stopped_as = (INTERRUPTED, reason)
        return self.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the run to end; True if it has ended."""
        if not self._started:
            return self._done_evt.is_set()
        return self._done_evt.wait(timeout)

    @property
    def status(self) -> str:
        """The current status string."""
        return self.metrics.status

    @property
    def pause_requested(self) -> bool:
        """True between pause() and resume() (the status turns "paused" at the batch boundary)."""
        return not self._resume_evt.is_set() and not self._stop_evt.is_set()

    def snapshot(self) -> Snapshot:
        """Shortcut for self.metrics.snapshot()."""
        return self.metrics.snapshot()

    # --- the thread ------------------------------------------------------------------------------
    def _emit(self, event: str, arg: Any) -> None:
        for fn in self._callbacks[event]:
            try:
                fn(self, arg)
            except Exception as exc:
                raise _CallbackError(f"A {event} callback failed: {_describe(exc)}") from exc

    def _set_status(self, status: str, error: str | None = None) -> None:
        self.metrics.set_status(status, error)
        self._emit("on_status", status)

    def _finish(self, status: str, error: str | None = None) -> None:
        """Set a terminal status; if an on_status callback fails here the run is failed instead.

        The callbacks (the store's recorder) run before the live view shows the status, so
        whoever sees a run end finds it ended in the store too, its model saved.
        """
        self.metrics.clock_stop()
        if error is not None:
            self.metrics.set_error(error)  # the recorder stores it with the status
        try:
            self._emit("on_status", status)
        except _CallbackError as exc:
            if status == FAILED:  # nothing left to fall back to: log it
                self.metrics.set_status(status)
                logger.exception("run %s: on_status(failed) callback failed", self.run_id)
                return
            self._finish(FAILED, str(exc))
            return
        self.metrics.set_status(status)

    def _main(self) -> None:
        # The whole body is wrapped: the thread ends with a terminal status, never silently.
        try:
            self._train()
        except _Diverged as exc:
            self._finish(DIVERGED, str(exc))
        except KeyboardInterrupt:  # run() in the main thread: Ctrl-C stops the run cleanly
            self._stop_evt.set()
            self._finish(*self._stopped_as)
        except BaseException as exc:
            self._finish(FAILED, _describe(exc))
        finally:
            self.metrics.clock_stop()
            self._done_evt.set()
            with _LIVE_LOCK:
                _LIVE.discard(self)

    def _should_stop(self) -> bool:
        """Called at each batch boundary: honour a pause (blocking) and report a stop."""
        if not self._resume_evt.is_set() and not self._stop_evt.is_set():
            self.metrics.clock_stop()
            self._set_status(PAUSED)
            self._resume_evt.wait()  # no busy loop: resume() and stop() set it
            if self._stop_evt.is_set():
                return True
            self.metrics.clock_start()
            self._set_status(RUNNING)
        return self._stop_evt.is_set()

    def _train(self) -> None:
        cfg = self.config
        self.metrics.clock_start()
        self._set_status(RUNNING)
        data = self.data
        if data is None:
            data = load_mnist(cfg.data_source, self.data_dir)
        if self._stop_evt.is_set():
            self._finish(*self._stopped_as)
            return
        run = self._setup(data)
        if self._stop_evt.is_set():  # the first optimizer in a process imports torch._dynamo (~2 s)
            self._finish(*self._stopped_as)
            return
        self.metrics.begin(run.batches_per_epoch, cfg.epochs, data.description)
        run.model.train()
        for epoch in range(1, cfg.epochs + 1):
            self.metrics.begin_epoch(epoch)
            epoch_start = self.metrics.elapsed()
            loss_sum = self._train_epoch(run, data, epoch)
            if loss_sum is None:
                self._finish(*self._stopped_as)
                return
            # What the seed prints: the LR after the batch loop, before the epoch's step.
            printed_lr = float(run.optimizer.param_groups[0]["lr"])
            test_loss, test_acc, preds = evaluate(run.model, data.test_x, data.test_y)
            epoch_point = EpochPoint(
                epoch=epoch,
                train_loss=loss_sum / run.batches_per_epoch,
                lr=printed_lr,
                test_loss=test_loss,
                test_acc=test_acc,
                seconds=self.metrics.elapsed() - epoch_start,
            )
            self.metrics.add_epoch(epoch_point, run.model.fc.weight.detach().numpy().copy(), preds)
            self._emit("on_epoch_end", epoch_point)
            if not run.per_batch:
                step_epoch(run.scheduler, test_loss)  # after the epoch, as the seed does
            if epoch < cfg.epochs and self._should_stop():
                self._finish(*self._stopped_as)
                return
        # Kept for whoever records the run: a finished run's model can be taken home.
        self.final_state = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
        self._finish(FINISHED)

    def _setup(self, data: MnistData) -> _Run:
        """The seeded model, optimizer, scheduler and shuffle RNG for this run."""
        cfg = self.config
        with _INIT_LOCK:
            set_seed(cfg.seed)
            model = SimpleNet()
        optimizer = build_optimizer(cfg, model)
        bpe = batches_per_epoch(int(data.train_x.shape[0]), cfg.batch_size)
        return _Run(
            model=model,
            optimizer=optimizer,
            scheduler=make_scheduler(cfg, optimizer, bpe),
            shuffle=torch.Generator().manual_seed(cfg.seed),  # own RNG: threads cannot disturb it
            per_batch=cfg.scheduler_step == "batch",
            batches_per_epoch=bpe,
        )

    def _train_epoch(self, run: _Run, data: MnistData, epoch: int) -> float | None:
        """One epoch of optimizer steps; the sum of its batch losses, None if stopped."""
        train_x, train_y = data.train_x, data.train_y
        bs = self.config.batch_size
        group = run.optimizer.param_groups[0]  # the scheduler updates this dict in place
        on_batch = self._callbacks["on_batch_end"]
        clock = time.perf_counter
        # Each batch's time runs from the previous batch's to this one's: the shuffle,
        # metrics, callbacks and pause checks count as training time; evaluation and the
        # wait while paused do not.
        last = clock()
        perm = torch.randperm(int(train_x.shape[0]), generator=run.shuffle)
        loss_sum = 0.0
        for b in range(run.batches_per_epoch):
            if self._stop_evt.is_set() or not self._resume_evt.is_set():
                if self._should_stop():
                    return None
                last = clock()  # back from a pause
            idx = perm[b * bs : (b + 1) * bs]
            lr = group["lr"]  # the LR this step uses
            run.optimizer.zero_grad()
            loss = F.cross_entropy(run.model(train_x[idx]), train_y[idx])
            loss_value = loss.item()  # the one sync per batch
            if not math.isfinite(loss_value):
                raise _Diverged(
                    f"The loss became {loss_value} in epoch {epoch}, batch {b + 1} "
                    f"(LR {lr:g}): training diverged. Try a smaller learning rate."
                )
            loss.backward()
            run.optimizer.step()
            if run.per_batch:
                run.scheduler.step()  # after optimizer.step(), as PyTorch requires
            run.step += 1
            loss_sum += loss_value
            point = BatchPoint(run.step, epoch, loss_value, float(lr))
            now = clock()
            self.metrics.add_batch(point, b + 1, int(idx.shape[0]), now - last)
            last = now
            if on_batch:
                self._emit("on_batch_end", point)
        return loss_sum


@dataclass
class _Run:
    """What one run trains with, built once before its first epoch."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: LRScheduler
    shuffle: torch.Generator
    per_batch: bool
    batches_per_epoch: int
    step: int = 0  # optimizer steps so far, over all epochs
