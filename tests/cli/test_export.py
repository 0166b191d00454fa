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
    assert sorted(archive.namelist()) == ["README.txt", "batches.csv", "epochs.csv", "runs.csv"]
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
