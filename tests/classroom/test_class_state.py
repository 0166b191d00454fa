"""Class state in the run store: the teacher's view, followers, sweeps and the cells given out."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from steplr_viz.classroom import permissions
from steplr_viz.classroom.class_answers import ClassAnswers
from steplr_viz.classroom.class_state import ClassRoom, holder_id, new_follower
from steplr_viz.classroom.sweeps import SweepSpec, default_spec
from steplr_viz.config import TrainConfig
from steplr_viz.store.runs import RunStore
from steplr_viz.training.metrics import FINISHED, EpochPoint
from tests.postgres import fresh_database

CLASS = "c1a55e"
TEACHER = permissions.starter_id("teacher's browser")
STUDENTS = [permissions.starter_id(f"student {i}") for i in range(40)]


@pytest.fixture
def room(store):
    return ClassRoom(store)


def test_the_first_browser_to_open_a_class_leads_it(room):
    assert room.leader(CLASS) is None
    assert room.open_class(CLASS, TEACHER) == TEACHER
    assert room.open_class(CLASS, STUDENTS[0]) == TEACHER  # a student cannot take it over
    assert room.leader(CLASS) == TEACHER
    teacher = permissions.Viewer(TEACHER)
    assert permissions.can_lead(teacher, room.leader(CLASS))
    assert not permissions.can_lead(permissions.Viewer(STUDENTS[0]), room.leader(CLASS))
    assert permissions.can_lead(permissions.Viewer(STUDENTS[0], is_teacher=True), TEACHER)
    assert not permissions.can_lead(permissions.Viewer(None), None)


def test_the_view_changes_version_only_when_the_teacher_moves(room):
    room.open_class(CLASS, TEACHER)
    assert room.view(CLASS) is None  # nothing led yet: followers stay where they are
    first = room.lead(CLASS, 2, 0.1, 0.5, 10)
    assert (first.step, first.lr, first.gamma, first.step_size) == (2, 0.1, 0.5, 10)
    assert room.lead(CLASS, 2, 0.1, 0.5, 10).version == first.version
    moved = room.lead(CLASS, 3, 0.1, 0.5, 10)
    assert moved.step == 3 and moved.version == first.version + 1
    assert room.lead(CLASS, 3, 0.1, 0.25, 10).version == first.version + 2


@pytest.mark.parametrize(
    "view",
    [(0, 0.1, 0.5, 10), (9, 0.1, 0.5, 10), (True, 0.1, 0.5, 10), ("2", 0.1, 0.5, 10),
     (2, 0.003, 0.5, 10), (2, 0.1, 2.0, 10), (2, 0.1, float("nan"), 10), (2, 0.1, 0.5, 0),
     (2, 0.1, 0.5, 10.5), (2, 0.1, 0.5, 101)],
)  # fmt: skip
def test_views_outside_the_sliders_are_refused(room, view):
    room.open_class(CLASS, TEACHER)
    with pytest.raises(ValueError):
        room.lead(CLASS, *view)
    assert room.view(CLASS) is None


@pytest.mark.parametrize("junk", ["ABCDEF", "abc", "x" * 10_000, "c1a55e\n", None, 123, "../../"])
def test_junk_class_ids_are_refused_everywhere(room, junk):
    for call in (
        lambda: room.open_class(junk, TEACHER),
        lambda: room.leader(junk),
        lambda: room.lead(junk, 1, 0.1, 0.5, 10),
        lambda: room.view(junk),
        lambda: room.beat(junk, new_follower()),
        lambda: room.follower_count(junk),
        lambda: room.open_sweep(junk, default_spec()),
    ):
        with pytest.raises(ValueError, match="class must be 6 lowercase hex digits"):
            call()
    assert ClassAnswers(room.store).class_count() == 0


def test_followers_are_counted_while_they_beat_and_drop_out_when_they_leave(room):
    room.open_class(CLASS, TEACHER)
    followers = [new_follower() for _ in range(3)]
    for f in followers:
        room.beat(CLASS, f)
    room.beat(CLASS, followers[0])  # a second beat is the same follower
    assert room.follower_count(CLASS) == 3
    room.leave(CLASS, followers[1])
    assert room.follower_count(CLASS) == 2
    assert room.follower_count(CLASS, timeout=-1.0) == 0  # none beat in the future
    with pytest.raises(ValueError):
        room.beat(CLASS, "Alice")  # a follower is a random token, never a name


def test_a_beat_for_a_class_nobody_opened_keeps_nothing(room):
    room.beat("0badc0", new_follower())
    assert room.follower_count("0badc0") == 0
    assert ClassAnswers(room.store).class_count() == 0


def test_no_cell_is_given_twice_until_all_are_given_and_repeats_get_fresh_seeds(room):
    room.open_class(CLASS, TEACHER)
    spec = default_spec(seed=5)
    sweep_id = room.open_sweep(CLASS, spec)
    assert room.view(CLASS) is None or room.view(CLASS).sweep_id == sweep_id
    given = [room.assign(sweep_id, s) for s in STUDENTS]
    for n in range(1, len(given) + 1):
        counts = Counter(a.cell for a in given[:n])
        assert max(counts.values()) - min(counts.values() or [0]) <= 1
        if n <= spec.n_cells:
            assert len(counts) == n  # all different until the cells run out
    assert {a.cell for a in given[:16]} == set(range(16))
    assert {a.seed for a in given[:16]} == {5}
    assert {a.seed for a in given[16:32]} == {6}
    assert {a.seed for a in given[32:]} == {7}
    # Per cell, every repeat has its own seed: the spread between seeds shows.
    for cell in range(16):
        seeds = [a.seed for a in given if a.cell == cell]
        assert len(seeds) == len(set(seeds))


def test_a_student_gets_their_own_cell_back_and_another_on_request(room):
    room.open_class(CLASS, TEACHER)
    sweep_id = room.open_sweep(CLASS, default_spec())
    mine = room.assign(sweep_id, STUDENTS[0])
    room.assign(sweep_id, STUDENTS[1])
    assert room.assign(sweep_id, STUDENTS[0]) == mine  # a refresh or a second tab
    again = room.assign(sweep_id, STUDENTS[0], again=True)
    assert again.turn == 2 and again.cell == 2
    assert room.assign(sweep_id, STUDENTS[0]) == again


def test_cells_given_at_once_from_many_threads_stay_unique(room):
    room.open_class(CLASS, TEACHER)
    sweep_id = room.open_sweep(CLASS, default_spec())
    start = threading.Barrier(8)
    given = []

    def student(i: int) -> None:
        start.wait()
        for j in range(4):
            given.append(room.assign(sweep_id, STUDENTS[i * 4 + j]))

    workers = [threading.Thread(target=student, args=(i,)) for i in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(a.turn for a in given) == list(range(32))
    assert Counter(a.cell for a in given) == {cell: 2 for cell in range(16)}


def test_a_cell_knows_its_run_once_and_the_landscape_reads_its_accuracy(room):
    store = room.store
    room.open_class(CLASS, TEACHER)
    spec = SweepSpec("gamma", (0.1, 0.5), "step_size", (1, 2), TrainConfig(epochs=2))
    sweep_id = room.open_sweep(CLASS, spec)
    mine = room.assign(sweep_id, STUDENTS[0])
    run_id = store.create_run(spec.config(mine.cell, mine.seed), started_by=STUDENTS[0])
    assert not room.attach_run(mine, STUDENTS[1], run_id)  # not theirs
    assert room.attach_run(mine, STUDENTS[0], run_id)
    assert not room.attach_run(mine, STUDENTS[0], run_id)  # once
    for epoch, acc in ((1, 91.0), (2, 88.5)):
        store.add_epoch(run_id, EpochPoint(epoch, 0.3, 1e-3, 0.2, acc, 0.5))
    store.set_status(run_id, FINISHED)
    room.assign(sweep_id, STUDENTS[1])
    cells = room.cells(sweep_id)
    assert cells.loc[0, "run_id"] == run_id and cells.loc[0, "status"] == FINISHED
    assert cells["run_id"].isna().tolist() == cells["status"].isna().tolist() == [False, True]
    assert cells.loc[0, "final_acc"] == 88.5 and cells.loc[0, "best_acc"] == 91.0
    # Nothing names a student: a cell row holds a digest of browser and sweep.
    with store.reading() as conn:
        holders = {r[0] for r in conn.execute("SELECT holder FROM sweep_cells").fetchall()}
    assert holders == {holder_id(s, sweep_id) for s in STUDENTS[:2]}
    assert holder_id(STUDENTS[0], sweep_id) != holder_id(STUDENTS[0], "0" * 12)


def test_reveal_and_close(room):
    room.open_class(CLASS, TEACHER)
    room.lead(CLASS, 1, 0.1, 0.5, 10)
    sweep_id = room.open_sweep(CLASS, default_spec())
    assert room.view(CLASS).sweep_id == sweep_id
    assert room.sweep(sweep_id)[1] is False
    room.reveal(sweep_id)
    assert room.sweep(sweep_id)[1] is True
    room.close_sweep(CLASS)
    assert room.view(CLASS).sweep_id is None
    assert room.sweep("0" * 12) is None
    for junk in ("zz", "0" * 13, None):
        with pytest.raises(ValueError):
            room.sweep(junk)
    with pytest.raises(ValueError, match="closed or unknown"):
        room.assign("0" * 12, STUDENTS[0])


def test_a_forgotten_class_takes_its_sweeps_and_followers_with_it(store):
    room = ClassRoom(store, max_classes=1)
    room.open_class(CLASS, TEACHER)
    sweep_id = room.open_sweep(CLASS, default_spec())
    room.assign(sweep_id, STUDENTS[0])
    room.beat(CLASS, new_follower())
    room.open_class("0a0b0c", TEACHER)  # the bound is one class: CLASS is forgotten
    assert room.leader(CLASS) is None and room.follower_count(CLASS) == 0
    assert room.sweep(sweep_id) is None
    assert room.cells(sweep_id).empty


@pytest.mark.postgres
def test_two_replicas_share_the_view_followers_and_cells():
    url = fresh_database()
    a, b = ClassRoom(RunStore(database_url=url)), ClassRoom(RunStore(database_url=url))
    try:
        a.open_class(CLASS, TEACHER)
        a.lead(CLASS, 4, 0.01, 0.5, 3)
        assert b.view(CLASS).step == 4
        b.beat(CLASS, new_follower())
        a.beat(CLASS, new_follower())
        assert a.follower_count(CLASS) == b.follower_count(CLASS) == 2
        sweep_id = a.open_sweep(CLASS, default_spec())
        cells = [(a if i % 2 else b).assign(sweep_id, s).cell for i, s in enumerate(STUDENTS[:16])]
        assert sorted(cells) == list(range(16))
    finally:
        a.store.close()
        b.store.close()
