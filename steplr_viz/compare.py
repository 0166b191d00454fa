"""`python -m steplr_viz.compare` and `steplr-viz-compare`: the CLI in steplr_viz.cli.compare."""

import sys

from steplr_viz.cli.compare import main

if __name__ == "__main__":
    sys.exit(main())
