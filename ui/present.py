"""The presenter page's frame: its link checks, present mode, the step navigation, the class's
answers and the join-the-class code. The steps' bodies are in ui/present_steps.py.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from steplr_viz.classroom import guided_path, join
from steplr_viz.classroom.class_answers import ClassAnswers, check_class_id, new_class_id
from steplr_viz.classroom.guided_path import Question, Settings
from steplr_viz.figures import present as figs
from steplr_viz.store.runs import check_run_id
from steplr_viz.validation import check_int
from ui import link_pins
from ui.charts import show_chart
from ui.query import parse_bool, parse_number
from ui.run_registry import get_manager
from ui.schedule_controls import schedule_checks, schedule_controls

PAGE_PATH = "Present"  # Streamlit's URL path for pages/3_Present.py
STEP_SIZE_MAX = 100
OPEN_CLASS = "000000"  # where a student who came without a class link answers
ANSWER_POLL_SECONDS = 1.0
QR_WIDTH = 320
ANSWERS_CHART_HEIGHT = 220


# What a link may set on this page; anything else gets a warning, never a crash.
URL_CHECKS = {
    **schedule_checks("", STEP_SIZE_MAX),  # the teacher's η₀, γ, s: the explorer's own keys
    "present": parse_bool,
    "step": lambda t: check_int("step", parse_number(t), low=1, high=guided_path.STEP_COUNT),
    "class": check_class_id,
    "run": check_run_id,
    "exp": check_run_id,  # step 6's experiment ids, one per side (made like a run id)
    "exp_lr": check_run_id,
    "side": guided_path.check_side,
}

# Large type for the back of the room, in sizes only: the theme's colours (light or dark) stay.
PRESENT_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.6rem; padding-bottom: 1rem; }
[data-testid="stMain"] h1 { font-size: 2.9rem; }
[data-testid="stMain"] h2 { font-size: 2.3rem; }
[data-testid="stMain"] h3 { font-size: 2rem; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li {
  font-size: 1.4rem; line-height: 1.4;
}
[data-testid="stMain"] .katex { font-size: 1.5em; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.2rem; }
[data-testid="stMain"] button p { font-size: 1.35rem; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stPopoverBody"] code { font-size: 1.15rem; }
</style>"""

# Arrow keys and a presenter's clicker (PageUp/PageDown) press the Previous/Next buttons, so a
# key does exactly what a click does. Keys typed into a field or on a slider are left alone;
# a toggle just clicked keeps the focus but has no use for arrows.
KEYS_JS = """
export default function (component) {
  const keys = { ArrowRight: "next", PageDown: "next", ArrowLeft: "prev", PageUp: "prev" };
  const onKey = (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    const typing = target && (target.isContentEditable || ["TEXTAREA", "SELECT"].includes(
      target.tagName) || target.getAttribute("role") === "slider" || (target.tagName === "INPUT"
      && !["checkbox", "button", "submit"].includes(target.type)));
    if (typing) return;
    const which = keys[event.key];
    if (!which) return;
    const button = document.querySelector(`.st-key-present_${which} button`);
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
"""
_arrow_keys = st.components.v2.component("steplr_viz_present_keys", js=KEYS_JS)


def get_class_answers() -> ClassAnswers:
    """The class tally in the run store: every student's session, on any replica, adds to it."""
    return ClassAnswers(get_manager().store)


# --------------------------------------------------------------------------- URL state


def current_step() -> int:
    """The step in the link (1 when absent; warn_bad_query_params has dropped a bad one)."""
    raw = st.query_params.get("step")
    try:
        return URL_CHECKS["step"](raw) if raw else 1
    except ValueError:
        return 1


def go_to(number: int) -> None:
    """Show step `number`: it lives in the link, so each step has its own address."""
    link_pins.set_param("step", str(number))


def class_session(present: bool) -> str:
    """The class session in the link; the teacher's screen makes one when there is none."""
    raw = st.query_params.get("class")
    try:
        return check_class_id(raw)
    except ValueError:
        if not present:
            return OPEN_CLASS
        class_id = new_class_id()
        link_pins.set_param("class", class_id)
        return class_id


def quiz_seed(class_id: str) -> int:
    """The same closing quiz for everyone in a class, a different one for the next class."""
    return int(class_id, 16)


# --------------------------------------------------------------------------- chrome


def settings_ui() -> Settings:
    """The teacher's η₀, γ and s in the sidebar, bound to the link (the explorer's keys)."""
    with st.sidebar:
        st.header("Teacher's settings")
        base_lr, gamma, step_size = schedule_controls("", step_size_max=STEP_SIZE_MAX)
        st.caption("Step 2 draws these; the join code carries them to every student.")
    return Settings(base_lr, gamma, step_size)


def present_mode(present: bool) -> None:
    """Large type and a collapsed sidebar in present mode; the page as usual otherwise."""
    st.set_page_config(initial_sidebar_state="collapsed" if present else "auto")
    if present:
        st.html(PRESENT_CSS)


def nav_ui(number: int) -> tuple[bool, DeltaGenerator]:
    """Previous, Next, where we are and the present toggle; returns present and the row."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.button(
        "◀ Previous", key="present_prev", on_click=go_to, args=(number - 1,), disabled=number <= 1
    )
    row.button(
        "Next ▶",
        key="present_next",
        type="primary",
        on_click=go_to,
        args=(number + 1,),
        disabled=number >= guided_path.STEP_COUNT,
    )
    row.markdown(f"**Step {number} of {guided_path.STEP_COUNT}**", width="content")
    with row:
        _arrow_keys(key="present_keys", width="content")
    present = row.toggle(
        "Present mode",
        key="present",
        bind="query-params",
        help="Large type for a projector; ← and → (or a clicker) move between steps.",
    )
    return present, row


# --------------------------------------------------------------------------- class answers


def _record_answer(class_id: str, question: Question, choice: int) -> None:
    """A student's answer: counted in the class tally, remembered only in their own session."""
    answers, tally = _my_answers(), get_class_answers()
    # No Streamlit call between counting and remembering (each may be where a newer rerun stops
    # the script: ui/clicks.py), so a tap is never counted without the page knowing it, nor twice.
    previous = answers.get((class_id, question.id))
    tally.answer(class_id, question.id, len(question.choices), choice, previous)
    answers[(class_id, question.id)] = choice


def _my_answers() -> dict[tuple[str, str], int]:
    """This session's answers, {(class id, question id): choice}."""
    return st.session_state.setdefault("present_mine", {})


def question_ui(question: Question | None, class_id: str, present: bool) -> None:
    """The step's question: live counts on the projector, answer buttons on a student's device."""
    if question is None:
        return
    st.markdown(f"**{question.text}**")
    if present:
        # Remembered beyond the toggle: a widget not drawn on the next step loses its state.
        revealed = st.session_state.setdefault("present_revealed", set())
        reveal = st.toggle(
            "Show the answer",
            key=f"present_reveal_{question.id}",
            value=question.id in revealed,
            on_change=_remember_reveal,
            args=(question.id,),
        )
        st.fragment(_answers_panel, run_every=ANSWER_POLL_SECONDS)(class_id, question, reveal)
        return
    mine = _my_answers().get((class_id, question.id))
    for i, choice in enumerate(question.choices):
        st.button(
            choice,
            key=f"present_answer_{i}",
            type="primary" if mine == i else "secondary",
            width="stretch",
            on_click=_record_answer,
            args=(class_id, question, i),
        )
    if mine is not None and mine < len(question.choices):
        st.success(
            f"Your answer: **{question.choices[mine]}**. Watch the projector for the class's.",
            icon=":material/check_circle:",
        )
    else:
        st.caption("Tap your prediction: only the count per answer is kept, never who said what.")


def _remember_reveal(question_id: str) -> None:
    revealed = st.session_state.setdefault("present_revealed", set())
    if st.session_state[f"present_reveal_{question_id}"]:
        revealed.add(question_id)
    else:
        revealed.discard(question_id)


def _answers_panel(class_id: str, question: Question, reveal: bool) -> None:
    counts = get_class_answers().counts(class_id, question.id, len(question.choices))
    total = sum(counts)
    fig = figs.answers_figure(question.choices, counts, question.answer, reveal=reveal)
    show_chart(
        figs.for_projector(fig, height=300),
        key="present_answers",
        subject="The class's answers: how many chose each answer",
    )
    st.caption(f"{total} answer{'s' if total != 1 else ''} in class `{class_id}`")
    if reveal:
        if question.answer is None:
            st.markdown(f"**Answer:** not known yet. {question.explanation}")
        else:
            st.markdown(f"**Answer: {question.choices[question.answer]}.** {question.explanation}")


# --------------------------------------------------------------------------- join the class


def join_params(number: int, class_id: str) -> dict[str, str]:
    """The current view's link for a student: everything in the URL but present mode."""
    params = {k: v for k, v in st.query_params.to_dict().items() if k != "present"}
    params.update(step=str(number), **{"class": class_id})
    return params


def join_ui(number: int, class_id: str, where: DeltaGenerator) -> None:
    """A QR code and the address of this view, for the students' own devices."""
    with where.popover("Join the class", icon=":material/qr_code_2:"):
        typed = st.text_input(
            "Address students use (optional)",
            key="present_public_url",
            placeholder="https://my-server.example:8501",
            help=f"Else {join.PUBLIC_URL_ENV}, else this server's address on the local network.",
        )
        public = typed.strip() or join.env_public_url()
        try:
            base = join.base_url(
                public, st.get_option("server.port"), st.get_option("server.baseUrlPath")
            )
        except ValueError as err:
            st.warning(f"That address cannot be used: {err}.", icon=":material/warning:")
            return
        if base is None:
            st.info(
                "This computer has no network address students can reach. Set "
                f"{join.PUBLIC_URL_ENV} or type the address above.",
                icon=":material/wifi_off:",
            )
            return
        url = join.join_url(base, PAGE_PATH, join_params(number, class_id))
        st.image(join.qr_png(url), width=QR_WIDTH)
        st.markdown(f"`{url}`")
