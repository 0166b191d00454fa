"""A class session in the run store: the teacher's view that students follow, who follows, and
the class's sweeps with the cells given out.

Everything lives in the run store (SQLite, PostgreSQL or in memory), so on a lecture hall's
replicas every server sees the same class. No names are kept: a follower is a random token of
one browser tab, a cell's holder a digest of the browser id mixed with the sweep id (so one
student's cells in two sweeps cannot be linked), and a cell knows its run once it has started.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass

import pandas as pd

from steplr_viz.classroom.class_answers import MAX_CLASSES, check_class_id, touch_class
from steplr_viz.classroom.guided_path import STEP_COUNT
from steplr_viz.classroom.sweeps import SweepSpec, check_spec, check_value, seed_for
from steplr_viz.store.runs import RunStore, check_run_id
from steplr_viz.validation import is_id, new_id

# A follower counts while its page has beaten within this many seconds; pages beat every
# FOLLOWER_BEAT_S (a tab closed without a goodbye drops out after the timeout).
FOLLOWER_BEAT_S = 5.0
FOLLOWER_TIMEOUT_S = 15.0
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")  # followers and holders: digests, never names


@dataclass(frozen=True)
class ClassView:
    """What the teacher shows and followers copy: the step and the step's η₀, γ and s."""

    step: int
    lr: float
    gamma: float
    step_size: int
    version: int = 0  # grows with every change the teacher makes
    sweep_id: str | None = None  # the class's open sweep


@dataclass(frozen=True)
class Assignment:
    """One cell given to one student: the turn it was given on, its cell, seed and run."""

    sweep_id: str
    turn: int
    cell: int
    seed: int
    run_id: str | None


def check_token(token: object, name: str = "token") -> str:
    """A follower or holder token: 32 lowercase hex digits."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise ValueError(f"{name} must be 32 lowercase hex digits")
    return token


def check_sweep_id(sweep_id: object) -> str:
    """A sweep id: 12 lowercase hex digits; ValueError otherwise."""
    if not is_id(sweep_id):  # the run ids' format: never read as a number by a CSV reader
        raise ValueError(f"sweep must be a 12-character id, got {str(sweep_id)[:20]!r}")
    return sweep_id


def new_follower() -> str:
    """A random follower token for one page session."""
    return uuid.uuid4().hex


def holder_id(starter: str, sweep_id: str) -> str:
    """What a sweep keeps of the student holding a cell: a digest of their browser and the sweep."""
    return hashlib.sha256(f"steplr-viz cell {sweep_id} {starter}".encode()).hexdigest()[:32]


def check_view(step: object, lr: object, gamma: object, step_size: object) -> tuple:
    """The teacher's step and η₀/γ/s, inside the page's ranges; ValueError otherwise."""
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= STEP_COUNT:
        raise ValueError(f"step must be an int from 1 to {STEP_COUNT}")
    return (
        step,
        check_value("lr", lr),
        check_value("gamma", gamma),
        check_value("step_size", step_size),
    )


class ClassRoom:
    """Class sessions, followers and sweeps in a run store shared by every replica."""

    def __init__(self, store: RunStore, max_classes: int = MAX_CLASSES) -> None:
        self.store = store
        self.max_classes = max_classes

    # --- the teacher's view and who follows it ------------------------------------------------

    def open_class(self, class_id: str, leader: str) -> str:
        """Make the class (its leader: this browser's starter id) if new; returns its leader."""
        class_id = check_class_id(class_id)
        leader = check_token(leader, "leader")
        with self.store.class_transaction() as conn:
            touch_class(conn, class_id, self.max_classes)
            conn.execute(
                "UPDATE class_sessions SET leader = ? WHERE class_id = ? AND leader IS NULL",
                (leader, class_id),
            )
            return conn.execute(
                "SELECT leader FROM class_sessions WHERE class_id = ?", (class_id,)
            ).fetchone()[0]

    def leader(self, class_id: str) -> str | None:
        """The starter id of the browser that leads the class (None: no such class)."""
        class_id = check_class_id(class_id)
        with self.store.reading() as conn:
            row = conn.execute(
                "SELECT leader FROM class_sessions WHERE class_id = ?", (class_id,)
            ).fetchone()
        return None if row is None else row[0]

    def lead(
        self, class_id: str, step: int, lr: float, gamma: float, step_size: int
    ) -> ClassView | None:
        """Record the teacher's view (the caller has checked the right to lead); the new view.

        The version grows only when something changed, so followers redraw only then.
        """
        class_id = check_class_id(class_id)
        step, lr, gamma, step_size = check_view(step, lr, gamma, step_size)
        with self.store.class_transaction() as conn:
            conn.execute(
                "UPDATE class_sessions SET step = ?, lr = ?, gamma = ?, step_size = ?, "
                "version = version + 1 WHERE class_id = ? AND (step IS NULL OR step <> ? OR "
                "lr <> ? OR gamma <> ? OR step_size <> ?)",
                (step, lr, gamma, step_size, class_id, step, lr, gamma, step_size),
            )
        return self.view(class_id)

    def view(self, class_id: str) -> ClassView | None:
        """What followers of this class show (None before the teacher has led)."""
        class_id = check_class_id(class_id)
        with self.store.reading() as conn:
            row = conn.execute(
                "SELECT step, lr, gamma, step_size, version, sweep_id FROM class_sessions "
                "WHERE class_id = ?",
                (class_id,),
            ).fetchone()
        if row is None or row[0] is None:
            return None
        step, lr, gamma, step_size, version, sweep_id = row
        return ClassView(int(step), float(lr), float(gamma), int(step_size), int(version), sweep_id)

    def beat(self, class_id: str, follower: str) -> None:
        """A follower's page is still open and following."""
        class_id = check_class_id(class_id)
        follower = check_token(follower, "follower")
        with self.store.class_transaction() as conn:
            known = conn.execute(
                "SELECT 1 FROM class_sessions WHERE class_id = ?", (class_id,)
            ).fetchone()
            if known is None:
                return  # no class: nothing to follow, nothing kept
            conn.execute(
                "INSERT INTO class_followers (class_id, follower, seen) VALUES (?, ?, ?) "
                "ON CONFLICT (class_id, follower) DO UPDATE SET seen = excluded.seen",
                (class_id, follower, time.time()),
            )

    def leave(self, class_id: str, follower: str) -> None:
        """A follower stopped following."""
        class_id = check_class_id(class_id)
        follower = check_token(follower, "follower")
        with self.store.class_transaction() as conn:
            conn.execute(
                "DELETE FROM class_followers WHERE class_id = ? AND follower = ?",
                (class_id, follower),
            )

    def follower_count(self, class_id: str, timeout: float = FOLLOWER_TIMEOUT_S) -> int:
        """How many pages follow the class now (beaten within `timeout` seconds)."""
        class_id = check_class_id(class_id)
        with self.store.reading() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM class_followers WHERE class_id = ? AND seen >= ?",
                (class_id, time.time() - timeout),
            ).fetchone()
        return int(row[0])

    # --- sweeps -------------------------------------------------------------------------------

    def open_sweep(self, class_id: str, spec: SweepSpec) -> str:
        """Open a sweep for the class (its current one from now on); returns the sweep's id."""
        class_id = check_class_id(class_id)
        spec = check_spec(spec)
        sweep_id = new_id()
        with self.store.class_transaction() as conn:
            touch_class(conn, class_id, self.max_classes)
            conn.execute(
                "INSERT INTO sweeps (sweep_id, class_id, created, spec) VALUES (?, ?, ?, ?)",
                (sweep_id, class_id, time.time(), spec.to_json()),
            )
            conn.execute(
                "UPDATE class_sessions SET sweep_id = ?, version = version + 1 WHERE class_id = ?",
                (sweep_id, class_id),
            )
        return sweep_id

    def close_sweep(self, class_id: str) -> None:
        """The class has no current sweep any more (its results stay readable by id)."""
        class_id = check_class_id(class_id)
        with self.store.class_transaction() as conn:
            conn.execute(
                "UPDATE class_sessions SET sweep_id = NULL, version = version + 1 "
                "WHERE class_id = ?",
                (class_id,),
            )

    def current_sweep(self, class_id: str) -> str | None:
        """The class's open sweep (None: none open, or no such class)."""
        class_id = check_class_id(class_id)
        with self.store.reading() as conn:
            row = conn.execute(
                "SELECT sweep_id FROM class_sessions WHERE class_id = ?", (class_id,)
            ).fetchone()
        return None if row is None else row[0]

    def sweep(self, sweep_id: str) -> tuple[SweepSpec, bool] | None:
        """A sweep's grid and whether its best cell is revealed (None: no such sweep)."""
        sweep_id = check_sweep_id(sweep_id)
        with self.store.reading() as conn:
            row = conn.execute(
                "SELECT spec, revealed FROM sweeps WHERE sweep_id = ?", (sweep_id,)
            ).fetchone()
        if row is None:
            return None
        return SweepSpec.from_json(row[0]), bool(row[1])

    def reveal(self, sweep_id: str, revealed: bool = True) -> None:
        """Show (or hide again) the best cell on every device."""
        sweep_id = check_sweep_id(sweep_id)
        with self.store.class_transaction() as conn:
            conn.execute(
                "UPDATE sweeps SET revealed = ? WHERE sweep_id = ?", (int(bool(revealed)), sweep_id)
            )

    def assign(self, sweep_id: str, starter: str, *, again: bool = False) -> Assignment:
        """The student's cell: the one they hold, else (or with `again`) the next one.

        Cells go out in order, none twice until all are given; then round again with the next
        seed, so a repeated cell shows the spread between seeds.
        """
        sweep_id = check_sweep_id(sweep_id)
        holder = holder_id(check_token(starter, "starter"), sweep_id)
        found = self.sweep(sweep_id)
        if found is None:
            raise ValueError("that sweep is closed or unknown")
        spec = found[0]
        with self.store.class_transaction() as conn:
            if not again:
                row = conn.execute(
                    "SELECT turn, cell, seed, run_id FROM sweep_cells WHERE sweep_id = ? AND "
                    "holder = ? ORDER BY turn DESC LIMIT 1",
                    (sweep_id, holder),
                ).fetchone()
                if row is not None:
                    return Assignment(sweep_id, int(row[0]), int(row[1]), int(row[2]), row[3])
            last = conn.execute(
                "SELECT MAX(turn) FROM sweep_cells WHERE sweep_id = ?", (sweep_id,)
            ).fetchone()[0]
            turn = 0 if last is None else int(last) + 1
            cell, seed = turn % spec.n_cells, seed_for(spec, turn)
            conn.execute(
                "INSERT INTO sweep_cells (sweep_id, turn, cell, seed, holder, given) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (sweep_id, turn, cell, seed, holder, time.time()),
            )
        return Assignment(sweep_id, turn, cell, seed, None)

    def attach_run(self, assignment: Assignment, starter: str, run_id: str) -> bool:
        """Record the run a student started for their cell (once); False if not theirs."""
        holder = holder_id(check_token(starter, "starter"), check_sweep_id(assignment.sweep_id))
        run_id = check_run_id(run_id)
        with self.store.class_transaction() as conn:
            return bool(
                conn.execute(
                    "UPDATE sweep_cells SET run_id = ? WHERE sweep_id = ? AND turn = ? AND "
                    "holder = ? AND run_id IS NULL",
                    (run_id, assignment.sweep_id, assignment.turn, holder),
                ).rowcount
            )

    def cells(self, sweep_id: str) -> pd.DataFrame:
        """Every cell given: turn, cell, seed, run_id, the run's status, final and best accuracy."""
        sweep_id = check_sweep_id(sweep_id)
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT c.turn, c.cell, c.seed, c.run_id, r.status, "
                "(SELECT e.test_acc FROM epochs e WHERE e.run_id = c.run_id "
                "ORDER BY e.epoch DESC LIMIT 1) AS final_acc, "
                "(SELECT MAX(e.test_acc) FROM epochs e WHERE e.run_id = c.run_id) AS best_acc "
                "FROM sweep_cells c LEFT JOIN runs r ON r.run_id = c.run_id "
                "WHERE c.sweep_id = ? ORDER BY c.turn",
                (sweep_id,),
            ).fetchall()
        frame = pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["turn", "cell", "seed", "run_id", "status", "final_acc", "best_acc"],
        )
        for col in ("final_acc", "best_acc"):
            frame[col] = frame[col].astype("float64")
        return frame


__all__ = [
    "FOLLOWER_BEAT_S",
    "FOLLOWER_TIMEOUT_S",
    "Assignment",
    "ClassRoom",
    "ClassView",
    "check_sweep_id",
    "check_token",
    "holder_id",
    "new_follower",
]
