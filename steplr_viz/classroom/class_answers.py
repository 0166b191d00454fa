"""A class's answers to the guided path's questions: a count per choice, nothing else.

One tally serves the whole server process (the page holds it with st.cache_resource), so every
student's session adds to the counts the projected screen reads. It stores no names, no session
ids and no times: only, per class session and question, how many answers each choice has.
A student who changes their mind moves one count from the old choice to the new one; which
choice that was is kept in the student's own session, never here.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict

CLASS_ID_RE = re.compile(r"^[0-9a-f]{6}$")  # what new_class_id makes: short, safe in a URL
QUESTION_ID_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
MAX_CHOICES = 12
# Class sessions kept at once: the oldest untouched one is forgotten first, so a public server
# that sees many made-up class ids keeps a bounded memory.
MAX_CLASSES = 256


def new_class_id() -> str:
    """A fresh, random class session id (6 hex digits)."""
    return secrets.token_hex(3)


def check_class_id(class_id: object) -> str:
    """Return a valid class id; ValueError (naming the rule, not the value) otherwise."""
    if not isinstance(class_id, str) or not CLASS_ID_RE.match(class_id):
        # "..., got" ends the rule: the page's link check shows the rule and drops the value.
        raise ValueError(f"class must be 6 lowercase hex digits, got {str(class_id)[:20]!r}")
    return class_id


def _check_question(question_id: object, n_choices: object) -> tuple[str, int]:
    if not isinstance(question_id, str) or not QUESTION_ID_RE.match(question_id):
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


class ClassAnswers:
    """Thread-safe counts per (class session, question, choice)."""

    def __init__(self, max_classes: int = MAX_CLASSES) -> None:
        if not isinstance(max_classes, int) or max_classes < 1:
            raise ValueError("max_classes must be a positive int")
        self.max_classes = max_classes
        self._lock = threading.Lock()
        # class id -> question id -> counts per choice; the least recently used class first.
        self._classes: OrderedDict[str, dict[str, list[int]]] = OrderedDict()

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
        with self._lock:
            counts = self._counts(class_id, question_id, n_choices, create=True)
            if previous is not None and counts[previous] > 0:
                counts[previous] -= 1  # never below zero, whatever a caller claims
            counts[choice] += 1
            return tuple(counts)

    def counts(self, class_id: str, question_id: str, n_choices: int) -> tuple[int, ...]:
        """The answers so far per choice (zeros for a question nobody answered)."""
        class_id = check_class_id(class_id)
        question_id, n_choices = _check_question(question_id, n_choices)
        with self._lock:
            counts = self._counts(class_id, question_id, n_choices, create=False)
            return tuple(counts) if counts is not None else (0,) * n_choices

    def reset(self, class_id: str, question_id: str) -> None:
        """Forget one question's answers in one class (the teacher asks again)."""
        class_id = check_class_id(class_id)
        with self._lock:
            questions = self._classes.get(class_id)
            if questions is not None:
                questions.pop(question_id, None)

    def class_count(self) -> int:
        """Class sessions currently held."""
        with self._lock:
            return len(self._classes)

    def _counts(
        self, class_id: str, question_id: str, n_choices: int, *, create: bool
    ) -> list[int] | None:
        """The counts list (caller holds the lock); a changed choice count starts afresh."""
        questions = self._classes.get(class_id)
        if questions is None:
            if not create:
                return None
            questions = self._classes[class_id] = {}
            while len(self._classes) > self.max_classes:
                self._classes.popitem(last=False)
        self._classes.move_to_end(class_id)
        counts = questions.get(question_id)
        if counts is None or len(counts) != n_choices:
            if not create:
                return None
            counts = questions[question_id] = [0] * n_choices
        return counts
