"""A class's answers to the guided path's questions: a count per choice, nothing else.

The counts live in the run store (steplr_viz.store: SQLite, PostgreSQL or in memory), so every
replica of the app behind a lecture hall's load balancer adds to the same tally and the
projected screen reads every student's answer. It stores no names, no session ids and no
times: only, per class session and question, how many answers each choice has. A student who
changes their mind moves one count from the old choice to the new one; which choice that was is
kept in the student's own session, never here.
"""

from __future__ import annotations

import re
import secrets
import time

from steplr_viz.store.dialects import Conn
from steplr_viz.store.runs import InMemoryRunStore, RunStore

CLASS_ID_RE = re.compile(r"^[0-9a-f]{6}$")  # what new_class_id makes: short, safe in a URL
QUESTION_ID_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
MAX_CHOICES = 64  # a question's choices; a sweep's "where is the best cell?" has one per cell
# Class sessions kept at once: the oldest untouched one is forgotten first, so a public server
# that sees many made-up class ids keeps a bounded store.
MAX_CLASSES = 256
# A class's tables: forgetting a class forgets its rows in each.
CLASS_TABLES = ("class_answers", "class_followers", "class_sessions")


def new_class_id() -> str:
    """A fresh, random class session id (6 hex digits)."""
    return secrets.token_hex(3)


def check_class_id(class_id: object) -> str:
    """Return a valid class id; ValueError (naming the rule, not the value) otherwise."""
    if not isinstance(class_id, str) or not CLASS_ID_RE.fullmatch(class_id):
        # "..., got" ends the rule: the page's link check shows the rule and drops the value.
        raise ValueError(f"class must be 6 lowercase hex digits, got {str(class_id)[:20]!r}")
    return class_id


def _check_question(question_id: object, n_choices: object) -> tuple[str, int]:
    if not isinstance(question_id, str) or not QUESTION_ID_RE.fullmatch(question_id):
        raise ValueError("question id must be 1 to 64 of a-z, 0-9, _ and -")
    if not isinstance(n_choices, int) or isinstance(n_choices, bool):
        raise ValueError("n_choices must be an int")
    if not 1 <= n_choices <= MAX_CHOICES:
        raise ValueError(f"n_choices must be between 1 and {MAX_CHOICES}")
    return question_id, n_choices


def _check_choice(choice: object, n_choices: int, name: str = "choice") -> int:
    if not isinstance(choice, int) or isinstance(choice, bool) or not 0 <= choice < n_choices:
        raise ValueError(f"{name} must be an int from 0 to {n_choices - 1}")
    return choice


def touch_class(conn: Conn, class_id: str, max_classes: int = MAX_CLASSES) -> None:
    """Mark a class session used now (making it if new); forget the oldest beyond the bound."""
    now = time.time()
    # Strictly later than any other touch, so "oldest" is well defined even within a tick.
    latest = conn.execute("SELECT MAX(touched) FROM class_sessions").fetchone()[0]
    if latest is not None and now <= latest:
        now = latest + 1e-6
    updated = conn.execute(
        "UPDATE class_sessions SET touched = ? WHERE class_id = ?", (now, class_id)
    ).rowcount
    if updated:
        return
    conn.execute(
        "INSERT INTO class_sessions (class_id, created, touched) VALUES (?, ?, ?)",
        (class_id, now, now),
    )
    rows = conn.execute(
        "SELECT class_id FROM class_sessions ORDER BY touched DESC LIMIT -1 OFFSET ?"
        if conn.dialect.name == "sqlite"
        else "SELECT class_id FROM class_sessions ORDER BY touched DESC OFFSET ?",
        (max_classes,),
    ).fetchall()
    for (old,) in rows:
        forget_class(conn, old)


def forget_class(conn: Conn, class_id: str) -> None:
    """Delete one class session and everything it holds (answers, followers, sweeps)."""
    sweeps = conn.execute("SELECT sweep_id FROM sweeps WHERE class_id = ?", (class_id,))
    for (sweep_id,) in sweeps.fetchall():
        conn.execute("DELETE FROM sweep_cells WHERE sweep_id = ?", (sweep_id,))
    conn.execute("DELETE FROM sweeps WHERE class_id = ?", (class_id,))
    for table in CLASS_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE class_id = ?", (class_id,))  # noqa: S608


class ClassAnswers:
    """Counts per (class session, question, choice), in a run store shared by every replica."""

    def __init__(self, store: RunStore | None = None, max_classes: int = MAX_CLASSES) -> None:
        if not isinstance(max_classes, int) or isinstance(max_classes, bool) or max_classes < 1:
            raise ValueError("max_classes must be a positive int")
        self.max_classes = max_classes
        self.store = store if store is not None else InMemoryRunStore()

    def answer(
        self,
        class_id: str,
        question_id: str,
        n_choices: int,
        choice: int,
        previous: int | None = None,
    ) -> tuple[int, ...]:
        """Count one answer (moved from `previous` if the student answered before); new counts."""
        class_id = check_class_id(class_id)
        question_id, n_choices = _check_question(question_id, n_choices)
        choice = _check_choice(choice, n_choices)
        if previous is not None:
            previous = _check_choice(previous, n_choices, "previous")
        key = (class_id, question_id, n_choices)
        with self.store.class_transaction() as conn:
            touch_class(conn, class_id, self.max_classes)
            if previous is not None:  # never below zero, whatever a caller claims
                conn.execute(
                    "UPDATE class_answers SET answers = answers - 1 WHERE class_id = ? AND "
                    "question_id = ? AND n_choices = ? AND choice = ? AND answers > 0",
                    (*key, previous),
                )
            conn.execute(
                "INSERT INTO class_answers (class_id, question_id, n_choices, choice, answers) "
                "VALUES (?, ?, ?, ?, 1) ON CONFLICT (class_id, question_id, n_choices, choice) "
                "DO UPDATE SET answers = class_answers.answers + 1",
                (*key, choice),
            )
            return _counts(conn, *key)

    def counts(self, class_id: str, question_id: str, n_choices: int) -> tuple[int, ...]:
        """The answers so far per choice (zeros for a question nobody answered)."""
        class_id = check_class_id(class_id)
        question_id, n_choices = _check_question(question_id, n_choices)
        with self.store.reading() as conn:
            return _counts(conn, class_id, question_id, n_choices)

    def reset(self, class_id: str, question_id: str) -> None:
        """Forget one question's answers in one class (the teacher asks again)."""
        class_id = check_class_id(class_id)
        with self.store.class_transaction() as conn:
            conn.execute(
                "DELETE FROM class_answers WHERE class_id = ? AND question_id = ?",
                (class_id, question_id),
            )

    def class_count(self) -> int:
        """Class sessions currently held."""
        with self.store.reading() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM class_sessions").fetchone()[0])


def _counts(conn: Conn, class_id: str, question_id: str, n_choices: int) -> tuple[int, ...]:
    counts = [0] * n_choices
    rows = conn.execute(
        "SELECT choice, answers FROM class_answers "
        "WHERE class_id = ? AND question_id = ? AND n_choices = ?",
        (class_id, question_id, n_choices),
    ).fetchall()
    for choice, answers in rows:
        if 0 <= choice < n_choices:
            counts[choice] = int(answers)
    return tuple(counts)
