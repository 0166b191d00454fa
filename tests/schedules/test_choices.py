"""Scheduler choices: a real run uses the LR its predicted curve says (torch is the oracle)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest
import torch

from steplr_viz.cli import train
from steplr_viz.config import SCHEDULERS, TrainConfig
from steplr_viz.schedules.choices import (
    PLATEAU_NOTE,
    PLATEAU_PATIENCE_HELP,
    PLATEAU_THRESHOLD,
    PLATEAU_THRESHOLD_MODE,
    make_scheduler,
    predicted_lr_curve,
    prediction_note,
    warmup_note,
)
from steplr_viz.store.runs import InMemoryRunStore, RunStore
from steplr_viz.training.data import MnistData, load_mnist
from steplr_viz.training.metrics import FINISHED
from steplr_viz.training.run_plan import predicted_lrs
from steplr_viz.training.trainer import Trainer

EPOCH_SCHEDULERS = [s for s in SCHEDULERS if s != "plateau"]


@pytest.fixture(scope="module")
def small() -> MnistData:
    """512 train / 200 test bundled digits: 4 batches of 128 per epoch."""
    b = load_mnist("bundled")
    return MnistData(
        b.train_x[:512].clone(), b.train_y[:512].clone(), b.test_x[:200].clone(),
        b.test_y[:200].clone(), "bundled", "test slice: 512 train / 200 test",
    )  # fmt: skip


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run(config: TrainConfig, data: MnistData):
    snap = Trainer(config, data=data).run()
    assert snap.status == FINISHED, snap.error
    return snap


# --- real runs against the predicted curve --------------------------------------------------


@pytest.mark.parametrize("name", EPOCH_SCHEDULERS)
def test_per_epoch_lr_of_a_real_run_equals_the_predicted_curve(name: str, small: MnistData):
    config = TrainConfig(scheduler=name, epochs=5, batch_size=128, milestones=(2, 4))
    snap = run(config, small)
    predicted = predicted_lr_curve(config)
    assert [p.lr for p in snap.epochs] == list(predicted)
    for p in snap.batches:  # stepped per epoch: every batch of an epoch uses the epoch's LR
        assert p.lr == predicted[p.epoch - 1]
    # Only the warm-up has something the curve hides: the shift of StepLR's decays.
    assert (prediction_note(config) is None) == (name != "warmup_steplr")


@pytest.mark.parametrize("name", EPOCH_SCHEDULERS)
def test_per_batch_lr_of_a_real_run_equals_the_predicted_curve(name: str, small: MnistData):
    config = TrainConfig(
        scheduler=name, epochs=3, batch_size=128, scheduler_step="batch",
        step_size=4, milestones=(5, 9), warmup_epochs=3,
    )  # fmt: skip
    snap = run(config, small)
    predicted = predicted_lr_curve(config, batches_per_epoch=snap.batches_per_epoch)
    assert len(predicted) == 12
    assert [p.lr for p in snap.batches] == list(predicted)


def test_the_curves_are_the_schedules_closed_forms():
    # Stepped, torch multiplies the LR by γ at each decay (its chainable form), so the closed
    # forms agree to rounding, not bit for bit.
    base = TrainConfig()
    assert list(predicted_lr_curve(base)) == pytest.approx(
        [1e-3 * 0.1 ** (t // 2) for t in range(5)]
    )
    constant = TrainConfig(scheduler="constant")
    assert list(predicted_lr_curve(constant)) == [1e-3] * 5
    multi = TrainConfig(scheduler="multistep", milestones=(3,), gamma=0.5)
    assert list(predicted_lr_curve(multi)) == [1e-3, 1e-3, 1e-3, 5e-4, 5e-4]
    warm = list(predicted_lr_curve(TrainConfig(scheduler="warmup_steplr", warmup_epochs=1)))
    assert warm[0] == pytest.approx(1e-3 / 3) and warm[1:] == [1e-3, 1e-3, 1e-4, 1e-4]
    cosine = predicted_lr_curve(TrainConfig(scheduler="cosine", epochs=4))
    assert cosine[0] == 1e-3 and cosine[2] == pytest.approx(5e-4)  # halfway at T_max / 2
    expo = predicted_lr_curve(TrainConfig(scheduler="exponential", gamma=0.5))
    assert list(expo) == pytest.approx([1e-3 * 0.5**t for t in range(5)])


def test_the_factory_builds_real_torch_schedulers():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    kinds = {name: type(make_scheduler(TrainConfig(scheduler=name), opt)).__name__
             for name in SCHEDULERS}  # fmt: skip
    assert kinds == {
        "steplr": "StepLR", "constant": "ConstantLR", "multistep": "MultiStepLR",
        "exponential": "ExponentialLR", "cosine": "CosineAnnealingLR",
        "plateau": "ReduceLROnPlateau", "warmup_steplr": "SequentialLR",
    }  # fmt: skip


def test_plateau_decays_on_the_test_loss_as_torch_replays_it(small: MnistData):
    # A high LR makes the test loss stop improving, so the plateau scheduler fires.
    config = TrainConfig(scheduler="plateau", lr=0.05, gamma=0.5, patience=0, epochs=6)
    snap = run(config, small)
    lrs = [p.lr for p in snap.epochs]
    assert min(lrs) < config.lr  # it did decay: the test is not vacuous
    losses = tuple(p.test_loss for p in snap.epochs)
    assert lrs == list(predicted_lr_curve(config, test_losses=losses))
    # No decay is known in advance, and the engine says so.
    assert list(predicted_lr_curve(config)) == [config.lr] * 6
    assert prediction_note(config) == PLATEAU_NOTE


def test_sgd_with_momentum_is_a_choice(small: MnistData):
    snap = run(TrainConfig(optimizer="sgd", lr=0.1, epochs=2, batch_size=128), small)
    assert snap.epochs[-1].test_acc > 50.0  # it learns


# --- validation and persistence ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scheduler": "onecycle"}, "scheduler must be one of steplr, constant"),
        ({"milestones": ()}, "milestones must be 1 to 50 strictly increasing"),
        ({"milestones": (3, 2)}, "milestones must be"),
        ({"milestones": (0, 2)}, "milestones must be"),
        ({"milestones": "2,4"}, "milestones must be"),
        ({"milestones": (2.5,)}, "milestones must be an integer"),
        ({"warmup_epochs": 0}, "warmup_epochs must be an integer in [1,"),
        ({"patience": -1}, "patience must be an integer in [0,"),
        ({"experiment": "Exp 1"}, 'experiment must be "" or an id of 12'),
        ({"scheduler": "plateau", "scheduler_step": "batch"}, "scheduler_step must be epoch"),
    ],
)
def test_bad_scheduler_fields_are_refused_by_name(changes: dict, message: str):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        TrainConfig(**changes).validated()


def test_milestones_normalise_to_a_tuple_of_ints():
    config = TrainConfig(milestones=[2.0, 4]).validated()
    assert config.milestones == (2, 4) and all(type(m) is int for m in config.milestones)
    assert TrainConfig.from_dict({"milestones": [2, 4]}) == TrainConfig(milestones=(2, 4))


@pytest.mark.parametrize("make_store", [InMemoryRunStore, "sqlite"])
def test_new_fields_persist_with_a_run(make_store, tmp_path):
    store = RunStore(tmp_path) if make_store == "sqlite" else make_store()
    config = TrainConfig(
        scheduler="warmup_steplr", milestones=(2, 4), warmup_epochs=2, patience=3,
        experiment="0123456789ab",
    ).validated()  # fmt: skip
    run_id = store.create_run(config)
    assert store.get_run(run_id).config == config
    assert store.list_configs() == {run_id: config}


def test_runs_stored_before_the_fields_existed_read_back_with_the_defaults(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(TrainConfig(gamma=0.5))
    new_fields = ("scheduler", "milestones", "warmup_epochs", "patience", "experiment")
    old = {k: v for k, v in TrainConfig(gamma=0.5).to_dict().items() if k not in new_fields}
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE runs SET config = ? WHERE run_id = ?", (json.dumps(old), run_id))
    config = store.get_run(run_id).config
    assert config == TrainConfig(gamma=0.5)
    assert config.scheduler == "steplr" and config.experiment == ""


def test_the_train_cli_takes_the_scheduler_flags():
    parser = train.build_parser()
    args = parser.parse_args(
        ["--scheduler", "multistep", "--milestones", "2,4", "--warmup-epochs", "2",
         "--patience", "0"]
    )  # fmt: skip
    assert train.config_from_args(args) == TrainConfig(
        scheduler="multistep", milestones=(2, 4), warmup_epochs=2, patience=0
    )


def test_the_train_cli_names_a_bad_milestones_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--milestones", "2,x", "--no-store"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("error: argument --milestones: expected comma")
    with pytest.raises(SystemExit):
        train.main(["--milestones", "4,2", "--no-store"])
    assert capsys.readouterr().err.startswith("error: argument --milestones: milestones must be")


@pytest.mark.parametrize("step", ["epoch", "batch"])
def test_the_run_views_predicted_lrs_follow_the_chosen_scheduler(step: str, small: MnistData):
    config = TrainConfig(scheduler="cosine", epochs=3, batch_size=128, scheduler_step=step)
    snap = run(config, small)
    predicted = predicted_lrs(config, snap.batches_per_epoch)
    assert list(predicted) == [p.lr for p in snap.batches]


def _sgd(lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


@pytest.mark.parametrize(("warm", "step_size", "gamma"), [(1, 2, 0.1), (3, 4, 0.5), (5, 10, 0.5)])
def test_the_warm_up_note_says_where_torchs_sequential_lr_puts_the_decays(warm, step_size, gamma):
    """SequentialLR starts StepLR at its step 0 after the warm-up: each decay moves `warm` later."""
    optimizer = _sgd(0.1)
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / 3, total_iters=warm)
    decay = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    sequential = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, decay], [warm])
    lrs = []
    for _ in range(warm + 4 * step_size):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        sequential.step()
    decays = [t for t in range(warm + 1, len(lrs)) if lrs[t] < lrs[t - 1]][:3]
    assert decays == [warm + k * step_size for k in (1, 2, 3)]
    assert lrs[0] == pytest.approx(0.1 / 3) and lrs[warm] == pytest.approx(0.1)
    config = TrainConfig(
        scheduler="warmup_steplr", lr=0.1, gamma=gamma, step_size=step_size, warmup_epochs=warm
    )
    note = warmup_note(config)
    assert prediction_note(config) == note
    unit = "epoch" if warm == 1 else "epochs"
    assert f"from η₀/3 at t = 0 to η₀ at t = {warm};" in note
    assert f"decays come {warm} {unit} later than without the warm-up" in note
    plain = [k * step_size for k in (1, 2, 3)]
    shifted, plain = (", ".join(map(str, ts)) for ts in (decays, plain))
    assert f"at t = {shifted}, … instead of {plain}, …" in note
    assert "takes over" not in note


def test_the_warm_up_note_with_gamma_one_names_no_decay():
    note = warmup_note(TrainConfig(scheduler="warmup_steplr", gamma=1.0))
    assert "never changes the LR" in note and "later" not in note


@pytest.mark.parametrize("patience", [0, 1, 3])
def test_the_patience_help_says_when_torch_cuts(patience):
    """Flat after epoch 0, then a loss that improves by 0.005 % (under torch's 0.01 %) each
    epoch: torch cuts at the end of the (patience + 1)-th such epoch, as the help says."""
    optimizer = _sgd(1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=patience)
    cut_after = None
    for epoch in range(10):
        plateau.step(1.0 * (1 - 0.5e-4) ** min(epoch, 1))  # epoch 1 beats epoch 0 by 0.005 %
        if optimizer.param_groups[0]["lr"] < 1.0:
            cut_after = epoch
            break
    assert cut_after == patience + 1  # epochs 1 .. patience + 1 did not count as improvements
    assert "(patience + 1)-th epoch in a row" in PLATEAU_PATIENCE_HELP
    assert "by more than 0.01% of it" in PLATEAU_PATIENCE_HELP
    assert plateau.threshold == 1e-4 and plateau.threshold_mode == "rel"


def test_the_plateau_threshold_read_from_the_signature_is_what_an_instance_uses():
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(_sgd(1.0))
    assert (
        plateau.threshold,
        plateau.threshold_mode,
    ) == (PLATEAU_THRESHOLD, PLATEAU_THRESHOLD_MODE)
