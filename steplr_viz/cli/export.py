"""Take runs home: every batch and epoch of chosen runs as CSV and Parquet in a zip, or TensorBoard.

From the page (a download button) or the command line:

    python -m steplr_viz.export --zip runs.zip              # every stored run
    python -m steplr_viz.export --zip two.zip --run ID --run ID
    python -m steplr_viz.export --tensorboard tb/           # then: tensorboard --logdir tb/
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steplr_viz.cli.common import HelpFormatter, add_version

if TYPE_CHECKING:  # pandas loads when a table is made: --help and --version answer at once
    import pandas as pd

# What the zip holds, and how to open it: also written into the zip as README.txt.
ZIP_README = """\
Runs exported from steplr-viz. Three tables, one row per run, per batch and per epoch, each
as CSV (for spreadsheets) and as Parquet (every column keeps its type: ids stay text, times
stay times):

  runs         run_id, status, times, final test accuracy and every training setting
  batches      run_id, step (1-based optimizer step), epoch (1-based), loss, lr
  epochs       run_id, epoch (1-based, as the seed prints "Epoch N"; t = N - 1 in the formula),
               train_loss, lr (the LR used during the epoch), test_loss, test_acc (%), seconds

In pandas:

    import zipfile, pandas as pd
    z = zipfile.ZipFile("runs.zip")
    batches = pd.read_parquet(z.open("batches.parquet"))  # or pd.read_csv(z.open("batches.csv"))
"""


def runs_table(records: Sequence[Any]) -> pd.DataFrame:
    """One row per run: id, status, times, final accuracy and its config's fields."""
    import pandas as pd

    rows = []
    for record in records:
        row = {
            "run_id": record.run_id,
            "status": str(record.status),
            "created": record.created,
            "finished": record.finished,
            "final_test_acc": record.final_acc,
        }
        settings = dataclasses.asdict(record.config)
        # Sequences (MultiStepLR's milestones) as JSON lists, which any reader parses.
        row.update(
            {
                k: json.dumps(list(v)) if isinstance(v, (list, tuple)) else v
                for k, v in settings.items()
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _stacked(records: Sequence[Any], attribute: str) -> pd.DataFrame:
    import pandas as pd

    frames = [getattr(r, attribute).assign(run_id=r.run_id) for r in records]
    if not frames:
        return pd.DataFrame({"run_id": []})
    frame = pd.concat(frames, ignore_index=True)
    return frame[["run_id", *[c for c in frame.columns if c != "run_id"]]]


def _parquet(frame: pd.DataFrame) -> bytes:
    """The frame as Parquet bytes, every column with its type (ids as text)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def runs_zip(records: Sequence[Any]) -> bytes:
    """A zip of the runs, batches and epochs tables as CSV (full float precision) and Parquet,
    and a README."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", ZIP_README)
        for name, frame in (
            ("runs", runs_table(records)),
            ("batches", _stacked(records, "batches")),
            ("epochs", _stacked(records, "epochs")),
        ):
            archive.writestr(f"{name}.csv", frame.to_csv(index=False, float_format="%.17g"))
            archive.writestr(f"{name}.parquet", _parquet(frame))
    return buffer.getvalue()


def write_tensorboard(records: Sequence[Any], folder: str | Path) -> list[Path]:
    """Write each run as TensorBoard event files in folder/<run_id>; the run folders back."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:  # the optional extra
        raise RuntimeError(
            "TensorBoard export needs the tensorboard package: "
            "pip install 'steplr-viz[tensorboard]'"
        ) from exc
    written = []
    for record in records:
        run_folder = Path(folder) / record.run_id
        with SummaryWriter(log_dir=str(run_folder)) as writer:
            for point in record.batches.itertuples(index=False):
                writer.add_scalar("batch/loss", point.loss, point.step)
                writer.add_scalar("batch/lr", point.lr, point.step)
            for point in record.epochs.itertuples(index=False):
                for column in ("train_loss", "lr", "test_loss", "test_acc"):
                    writer.add_scalar(f"epoch/{column}", getattr(point, column), point.epoch)
            settings = dataclasses.asdict(record.config)
            writer.add_text("config", "\n".join(f"{k} = {v!r}  " for k, v in settings.items()))
        written.append(run_folder)
    return written


def select_records(store: Any, run_ids: Iterable[str] | None) -> list[Any]:
    """The stored runs with these ids (every run when None), oldest first."""
    if run_ids is None:
        listed = store.list_runs()
        run_ids = list(reversed(listed["run_id"].tolist())) if len(listed) else []
    records = []
    for run_id in run_ids:
        record = store.get_run(run_id)
        if record is None:
            raise KeyError(f"no stored run {run_id!r}")
        records.append(record)
    return records


def build_parser() -> argparse.ArgumentParser:
    """The export CLI's flags."""
    parser = argparse.ArgumentParser(
        prog="python -m steplr_viz.export",
        description="Export stored runs: every batch and epoch, as CSVs in a zip or TensorBoard.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--zip", type=Path, help="write the runs as CSVs into this zip file (default: no zip)"
    )
    parser.add_argument(
        "--tensorboard", type=Path, help="write TensorBoard event files here (default: none)"
    )
    parser.add_argument(
        "--run",
        action="append",
        dest="runs",
        help="a run id to export, repeatable (default: all runs)",
    )
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=None,
        help="the run store's folder (default: $STEPLR_VIZ_RUNS_DIR or ./runs)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a shared PostgreSQL run store, postgresql://... (default: "
        "$STEPLR_VIZ_DATABASE_URL, else SQLite in the runs folder)",
    )
    add_version(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Export the chosen runs; 0 on success, 2 for a usage error or an unknown run."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from steplr_viz.store.runs import open_store  # pandas and the store: once the flags are read

    if args.zip is None and args.tensorboard is None:
        parser.error("say where to: --zip FILE and/or --tensorboard DIR")
    try:
        store, problem = open_store(args.runs_dir, args.database_url)
    except ValueError as exc:  # not a postgresql:// URL
        parser.error(str(exc))
    if problem:
        print(problem, file=sys.stderr)
    try:
        records = select_records(store, args.runs)
    except (KeyError, ValueError) as exc:  # unknown, or not a run id at all
        print(exc.args[0], file=sys.stderr)
        return 2
    if args.zip is not None:
        args.zip.write_bytes(runs_zip(records))
        print(f"{len(records)} run(s) written to {args.zip}")
    if args.tensorboard is not None:
        try:
            folders = write_tensorboard(records, args.tensorboard)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(
            f"{len(folders)} run(s) written to {args.tensorboard}: tensorboard --logdir "
            f"{args.tensorboard}"
        )
    return 0
