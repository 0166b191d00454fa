"""AppTest of the StepLR lab page: every section renders in its tab, and what it shows is torch's.

Only the open tab is built, so each test opens the section it reads (`?lab_section=...`, as a
link would, or a click on the tab through session state).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch.optim import lr_scheduler

from steplr_viz import lab
from steplr_viz.figures import lab as names
from steplr_viz.lab import comparison, order, precision, readings, resuming, stepping
from steplr_viz.schedules import steplr as schedule
from tests.plotly_data import chart_traces, trace_array
from ui import code_blocks
from ui import lab as lab_ui

PAGE = "../../pages/2_StepLR_lab.py"
SECTION_STARTS = (
    "1. Call order",
    "2. Per epoch or per batch",
    "3. get_lr()",
    "4. Closed form vs chainable",
    "5. Resuming",
    "6. Other schedules",
    "7. Quiz",
)
# The full header of each section, as the page's sections module writes it.
SECTIONS_BY_START = {
    start: next(h for h in lab_ui.SECTIONS if h.startswith(start)) for start in SECTION_STARTS
}
ORDER, BATCH, GETLR, PRECISION, RESUME, COMPARE, QUIZ = lab_ui.TABS
# Each chart: the tab it is in, and its place among that tab's charts.
CHARTS = {
    "order": (ORDER, 0),
    "batch": (BATCH, 0),
    "getlr": (GETLR, 0),
    "precision": (PRECISION, 0),
    "resume": (RESUME, 0),
    "compare": (COMPARE, 0),
    "loss": (COMPARE, 1),
}
CHARTS_PER_TAB = {tab: sum(t == tab for t, _ in CHARTS.values()) for tab in lab_ui.TABS}
CACHED = (
    order._call_order,
    stepping._per_batch_stepping,
    readings._lr_readings,
    precision._closed_vs_chainable,
    resuming._resume,
    comparison._compare_schedules,
)


def _app(query: dict[str, str | list[str]] | None = None, tab: str | None = None) -> AppTest:
    """The lab opened from a link with this query, on this tab (the first when None)."""
    at = AppTest.from_file(PAGE, default_timeout=30)
    for key, value in {**(query or {}), **({lab_ui.SECTION_KEY: tab} if tab else {})}.items():
        at.query_params[key] = value
    return at.run(timeout=120)  # the first run imports torch


def _open(at: AppTest, tab: str) -> AppTest:
    """Click a section's tab: the page reruns with that section built."""
    at.session_state[lab_ui.SECTION_KEY] = tab
    # A click also writes the tab into the address, which AppTest sends with every run.
    at.query_params[lab_ui.SECTION_KEY] = tab
    return at.run()


@pytest.fixture(scope="module")
def tabs() -> dict[str, AppTest]:
    """The default lab, one session per tab, each opened by a link to its section."""
    return {tab: _app(tab=tab) for tab in lab_ui.TABS}


def _sgd(base_lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)


def _torch_curve(make, base_lr: float, epochs: int, losses=None, wrong_order=False) -> list[float]:
    """A fresh torch run: the LR each epoch's optimizer.step() used."""
    optimizer = _sgd(base_lr)
    scheduler = make(optimizer)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(epochs):
            if wrong_order:
                scheduler.step()
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if not wrong_order:
                scheduler.step(*([] if losses is None else [losses[epoch]]))
    return lrs


# Periods that do not end a sentence: abbreviations; code spans and decimals are handled apart.
ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf)\.", re.IGNORECASE)
# A sentence ends at . ! or ?, perhaps closed by markup, a bracket or a quote, then a space.
SENTENCE_END = re.compile(r"[.!?][*_)\]\"'”]*\s+")


def count_sentences(markdown: str) -> int:
    """Sentences in a markdown paragraph (a closing lead-in like 'PyTorch raises:' counts one)."""
    text = re.sub(r"`[^`]*`", "code", markdown)  # `optimizer.step()` ends no sentence
    text = ABBREVIATION.sub("abbreviation", text)
    # A decimal (0.1, 1e-8, 1.25e-4) has no space after its point: SENTENCE_END skips it.
    return sum(1 for part in SENTENCE_END.split(text.strip()) if part.strip())


def _section_intros(at: AppTest) -> dict[str, str]:
    """Each section's explanation: the first markdown after its header, in page order."""
    intros, header = {}, None
    for node in at.main:  # depth first, in the order the page shows its elements
        kind = getattr(node, "type", None)
        if kind == "header":
            header = node.value
        elif kind == "markdown" and header is not None:
            intros.setdefault(header, node.value)
    return intros


def _traces(at: AppTest, chart: str) -> dict:
    tab, index = CHARTS[chart]
    assert at.session_state[lab_ui.SECTION_KEY] == tab, f"the {chart} chart is in {tab}"
    return chart_traces(at, index)


def _y(at: AppTest, chart: str, trace: str) -> np.ndarray:
    return trace_array(_traces(at, chart)[trace]["y"])


def _x(at: AppTest, chart: str, trace: str) -> np.ndarray:
    return trace_array(_traces(at, chart)[trace]["x"])


def _main_headers(at: AppTest) -> list[str]:
    return [h.value for h in at.main.header]


def test_every_section_renders_in_its_own_tab_and_only_the_open_one_is_built(tabs):
    for (tab, at), start in zip(tabs.items(), SECTION_STARTS, strict=True):
        assert not at.exception and not at.warning  # a link to a section warns of nothing
        assert [t.label for t in at.tabs] == list(lab_ui.TABS)
        assert [h for h in _main_headers(at)] == [SECTIONS_BY_START[start]], tab
        assert len(at.get("plotly_chart")) == CHARTS_PER_TAB[tab], tab
    assert _app().session_state[lab_ui.SECTION_KEY] == ORDER  # no link: the first section


def test_a_closed_sections_controls_keep_their_values():
    at = _app()
    at.number_input(key="lab_order_epoch").set_value(3).run()
    _open(at, RESUME).slider(key="lab_resume_at").set_value(12).run()
    _open(at, PRECISION).number_input(key="lab_precision_gamma").set_value(0.5).run()
    assert _open(at, ORDER).number_input(key="lab_order_epoch").value == 3
    assert _open(at, RESUME).slider(key="lab_resume_at").value == 12
    assert _open(at, PRECISION).number_input(key="lab_precision_gamma").value == 0.5
    assert not at.exception


def test_a_link_to_a_section_that_is_not_one_warns_and_opens_the_first():
    at = _app(tab="Resuming!")
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert f"`{lab_ui.SECTION_KEY}` in the link is not valid (the section must be one of" in warning
    assert "Resuming!" not in warning  # the value itself is never echoed
    assert _main_headers(at) == [lab_ui.SECTIONS[0]]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two.", 2),
        ("Is it? Yes! It is.", 3),
        ("Schedulers, e.g. StepLR, decay. I.e. Cosine too.", 2),
        ("η₀ = 0.1 and eps = 1e-8. Answer 1.25e-4 or 0.000125", 2),
        ("Call `optimizer.step()`. Then `scheduler.step()`.", 2),
        ("**Bold.** Next (in brackets.) Last", 3),
        ("PyTorch raises:", 1),
        ("Ends at 1e-8.", 1),
    ],
)
def test_count_sentences(text, sentences):
    assert count_sentences(text) == sentences


def test_every_section_explains_itself_in_two_or_three_sentences(tabs):
    intros = {h: t for at in tabs.values() for h, t in _section_intros(at).items()}
    assert [next(h for h in intros if h.startswith(s)) for s in SECTION_STARTS] == list(intros)
    for header, text in intros.items():
        assert 2 <= count_sentences(text) <= 3, (header, text)
    quiz = intros[next(h for h in intros if h.startswith("7. Quiz"))]
    assert "k = ⌊t/s⌋" in quiz and "η₀·γ^k" in quiz and lab.QUIZ_RULE in quiz


def test_the_warnings_shown_are_the_texts_torch_emits(tabs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizer = _sgd(0.1)
        scheduler = lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
        scheduler.step()  # before optimizer.step(): the mistake
        optimizer.step()
        scheduler.get_lr()  # outside step()
    texts = [str(w.message) for w in caught]
    assert len(texts) == 2
    # Verbatim plain text: a message is not code, and every code block shown must run.
    shown = [t.value for tab in (ORDER, GETLR, RESUME) for t in tabs[tab].text]
    assert f"UserWarning: {texts[0]}" in shown and f"UserWarning: {texts[1]}" in shown
    with pytest.raises(KeyError) as raised:
        lr_scheduler.StepLR(_sgd(0.1), step_size=10, gamma=0.5, last_epoch=24)
    assert f"KeyError: {raised.value.args[0]}" in shown


def test_call_order_curves_are_torch_runs(tabs):
    page = tabs[ORDER]

    def make(o):
        return lr_scheduler.StepLR(o, 10, 0.5)

    right = _torch_curve(make, 0.1, 40)
    wrong = _torch_curve(make, 0.1, 40, wrong_order=True)
    np.testing.assert_array_equal(_y(page, "order", names.RIGHT_ORDER), right)
    np.testing.assert_array_equal(_y(page, "order", names.WRONG_ORDER), wrong)
    metrics = {m.label: m.value for m in page.metric}
    # Default t = s − 1 = 9: the wrong order already trains it with η₀·γ.
    assert metrics["Right order: LR at t"] == "0.1"
    assert metrics["Wrong order: LR at t"] == "0.05"


def test_per_batch_curve_is_a_torch_run(tabs):
    at = tabs[BATCH]
    per_batch = _y(at, "batch", names.PER_BATCH)
    assert len(per_batch) == 5 * 938
    expected = _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 0.5), 0.1, 5 * 938)
    np.testing.assert_array_equal(per_batch, expected)
    np.testing.assert_array_equal(_x(at, "batch", names.PER_BATCH)[938], 1.0)
    table = at.dataframe[0].value
    assert table.loc["batches per epoch (len(loader))"].tolist() == ["938", "63"]
    assert table.loc["training digits"].tolist() == ["60,000", "4,000"]
    # s = 10, γ = 0.5: at most 1% after 7 decays, i.e. from index 70: batch 71 counted from 1
    # (epoch 0 of 938, epoch 1 of 63).
    assert table.loc["per batch: LR at most 1% of η₀ from"].tolist() == [
        "batch 71 (in epoch t = 0)",
        "batch 71 (in epoch t = 1)",
    ]


def _torch_stepped(base_lr, gamma, step_size, epochs, n_batches, per_batch):
    """The LR of every batch of the seed's loop, torch's StepLR stepped per batch or per epoch."""
    optimizer = _sgd(base_lr)
    scheduler = lr_scheduler.StepLR(optimizer, step_size, gamma)
    lrs = []
    for _ in range(epochs):
        for _ in range(n_batches):
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if per_batch:
                scheduler.step()
        if not per_batch:
            scheduler.step()
    return lrs


def test_per_batch_section_with_the_seeds_schedule_says_what_torch_gives():
    """η₀ = 1e-3, γ = 0.1, s = 2: at t = 4 the LR is exactly 1 % of η₀ (the explorer's epoch)."""
    at = _app({"lab_lr0": "0.001", "lab_gamma": "0.1", "lab_step_size": "2"}, BATCH)
    per_epoch = _torch_stepped(0.001, 0.1, 2, 5, 938, per_batch=False)[::938]
    per_batch = _torch_stepped(0.001, 0.1, 2, 5, 938, per_batch=True)
    one_percent = 0.01 * 0.001
    t = next(i for i, lr in enumerate(per_epoch) if lr <= one_percent)
    assert t == 4 == schedule.epochs_until_low(0.1, 2)  # the explorer's "from epoch 4"
    caption = next(c.value for c in at.caption if "Stepped once per epoch" in c.value)
    assert f"first at most 1% of η₀ at epoch t = {t}" in caption and "“Epoch 5”" in caption
    assert "stays above" not in caption and "counted from 1" in caption
    # Per batch: counted from 1, as the presenter's step 4 says it.
    zero = per_batch.index(0.0)
    low = next(i for i, lr in enumerate(per_batch) if lr <= one_percent)
    table = at.dataframe[0].value
    assert table.loc["per batch: LR exactly 0.0 from", "full MNIST, the seed's loader"] == (
        f"batch {zero + 1} (in epoch t = 0)"
    )
    assert table.loc["per batch: LR at most 1% of η₀ from", "full MNIST, the seed's loader"] == (
        f"batch {low + 1} (in epoch t = 0)"
    )
    assert (zero + 1, low + 1) == (643, 5)


@pytest.fixture
def low_fraction_5_percent(monkeypatch):
    """schedule.LOW_FRACTION at 5%; cached simulations made with another fraction dropped."""
    monkeypatch.setattr(schedule, "LOW_FRACTION", 0.05)
    stepping._per_batch_stepping.cache_clear()
    yield
    stepping._per_batch_stepping.cache_clear()  # before monkeypatch puts 1% back


def test_the_low_fraction_in_the_text_is_the_constant(low_fraction_5_percent):
    at = _app(tab=BATCH)
    per_batch = _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 0.5), 0.1, 5 * 938)
    first = int(np.flatnonzero(np.asarray(per_batch) <= 0.05 * 0.1)[0])
    assert first == 50  # 0.5**5 < 5% < 0.5**4
    table = at.dataframe[0].value
    expected = [f"batch {first + 1} (in epoch t = 0)"] * 2  # on both loaders, counted from 1
    assert table.loc["per batch: LR at most 5% of η₀ from"].tolist() == expected
    captions = " ".join(c.value for c in at.caption)
    assert "stays above 5% of η₀ for all 5 epochs" in captions and "1%" not in captions


def test_switching_to_the_bundled_loader_replots():
    at = _app(tab=BATCH)
    at.radio(key="lab_batch_data").set_value("bundled").run()
    assert not at.exception
    assert len(_y(at, "batch", names.PER_BATCH)) == 5 * 63


def test_get_lr_readings_mark_where_get_lr_applies_one_gamma_too_many(tabs):
    page = tabs[GETLR]
    extra = _traces(page, "getlr")[names.ONE_GAMMA_TOO_MANY]
    assert trace_array(extra["x"]).tolist() == [10, 20, 30]
    np.testing.assert_array_equal(trace_array(extra["y"]), [0.025, 0.0125, 0.00625])
    np.testing.assert_array_equal(
        _y(page, "getlr", names.GET_LAST_LR),
        _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 0.5), 0.1, 31),
    )


def test_precision_section_shows_torch_statistics(tabs):
    page = tabs[PRECISION]
    metrics = {m.label: m.value for m in page.metric}
    result = lab.closed_vs_chainable(0.1, 0.9, 1, 1000)
    chain = _torch_curve(lambda o: lr_scheduler.StepLR(o, 1, 0.9), 0.1, 1000)
    closed = np.array([0.1 * 0.9**t for t in range(1000)])
    differ = int(np.sum(np.asarray(chain) != closed))
    assert metrics["Steps that differ"] == f"{differ:,}" == f"{result.differing:,}"
    assert metrics["Largest relative error"] == f"{result.max_relative_error:.2e}"
    ulps = trace_array(_traces(page, "precision")[names.ULPS]["y"])
    assert int(np.sum(ulps > 0)) == differ
    table = page.dataframe[0].value  # the first steps that differ
    steps = np.flatnonzero(np.asarray(chain) != closed)[:8]
    assert table["step"].tolist() == steps.tolist()
    # 17 significant digits, as the text says: each string reads back as torch's float.
    assert table["PyTorch (chainable)"].tolist() == [f"{chain[t]:.17g}" for t in steps]
    assert [float(v) for v in table["PyTorch (chainable)"]] == [chain[t] for t in steps]
    assert table["closed form"].tolist() == [f"{closed[t]:.17g}" for t in steps]


def test_resume_section(tabs):
    page = tabs[RESUME]
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Resumed curve = uninterrupted curve"] == "yes, bit for bit"
    whole = _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 0.5), 0.1, 40)
    k = page.slider(key="lab_resume_at").value
    np.testing.assert_array_equal(_y(page, "resume", names.RESUMED), whole[k:])
    np.testing.assert_array_equal(_y(page, "resume", names.RESTARTED), whole[: 40 - k])


def test_the_resume_code_is_built_only_when_opened():
    # A code block loads the browser's syntax highlighter: the first paint shows none.
    at = _app(tab=RESUME)
    assert not at.code
    assert "Show the code that resumes at epoch k" in [e.label for e in at.expander]
    at.session_state[code_blocks.LAB_RESUME] = True
    at.run()
    assert not at.exception and len(at.code) == 1


def test_every_code_block_shown_is_one_the_engine_builds(tabs):
    page = tabs[RESUME]
    # tests/test_lab.py runs each of lab.code_blocks(...): so every block shown here runs.
    page.session_state[code_blocks.LAB_RESUME] = True
    page.run()
    k = page.slider(key="lab_resume_at").value
    built = {code.rstrip("\n") for code in lab.code_blocks(0.1, 0.5, 10, k).values()}
    shown = [c.value.rstrip("\n") for c in page.code]  # st.code drops the final newline
    assert shown and all(code in built for code in shown)
    assert all(c.language == "python" for c in page.code)


def test_resume_table_shows_the_traps_torch_computes(tabs):
    page = tabs[RESUME]
    table = page.dataframe[0].value.set_index("resume at k")
    k = page.slider(key="lab_resume_at").value
    assert k == 25 and table.index.tolist() == [
        "10 (decay boundary)",
        "20 (decay boundary)",
        "25",
        "30 (decay boundary)",
    ]
    optimizer = _sgd(0.1)
    scheduler = lr_scheduler.StepLR(optimizer, 10, 0.5)
    for _ in range(20):
        optimizer.step()
        scheduler.step()
    fresh = _sgd(0.1)
    fresh.load_state_dict(optimizer.state_dict())
    lr_scheduler.StepLR(fresh, 10, 0.5, last_epoch=19)
    assert fresh.param_groups[0]["lr"] == 0.0125  # the case, by torch now
    row = table.loc["20 (decay boundary)"]
    assert row["uninterrupted"] == "0.025"
    assert row["optimizer state + last_epoch=k−1"] == "0.0125 ✗"
    assert row["both state_dicts loaded"] == "0.025 ✓"
    assert table.loc["25", "initial_lr by hand + last_epoch=k−1"] == "0.1 ✗"  # back to η₀
    verdict = next(c.value for c in page.caption if c.value.startswith("✓:"))
    assert "`last_epoch` and the optimizer's state: k = 10, 20, 30;" in verdict
    assert "with both state_dicts: no k." in verdict
    intro = _section_intros(page)[SECTIONS_BY_START["5. Resuming"]]
    assert "optimizer.load_state_dict()` restores" in intro and "only" not in intro


def _by_hand_resume(k: int, base_lr=0.1, gamma=0.5, step_size=10, epochs=40) -> list[float]:
    """Resume at k on a fresh optimizer with initial_lr set by hand and last_epoch = k − 1."""
    optimizer = _sgd(base_lr)
    optimizer.param_groups[0]["initial_lr"] = base_lr
    scheduler = lr_scheduler.StepLR(optimizer, step_size, gamma, last_epoch=k - 1)
    lrs = []
    for _ in range(epochs - k):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_initial_lr_by_hand_is_right_exactly_up_to_k_equal_s_as_the_text_says(tabs):
    """Torch, every k: by hand gives the uninterrupted rest bit for bit iff k ≤ s (at k = s the
    constructor's own step() supplies the one decay taken), and the table shows ✓ at k = s."""
    whole = _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 0.5), 0.1, 40)
    exact = [k for k in range(1, 40) if _by_hand_resume(k) == whole[k:]]
    assert exact == list(range(1, 11))
    page = tabs[RESUME]
    intro = _section_intros(page)[SECTIONS_BY_START["5. Resuming"]]
    assert "it is right while at most one decay has been taken (k ≤ s = 10)" in intro
    assert "forgets the decays" not in intro
    table = page.dataframe[0].value.set_index("resume at k")
    assert table.loc["10 (decay boundary)", "initial_lr by hand + last_epoch=k−1"] == "0.05 ✓"
    at = _app({"lab_gamma": "1"}, RESUME)
    intro = _section_intros(at)[SECTIONS_BY_START["5. Resuming"]]
    assert "with γ = 1 is the LR every epoch trains with anyway" in intro


def test_precision_text_states_the_computed_first_difference(tabs):
    page = tabs[PRECISION]
    chain = _torch_curve(lambda o: lr_scheduler.StepLR(o, 1, 0.9), 0.1, 1000)
    first = next(t for t in range(1000) if chain[t] != 0.1 * 0.9**t)
    intro = _section_intros(page)[SECTIONS_BY_START["4. Closed form vs chainable"]]
    assert f"first differ at step t = {first}, after {first} decays" in intro
    assert "drift apart" not in intro and "many decays" not in intro


def test_call_order_help_follows_the_computed_curves(tabs):
    page = tabs[ORDER]
    help_text = page.number_input(key="lab_order_epoch").proto.help
    assert "epoch 9, the last before the first decay" in help_text and "0.05" in help_text
    at = _app({"lab_step_size": "50", "lab_epochs": "40"})  # s >= horizon: no early decay shown
    assert at.number_input(key="lab_order_epoch").value == 39
    help_text = at.number_input(key="lab_order_epoch").proto.help
    assert "already trains" not in help_text and "no decay falls inside" in help_text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Right order: LR at t"] == metrics["Wrong order: LR at t"] == "0.1"
    metrics = {m.label: m.value for m in _open(at, COMPARE).metric}
    assert metrics["ExponentialLR vs StepLR at decay points"] == "no decay point to compare"


def test_call_order_with_gamma_one_says_nothing_moves_rather_than_no_decay_inside():
    """γ = 1: torch trains every epoch with η₀ in both orders, though its steps (× 1) fall
    inside the horizon; the page says so instead of 'no decay falls inside the horizon'."""
    right = _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 1.0), 0.1, 40)
    wrong = _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 1.0), 0.1, 40, wrong_order=True)
    assert set(right) == set(wrong) == {0.1}
    at = _app({"lab_gamma": "1"})
    help_text = at.number_input(key="lab_order_epoch").proto.help
    assert "no decay falls inside" not in help_text
    assert "With γ = 1 both orders train every epoch with 0.1" in help_text
    caption = next(c.value for c in at.caption if c.value.startswith("Right: ⌊"))
    assert "multiplications by γ = 1 (no decay)" in caption


def test_cosine_text_says_where_torch_reaches_zero(tabs):
    page = tabs[COMPARE]
    longer = _torch_curve(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=40), 0.1, 41)
    assert longer[40] == 0.0 and longer[39] > 0.0
    intro = _section_intros(page)[SECTIONS_BY_START["6. Other schedules"]]
    assert f"down to {lab.format_lr(longer[39])} at the last epoch drawn" in intro
    assert "reaches 0 one epoch later, at t = 40" in intro and "at the horizon" not in intro


def test_epoch_lines_of_the_seed_are_named_by_their_t():
    at = _app({"lab_gamma": "0.1", "lab_step_size": "1"}, BATCH)
    per_epoch = _torch_curve(lambda o: lr_scheduler.StepLR(o, 1, 0.1), 0.1, 5)
    # "At most" 1 %, as the explorer counts it: 0.1³ is 1 % of η₀ (floats: 0.0010000000000000002).
    low = next(t for t, lr in enumerate(per_epoch) if lr <= 0.01 * 0.1 * (1 + 1e-12))
    assert low == 2 == schedule.epochs_until_low(0.1, 1)
    captions = " ".join(c.value for c in at.caption)
    assert f"at epoch t = {low}, the line the seed's printout calls “Epoch {low + 1}”" in captions
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "“Epoch N” is epoch t = N − 1" in sidebar


def test_compared_schedules_are_torch_schedulers(tabs):
    page = tabs[COMPARE]
    plateau_at = page.slider(key="lab_compare_plateau").value
    makers = {
        "StepLR": lambda o: lr_scheduler.StepLR(o, 10, 0.5),
        "MultiStepLR": lambda o: lr_scheduler.MultiStepLR(o, [10, 20, 30], 0.5),
        "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, 0.5 ** (1 / 10)),
        "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=40),
    }
    for name, make in makers.items():
        np.testing.assert_array_equal(_y(page, "compare", name), _torch_curve(make, 0.1, 40))
    loss = _y(page, "loss", names.LOSS)
    plateau = _torch_curve(
        lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=9), 0.1, 40, losses=loss
    )
    np.testing.assert_array_equal(_y(page, "compare", "ReduceLROnPlateau"), plateau)
    assert len(set(loss[plateau_at:].tolist())) == 1 and loss[plateau_at - 1] > loss[plateau_at]
    assert not any("eps" in c.value for c in page.caption)  # far above eps: nothing to explain


def test_plateau_levelling_off_at_eps_is_explained():
    at = _app({"lab_lr0": "1e-05", "lab_epochs": "500"}, COMPARE)
    loss = _y(at, "loss", names.LOSS)
    plateau = _torch_curve(
        lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=9), 1e-5, 500, losses=loss
    )
    step = _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 0.5), 1e-5, 500)
    eps = lr_scheduler.ReduceLROnPlateau(_sgd(0.1)).eps
    assert plateau[-1] == plateau[-100] and plateau[-1] * 0.5 <= eps  # torch stopped cutting
    caption = next(c.value for c in at.caption if "eps" in c.value)
    assert f"eps = {eps:g}" in caption
    assert f"levels off at {lab.format_lr(plateau[-1])} " in caption
    assert f"StepLR ends at {lab.format_lr(step[-1])}." in caption


def _score(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Score this session")


def test_quiz_marks_right_and_wrong_answers():
    at = _app(tab=QUIZ)
    assert _score(at) == "0 / 0"
    question = at.session_state["lab_quiz"].question
    assert f"t = {question.epoch}" in " ".join(m.value for m in at.markdown)
    at.number_input(key="lab_quiz_answer").set_value(float(f"{question.answer:.6g}"))
    at.button(key="lab_quiz_check").click().run()
    assert not at.exception and not at.error
    assert (
        len(at.success) == 1 and f"⌊{question.epoch}/{question.step_size}⌋" in at.success[0].value
    )
    assert _score(at) == "1 / 1"
    at.button(key="lab_quiz_check").click().run()  # checking again does not score again
    assert _score(at) == "1 / 1"

    at.button(key="lab_quiz_new").click().run()
    assert at.number_input(key="lab_quiz_answer").value is None
    question = at.session_state["lab_quiz"].question
    at.number_input(key="lab_quiz_answer").set_value(question.answer * 10)  # a decimal slip
    at.button(key="lab_quiz_check").click().run()
    assert not at.success and len(at.error) == 1
    assert f"= {lab.format_lr(question.answer)}." in at.error[0].value
    assert _score(at) == "1 / 2"


def test_quiz_accepts_three_significant_figures_and_asks_for_an_answer():
    at = _app(tab=QUIZ)
    at.button(key="lab_quiz_check").click().run()  # nothing typed yet
    assert at.info and _score(at) == "0 / 0"
    question = at.session_state["lab_quiz"].question
    at.number_input(key="lab_quiz_answer").set_value(float(f"{question.answer:.3g}"))
    at.button(key="lab_quiz_check").click().run()
    assert len(at.success) == 1 and _score(at) == "1 / 1"


def test_a_plain_rerun_recomputes_no_simulation(tabs):
    for page in tabs.values():
        page.run()  # other tests may have cleared a cache since the fixture's run
    misses = [f.cache_info().misses for f in CACHED]
    for page in tabs.values():
        page.run()
        assert not page.exception
    assert [f.cache_info().misses for f in CACHED] == misses


def test_a_link_sets_the_shared_schedule():
    at = _app({"lab_lr0": "0.02", "lab_gamma": "0.9", "lab_step_size": "5", "lab_epochs": "60"})
    assert not at.exception and not at.warning
    make = lambda o: lr_scheduler.StepLR(o, 5, 0.9)  # noqa: E731
    np.testing.assert_array_equal(_y(at, "order", names.RIGHT_ORDER), _torch_curve(make, 0.02, 60))


def test_a_short_horizon_pulls_section_controls_into_range():
    at = _app(tab=RESUME)
    at.slider(key="lab_resume_at").set_value(35).run()
    _open(at, COMPARE).slider(key="lab_compare_plateau").set_value(39).run()
    at.slider(key="lab_epochs").set_value(10).run()
    assert not at.exception
    assert at.slider(key="lab_compare_plateau").value == 10
    # The closed tab's slider kept 35 and is pulled into range when it is drawn again.
    assert _open(at, RESUME).slider(key="lab_resume_at").value == 9
    assert len(_y(at, "resume", names.UNINTERRUPTED)) == 10


JUNK = [
    {"lab_gamma": "abc", "lab_step_size": "-5"},
    {"lab_lr0": "1e999", "lab_epochs": "1000000000"},
    {"lab_gamma": "nan", "lab_lr0": "inf", "lab_step_size": "0", "lab_epochs": "-1"},
    {"lab_epochs": "inf", "lab_step_size": "1e309"},
    {"lab_epochs": "9" * 400},
    {"lab_gamma": "", "lab_epochs": ""},
    {"lab_lr0": "x" * 10_000},
    {"lab_gamma": "γ½🙂", "lab_step_size": "１０"},
    {"lab_gamma": ["0.3", "0.4"]},
]


@pytest.mark.parametrize("query", JUNK)
def test_junk_query_parameters_render_the_defaults_with_a_warning(query):
    at = _app(query)
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    for key in query:
        assert f"`{key}`" in warning
    assert "x" * 50 not in warning  # the junk itself is never echoed
    right = _torch_curve(lambda o: lr_scheduler.StepLR(o, 10, 0.5), 0.1, 40)
    np.testing.assert_array_equal(_y(at, "order", names.RIGHT_ORDER), right)


@pytest.mark.parametrize(
    "query",
    [
        {"lab_gamma": "1.0", "lab_step_size": "1", "lab_epochs": "2"},  # sliders with one choice
        {"lab_gamma": "0.01", "lab_step_size": "50", "lab_epochs": "2"},
        {"lab_gamma": "0.01", "lab_step_size": "1", "lab_epochs": "500", "lab_lr0": "1e-05"},
    ],
)
def test_extreme_settings_render_every_section(query):
    at = _app(query)
    for tab in lab_ui.TABS:
        _open(at, tab)
        assert not at.exception and not at.warning
        assert len(at.get("plotly_chart")) == CHARTS_PER_TAB[tab], tab
    at.toggle(key="lab_log_y").set_value(True).run()
    _open(at, BATCH).slider(key="lab_batch_epochs").set_value(lab.MAX_BATCH_EPOCHS).run()
    assert not at.exception
