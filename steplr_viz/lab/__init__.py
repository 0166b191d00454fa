"""StepLR inside real PyTorch: the pitfalls and comparisons the lab page teaches.

Every number here comes from running torch's schedulers at call time; nothing is typed in.
One module per lab section; `common` builds the fresh optimizer + StepLR they all start from.
Each simulation is cached (lru_cache on validated, hashable arguments; a warning capture that
came back empty is not kept) and returns frozen dataclasses of tuples (and read-only arrays),
so a page rerun costs a dictionary lookup and no caller can mutate a cached result.
"""

from steplr_viz.lab.common import LAB_MAX_EPOCHS, format_lr
from steplr_viz.lab.comparison import SCHEDULES, Comparison, compare_schedules, scripted_loss
from steplr_viz.lab.order import CallOrder, call_order
from steplr_viz.lab.precision import MAX_PRECISION_STEPS, Precision, closed_vs_chainable
from steplr_viz.lab.quiz import (
    QUIZ_BASE_LRS,
    QUIZ_GAMMAS,
    QUIZ_MAX_DECAYS,
    QUIZ_RULE,
    Checked,
    Question,
    Quiz,
    check_answer,
    explain,
    make_question,
)
from steplr_viz.lab.readings import MAX_TABLE_STEPS, LrReadings, lr_readings
from steplr_viz.lab.resuming import RESUME_WAYS, Resume, ResumeCase, key_error_text, resume
from steplr_viz.lab.snippets import code_blocks, resume_code
from steplr_viz.lab.stepping import (
    MAX_BATCH_EPOCHS,
    MNIST_TRAIN_SIZE,
    SEED_BATCH_SIZE,
    Stepping,
    batch_number,
    batches_per_epoch,
    bundled_train_size,
    loaders,
    per_batch_stepping,
)

__all__ = [
    "LAB_MAX_EPOCHS",
    "MAX_BATCH_EPOCHS",
    "MAX_PRECISION_STEPS",
    "MAX_TABLE_STEPS",
    "MNIST_TRAIN_SIZE",
    "QUIZ_BASE_LRS",
    "QUIZ_GAMMAS",
    "QUIZ_MAX_DECAYS",
    "QUIZ_RULE",
    "RESUME_WAYS",
    "SCHEDULES",
    "SEED_BATCH_SIZE",
    "CallOrder",
    "Checked",
    "Comparison",
    "LrReadings",
    "Precision",
    "Question",
    "Quiz",
    "Resume",
    "ResumeCase",
    "Stepping",
    "batch_number",
    "batches_per_epoch",
    "bundled_train_size",
    "call_order",
    "check_answer",
    "closed_vs_chainable",
    "code_blocks",
    "compare_schedules",
    "explain",
    "format_lr",
    "key_error_text",
    "loaders",
    "lr_readings",
    "make_question",
    "per_batch_stepping",
    "resume",
    "resume_code",
    "scripted_loss",
]
