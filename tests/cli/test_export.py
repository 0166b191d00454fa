"""Taking runs home: the zip opens in pandas with every stored number; TensorBoard reads back."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from steplr_viz.cli import export
from steplr_viz.config import TrainConfig
from steplr_viz.store.runs import RunStore
from steplr_viz.training.metrics import BatchPoint, EpochPoint


def _store_with_two_runs(folder) -> tuple[RunStore, list[str]]:
    store = RunStore(folder)
    ids = []
    for gamma in (0.1, 0.5):
        run_id = store.create_run(TrainConfig(gamma=gamma, epochs=2))
        store.add_batches(
            run_id,
            [BatchPoint(step=s, epoch=1 + (s - 1) // 3, loss=1 / s + gamma, lr=1e-3 * gamma**s)
             for s in range(1, 7)],
        )  # fmt: skip
        for epoch in (1, 2):
            store.add_epoch(
                run_id, EpochPoint(epoch, 0.5 / epoch, 1e-3 / 3, 0.4, 80.5 + gamma, 1.5)
            )
        store.set_status(run_id, "finished")
        ids.append(run_id)
    return store, ids


def test_the_zip_holds_every_batch_and_epoch_bit_for_bit(tmp_path):
    store, ids = _store_with_two_runs(tmp_path / "runs")
    records = export.select_records(store, ids)
    archive = zipfile.ZipFile(io.BytesIO(export.runs_zip(records)))
    assert sorted(archive.namelist()) == [
        "README.txt",
        *(f"{t}.{kind}" for t in ("batches", "epochs", "runs") for kind in ("csv", "parquet")),
    ]
    batches = pd.read_csv(archive.open("batches.csv"))
    epochs = pd.read_csv(archive.open("epochs.csv"))
    runs = pd.read_csv(archive.open("runs.csv"))
    assert runs["run_id"].tolist() == ids
    assert runs["gamma"].tolist() == [0.1, 0.5]
    assert runs["milestones"].map(json.loads).tolist() == [list(TrainConfig().milestones)] * 2
    for record in records:
        mine = batches[batches["run_id"] == record.run_id].drop(columns="run_id")
        pd.testing.assert_frame_equal(
            mine.reset_index(drop=True), record.batches, check_dtype=False
        )
        mine = epochs[epochs["run_id"] == record.run_id].drop(columns="run_id")
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), record.epochs, check_dtype=False)


def _runs_in(path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return pd.read_csv(archive.open("runs.csv"))["run_id"].tolist()


def test_the_cli_writes_a_zip_of_all_runs_or_the_chosen_ones(tmp_path, capsys):
    store, ids = _store_with_two_runs(tmp_path / "runs")
    target = tmp_path / "all.zip"
    assert export.main(["--zip", str(target), "--runs-dir", str(tmp_path / "runs")]) == 0
    assert sorted(_runs_in(target)) == sorted(ids)
    one = tmp_path / "one.zip"
    assert (
        export.main(["--zip", str(one), "--run", ids[1], "--runs-dir", str(tmp_path / "runs")]) == 0
    )
    assert _runs_in(one) == [ids[1]]
    assert (
        export.main(["--zip", str(one), "--run", "nope", "--runs-dir", str(tmp_path / "runs")]) == 2
    )
    assert "run_id must be" in capsys.readouterr().err
    missing = "0" * 12
    assert (
        export.main(["--zip", str(one), "--run", missing, "--runs-dir", str(tmp_path / "runs")])
        == 2
    )
    assert "no stored run" in capsys.readouterr().err


def test_the_cli_needs_a_destination(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        export.main(["--runs-dir", str(tmp_path / "runs")])
    assert exit_info.value.code == 2


def test_tensorboard_files_read_back_as_the_stored_scalars(tmp_path):
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator",
        reason="the optional tensorboard extra (requirements-dev installs it)",
    )
    store, ids = _store_with_two_runs(tmp_path / "runs")
    records = export.select_records(store, ids)
    folders = export.write_tensorboard(records, tmp_path / "tb")
    assert [f.name for f in folders] == ids
    for record, folder in zip(records, folders, strict=True):
        events = event_accumulator.EventAccumulator(str(folder))
        events.Reload()
        lr = [(e.step, e.value) for e in events.Scalars("batch/lr")]
        assert [s for s, _ in lr] == record.batches["step"].tolist()
        # TensorBoard keeps float32: compare at that precision.
        assert [v for _, v in lr] == pytest.approx(record.batches["lr"].tolist(), rel=1e-6)
        acc = [e.value for e in events.Scalars("epoch/test_acc")]
        assert acc == pytest.approx(record.epochs["test_acc"].tolist(), rel=1e-6)


def test_the_parquet_tables_keep_every_column_type(tmp_path):
    store, ids = _store_with_two_runs(tmp_path / "runs")
    records = export.select_records(store, ids)
    archive = zipfile.ZipFile(io.BytesIO(export.runs_zip(records)))
    runs = pd.read_parquet(archive.open("runs.parquet"))
    pd.testing.assert_frame_equal(runs, export.runs_table(records))
    assert isinstance(runs["created"].dtype, pd.DatetimeTZDtype)
    for table in ("batches", "epochs"):
        typed = pd.read_parquet(archive.open(f"{table}.parquet"))
        for record in records:
            mine = typed[typed["run_id"] == record.run_id].drop(columns="run_id")
            pd.testing.assert_frame_equal(mine.reset_index(drop=True), getattr(record, table))


# Old 12-hex ids a CSV reader takes for numbers: an integer that also loses leading zeros, and
# digits around one "e" (a float, here an overflow to inf).
NUMBER_LIKE_OLD_IDS = ("012345678901", "1234e5678901")


def _old_store(folder) -> None:
    """A store as an older version left it: runs and an experiment under number-like hex ids."""
    store = RunStore(folder)
    for run_id in (*NUMBER_LIKE_OLD_IDS, "0123456789ab"):  # the last one reads as text
        store.create_run(TrainConfig(epochs=1, experiment="000000000042"), run_id=run_id)
        store.add_batches(run_id, [BatchPoint(step=1, epoch=1, loss=0.5, lr=0.01)])
        store.add_epoch(run_id, EpochPoint(1, 0.5, 0.01, 0.4, 81.0, 1.5))
        store.save_model(run_id, b"weights")
        store.set_status(run_id, "finished")
    store.close()


def test_number_like_old_ids_become_ids_that_csv_and_parquet_readers_keep(tmp_path):
    # As it was: pandas reads these ids back as numbers, so the tables no longer join.
    for old in NUMBER_LIKE_OLD_IDS:
        assert pd.api.types.is_numeric_dtype(pd.read_csv(io.StringIO(f"run_id\n{old}\n"))["run_id"])
    _old_store(tmp_path / "runs")
    store = RunStore(tmp_path / "runs")  # opening the store renames them, data and all
    assert sorted(store.renamed_at_open) == sorted([*NUMBER_LIKE_OLD_IDS, "000000000042"])
    ids = [store.renamed_at_open[old] for old in NUMBER_LIKE_OLD_IDS] + ["0123456789ab"]
    assert sorted(store.list_runs()["run_id"]) == sorted(ids)
    assert RunStore(tmp_path / "runs").renamed_at_open == {}  # once only
    new_experiment = store.renamed_at_open["000000000042"]
    assert {c.experiment for c in store.list_configs().values()} == {new_experiment}
    records = export.select_records(store, ids)
    for record in records:
        assert len(record.batches) == len(record.epochs) == 1 and record.status == "finished"
        assert store.load_model(record.run_id) == b"weights"
    archive = zipfile.ZipFile(io.BytesIO(export.runs_zip(records)))
    for kind, read in (("csv", pd.read_csv), ("parquet", pd.read_parquet)):
        tables = {t: read(archive.open(f"{t}.{kind}")) for t in ("runs", "batches", "epochs")}
        for table in tables.values():
            assert table["run_id"].tolist() == ids, kind
        assert tables["runs"]["experiment"].tolist() == [new_experiment] * 3, kind
    # And the single run's CSV of the page's download.
    for run_id in ids:
        assert pd.read_csv(io.StringIO(store.export_csv(run_id)))["run_id"].tolist() == [run_id]


def test_live_runs_keep_a_number_like_id_until_they_end(tmp_path):
    store = RunStore(tmp_path / "runs")
    store.create_run(TrainConfig(epochs=1), run_id="123456789012")
    store.set_status("123456789012", "running")  # this process still trains it
    assert RunStore(tmp_path / "runs").renamed_at_open == {}
    store.set_status("123456789012", "stopped")
    assert list(RunStore(tmp_path / "runs").renamed_at_open) == ["123456789012"]
