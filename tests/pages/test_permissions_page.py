"""Who may do what on the Live training page: the starter (any tab) or the teacher controls a
run; another student watches, compares and downloads it. Each rule tried from a session."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch

from steplr_viz.classroom import permissions
from steplr_viz.config import TrainConfig
from steplr_viz.training.metrics import TERMINAL_STATUSES
from steplr_viz.training.model import SimpleNet, load_snippet
from tests import apptest_pages
from tests.apptest_pages import TRAINING_PAGE, private_run_manager, select_rows, wait_until
from ui import code_blocks

ALICE, BOB = "browser-of-alice", "browser-of-bob"
TEACHER_KEY = "front-row-secret"


@pytest.fixture(autouse=True, scope="module")
def isolated_manager(tmp_path_factory):
    with private_run_manager(tmp_path_factory.mktemp("runs")):
        yield


@pytest.fixture(autouse=True)
def teacher_key(monkeypatch):
    monkeypatch.setenv(permissions.TEACHER_KEY_ENV, TEACHER_KEY)


def manager():
    from ui.run_registry import get_manager

    return get_manager()


def open_page(browser: str, query: dict[str, str] | None = None):
    return apptest_pages.open_page(TRAINING_PAGE, query, browser=browser)


def disabled(at, key: str) -> bool:
    return at.button(key=key).proto.disabled


@pytest.fixture(scope="module")
def alices_live_run() -> str:
    """A long run Alice started from her page, held paused so it stays live."""
    at = apptest_pages.open_page(TRAINING_PAGE, {"train_epochs": "30", "train_batch_size": "16"},
                                 browser=ALICE)  # fmt: skip
    at.button(key="train_start").click().run()
    run_id = at.query_params["run"]
    manager().pause(run_id)
    wait_until(lambda: manager().store.get_run(run_id).status == "paused", "Alice's run paused")
    return run_id


@pytest.fixture(scope="module")
def alices_finished_run() -> str:
    run_id = manager().submit(
        TrainConfig(epochs=1, batch_size=512), started_by=permissions.starter_id(ALICE)
    )
    wait_until(lambda: manager().store.get_run(run_id).status in TERMINAL_STATUSES, run_id)
    return run_id


def select(at, run_id: str):
    shown = list(at.dataframe[0].value["run"])
    return select_rows(at, [shown.index(run_id)])


def test_the_starter_controls_her_run_from_another_tab(alices_live_run):
    at = open_page(ALICE, {"run": alices_live_run})  # a second tab: a new session
    assert not at.exception
    assert not disabled(at, "train_pause") and not disabled(at, "train_stop")
    assert manager().store.get_run(alices_live_run).started_by == permissions.starter_id(ALICE)


def test_another_student_watches_but_cannot_pause_stop_or_delete(alices_live_run):
    at = open_page(BOB, {"run": alices_live_run})
    assert not at.exception
    assert disabled(at, "train_pause") and disabled(at, "train_stop")
    assert any("Another student started this run" in c.value for c in at.caption)
    at = select(at, alices_live_run)
    assert disabled(at, "train_delete")
    assert not disabled(at, "train_watch")  # watching and comparing stay open


def test_a_forged_stop_or_resume_is_refused_when_the_page_acts_on_it(alices_live_run):
    # Bob's buttons are disabled; a click recorded anyway (a crafted message) is checked again.
    from ui import clicks

    at = open_page(BOB, {"run": alices_live_run})
    for key, action in (("train_stop", "stop"), ("train_pause", "resume")):
        at.session_state[clicks.CLICKS_KEY] = {key: (action, alices_live_run)}
        at.run()
        assert not at.exception
        assert manager().store.get_run(alices_live_run).status == "paused", action


def test_a_forged_delete_is_refused_at_the_click(alices_live_run):
    # Even if Bob's callback fired (a crafted message), the server checks the rights again.
    from ui import training

    bob = permissions.Viewer(permissions.starter_id(BOB))
    training.delete_runs((alices_live_run,), bob)
    assert manager().store.get_run(alices_live_run) is not None


def test_the_teacher_key_controls_every_run(alices_live_run, alices_finished_run):
    at = open_page(BOB, {"run": alices_live_run})
    at.text_input(key="teacher_key").input("wrong").run()
    assert disabled(at, "train_stop")
    assert any("not the key" in c.value for c in at.caption)
    at.text_input(key="teacher_key").input(TEACHER_KEY).run()
    assert not disabled(at, "train_pause") and not disabled(at, "train_stop")
    at = select(at, alices_finished_run)
    at.button(key="train_delete").click().run()
    at.button(key="train_delete_confirm").click().run()
    assert not at.exception
    assert manager().store.get_run(alices_finished_run) is None


def test_the_key_is_never_in_the_address(alices_live_run):
    at = open_page(BOB, {"run": alices_live_run})
    at.text_input(key="teacher_key").input(TEACHER_KEY).run()
    assert TEACHER_KEY not in str(dict(at.query_params))


def test_without_a_server_key_there_is_no_teacher_field(monkeypatch):
    monkeypatch.delenv(permissions.TEACHER_KEY_ENV)
    at = open_page(BOB)
    assert not [t for t in at.text_input if t.key == "teacher_key"]


def test_a_finished_runs_model_downloads_and_loads_into_the_seeds_simplenet(tmp_path):
    run_id = manager().submit(
        TrainConfig(epochs=1, batch_size=512), started_by=permissions.starter_id(BOB)
    )
    wait_until(lambda: manager().store.get_run(run_id).status in TERMINAL_STATUSES, run_id)
    at = select(open_page(ALICE), run_id)  # anyone may download it
    data = manager().store.load_model(run_id)
    assert data is not None and 20_000 < len(data) < 100_000  # a few tens of KB
    # The weights are the run's last ones: the same as the final snapshot's.
    state = torch.load(io.BytesIO(data))
    np_weights = manager().view(run_id).weights
    assert torch.equal(state["fc.weight"], torch.from_numpy(np_weights))
    # The snippet the page shows loads it into the seed's SimpleNet, as is.
    assert not at.code  # built only when the student opens it
    at.session_state[code_blocks.LOAD_MODEL] = True
    at.run()
    snippet = next(c.value for c in at.code if "load_state_dict" in c.value)
    assert snippet.strip() == load_snippet(f"steplr_run_{run_id}.pt").strip()
    (tmp_path / f"steplr_run_{run_id}.pt").write_bytes(data)
    scope: dict = {}
    with contextlib.chdir(tmp_path):
        exec(compile(snippet, "<model snippet>", "exec"), scope)  # noqa: S102 (our own snippet)
    reference = SimpleNet()
    reference.load_state_dict(state)
    digits = torch.rand(4, 1, 28, 28)
    assert torch.equal(scope["model"](digits), reference(digits))
