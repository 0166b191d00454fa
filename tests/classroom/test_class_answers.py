"""The class tally: counts per choice, moved answers, many threads at once, and nothing else."""

from __future__ import annotations

import threading

import pytest

from steplr_viz.classroom.class_answers import (
    MAX_CHOICES,
    ClassAnswers,
    check_class_id,
    new_class_id,
)

CLASS, OTHER = "a1b2c3", "d4e5f6"


def test_counts_start_at_zero_and_add_up_per_choice():
    tally = ClassAnswers()
    assert tally.counts(CLASS, "q1", 3) == (0, 0, 0)
    tally.answer(CLASS, "q1", 3, 2)
    tally.answer(CLASS, "q1", 3, 2)
    assert tally.answer(CLASS, "q1", 3, 0) == (1, 0, 2)
    assert tally.counts(CLASS, "q1", 3) == (1, 0, 2)


def test_classes_and_questions_are_kept_apart():
    tally = ClassAnswers()
    tally.answer(CLASS, "q1", 2, 1)
    tally.answer(OTHER, "q1", 2, 0)
    tally.answer(CLASS, "q2", 2, 0)
    assert tally.counts(CLASS, "q1", 2) == (0, 1)
    assert tally.counts(OTHER, "q1", 2) == (1, 0)
    assert tally.counts(CLASS, "q2", 2) == (1, 0)


def test_a_changed_answer_moves_one_count():
    tally = ClassAnswers()
    tally.answer(CLASS, "q", 3, 0)
    assert tally.answer(CLASS, "q", 3, 2, previous=0) == (0, 0, 1)


def test_a_claimed_previous_answer_never_drives_a_count_negative():
    tally = ClassAnswers()
    assert tally.answer(CLASS, "q", 3, 1, previous=0) == (0, 1, 0)


def test_reset_forgets_one_question_only():
    tally = ClassAnswers()
    tally.answer(CLASS, "q1", 2, 0)
    tally.answer(CLASS, "q2", 2, 1)
    tally.reset(CLASS, "q1")
    assert tally.counts(CLASS, "q1", 2) == (0, 0)
    assert tally.counts(CLASS, "q2", 2) == (0, 1)


def test_the_oldest_class_is_forgotten_beyond_the_bound():
    tally = ClassAnswers(max_classes=2)
    tally.answer("000001", "q", 2, 0)
    tally.answer("000002", "q", 2, 0)
    tally.answer("000001", "q", 2, 0)  # touched again: 000002 is now the oldest
    tally.answer("000003", "q", 2, 0)
    assert tally.class_count() == 2
    assert tally.counts("000002", "q", 2) == (0, 0)
    assert tally.counts("000001", "q", 2) == (2, 0)


@pytest.mark.parametrize(
    "args",
    [
        ("ABCDEF", "q", 2, 0),  # upper case
        ("abc", "q", 2, 0),  # too short
        ("x" * 10_000, "q", 2, 0),
        (CLASS, "Bad Id!", 2, 0),
        (CLASS, "q", 0, 0),
        (CLASS, "q", MAX_CHOICES + 1, 0),
        (CLASS, "q", 2, 2),  # no such choice
        (CLASS, "q", 2, -1),
        (CLASS, "q", 2, True),
        (CLASS, "q", 2.0, 0),
    ],
)
def test_bad_arguments_raise_value_error_and_count_nothing(args):
    tally = ClassAnswers()
    with pytest.raises(ValueError):
        tally.answer(*args)
    assert tally.class_count() == 0


def test_new_class_ids_are_valid_and_differ():
    ids = {new_class_id() for _ in range(50)}
    assert len(ids) > 45  # 16.7 million possible ids
    assert all(check_class_id(i) == i for i in ids)


def test_concurrent_answers_are_all_counted():
    tally = ClassAnswers()
    threads, per_thread = 16, 500
    start = threading.Barrier(threads)

    def student(n: int) -> None:
        start.wait()
        previous = None
        for i in range(per_thread):
            choice = (n + i) % 4
            # Half the students change their mind every time: their count moves, never grows.
            tally.answer(CLASS, "q", 4, choice, previous if n % 2 else None)
            previous = choice

    workers = [threading.Thread(target=student, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    counts = tally.counts(CLASS, "q", 4)
    # 8 students answer 500 times each; 8 move one answer around: each holds exactly one.
    assert sum(counts) == (threads // 2) * per_thread + threads // 2


def test_nothing_but_counts_is_stored():
    tally = ClassAnswers()
    tally.answer(CLASS, "q", 3, 1)
    tally.answer(CLASS, "q", 3, 2, previous=1)
    # The whole tally: class id, question id, choices, choice and a count. No names, ids or times.
    with tally.store.reading() as conn:
        rows = [tuple(r) for r in conn.execute("SELECT * FROM class_answers").fetchall()]
        assert conn.columns("class_answers") == {
            "class_id", "question_id", "n_choices", "choice", "answers"
        }  # fmt: skip
    assert sorted(rows) == [(CLASS, "q", 3, 1, 0), (CLASS, "q", 3, 2, 1)]


@pytest.mark.postgres
def test_two_replicas_on_one_database_count_into_one_tally():
    """Behind a lecture hall's load balancer: students on either replica are all counted."""
    from steplr_viz.store.runs import RunStore
    from tests.postgres import fresh_database

    url = fresh_database()
    a, b = RunStore(database_url=url), RunStore(database_url=url)
    try:
        ClassAnswers(a).answer(CLASS, "q", 3, 0)
        ClassAnswers(b).answer(CLASS, "q", 3, 2)
        ClassAnswers(b).answer(CLASS, "q", 3, 1, previous=0)
        assert ClassAnswers(a).counts(CLASS, "q", 3) == (0, 1, 1)
    finally:
        a.close()
        b.close()
