"""What every command shares: --help with each flag's default, and --version."""

from __future__ import annotations

import argparse

from steplr_viz import __version__

VERSION = f"steplr-viz {__version__}"  # what every command's --version prints


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except None: those flags say in words what unset means."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def add_version(parser: argparse.ArgumentParser) -> None:
    """Add --version, printing the package's one version (steplr_viz.__version__)."""
    parser.add_argument("--version", action="version", version=VERSION)
