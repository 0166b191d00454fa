"""`steplr-viz`: start the app (`streamlit run app.py`) from a checkout or an installed wheel."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from steplr_viz.cli.common import HelpFormatter, add_version

# A wheel installs app.py, pages/, ui/ and .streamlit/config.toml as this package (pyproject.toml
# maps it to the checkout's root). Streamlit puts app.py's folder on sys.path, so `import ui`
# finds the copy beside it, and reads the .streamlit/config.toml found there.
APP_PACKAGE = "steplr_viz_app"


def _is_app_folder(folder: Path) -> bool:
    return (folder / "app.py").is_file() and (folder / "ui" / "__init__.py").is_file()


def app_path() -> Path:
    """app.py: the checkout's when this package runs from one, else the installed copy."""
    checkout = Path(__file__).resolve().parents[2]  # steplr_viz/cli/launch.py
    if _is_app_folder(checkout):
        return checkout / "app.py"
    spec = importlib.util.find_spec(APP_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        if _is_app_folder(Path(location)):
            return Path(location) / "app.py"
    raise FileNotFoundError(
        f"Cannot find the app's files (app.py, pages/, ui/): neither a checkout around "
        f"{Path(__file__).parent} nor an installed {APP_PACKAGE} package. "
        "Reinstall with `pip install .`, or run `streamlit run app.py` in the checkout."
    )


def streamlit_command(streamlit_args: Sequence[str] = ()) -> list[str]:
    """The command that serves the app, with extra `streamlit run` flags passed through."""
    return [sys.executable, "-m", "streamlit", "run", str(app_path()), *streamlit_args]


def build_parser() -> argparse.ArgumentParser:
    """The launcher's own flags; every other flag goes to `streamlit run`."""
    p = argparse.ArgumentParser(
        prog="steplr-viz",
        description="Start the steplr-viz app (the same as `streamlit run app.py` in a checkout). "
        "Runs and data live in ./runs and ./data of the folder you start it in, unless "
        "$STEPLR_VIZ_RUNS_DIR or $STEPLR_VIZ_DATA_DIR say otherwise.",
        epilog="Other flags go to `streamlit run`, e.g. `steplr-viz --server.port 8502 "
        "--server.address 127.0.0.1`.",
        formatter_class=HelpFormatter,
    )
    add_version(p)
    return p


def _run(command: list[str]) -> int:
    if os.name == "posix":  # become Streamlit: Ctrl-C and kill reach the server itself
        os.execv(command[0], command)
    return subprocess.call(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the launcher's flags and serve the app; returns Streamlit's exit code."""
    _, streamlit_args = build_parser().parse_known_args(argv)
    try:
        command = streamlit_command(streamlit_args)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return _run(command)


if __name__ == "__main__":
    raise SystemExit(main())
