"""The η₀, γ and s controls that the explorer and the lab share, and what a link may set them to."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

from steplr_viz.schedules import steplr as schedule
from steplr_viz.validation import check_float, check_int
from ui.query import one_of, parse_number

LR_CHOICES = schedule.lr_choices()  # 1-2-5 series, 1e-5 .. 1: LRs span decades
GAMMA_MIN, GAMMA_MAX = 0.01, 1.0
STEP_SIZE_MAX = 100  # the s slider's range: 1 .. 100
DEFAULTS = schedule.SEED_EXAMPLE


def lr_label(lr: float) -> str:
    """How a learning rate reads on its slider and in a link: 0.001, 1e-05."""
    return f"{lr:g}"


def lr_labels() -> list[str]:
    """The labels of LR_CHOICES, as a link must spell them."""
    return [lr_label(v) for v in LR_CHOICES]


def schedule_checks(
    prefix: str, step_size_max: int = STEP_SIZE_MAX, *, lr_key: str = "lr0"
) -> dict[str, Callable[[str], object]]:
    """URL checks for the keys `<prefix><lr_key>`, `<prefix>gamma`, `<prefix>step_size`."""
    return {
        f"{prefix}{lr_key}": one_of(lr_labels(), "η₀"),
        f"{prefix}gamma": lambda t: check_float(
            "gamma", parse_number(t), low=GAMMA_MIN, high=GAMMA_MAX
        ),
        f"{prefix}step_size": lambda t: check_int(
            "step_size", parse_number(t), low=1, high=step_size_max
        ),
    }


def schedule_controls(
    prefix: str,
    *,
    step_size_max: int = STEP_SIZE_MAX,
    step_size_label: str = "Step size s",
    step_size_help: str | None = None,
    defaults: Mapping[str, float] = DEFAULTS,
    lr_key: str = "lr0",
) -> tuple[float, float, int]:
    """η₀ (a 1-2-5 select slider), γ and s, bound to the URL under `<prefix>` keys.

    `defaults` holds base_lr, gamma and step_size; `lr_key` names η₀'s key after the prefix.
    """
    base_lr = st.select_slider(
        "Initial learning rate η₀",
        options=LR_CHOICES,
        value=defaults["base_lr"],
        format_func=lr_label,
        key=f"{prefix}{lr_key}",
        bind="query-params",
        help="A 1-2-5 series from 1e-5 to 1, because learning rates span decades.",
    )
    gamma = st.slider(
        "Decay factor γ",
        min_value=GAMMA_MIN,
        max_value=GAMMA_MAX,
        value=defaults["gamma"],
        step=0.01,
        key=f"{prefix}gamma",
        bind="query-params",
        help="Every s epochs the LR is multiplied by γ. γ = 1 never decays.",
    )
    step_size = st.slider(
        step_size_label,
        min_value=1,
        max_value=step_size_max,
        value=defaults["step_size"],
        key=f"{prefix}step_size",
        bind="query-params",
        help=step_size_help,
    )
    return float(base_lr), float(gamma), int(step_size)


MAX_WARMUP_EPOCHS = 10
# The warm-up as the note under the predicted schedule computes it (schedules.choices).
WARMUP_HELP = (
    "LinearLR climbs from η₀/3 to η₀ over this many scheduler steps (epochs; batches when the "
    "scheduler steps after each batch); then SequentialLR starts StepLR at its own step 0, so "
    "every StepLR decay comes that many steps later than without a warm-up."
)
MAX_PATIENCE = 5


def scheduler_param_checks(prefix: str) -> dict[str, Callable[[str], object]]:
    """URL checks for the extra scheduler settings: milestones, warm-up epochs, patience."""
    # Imported here, as below: choices imports torch, which the explorer's first paint skips.
    from steplr_viz.schedules.choices import parse_milestones

    return {
        f"{prefix}milestones": parse_milestones,
        f"{prefix}warmup_epochs": lambda t: check_int(
            "warm-up epochs", parse_number(t), low=1, high=MAX_WARMUP_EPOCHS
        ),
        f"{prefix}patience": lambda t: check_int(
            "patience", parse_number(t), low=1, high=MAX_PATIENCE
        ),
    }


def scheduler_params_ui(prefix: str, scheduler: str, defaults) -> dict:
    """The one extra setting a scheduler needs, drawn only for it; the TrainConfig fields set."""
    from steplr_viz.schedules.choices import format_milestones, parse_milestones

    if scheduler == "multistep":
        text = st.text_input(
            "Milestones (epochs, comma-separated)",
            value=format_milestones(defaults.milestones),
            key=f"{prefix}milestones",
            bind="query-params",
            help="MultiStepLR multiplies the LR by γ when the epoch count reaches each one.",
        )
        try:
            return {"milestones": parse_milestones(text)}
        except ValueError as err:
            st.error(f"{err}; using {format_milestones(defaults.milestones)}.")
            return {"milestones": defaults.milestones}
    if scheduler == "warmup_steplr":
        warmup = st.slider(
            "Warm-up epochs",
            1,
            MAX_WARMUP_EPOCHS,
            defaults.warmup_epochs,
            key=f"{prefix}warmup_epochs",
            bind="query-params",
            help=WARMUP_HELP,
        )
        return {"warmup_epochs": int(warmup)}
    if scheduler == "plateau":
        from steplr_viz.schedules.choices import PLATEAU_PATIENCE_HELP  # torch: not at first paint

        patience = st.slider(
            "Patience (epochs)",
            1,
            MAX_PATIENCE,
            max(1, defaults.patience),
            key=f"{prefix}patience",
            bind="query-params",
            help=PLATEAU_PATIENCE_HELP,
        )
        return {"patience": int(patience)}
    return {}
