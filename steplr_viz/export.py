"""`python -m steplr_viz.export` and `steplr-viz-export`: the CLI in steplr_viz.cli.export."""

import sys

from steplr_viz.cli.export import main

if __name__ == "__main__":
    sys.exit(main())
