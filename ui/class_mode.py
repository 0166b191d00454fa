"""Class mode: students' devices follow the teacher's step and η₀/γ/s, and the class sweeps a
grid of two settings together, one cell per student, drawn live as a landscape on the projector.

Everything the class shares is in the run store (steplr_viz.classroom.class_state), so every
replica of a lecture hall sees it; pages poll it with st.fragment(run_every=...).
"""

from __future__ import annotations

import time

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.errors import StreamlitAPIException

from steplr_viz.classroom import permissions, sweeps
from steplr_viz.classroom.class_answers import ClassAnswers, new_class_id
from steplr_viz.classroom.class_state import (
    FOLLOWER_BEAT_S,
    Assignment,
    ClassRoom,
    ClassView,
    new_follower,
)
from steplr_viz.classroom.guided_path import Settings
from steplr_viz.classroom.permissions import Viewer
from steplr_viz.config import TrainConfig
from steplr_viz.figures import present as present_figs
from steplr_viz.figures import sweep as figs
from steplr_viz.store.registry import ClassFullError
from steplr_viz.training.metrics import FINISHED, QUEUED, TERMINAL_STATUSES
from ui import clicks, link_pins
from ui.charts import show_chart
from ui.identity import browser_known
from ui.present import OPEN_CLASS
from ui.run_registry import get_manager

FOLLOW_POLL_SECONDS = 0.5  # a follower sees the teacher's move within this plus one rerun
COUNT_POLL_SECONDS = 2.0
LANDSCAPE_POLL_SECONDS = 1.0
PRESENT_PAGE = "pages/3_Present.py"
TRAINING_PAGE = "pages/1_Live_training.py"


def room() -> ClassRoom:
    """The class state in this server's run store (shared by every replica on PostgreSQL)."""
    return ClassRoom(get_manager().store)


# --------------------------------------------------------------------------- follow


def apply_follow() -> None:
    """Before any widget is drawn: show the teacher's view that the last poll brought in."""
    view: ClassView | None = st.session_state.pop("class_pending", None)
    if view is None:
        return
    link_pins.set_param("step", str(view.step))
    # The η₀/γ/s widgets are bound to the link: set the widgets, and they write the link.
    st.session_state.update(lr0=view.lr, gamma=view.gamma, step_size=view.step_size)


def _open_class(class_id: str, me: Viewer) -> str | None:
    """Make the class if new (this browser leads it); its leader. Once per session and class."""
    key = f"class_leader_{class_id}"
    if key not in st.session_state and me.starter is not None:
        st.session_state[key] = room().open_class(class_id, me.starter)
    return st.session_state.get(key)


def lead_ui(
    class_id: str, number: int, settings: Settings, me: Viewer, row: DeltaGenerator
) -> bool:
    """The teacher's screen in present mode: record the view followers copy; how many follow."""
    if not browser_known():
        return False  # the browser's id comes with the next run (ui.identity)
    leader = _open_class(class_id, me)
    if not permissions.can_lead(me, leader):
        row.caption("Another screen leads this class; yours does not move its students.")
        return False
    try:
        room().lead(class_id, number, settings.base_lr, settings.gamma, settings.step_size)
    except ValueError as err:
        row.caption(f"Students do not follow this view: {err}.")
    with row:
        st.fragment(_follower_count, run_every=COUNT_POLL_SECONDS)(class_id)
    return True


def _follower_count(class_id: str) -> None:
    n = room().follower_count(class_id)
    st.markdown(
        f":material/groups: **{n}** following" if n != 1 else ":material/groups: **1** following",
        width="content",
        help="Students' devices that show your step and η₀, γ and s now.",
    )


def follow_ui(class_id: str, number: int, settings: Settings) -> None:
    """A student's device: follow the teacher (the default with a class link), or not."""
    if class_id == OPEN_CLASS:
        return
    follower = st.session_state.setdefault("class_follower", new_follower())
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    following = row.toggle(
        "Follow the teacher",
        value=True,
        key="class_follow",
        on_change=_follow_changed,
        args=(class_id, follower),
        help="On: your screen moves with the teacher's. Off: explore on your own.",
    )
    row.caption(
        f"Your screen moves with the teacher's (class `{class_id}`)."
        if following
        else "You explore on your own; switch it on to rejoin the teacher."
    )
    current = (number, settings.base_lr, settings.gamma, settings.step_size)
    shown_sweep = room().current_sweep(class_id)
    st.fragment(_follow_poll, run_every=FOLLOW_POLL_SECONDS)(
        class_id, follower, following, current, shown_sweep
    )


def _follow_changed(class_id: str, follower: str) -> None:
    if st.session_state.get("class_follow"):
        st.session_state.pop("class_seen_version", None)  # rejoin: take the teacher's view now
        st.session_state.pop("class_beat", None)
    else:
        room().leave(class_id, follower)


def _follow_poll(
    class_id: str,
    follower: str,
    following: bool,
    current: tuple[int, float, float, int],
    shown_sweep: str | None,
) -> None:
    """Beat, and rerun the page when the teacher moved (following) or opened a sweep."""
    class_room = room()
    now = time.monotonic()
    if following and now - st.session_state.get("class_beat", -1e9) >= FOLLOWER_BEAT_S:
        class_room.beat(class_id, follower)
        st.session_state["class_beat"] = now
    view = class_room.view(class_id)
    sweep_id = view.sweep_id if view is not None else class_room.current_sweep(class_id)
    if sweep_id != shown_sweep:
        st.rerun(scope="app")
    if view is None or not following:
        return
    # Only a move of the teacher's pulls the student along: their own clicks stay until then.
    if st.session_state.get("class_seen_version") != view.version:
        st.session_state["class_seen_version"] = view.version
        if (view.step, view.lr, view.gamma, view.step_size) != current:
            st.session_state["class_pending"] = view
            st.rerun(scope="app")


# --------------------------------------------------------------------------- sweep: design


def design_ui(key: str) -> sweeps.SweepSpec | None:
    """Two settings and their values (the defaults: 4 × 4); the spec when Open is pressed."""
    names = {p: f"{sweeps.SYMBOLS[p]} ({_long_name(p)})" for p in sweeps.PARAMS}
    cols = st.columns(2)
    axes = []
    for col, axis, default in zip(cols, ("x", "y"), sweeps.DEFAULT_AXES, strict=True):
        with col:
            param = st.selectbox(
                "Across" if axis == "x" else "Down",
                sweeps.PARAMS,
                index=sweeps.PARAMS.index(default),
                format_func=names.__getitem__,
                key=f"{key}_{axis}",
            )
            text = st.text_input(
                f"Values of {sweeps.SYMBOLS[param]}",
                value=", ".join(sweeps.value_label(param, v) for v in sweeps.DEFAULT_VALUES[param]),
                key=f"{key}_{axis}_values_{param}",
                max_chars=200,
                help=_value_help(param),
            )
            axes.append((param, text))
    epochs = st.number_input(
        "Epochs per run",
        min_value=1,
        max_value=sweeps.MAX_SWEEP_EPOCHS,
        value=5,
        key=f"{key}_epochs",
        help="Every cell trains the seed's model on the bundled digits for this many epochs.",
    )
    st.button(
        "Open the sweep",
        key=f"{key}_open",
        type="primary",
        icon=":material/grid_on:",
        on_click=clicks.record,
        args=(f"{key}_open",),
    )
    if not clicks.take(f"{key}_open"):
        return None
    try:
        (x, x_text), (y, y_text) = axes
        if x == y:
            raise ValueError("pick two different settings")
        spec = sweeps.SweepSpec(
            x,
            sweeps.parse_values(x, x_text),
            y,
            sweeps.parse_values(y, y_text),
            TrainConfig(epochs=int(epochs), data_source="bundled"),
        )
        return sweeps.check_spec(spec)
    except ValueError as err:
        st.error(f"The sweep cannot open: {err}.", icon=":material/error:")
        return None


def _long_name(param: str) -> str:
    return {"lr": "initial learning rate", "gamma": "decay factor", "step_size": "step size"}[param]


def _value_help(param: str) -> str:
    if param == "lr":
        return "Comma-separated, on the slider's 1-2-5 series from 1e-05 to 1; at most 8."
    if param == "gamma":
        return "Comma-separated, from 0.01 to 1 (1 never decays); at most 8."
    return "Comma-separated whole numbers of epochs, from 1 to 100; at most 8."


# --------------------------------------------------------------------------- sweep: pages


def sweep_section(class_id: str, me: Viewer, present: bool) -> None:
    """The class's sweep on the presenter page: the projector's landscape, or a student's cell."""
    if class_id == OPEN_CLASS:
        return
    if not browser_known():
        return  # the browser's id comes with the next run: cells go to it, not a stand-in
    class_room = room()
    sweep_id = class_room.current_sweep(class_id)
    leading = present and permissions.can_lead(me, class_room.leader(class_id))
    if sweep_id is None and not leading:
        return
    st.divider()
    st.subheader("Class sweep", anchor=False)
    if sweep_id is None:
        with st.expander("Open a class sweep", icon=":material/grid_on:"):
            st.caption(
                "Each student who joins is given the next cell of the grid and trains it on "
                "their own device; the landscape below fills as their runs finish."
            )
            spec = design_ui("sweep")
            if spec is not None:
                class_room.open_sweep(class_id, spec)
                st.rerun()
        return
    found = class_room.sweep(sweep_id)
    if found is None:
        return
    spec, revealed = found
    if leading:
        projector_ui(class_id, sweep_id, spec, revealed)
    else:
        student_ui(class_id, sweep_id, spec, me)


def _epochs(n: int) -> str:
    return "1 epoch" if n == 1 else f"{n} epochs"


def _question_id(sweep_id: str) -> str:
    return f"sweep-{sweep_id}"


def projector_ui(class_id: str, sweep_id: str, spec: sweeps.SweepSpec, revealed: bool) -> None:
    """The teacher's view: the landscape live, the class's predictions, the reveal, close."""
    st.markdown(
        f"**Where is the best cell?** {sweeps.SYMBOLS[spec.x]} across × "
        f"{sweeps.SYMBOLS[spec.y]} down, {spec.n_cells} cells, {_epochs(spec.base.epochs)} each. "
        "Students: scan the join code, predict, then press Start."
    )
    row = st.container(horizontal=True, vertical_alignment="center")
    metric = (
        row.segmented_control(
            "Colour by",
            list(sweeps.METRICS),
            default="final_acc",
            format_func=lambda m: sweeps.METRICS[m].capitalize(),
            key="sweep_metric",
        )
        or "final_acc"
    )
    reveal = row.toggle("Reveal the best cell", value=revealed, key=f"sweep_reveal_{sweep_id}")
    if reveal != revealed:
        room().reveal(sweep_id, reveal)
    row.button(
        "Close the sweep",
        key="sweep_close",
        icon=":material/close:",
        on_click=_close_sweep,  # a callback sees every click (ui/clicks.py says why)
        args=(class_id,),
    )
    st.fragment(_landscape_panel, run_every=LANDSCAPE_POLL_SECONDS)(
        class_id, sweep_id, spec, metric, None, projector=True
    )


def _close_sweep(class_id: str) -> None:
    room().close_sweep(class_id)


def _landscape_panel(
    class_id: str,
    sweep_id: str,
    spec: sweeps.SweepSpec,
    metric: str,
    mine: int | None,
    *,
    projector: bool,
) -> None:
    class_room = room()
    found = class_room.sweep(sweep_id)
    revealed = bool(found and found[1])
    table = sweeps.landscape(spec, class_room.cells(sweep_id))
    best = sweeps.best_cell(table, metric) if revealed else None
    predictions = ClassAnswers(class_room.store).counts(
        class_id, _question_id(sweep_id), spec.n_cells
    )
    fig = figs.landscape_figure(
        spec,
        table,
        metric,
        best=best,
        mine=mine,
        predictions=predictions if projector else None,
        height=460 if projector else 380,
    )
    if projector:
        present_figs.for_projector(fig, height=520)
    show_chart(
        fig,
        key="sweep_landscape",
        subject=f"The class's landscape: {sweeps.METRICS[metric]} over the grid",
    )
    filled, runs = sweeps.filled(table), int(table["finished"].sum())
    joined = int(table["given"].sum())
    st.caption(
        f"{filled} of {spec.n_cells} cells filled · {runs} run{'s' if runs != 1 else ''} "
        f"finished · {joined} cell{'s' if joined != 1 else ''} given · "
        f"{sum(predictions)} prediction{'s' if sum(predictions) != 1 else ''}"
    )
    if best is not None:
        row = table.loc[table["cell"] == best].iloc[0]
        top = predictions[best]
        st.markdown(
            f"**Best cell: {row['label']}**, {row[metric]:.1f}% {sweeps.METRICS[metric]} "
            f"(mean of {int(row['finished'])}). {top} of {sum(predictions)} predicted it."
        )
    elif revealed:
        st.caption("No run has finished yet: the best cell shows once one does.")


def student_ui(class_id: str, sweep_id: str, spec: sweeps.SweepSpec, me: Viewer) -> None:
    """A student's device: their cell, Start, their run, a prediction, their cell on the map."""
    if me.starter is None:
        return
    class_room = room()
    try:
        mine = class_room.assign(sweep_id, me.starter)
    except ValueError as err:
        st.info(f"The sweep is not open any more ({err}).", icon=":material/info:")
        return
    st.markdown(
        f"**Your cell: {spec.cell_label(mine.cell)}** (seed {mine.seed}), "
        f"{_epochs(spec.base.epochs)} on the bundled digits."
    )
    _prediction_ui(class_id, sweep_id, spec)
    if mine.run_id is None:
        st.button(
            "Start",
            key="sweep_start",
            type="primary",
            icon=":material/play_arrow:",
            on_click=_start_cell,
            args=(mine, spec, me),
        )
        problem = st.session_state.get("sweep_error")
        if problem:
            st.error(problem, icon=":material/error:")
    st.fragment(_student_panel, run_every=LANDSCAPE_POLL_SECONDS)(
        class_id, sweep_id, spec, mine, me.starter
    )


def _start_cell(mine: Assignment, spec: sweeps.SweepSpec, me: Viewer) -> None:
    """Train the student's cell: their own run, through the usual queue and cap."""
    st.session_state.pop("sweep_error", None)
    try:
        run_id = get_manager().submit(spec.config(mine.cell, mine.seed), started_by=me.starter)
    except ClassFullError as err:
        st.session_state["sweep_error"] = str(err)
        return
    except ValueError as err:
        st.session_state["sweep_error"] = f"Cannot start: {err}"
        return
    room().attach_run(mine, me.starter or "", run_id)


def _again(sweep_id: str, starter: str) -> None:
    room().assign(sweep_id, starter, again=True)


def _student_panel(
    class_id: str, sweep_id: str, spec: sweeps.SweepSpec, mine: Assignment, starter: str
) -> None:
    now = room().assign(sweep_id, starter)
    if now != mine:
        st.rerun(scope="app")  # started in another tab, or another cell taken: redraw it all
    if mine.run_id is not None:
        _run_status(mine.run_id, sweep_id, starter)
    _landscape_panel(class_id, sweep_id, spec, "final_acc", mine.cell, projector=False)


def _run_status(run_id: str, sweep_id: str, starter: str) -> None:
    view = get_manager().view(run_id)
    if view is None:
        st.caption("Your run is gone (deleted on the server).")
        return
    if view.status == QUEUED:
        place = get_manager().queue_position(run_id)
        where = f", number {place} in the queue" if place else ""
        st.info(f"Your run is waiting for a free trainer{where}.", icon=":material/schedule:")
    elif view.status not in TERMINAL_STATUSES:
        epochs = view.config.epochs
        st.progress(
            min(max(view.progress, 0.0), 1.0),
            text=f"Your run is {view.status}: epoch {min(view.epoch + 1, epochs)} of {epochs}",
        )
    elif view.status == FINISHED:
        acc = view.final_acc
        st.success(
            f"Your run finished: {acc:.1f}% test accuracy. It is on the class's map."
            if acc is not None
            else "Your run finished.",
            icon=":material/check_circle:",
        )
        st.button(
            "Take another cell",
            key="sweep_again",
            icon=":material/add:",
            on_click=_again,
            args=(sweep_id, starter),
            help="The next cell the class needs, with a fresh seed if all have runs.",
        )
    else:
        st.warning(
            f"Your run ended {view.status}: it does not count on the map.",
            icon=":material/warning:",
        )
    _page_link(TRAINING_PAGE, "Watch your run", ":material/monitoring:", {"run": run_id})


def _prediction_ui(class_id: str, sweep_id: str, spec: sweeps.SweepSpec) -> None:
    """Where is the best cell? One tap per student, moved if they change their mind."""
    question = _question_id(sweep_id)
    mine = f"sweep_prediction_{sweep_id}"
    choice = st.selectbox(
        "Where is the best cell? Your prediction",
        list(range(spec.n_cells)),
        index=None,
        format_func=spec.cell_label,
        key=mine,
        placeholder="Pick the cell you think wins",
    )
    previous_key = f"{mine}_counted"
    previous = st.session_state.get(previous_key)
    if choice is not None and choice != previous:
        ClassAnswers(room().store).answer(class_id, question, spec.n_cells, choice, previous)
        st.session_state[previous_key] = choice


def _page_link(script: str, label: str, icon: str, query: dict[str, str]) -> None:
    try:
        st.page_link(script, label=label, icon=icon, query_params=query)
    except StreamlitAPIException:  # AppTest runs one page alone, without the others
        st.caption(f"{icon} {label}")


# --------------------------------------------------------------------------- training page


def training_sweep_ui(me: Viewer) -> None:
    """On the training page, for the teacher: open a class sweep and send the class to it."""
    if not me.is_teacher or me.starter is None:
        return
    with st.expander("Class sweep (teacher)", icon=":material/grid_on:"):
        class_id = st.session_state.get("train_sweep_class")
        spec = design_ui("train_sweep")
        if spec is not None:
            class_id = new_class_id()
            class_room = room()
            class_room.open_class(class_id, me.starter)
            class_room.open_sweep(class_id, spec)
            st.session_state["train_sweep_class"] = class_id
        if class_id:
            st.success(
                f"The sweep is open in class `{class_id}`. Project it, and show its join code "
                "to the class.",
                icon=":material/check_circle:",
            )
            _page_link(
                PRESENT_PAGE,
                "Open the projector's landscape",
                ":material/co_present:",
                {"class": class_id, "present": "true"},
            )
