"""Tests of steplr_viz/cli/."""
