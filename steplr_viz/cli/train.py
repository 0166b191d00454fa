"""The seed's script as a CLI: `python -m steplr_viz.train [flags]` trains SimpleNet with StepLR."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from steplr_viz.cli.common import HelpFormatter, add_version
from steplr_viz.config import DATA_SOURCES, OPTIMIZERS, SCHEDULER_STEPS, SCHEDULERS, TrainConfig
from steplr_viz.store.dialects import database_url
from steplr_viz.training.metrics import FINISHED, STOPPED, EpochPoint

if TYPE_CHECKING:
    from steplr_viz.training.trainer import Trainer

# torch, pandas and the trainer load only once the flags are read (in main): --help, --version
# and a flag error answer at once instead of after seconds of `import torch`.

EXIT_USAGE = 2  # bad flags or missing data, as argparse does
EXIT_FAILED = 1  # the run failed or diverged
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM

_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def _one_line(text: str) -> str:
    """Messages must stay on one line whatever the user typed (a value may hold newlines)."""
    return " ".join(str(text).split())


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `error: <message>` on stderr, exit 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        _fail(message, EXIT_USAGE)


def _fail(message: str, code: int, stream: TextIO | None = None) -> NoReturn:
    print(f"error: {_one_line(message)}", file=stream or sys.stderr, flush=True)
    raise SystemExit(code)


def int_list(text: str) -> tuple[int, ...]:
    """argparse type: "2,4" -> (2, 4)."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """Flags for every TrainConfig field (defaults: the seed's), data and store options."""
    d = TrainConfig()
    p = _Parser(
        prog="python -m steplr_viz.train",
        description="Train the seed's SimpleNet on MNIST with Adam and StepLR, printing the "
        "seed's lines for each epoch.",
        formatter_class=HelpFormatter,
    )
    add_version(p)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer, help="optimizer")
    p.add_argument("--lr", type=float, default=d.lr, help="initial learning rate, in (0, 10]")
    p.add_argument("--momentum", type=float, default=d.momentum, help="SGD momentum, in [0, 1)")
    p.add_argument("--step-size", type=int, default=d.step_size, help="StepLR step_size")
    p.add_argument("--gamma", type=float, default=d.gamma, help="StepLR gamma, in (0, 1]")
    p.add_argument("--epochs", type=int, default=d.epochs, help="epochs to train")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="digits per batch")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed (weights, shuffling)")
    p.add_argument(
        "--scheduler-step",
        choices=SCHEDULER_STEPS,
        default=d.scheduler_step,
        help="step the scheduler after each epoch (the seed) or after each batch",
    )
    p.add_argument("--scheduler", choices=SCHEDULERS, default=d.scheduler, help="LR scheduler")
    p.add_argument(
        "--milestones",
        type=int_list,
        default=",".join(map(str, d.milestones)),  # a string: --help shows it as typed
        help="MultiStepLR milestones, comma-separated (e.g. 2,4)",
    )
    p.add_argument("--warmup-epochs", type=int, default=d.warmup_epochs, help="warmup_steplr")
    p.add_argument("--patience", type=int, default=d.patience, help="plateau patience")
    p.add_argument(
        "--experiment",
        default=None,  # TrainConfig.validated() reads None as "" (no experiment)
        help="experiment id (12 letters and digits) to group the run with (default: none)",
    )
    p.add_argument(
        "--data-source",
        choices=DATA_SOURCES,
        default=d.data_source,
        help="bundled: the 5,000 packaged digits; full: MNIST in --data-dir; auto: full if there",
    )
    p.add_argument(
        "--data-dir", default=None, help="MNIST folder (default: $STEPLR_VIZ_DATA_DIR or ./data)"
    )
    p.add_argument(
        "--runs-dir", default=None, help="runs folder (default: $STEPLR_VIZ_RUNS_DIR or ./runs)"
    )
    p.add_argument(
        "--database-url",
        default=None,
        help="a shared PostgreSQL run store, postgresql://... (default: "
        "$STEPLR_VIZ_DATABASE_URL, else SQLite in the runs folder)",
    )
    p.add_argument("--download", action="store_true", help="download full MNIST if absent")
    p.add_argument("--no-store", action="store_true", help="do not record the run")
    p.add_argument(
        "--save-model",
        type=Path,
        default=None,
        help="write the finished model's state_dict here, with torch.save (default: not written)",
    )
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The checked TrainConfig the flags ask for; ValueError names the flag and its range."""
    try:
        return _flags_config(args).validated()
    except ValueError as exc:
        raise _flag_error(exc) from exc


def trainer_from_args(args: argparse.Namespace) -> Trainer:
    """A Trainer for the flags' config, which it checks (the one check on the CLI's way)."""
    from steplr_viz.training.trainer import Trainer

    try:
        return Trainer(_flags_config(args))
    except ValueError as exc:
        raise _flag_error(exc) from exc


def _flags_config(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(**{name: getattr(args, name) for name in _FIELDS})


def _flag_error(exc: ValueError) -> ValueError:
    """The config's error, naming the flag as argparse does for its own errors."""
    message = str(exc)
    field = message.split(" ", 1)[0]
    if field in _FIELDS:
        message = f"argument --{field.replace('_', '-')}: {message}"
    return ValueError(message)


def _print_epoch(point: EpochPoint) -> None:
    print(point.seed_lines(), flush=True)  # exactly the seed's two lines


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, train, print the seed's lines; returns the exit code."""
    args = build_parser().parse_args(argv)
    if not args.no_store:
        try:  # a URL that is not postgresql:// is a flag error: refused before anything loads
            database_url(args.database_url)
        except ValueError as exc:
            _fail(str(exc), EXIT_USAGE)
    from steplr_viz.store.recorder import StoreRecorder
    from steplr_viz.store.runs import open_store
    from steplr_viz.training.data import DataError, load_mnist
    from steplr_viz.training.model import load_snippet, state_dict_bytes

    try:
        trainer = trainer_from_args(args)
    except ValueError as exc:
        _fail(str(exc), EXIT_USAGE)
    config = trainer.config

    try:
        data = load_mnist(config.data_source, data_dir=args.data_dir, download=args.download)
    except DataError as exc:
        _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        print("Interrupted while loading the data; nothing was recorded.", file=sys.stderr)
        return EXIT_INTERRUPTED

    store = run_id = None
    if not args.no_store:
        try:
            store, reason = open_store(args.runs_dir, args.database_url)
            if reason:
                print(f"note: {_one_line(reason)}", file=sys.stderr, flush=True)
            run_id = store.create_run(config)
        except ValueError as exc:  # a database URL that is not postgresql://
            _fail(str(exc), EXIT_USAGE)
        except KeyboardInterrupt:  # before the Ctrl-C handler below exists
            if run_id is not None:
                store.set_status(run_id, STOPPED)
            print("Interrupted before training began.", file=sys.stderr)
            return EXIT_INTERRUPTED

    trainer.data, trainer.run_id = data, run_id
    if store is not None:
        StoreRecorder(store, run_id).attach(trainer)
    trainer.add_callback("on_epoch_end", lambda _t, point: _print_epoch(point))

    stopped_by: int | None = None  # the signal that asked the run to stop

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopped_by
        if stopped_by is not None:  # a second one: stop waiting for the batch to end
            raise KeyboardInterrupt
        stopped_by = signum
        trainer.stop()  # takes effect within one batch; the store records "stopped"

    # Ctrl-C and SIGTERM (a service manager, `kill`, a container stopping) end the run alike.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        snap = trainer.run()
    except KeyboardInterrupt:
        if store is not None:
            store.set_status(run_id, STOPPED)
        snap = None
        stopped_by = stopped_by or signal.SIGINT
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    if snap is not None and snap.status == FINISHED:  # even if a signal came with the last batch
        print(f"Throughput: {round(snap.samples_per_sec)} samples/s", flush=True)
        if args.save_model is not None and trainer.final_state is not None:
            args.save_model.write_bytes(state_dict_bytes(trainer.final_state))
            print(f"Model saved to {args.save_model}: load it with", flush=True)
            print(load_snippet(str(args.save_model)), flush=True)
        return 0
    if stopped_by is not None or snap is None or snap.status == STOPPED:
        done = len(snap.epochs) if snap is not None else 0
        where = f"; run {run_id} recorded as stopped" if run_id else ""
        how = "SIGTERM" if stopped_by == signal.SIGTERM else "Ctrl-C"
        print(f"Stopped by {how} after {done} epoch(s){where}.", file=sys.stderr, flush=True)
        return EXIT_TERMINATED if stopped_by == signal.SIGTERM else EXIT_INTERRUPTED
    _fail(f"the run {snap.status}: {snap.error or 'no message'}", EXIT_FAILED)
