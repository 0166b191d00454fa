"""Security basics for a no-login classroom app: no eval/exec, XSRF on, run ids and paths safe."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

from steplr_viz.config import TrainConfig
from steplr_viz.store import registry, runs
from steplr_viz.store.recorder import StoreRecorder
from steplr_viz.store.registry import RunManager
from steplr_viz.store.runs import InMemoryRunStore, RunStore
from steplr_viz.training import data
from steplr_viz.training.metrics import BatchPoint, EpochPoint

REPO = Path(__file__).resolve().parents[1]
APP_CODE = ["app.py", "pages", "ui", "steplr_viz"]  # everything the server runs
PAGE_CODE = ["app.py", "pages", "ui"]  # everything that can read st.query_params
BAD_RUN_IDS = ["../x", "", "A" * 12, None]


def python_files(parts: list[str]) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        path = REPO / part
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    assert files, parts
    return files


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(REPO)}:{node.lineno}"


# --- no eval / exec -----------------------------------------------------------------------------

DYNAMIC_CODE = {"eval", "exec"}


def dynamic_code_calls(tree: ast.AST) -> Iterator[ast.Call]:
    """Calls of eval/exec, bare or as builtins.eval; torch's model.eval() is a method, not these."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _runs_code(node.func):
            yield node


def _runs_code(func: ast.AST) -> bool:
    if isinstance(func, ast.Name):  # eval(...)
        return func.id in DYNAMIC_CODE
    if isinstance(func, ast.Attribute):  # builtins.eval(...)
        return (
            func.attr in DYNAMIC_CODE
            and isinstance(func.value, ast.Name)
            and func.value.id in {"builtins", "__builtins__"}
        )
    if isinstance(func, ast.Call):  # getattr(builtins, "eval")(...)
        return (
            isinstance(func.func, ast.Name)
            and func.func.id == "getattr"
            and any(isinstance(a, ast.Constant) and a.value in DYNAMIC_CODE for a in func.args)
        )
    return False


def test_the_scanner_finds_eval_and_exec_but_not_model_eval():
    tree = ast.parse(
        "eval(x)\nexec('y')\nbuiltins.eval(z)\ngetattr(builtins, 'exec')(w)\nmodel.eval()\n"
    )
    assert len(list(dynamic_code_calls(tree))) == 4


@pytest.mark.parametrize("path", python_files(APP_CODE), ids=lambda p: str(p.relative_to(REPO)))
def test_no_eval_or_exec(path: Path):
    found = [where(path, call) for call in dynamic_code_calls(parse(path))]
    assert not found, f"eval/exec called at {found}"


# --- XSRF ---------------------------------------------------------------------------------------


def test_xsrf_protection_is_on_in_the_config_file():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = config.get("server", {})
    assert server.get("enableXsrfProtection") is True
    # CORS off would fight XSRF (Streamlit then keeps XSRF, but the intent must be clear).
    assert server.get("enableCORS", True) is True


def effective_options(*names: str) -> dict[str, tuple[str, str]]:
    """Streamlit's value and source of each option, reading the repo's config as `streamlit run`
    would, from the repo root, with no STREAMLIT_* variables from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    code = (
        "import sys\n"
        "from streamlit import config\n"
        "config.get_config_options(force_reparse=True)\n"
        "for name in sys.argv[1:]:\n"
        "    print(name, config.get_option(name), config.get_where_defined(name))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *names],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = (line.split(maxsplit=2) for line in result.stdout.splitlines())
    return {name: (value, where.strip()) for name, value, where in rows}


CONFIG_FILE = (REPO / ".streamlit" / "config.toml").resolve()


def test_streamlit_loads_the_config_with_xsrf_protection_on():
    options = effective_options("server.enableXsrfProtection", "server.enableCORS")
    assert options["server.enableXsrfProtection"][0] == "True"
    assert options["server.enableCORS"][0] == "True"
    assert Path(options["server.enableXsrfProtection"][1]).resolve() == CONFIG_FILE


def test_no_garbage_collection_or_magic_after_each_rerun():
    """Full gc.collect() after every rerun held the server 150-190 ms with torch loaded, on every
    slider move and live poll; magic rewrote each script on compile. Both off, from the file."""
    options = effective_options("runner.postScriptGC", "runner.magicEnabled")
    for name in ("runner.postScriptGC", "runner.magicEnabled"):
        value, where = options[name]
        assert value == "False", (name, value)
        assert Path(where).resolve() == CONFIG_FILE, (name, where)


def test_a_new_click_waits_for_the_running_script_instead_of_racing_it():
    """With fast reruns a click starts the next run on a second thread while the first runs on,
    so a Start the first acted on could land after the second had drawn the page without it
    (tests/e2e/test_training_browser.py replays it). Off, from the file."""
    value, where = effective_options("runner.fastReruns")["runner.fastReruns"]
    assert value == "False"
    assert Path(where).resolve() == CONFIG_FILE


# --- run ids ------------------------------------------------------------------------------------

CONFIG = TrainConfig(epochs=1)
# Valid values for the other parameters of methods that take a run id.
OTHER_ARGS: dict[str, object] = {
    "status": "stopped",
    "error": None,
    "points": [BatchPoint(step=1, epoch=1, loss=1.0, lr=0.1)],
    "point": EpochPoint(epoch=1, train_loss=1.0, lr=0.1, test_loss=1.0, test_acc=50.0, seconds=1),
    "config": CONFIG,
    "data": b"state_dict bytes",
    "action": "stop",
}


def run_id_methods(obj: object) -> list[tuple[str, Callable]]:
    """Public methods of obj with a run_id parameter (found, so new ones are covered too)."""
    methods = []
    for name, method in inspect.getmembers(obj, inspect.ismethod):
        if not name.startswith("_") and "run_id" in inspect.signature(method).parameters:
            methods.append((name, method))
    return methods


def call_with(method: Callable, run_id: object) -> object:
    kwargs = {}
    for name, param in inspect.signature(method).parameters.items():
        if name == "run_id":
            kwargs[name] = run_id
        elif name in OTHER_ARGS:
            kwargs[name] = OTHER_ARGS[name]
        elif param.default is inspect.Parameter.empty:
            pytest.fail(f"{method.__qualname__} needs {name!r}: add a valid value to OTHER_ARGS")
    return method(**kwargs)


@pytest.fixture(params=["RunStore", "InMemoryRunStore", "RunManager"])
def target(request, tmp_path: Path) -> Iterator[object]:
    if request.param == "RunStore":
        yield RunStore(tmp_path / "runs")
    elif request.param == "InMemoryRunStore":
        yield InMemoryRunStore()
    else:
        manager = RunManager(store=RunStore(tmp_path / "runs"), max_concurrent=1, max_queue=1)
        yield manager
        manager.shutdown()


@pytest.mark.parametrize("bad", BAD_RUN_IDS, ids=repr)
def test_every_method_taking_a_run_id_rejects_a_bad_one(target: object, bad: object, tmp_path):
    methods = run_id_methods(target)
    assert len(methods) >= 5, [n for n, _ in methods]
    for name, method in methods:
        if name == "create_run" and bad is None:
            continue  # run_id=None asks the store for a fresh id: that is the API
        with pytest.raises(ValueError, match="run_id"):
            call_with(method, bad)
    store = getattr(target, "store", target)
    assert store.list_runs().empty  # nothing was created on the way
    # Nothing was written next to the store either ("../x" must not become a path).
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["runs"])


@pytest.mark.parametrize("bad", BAD_RUN_IDS, ids=repr)
def test_store_recorder_rejects_a_bad_run_id(bad: object):
    with pytest.raises(ValueError, match="run_id"):
        StoreRecorder(InMemoryRunStore(), bad)


# --- no path from a query parameter -------------------------------------------------------------

URL_BIND = "query-params"  # widgets with bind=URL_BIND take their value from the link
PATH_WORDS = ("dir", "folder", "path", "root", "file")


def path_parameters(func: Callable) -> list[tuple[int | None, str]]:
    """(position or None if keyword-only, name) of a function's parameters that are paths."""
    found = []
    params = [p for p in inspect.signature(func).parameters.values() if p.name != "self"]
    for i, p in enumerate(params):
        if any(word in p.name for word in PATH_WORDS) or p.name == "store":
            found.append((None if p.kind is p.KEYWORD_ONLY else i, p.name))
    return found


# Calls that open or name a file: every argument counts.
PATH_CALLS = {"open", "Path", "PurePath", "PosixPath", "WindowsPath", "PurePosixPath"}
PATH_MODULES = {"os", "shutil", "pathlib", "glob", "tempfile", "sqlite3", "io"}
PATH_METHODS = {"joinpath", "with_name", "with_suffix", "with_stem", "read_text", "write_text"}
# Engine entry points: only their path parameters count (data_source="full" is not a path).
ENGINE_CALLS = {
    "load_mnist": path_parameters(data.load_mnist),
    "full_data_present": path_parameters(data.full_data_present),
    "download_mnist": path_parameters(data.download_mnist),
    "RunStore": path_parameters(runs.RunStore),
    "open_store": path_parameters(runs.open_store),
    "RunManager": path_parameters(registry.RunManager),
}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _reads_url(node: ast.AST) -> bool:
    """st.query_params anywhere in node, or a widget bound to the URL (its value is the link's)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr == "query_params":
            return True
        if isinstance(n, ast.Call) and any(
            k.arg == "bind"
            and isinstance(k.value, ast.Constant)
            and k.value.value == "query-params"
            for k in n.keywords
        ):
            return True
    return False


def _bound_to_url(keyword: ast.keyword) -> bool:
    value = keyword.value
    return (
        keyword.arg == "bind" and isinstance(value, ast.Constant) and value.value == "query-params"
    )


def _target_names(target: ast.AST) -> set[str]:
    """Names an assignment to target stores into: x, (x, y), x[k] and x.a store into x."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Tuple | ast.List):
        return set().union(*(_target_names(t) for t in target.elts))
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, ast.Subscript | ast.Attribute):
        if _reads_url(target):
            return set()  # st.query_params["run"] = ... writes the link, not a variable
        return _target_names(target.value)
    return set()


def url_tainted_names(tree: ast.Module) -> set[str]:
    """Names (variables, and functions whose result) derive from the link, to a fixpoint.

    Flow-insensitive on purpose: a name assigned from the URL anywhere counts everywhere.
    """
    tainted: set[str] = set()
    modules = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }

    def dirty(node: ast.AST | None) -> bool:
        return node is not None and (_reads_url(node) or bool(_names(node) & tainted))

    changed = True
    while changed:
        before = len(tainted)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if dirty(node.value):
                    for t in targets:
                        tainted |= _target_names(t)
            elif isinstance(node, ast.For | ast.comprehension | ast.NamedExpr):
                source = node.value if isinstance(node, ast.NamedExpr) else node.iter
                if dirty(source):
                    tainted |= _target_names(node.target)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                dirty(r.value) for r in ast.walk(node) if isinstance(r, ast.Return)
            ):
                tainted.add(node.name)
        # A store into st.session_state[...] does not make the module `st` itself the link's.
        tainted -= modules
        changed = len(tainted) != before
    return tainted


def _callee(call: ast.Call) -> tuple[str | None, str | None]:
    """(module or receiver name, function name) of a call: open -> (None, open)."""
    func = call.func
    if isinstance(func, ast.Name):
        return None, func.id
    if isinstance(func, ast.Attribute):
        base = func.value
        while isinstance(base, ast.Attribute):  # os.path.join -> os
            base = base.value
        return (base.id if isinstance(base, ast.Name) else None), func.attr
    return None, None


def _path_args(call: ast.Call) -> list[ast.AST]:
    """The arguments of this call that name a file or folder ([] if it is no such call)."""
    base, name = _callee(call)
    every = [*call.args, *(k.value for k in call.keywords)]
    if name in PATH_CALLS or base in PATH_MODULES:
        return every
    if isinstance(call.func, ast.Attribute) and name in PATH_METHODS:
        return [call.func.value, *every]
    if name in ENGINE_CALLS:
        spec = ENGINE_CALLS[name]
        positions = {pos for pos, _ in spec if pos is not None}
        names = {n for _, n in spec}
        return [a for i, a in enumerate(call.args) if i in positions] + [
            k.value for k in call.keywords if k.arg in names or k.arg is None
        ]
    return []


def _pathish(node: ast.AST) -> bool:
    """A Path-making call or a name that says it holds a path (for the `/` operator)."""
    if isinstance(node, ast.Call):
        return _callee(node)[1] in PATH_CALLS
    label = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return any(word in label.lower() for word in PATH_WORDS)


def url_to_path_flows(tree: ast.Module) -> list[ast.AST]:
    """Nodes where a value from the link reaches a file or folder name."""
    tainted = url_tainted_names(tree)

    def dirty(node: ast.AST) -> bool:
        return _reads_url(node) or bool(_names(node) & tainted)

    flows = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and any(dirty(a) for a in _path_args(node)):
            flows.append(node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            sides = (node.left, node.right)
            if any(dirty(s) for s in sides) and any(_pathish(s) for s in sides):
                flows.append(node)
    return flows


def test_the_flow_check_finds_a_path_built_from_the_link():
    """The check below is not vacuous: each of these builds a path from the link."""
    leaks = [
        "Path(st.query_params['f'])",
        "name = st.query_params.get('f')\nopen(f'data/{name}')",
        "def where():\n    return st.query_params['d']\nx = where()\nRunStore(folder=x)",
        "d = st.text_input('d', key='d', bind='query-params')\nload_mnist('full', d)",
        "cfg = pick()\ndef pick():\n    return st.query_params['d']\nruns_dir / cfg",
        "os.path.join('runs', st.query_params['r'])",
        "RunManager(data_dir=st.query_params['d'])",
        "cfg = {}\ncfg['dir'] = st.query_params['d']\nfull_data_present(cfg['dir'])",
    ]
    for source in leaks:
        assert url_to_path_flows(ast.parse(source)), source
    safe = [
        "load_mnist(st.query_params['source'])",  # a data source name, checked against a set
        "x = st.query_params['lr']\ny = x / 2",
        "open_store()\nload_mnist('bundled', data_dir=os.environ['STEPLR_VIZ_DATA_DIR'])",
        "st.query_params['run'] = run_id\nPath(st.secrets['folder'])",  # writing the link
    ]
    for source in safe:
        assert not url_to_path_flows(ast.parse(source)), source


@pytest.mark.parametrize("path", python_files(PAGE_CODE), ids=lambda p: str(p.relative_to(REPO)))
def test_no_path_is_built_from_a_query_parameter(path: Path):
    flows = [where(path, node) for node in url_to_path_flows(parse(path))]
    assert not flows, f"a value from the link reaches a file or folder name at {flows}"


def test_the_runs_and_data_folders_come_only_from_the_environment(tmp_path, monkeypatch):
    """A link naming folders changes nothing: the page's store is the env var's folder."""
    from streamlit.testing.v1 import AppTest

    from ui.run_registry import get_manager

    runs_dir = tmp_path / "env-runs"
    monkeypatch.setenv("STEPLR_VIZ_RUNS_DIR", str(runs_dir))
    monkeypatch.setenv("STEPLR_VIZ_DATA_DIR", str(tmp_path / "env-data"))
    get_manager.clear()
    try:
        at = AppTest.from_file("../pages/1_Live_training.py", default_timeout=60)
        elsewhere = tmp_path / "from-the-link"
        for key in ("STEPLR_VIZ_RUNS_DIR", "runs_dir", "data_dir", "folder", "path"):
            at.query_params[key] = str(elsewhere)
        at.run(timeout=120)
        assert not at.exception
        store = get_manager().store
        assert Path(store.folder).resolve() == runs_dir.resolve()
        assert not elsewhere.exists()
    finally:
        get_manager().shutdown()
        get_manager.clear()
