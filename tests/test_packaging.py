"""pyproject.toml describes the real package: requirements, packages, data, scripts, wheel."""

from __future__ import annotations

import importlib
import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import steplr_viz
from steplr_viz.cli import launch
from steplr_viz.training import data as data_mod

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def requirement_lines(name: str) -> list[str]:
    """The requirement specifiers of a requirements file, without comments or `-r` includes."""
    lines = []
    for raw in (REPO / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def test_dependencies_match_requirements_txt():
    assert PROJECT["dependencies"] == requirement_lines("requirements.txt")


def test_tests_extra_matches_requirements_dev_txt():
    dev = (REPO / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev
    assert PROJECT["optional-dependencies"]["tests"] == requirement_lines("requirements-dev.txt")
    assert any(r.startswith("tensorboard") for r in PROJECT["optional-dependencies"]["tensorboard"])


def test_version_has_one_source():
    assert PROJECT["dynamic"] == ["version"]
    assert "version" not in PROJECT
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "steplr_viz.__version__"
    }
    assert re.fullmatch(r"\d+\.\d+\.\d+", steplr_viz.__version__)


@pytest.mark.parametrize("script", sorted(PROJECT["scripts"]))
def test_console_script_targets_import_and_print_the_version(script, capsys):
    module_name, func_name = PROJECT["scripts"][script].split(":")
    main = getattr(importlib.import_module(module_name), func_name)
    assert callable(main)
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"steplr-viz {steplr_viz.__version__}"


def test_every_cli_module_has_a_console_script():
    targets = {target.split(":")[0] for target in PROJECT["scripts"].values()}
    assert {"steplr_viz.cli.launch", "steplr_viz.train", "steplr_viz.export"} <= targets
    # Every `python -m steplr_viz.X` CLI (a module that parses flags) is installed as a command.
    for path in sorted((REPO / "steplr_viz").rglob("*.py")):
        if 'if __name__ == "__main__":' in path.read_text():
            module = ".".join(path.relative_to(REPO).with_suffix("").parts)
            assert module in targets, f"{module} has no console script in pyproject.toml"


def test_every_engine_package_is_listed():
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "steplr_viz").rglob("__init__.py")
    }
    assert found | {launch.APP_PACKAGE} == set(SETUPTOOLS["packages"])
    assert SETUPTOOLS["package-dir"] == {launch.APP_PACKAGE: "."}


def test_package_data_globs_match_the_files_they_must_ship():
    data = SETUPTOOLS["package-data"]
    shipped = {
        pattern: sorted((REPO / ("steplr_viz" if pkg == "steplr_viz" else ".")).glob(pattern))
        for pkg, patterns in data.items()
        for pattern in patterns
    }
    assert all(shipped.values()), shipped  # every glob matches something
    names = {p.name for paths in shipped.values() for p in paths}
    assert set(data_mod.BUNDLED_FILES.values()) <= names
    assert {"config.toml", "__init__.py", "1_Live_training.py", "2_StepLR_lab.py"} <= names


def test_launcher_serves_the_checkouts_app_and_passes_flags_on(monkeypatch):
    assert launch.app_path() == REPO / "app.py"
    seen = []
    monkeypatch.setattr(launch, "_run", lambda command: seen.append(command) or 0)
    assert launch.main(["--server.port", "8502"]) == 0
    assert seen == [
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", "8502"]
    ]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the checkout (no build/ or egg-info left in the repo)."""
    if importlib.util.find_spec("setuptools") is None:
        pytest.fail("setuptools is missing: pip install -r requirements-dev.txt")
    src = tmp_path_factory.mktemp("src") / "steplr-viz"
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(
            ".git", "runs", "data", "artifacts", "build", "dist", "*.egg-info", "__pycache__",
            ".venv", ".*_cache", ".hypothesis", "docs", "tests", "benchmarks",
        ),
    )  # fmt: skip
    out = tmp_path_factory.mktemp("wheel")
    # What `pip wheel --no-build-isolation` does, without pip's own start and its second Python:
    # the backend pyproject.toml names builds the wheel, in the copy.
    backend = PYPROJECT["build-system"]["build-backend"]
    result = subprocess.run(
        [sys.executable, "-c", f"import sys, {backend} as b; b.build_wheel(sys.argv[1])", str(out)],
        cwd=src, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("steplr_viz-*.whl")
    return path


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_wheel_holds_engine_digits_app_and_entry_points(wheel):
    assert wheel.name == f"steplr_viz-{steplr_viz.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = f"steplr_viz-{steplr_viz.__version__}.dist-info"
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
        metadata = zf.read(f"{info}/METADATA").decode()
    # Every engine module, in every subpackage (a subpackage missing from pyproject.toml fails).
    engine = {p.relative_to(REPO).as_posix() for p in (REPO / "steplr_viz").rglob("*.py")}
    assert "steplr_viz/training/data.py" in engine
    assert engine <= names, sorted(engine - names)
    for name in data_mod.BUNDLED_FILES.values():
        assert f"steplr_viz/assets/{name}" in names
    app = {n.removeprefix("steplr_viz_app/") for n in names if n.startswith("steplr_viz_app/")}
    repo_app = {"app.py", ".streamlit/config.toml"} | {
        str(p.relative_to(REPO))
        for d in ("pages", "ui")
        for p in (REPO / d).iterdir()
        if p.suffix in (".py", ".js")  # the drag preview's script is part of the app
    }
    assert app == repo_app
    assert not any(n.startswith(("tests/", "benchmarks/", "scripts/")) for n in names)
    for script, target in PROJECT["scripts"].items():
        assert f"{script} = {target}" in entry_points
    requires = {
        str(Requirement(line.removeprefix("Requires-Dist: ")))
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ") and "extra ==" not in line
    }
    assert requires == {str(Requirement(r)) for r in PROJECT["dependencies"]}


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_installed_launcher_finds_the_installed_app(wheel, tmp_path):
    # Unpacked wheel = site-packages after `pip install`: no checkout around steplr_viz there.
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from steplr_viz.cli.launch import app_path\n"
        "from steplr_viz.training.data import load_mnist\n"
        "print(app_path()); print(load_mnist('bundled').description)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(site)],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.splitlines() == [
        str(site / launch.APP_PACKAGE / "app.py"),
        "bundled MNIST subset: 4,000 train / 1,000 test",
    ]
