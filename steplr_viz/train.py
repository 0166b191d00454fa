"""`python -m steplr_viz.train` and `steplr-viz-train`: the CLI in steplr_viz.cli.train."""

import sys

from steplr_viz.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
