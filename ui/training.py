"""The live training page's sections: each reads its widgets, asks the engine, draws the result.

They live in a module rather than in the page for the reason ui/explorer.py gives: a module is
compiled once per process, a page script on every run; the page keeps the outline.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from steplr_viz.classroom import permissions
from steplr_viz.cli import export
from steplr_viz.config import (
    DATA_SOURCES,
    MAX_SEED,
    OPTIMIZERS,
    SCHEDULER_STEPS,
    SCHEDULERS,
    TrainConfig,
)
from steplr_viz.figures import training as figs
from steplr_viz.figures.cache import view_charts, view_pictures
from steplr_viz.schedules.choices import SCHEDULER_NAMES
from steplr_viz.store.registry import KEEP_FINAL_SNAPSHOTS, ClassFullError, RunManager
from steplr_viz.store.run_view import RunView, run_label, run_labels
from steplr_viz.store.runs import check_run_id
from steplr_viz.training import run_plan
from steplr_viz.training.data import DataError, download_mnist, raw_folder
from steplr_viz.training.metrics import (
    DIVERGED,
    FAILED,
    FINISHED,
    INTERRUPTED,
    PAUSED,
    QUEUED,
    RUNNING,
    STOPPED,
)
from steplr_viz.training.model import load_snippet
from steplr_viz.validation import check_int
from ui import clicks, code_blocks, link_pins
from ui import experiments as experiments_ui
from ui.charts import show_chart
from ui.code_blocks import code_on_demand
from ui.query import one_of, parse_number
from ui.run_registry import get_manager
from ui.schedule_controls import (
    schedule_checks,
    schedule_controls,
    scheduler_param_checks,
    scheduler_params_ui,
)
from ui.widgets import int_input

EPOCH_LOG_KEY = "train_epoch_log"  # ui/chrome.py sets it in the code font
BATCH_SIZES = [16, 32, 64, 128, 256, 512, 1024]
MAX_UI_EPOCHS = 30
DEFAULTS = TrainConfig()  # the seed's script: Adam, lr 1e-3, step_size 2, gamma 0.1, 5 epochs
SCHEDULE_DEFAULTS = {
    "base_lr": DEFAULTS.lr,
    "gamma": DEFAULTS.gamma,
    "step_size": DEFAULTS.step_size,
}
LR_KEY = "lr"  # links carry train_lr (the explorer's η₀ is lr0)

# Material icons, not emoji: without an emoji font Chromium draws emoji as empty boxes.
STATUS_ICONS = {
    QUEUED: ":material/hourglass_top:",
    RUNNING: ":material/play_circle:",
    PAUSED: ":material/pause_circle:",
    STOPPED: ":material/stop_circle:",
    FINISHED: ":material/check_circle:",
    DIVERGED: ":material/trending_up:",
    FAILED: ":material/error:",
    INTERRUPTED: ":material/warning:",
}
OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD with momentum 0.9"}
OPTIMIZER_CAPTIONS = {"adam": "the seed's", "sgd": "momentum 0.9"}
SOURCE_CAPTIONS = {
    "bundled": "5,000 real digits, offline",
    "full": "60,000 digits from the data folder",
    "auto": "full if present, else bundled",
}
STEP_CAPTIONS = {"epoch": "after each epoch (the seed)", "batch": "after each batch"}
SCHEDULER_CAPTIONS = {**SCHEDULER_NAMES, "steplr": "StepLR (the seed's)"}
TRAIN_LOSS_LABEL = "Train loss (this epoch)"

# The config's choice fields, drawn as radios and bound to the URL as train_<field>.
URL_CHOICES = {
    "optimizer": OPTIMIZERS,
    "scheduler_step": SCHEDULER_STEPS,
    "data_source": DATA_SOURCES,
    "scheduler": SCHEDULERS,
}
# What each URL-bound key accepts; a link with anything else gets a warning, never a crash.
URL_CHECKS = {
    **{
        f"train_{field}": one_of(options, field.replace("_", " "))
        for field, options in URL_CHOICES.items()
    },
    **schedule_checks("train_", lr_key=LR_KEY),
    "train_epochs": lambda t: check_int("epochs", parse_number(t), low=1, high=MAX_UI_EPOCHS),
    "train_batch_size": one_of(BATCH_SIZES, "batch size"),
    "train_seed": lambda t: check_int("seed", parse_number(t), low=0, high=MAX_SEED),
    **scheduler_param_checks("train_"),
    "run": lambda t: check_run_id(t),
    **experiments_ui.URL_CHECKS,
}


def controls_ui() -> TrainConfig:
    """Sidebar widgets for the seed's hyperparameters (keys train_*), bound to the URL."""
    with st.sidebar:
        st.header("Training settings")
        optimizer = _choice("Optimizer", "optimizer", OPTIMIZER_CAPTIONS, horizontal=True)
        scheduler = _choice("LR scheduler", "scheduler", SCHEDULER_CAPTIONS)
        lr, gamma, step_size = schedule_controls(
            "train_",
            lr_key=LR_KEY,
            defaults=SCHEDULE_DEFAULTS,
            step_size_help="Counted in epochs, or in batches when the scheduler steps after "
            "each batch.",
        )
        epochs = st.slider(
            "Epochs", 1, MAX_UI_EPOCHS, DEFAULTS.epochs, key="train_epochs", bind="query-params"
        )
        batch_size = st.select_slider(
            "Batch size",
            BATCH_SIZES,
            value=DEFAULTS.batch_size,
            key="train_batch_size",
            bind="query-params",
        )
        extra = scheduler_params_ui("train_", scheduler, DEFAULTS)
        if scheduler == "plateau":  # it steps on each epoch's test loss, never per batch
            scheduler_step = "epoch"
            st.caption("scheduler.step(test loss) after each epoch.")
        else:
            scheduler_step = _choice("scheduler.step()", "scheduler_step", STEP_CAPTIONS)
        data_source = _choice("Data", "data_source", SOURCE_CAPTIONS)
        seed = int_input("Random seed", 0, MAX_SEED, DEFAULTS.seed, key="train_seed")
    return TrainConfig(
        **extra,
        scheduler=scheduler,
        optimizer=optimizer,
        lr=lr,
        gamma=gamma,
        step_size=step_size,
        epochs=int(epochs),
        batch_size=int(batch_size),
        seed=seed,
        scheduler_step=scheduler_step,
        data_source=data_source,
    )


def _choice(label: str, field: str, captions: dict[str, str], **kwargs) -> str:
    """A radio for a TrainConfig choice field, bound to the URL as train_<field>."""
    options = URL_CHOICES[field]
    # Bound choices show their plain option names: a link carries the same text.
    return st.radio(
        label,
        options,
        index=options.index(getattr(DEFAULTS, field)),
        captions=[captions[o] for o in options],
        key=f"train_{field}",
        bind="query-params",
        **kwargs,
    )


def watched_run_id() -> str | None:
    """The run this tab watches: carried in the URL, so a refresh or a shared link keeps it."""
    raw = st.query_params.get("run")
    try:
        return check_run_id(raw) if raw else None
    except ValueError:
        return None  # warn_bad_query_params has said so


def watch(run_id: str | None) -> None:
    """Point this tab at a run (or at none)."""
    link_pins.set_param("run", run_id)


def storage_note() -> None:
    """Say so when runs live in memory only (the runs folder cannot be written)."""
    note = get_manager().storage_note
    if note:
        st.warning(note, icon=":material/save:")  # the note says it all, folder included


def may_control(viewer: permissions.Viewer, run_id: str) -> bool:
    """May this viewer pause, stop or delete the run (its starter, or the teacher)?"""
    return permissions.can_control(viewer, get_manager().store.started_by(run_id))


def act_on_clicks(config: TrainConfig, viewer: permissions.Viewer) -> None:
    """Do what Start, Pause/Resume or Stop asked for (ui/clicks.py: a click survives a cut run)."""
    manager = get_manager()
    watched = watched_run_id()
    asked = clicks.pending()
    pin_run = link_pins.pinner("run")
    # No Streamlit call from here to the pin: a newer rerun can only cut the run before the
    # click is taken (the next run takes it) or after its run is pinned (the next run shows it).
    started, error = None, None
    if asked.pop("train_start", None):
        view = manager.view(watched) if watched else None
        if view is None or view.ended:  # one live run per tab, as the disabled button says
            started, error = _start(manager, config, viewer.starter)
            if started:
                pin_run(started)
    for key in ("train_pause", "train_stop"):
        action, run_id = asked.pop(key, (None, ""))
        # The button is disabled for others, and a forged click is refused here too.
        if action and permissions.can_control(viewer, manager.store.started_by(run_id)):
            {"pause": manager.pause, "resume": manager.resume, "stop": manager.stop}[action](run_id)
    if started:
        link_pins.write("run", started)
    if error:
        st.session_state["train_error"] = error


def buttons_ui(config: TrainConfig, view: RunView | None, viewer: permissions.Viewer) -> None:
    """Start, Pause/Resume and Stop (for the run's starter or the teacher); Start never waits."""
    manager = get_manager()
    live = view is not None and not view.ended
    allowed = view is None or may_control(viewer, view.run_id)
    start_col, pause_col, stop_col, note_col = st.columns([1, 1, 1, 3])
    start_col.button(
        "Start",
        icon=":material/play_arrow:",
        key="train_start",
        type="primary",
        width="stretch",
        disabled=live,
        on_click=clicks.record,
        args=("train_start",),
    )
    paused = view is not None and view.status == PAUSED
    run_id = view.run_id if view is not None else ""
    pause_col.button(
        "Resume" if paused else "Pause",
        icon=":material/play_arrow:" if paused else ":material/pause:",
        key="train_pause",
        width="stretch",
        disabled=not live or not allowed or view.status == QUEUED,
        on_click=clicks.record,
        args=("train_pause", ("resume" if paused else "pause", run_id)),
    )
    stop_col.button(
        "Stop",
        icon=":material/stop:",
        key="train_stop",
        width="stretch",
        disabled=not live or not allowed,
        on_click=clicks.record,
        args=("train_stop", ("stop", run_id)),
    )
    note_col.caption(capacity_note(manager.max_concurrent, shared=manager.shared))
    if live and not allowed:
        st.caption(permissions.control_hint(viewer, manager.store.started_by(view.run_id)))
    error = st.session_state.pop("train_error", None)
    if error:
        st.error(error, icon=":material/block:")
    if run_plan.needs_download(config):
        download_ui()
    else:
        clicks.take("train_download_full")  # the data it was for is no longer asked for


def _start(
    manager: RunManager, config: TrainConfig, started_by: str | None
) -> tuple[str | None, str | None]:
    """Submit a run as this browser's: (its id, None), or (None, why it was refused)."""
    problem = run_plan.data_problem(config)
    if problem:
        return None, problem
    try:
        return manager.submit(config, started_by=started_by), None
    except ClassFullError as err:
        return None, str(err)
    except ValueError as err:
        return None, f"Cannot start: {err}"
    except RuntimeError as err:  # e.g. the server is shutting down, or no thread starts
        return None, f"The run could not start: {err}"


def capacity_note(max_concurrent: int, shared: bool = False) -> str:
    """How many runs train at once here, worded for 1 as well as for many.

    On a shared store (a lecture hall of several servers) the cap is the hall's, not one
    server's.
    """
    at_once = "1 run trains" if max_concurrent == 1 else f"{max_concurrent} runs train"
    where = "across this lecture hall's servers" if shared else "on this server"
    return (
        f"Up to {at_once} at once {where}; more wait in a queue. "
        "Your run keeps going if you close the tab."
    )


def download_ui() -> None:
    """Offer torchvision's download of full MNIST, the one thing here that uses the network."""
    st.info(
        f"Full MNIST is not in the data folder ({raw_folder()}). Download it (about 12 MB, "
        "needs the internet), or pick the bundled digits, which work offline.",
        icon=":material/inventory_2:",
    )
    st.button(
        "Download full MNIST (about 12 MB)",
        icon=":material/download:",
        key="train_download_full",
        on_click=clicks.record,
        args=("train_download_full",),
    )
    if clicks.take("train_download_full"):
        with st.spinner("Downloading MNIST through torchvision…"):
            try:
                folder = download_mnist()
            except DataError as err:
                st.error(str(err), icon=":material/cloud_off:")
            else:
                st.success(f"Full MNIST is ready in {folder}. Press Start.")


def predicted_section(config: TrainConfig) -> None:
    """Before Start: the LR schedule this config will follow, from the closed form."""
    st.header("The schedule this run will follow")
    plan = run_plan.schedule_plan(config)
    show_chart(
        figs.lr_figure(
            plan.steps[:0],
            plan.lrs[:0],
            plan.steps,
            plan.lrs,
            predicted_name=run_plan.predicted_label(config),
        ),
        key="train_predicted",
        subject="The learning rate each step of this run will use",
    )
    st.caption(run_plan.plan_caption(config, plan))


def run_panel(run_id: str, drawn_status: str) -> None:
    """Everything about the watched run; redrawn every second while it is live.

    `drawn_status` is the status the rest of the page was drawn for: when the run moves on
    (queued -> running, running <-> paused, or ends) the whole page reruns, so that Pause, Resume
    and Stop match the run (a queued run that starts gets a working Pause button).
    """
    view = get_manager().view(run_id)
    if view is None:
        # Deleted since the page was drawn (from another tab, say): the whole page reruns, says
        # so and draws no panel, so this one stops polling.
        st.rerun()
    progress_ui(view)
    metrics_ui(view)
    charts_ui(view)
    pictures_ui(view)
    if view.status != drawn_status:
        # Drawn first, so the last epoch shows at once; then the whole page follows (buttons,
        # the runs table) and, once the run has ended, this panel stops polling.
        st.rerun()


def progress_ui(view: RunView) -> None:
    """Status, progress bar with epoch, batch, ETA and speed; queue place; errors."""
    c = view.config
    st.markdown(
        f"## {STATUS_ICONS.get(view.status, '')} {view.status} · {run_label(c)} · "
        f"{OPTIMIZER_NAMES[c.optimizer]}, batch {c.batch_size} · run `{view.run_id}`"
    )
    if view.status == QUEUED:
        place = get_manager().queue_position(view.run_id)
        if place is None:  # it has its trainer and is loading the data
            st.info(
                "Loading the data; training starts in a moment.", icon=":material/hourglass_top:"
            )
        else:
            st.info(
                f"Waiting for a free trainer: place {place} in the queue. It starts by itself.",
                icon=":material/hourglass_top:",
            )
    parts = [f"Epoch {max(view.epoch, 1)} of {c.epochs}"]
    if view.batches_per_epoch:
        parts.append(f"batch {view.batch_in_epoch} of {view.batches_per_epoch}")
    if view.eta_seconds is not None:
        parts.append(f"about {view.eta_seconds:.0f} s left")
    if view.samples_per_sec:
        parts.append(f"{view.samples_per_sec:,.0f} samples/s")
    st.progress(float(view.progress), text=" · ".join(parts))
    if view.status == DIVERGED:
        st.error(f"Training diverged. {view.error or ''}", icon=":material/trending_up:")
    elif view.status == FAILED:
        st.error(f"Training failed: {view.error or 'no message'}", icon=":material/error:")
    elif view.status == INTERRUPTED:
        st.warning("The server stopped while this run was training; what it learned is kept.")


def metrics_ui(view: RunView) -> None:
    """Latest loss, LR and accuracy, with the change since the epoch before."""
    cols = st.columns(4)
    batches, epochs = view.batches, view.epochs
    if len(batches):
        # A mean against a mean: one batch's loss against the last epoch's mean is mostly noise,
        # and its red "+0.04" would tell a student that training got worse when it did not.
        loss_now = view.loss_this_epoch
        cols[0].metric(
            TRAIN_LOSS_LABEL,
            f"{loss_now:.4f}",
            help="The mean loss of this epoch's batches so far; the delta compares it with the "
            "mean of the epoch before.",
            **change(loss_now - view.previous_epoch_loss, lower_is_better=True),
        )
        lr_now = float(batches["lr"].iloc[-1])
        cols[1].metric(
            "LR in use",
            # 3 significant digits, not the seed's %.6f: after a few decays that reads 0.000000.
            f"{lr_now:.3g}",
            delta=lr_delta(lr_now, view.config.lr),
            delta_color="off",
            delta_arrow="down",
        )
    if len(epochs) > 1:
        acc, loss = epochs["test_acc"], epochs["test_loss"]
        cols[2].metric(
            "Test accuracy",
            f"{acc.iloc[-1]:.2f}%",
            **change(acc.iloc[-1] - acc.iloc[-2], unit=" pts"),
        )
        cols[3].metric(
            "Test loss",
            f"{loss.iloc[-1]:.4f}",
            **change(loss.iloc[-1] - loss.iloc[-2], lower_is_better=True),
        )
    elif len(epochs):
        cols[2].metric("Test accuracy", f"{epochs['test_acc'].iloc[-1]:.2f}%")
        cols[3].metric("Test loss", f"{epochs['test_loss'].iloc[-1]:.4f}")


def lr_delta(lr_now: float, base_lr: float) -> str | None:
    """The LR in use as a multiple of the config's η₀: not of the first batch's LR, which a
    warm-up starts at η₀/3. None while it is η₀."""
    return f"η₀ × {lr_now / base_lr:.3g}" if lr_now < base_lr else None


def change(diff: float, *, unit: str = "", lower_is_better: bool = False) -> dict:
    """st.metric's delta for a change: 3 significant digits, so it never reads as -0.0000.

    Green when it is an improvement; no delta when there is nothing to compare with (NaN),
    and no arrow or colour when nothing changed.
    """
    if diff != diff:  # NaN
        return {"delta": None}
    if diff == 0:
        return {"delta": f"0{unit}", "delta_color": "off", "delta_arrow": "off"}
    return {
        "delta": f"{diff:+.3g}{unit}",
        "delta_color": "inverse" if lower_is_better else "normal",
    }


def charts_ui(view: RunView) -> None:
    """Loss per batch, LR used over the predicted staircase, accuracy and loss per epoch, log."""
    bpe = run_plan.run_batches_per_epoch(view)
    charts = view_charts(view, bpe)
    left, right = st.columns(2)
    with left:
        show_chart(charts.loss, key="train_loss_chart", subject="Training loss per batch")
    with right:
        show_chart(charts.lr, key="train_lr_chart", subject="Learning rate per batch")
    left, right = st.columns([3, 2])
    with left:
        show_chart(charts.epochs, key="train_epoch_chart", subject="Test accuracy and loss")
    with right:
        st.markdown("**Epoch log** (the seed's output)")
        # Plain preformatted text, not st.code: a code block loads the syntax highlighter
        # (about 1.5 MB of JavaScript) on every reload of a page that watches a run.
        st.container(key=EPOCH_LOG_KEY).text(view.epoch_log or "Waiting for the first epoch…")
        st.caption(epoch_numbering_note(view.config, bpe))


def epoch_numbering_note(config: TrainConfig, batches_per_epoch: int) -> str:
    """Which t of η_t = η₀·γ^⌊t/s⌋ an "Epoch N" line's LR is (the seed counts epochs from 1)."""
    if config.scheduler_step == "epoch":
        return (
            "The seed counts epochs from 1, the formula from 0: Epoch N trains with η_t at "
            "t = N − 1, and its line prints that LR."
        )
    return (
        "The seed counts epochs from 1 and prints the LR after the epoch's batches: stepped per "
        f"batch, t counts steps, so Epoch N's line prints η_t at t = N × {batches_per_epoch}, "
        "the LR the next epoch starts with."
    )


def pictures_ui(view: RunView) -> None:
    """Weight templates, test digits with predictions, and the confusion matrix at the end."""
    if view.weights is None or view.test_predictions is None:
        if view.ended and len(view.epochs):
            st.caption(
                f"The pictures of the weights are kept in memory for the {KEEP_FINAL_SNAPSHOTS} "
                "runs that ended last, until the server restarts; this run's are gone."
            )
        return
    st.subheader("What the model sees")
    pictures = view_pictures(view, *run_plan.evaluation_digits(view.config))
    left, right = st.columns([3, 2])
    with left:
        show_chart(pictures.weights, key="train_weights", subject="The learned weights")
        st.caption(
            "Each square is one output unit's 784 weights laid out as an image: red pixels "
            "raise that digit's score, blue pixels lower it. Refreshed after every epoch."
        )
    with right:
        show_chart(pictures.digits, key="train_digits", subject="Test digits and predictions")
    if pictures.confusion is not None:
        show_chart(pictures.confusion, key="train_confusion", subject="Confusion matrix")


def runs_ui(viewer: permissions.Viewer) -> None:
    """Every run on this server: select several to compare, watch one, delete or download."""
    st.header("Runs on this server")
    runs = get_manager().store.list_runs()
    if runs.empty:
        st.caption("No runs yet. Press Start above; every student's runs appear here.")
        return
    ids = runs["run_id"].tolist()
    event = st.dataframe(
        runs_table(runs),
        # Streamlit keeps a keyed table's selected row positions when its rows change, and the
        # list is newest first: after anyone's Start or Delete, the same positions would name
        # other runs. A key that names the runs shown starts a new, empty selection instead.
        key=f"train_runs_table_{ids_digest(ids)}",
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        width="stretch",
        column_config={
            "lr": st.column_config.NumberColumn(format="%g"),
            "final accuracy (%)": st.column_config.NumberColumn(format="%.2f"),
            "time (s)": st.column_config.NumberColumn(format="%.1f"),
            "created": st.column_config.DatetimeColumn(format="HH:mm:ss"),
        },
    )
    selected = tuple(ids[i] for i in event.selection.rows if i < len(ids))
    st.caption("Select runs in the table to compare them, watch one, delete or download.")
    # Asked here, not beside the buttons: the selection may be gone (the list changed) while
    # the question still names the runs the student chose.
    confirm_delete_ui(viewer)
    if not selected:
        return
    run_actions_ui(selected, viewer)
    compare_ui(list(selected))


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs table's columns: config, status, final accuracy and time."""
    return pd.DataFrame(
        {
            "run": runs["run_id"],
            "status": runs["status"],  # a table cell shows text only: no icon
            "lr": runs["lr"],
            "gamma": runs["gamma"],
            "step_size": runs["step_size"],
            "optimizer": runs["optimizer"],
            "epochs": runs["epochs"],
            "batch": runs["batch_size"],
            "final accuracy (%)": runs["final_acc"],
            "time (s)": runs["seconds"],
            "created": runs["created"],
        }
    )


def ids_digest(run_ids: list[str]) -> str:
    """A short name for a list of run ids, in order."""
    return hashlib.blake2s(",".join(run_ids).encode(), digest_size=6).hexdigest()


def run_actions_ui(selected: tuple[str, ...], viewer: permissions.Viewer) -> None:
    """Watch, Delete (own runs, confirmed), CSV and model for the selected runs, as drawn."""
    store = get_manager().store
    first = selected[0]
    deletable = tuple(r for r in selected if may_control(viewer, r))
    watch_col, delete_col, csv_col, model_col, _ = st.columns([1, 1, 1, 1, 1])
    # Callbacks with the ids as arguments: a click acts on the runs the student saw selected,
    # whatever the table holds by the time the click reaches the server.
    watch_col.button(
        "Watch",
        icon=":material/visibility:",
        key="train_watch",
        width="stretch",
        on_click=watch,
        args=(first,),
    )
    delete_col.button(
        "Delete",
        icon=":material/delete:",
        key="train_delete",
        width="stretch",
        on_click=ask_to_delete,
        args=(deletable,),
        disabled=not deletable,
        help=None if deletable else permissions.control_hint(viewer, store.started_by(first)),
    )
    csv_col.download_button(
        "CSV",
        icon=":material/download:",
        data=lambda: store.export_csv(first),  # built when the student clicks
        file_name=f"steplr_run_{first}.csv",
        mime="text/csv",
        key="train_download_csv",
        on_click="ignore",
        width="stretch",
    )

    model_ui(first, model_col)
    n = len(selected)
    runs_word = "run" if n == 1 else "runs"
    st.download_button(
        f"Every batch and epoch of the {n} selected {runs_word} (zip: CSV and Parquet)",
        icon=":material/folder_zip:",
        # Built when clicked: runs, batches and epochs tables as CSV and typed Parquet.
        data=lambda: export.runs_zip(export.select_records(store, selected)),
        file_name=f"steplr_runs_{ids_digest(list(selected))}.zip",
        mime="application/zip",
        key="train_download_zip",
        on_click="ignore",
    )


def model_ui(run_id: str, where) -> None:
    """A finished run's trained weights as a .pt file, with the lines that load them."""
    data = get_manager().store.load_model(run_id)
    file_name = f"steplr_run_{run_id}.pt"
    where.download_button(
        "Model",
        icon=":material/download:",
        data=data or b"",
        file_name=file_name,
        mime="application/octet-stream",
        key="train_download_model",
        on_click="ignore",
        width="stretch",
        disabled=data is None,
        help=(
            "Only a finished run keeps its model."
            if data is None
            else f"The trained state_dict ({len(data) / 1024:.0f} KB) of run {run_id}."
        ),
    )
    if data is not None:
        code_on_demand(
            "Load the downloaded model into the seed's SimpleNet",
            code_blocks.LOAD_MODEL,
            lambda: st.code(load_snippet(file_name), language="python"),
        )


def ask_to_delete(run_ids: tuple[str, ...]) -> None:
    """First click on Delete: remember which runs, and ask."""
    st.session_state["train_confirm_delete"] = run_ids


def confirm_delete_ui(viewer: permissions.Viewer) -> None:
    """Delete asks first; only runs this viewer may control are deleted."""
    pending = st.session_state.get("train_confirm_delete")
    if not pending:
        return
    n = len(pending)
    st.warning(
        f"Delete {n} run{'s' if n != 1 else ''} ({', '.join(pending)}) and all their metrics? "
        "A live run is stopped first. This cannot be undone.",
        icon=":material/delete:",
    )
    yes, no, _ = st.columns([1, 1, 3])
    yes.button(
        "Yes, delete",
        key="train_delete_confirm",
        type="primary",
        width="stretch",
        on_click=delete_runs,
        args=(pending, viewer),
    )
    no.button(
        "Cancel",
        key="train_delete_cancel",
        width="stretch",
        on_click=lambda: st.session_state.pop("train_confirm_delete", None),
    )


def delete_runs(run_ids: tuple[str, ...], viewer: permissions.Viewer) -> None:
    """Delete these runs (a live one is stopped first), each only if this viewer may."""
    st.session_state.pop("train_confirm_delete", None)
    manager = get_manager()
    for run_id in run_ids:
        if may_control(viewer, run_id):  # checked again at the click: rights are the server's
            manager.delete(run_id)


COMPARED = [  # (chart key, epochs column, title, y title, log y and steps)
    ("train_compare_acc", "test_acc", "Test accuracy", "%", False),
    ("train_compare_lr", "lr", "LR per epoch", "LR", True),
    ("train_compare_loss", "train_loss", "Train loss", "loss", False),
]


def compare_ui(run_ids: list[str]) -> None:
    """Overlay the selected runs' accuracy, LR and loss per epoch, labelled by lr, γ and s."""
    manager = get_manager()
    views = [v for v in map(manager.view, run_ids) if v is not None and len(v.epochs)]
    if not views:
        st.caption("The selected runs have no finished epoch yet.")
        return
    labels = run_labels([(v.run_id, v.config) for v in views])
    for col, (key, column, title, y_title, lr_like) in zip(
        st.columns(len(COMPARED)), COMPARED, strict=True
    ):
        curves = [
            figs.RunCurve(label, v.epochs["epoch"].to_numpy(), v.epochs[column].to_numpy())
            for label, v in zip(labels, views, strict=True)
        ]
        figure = figs.compare_figure(
            curves, title=title, x_title="epoch", y_title=y_title, log_y=lr_like, step=lr_like
        )
        with col:
            show_chart(figure, key=key, subject=title)
