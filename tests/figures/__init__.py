"""Tests of steplr_viz/figures/."""
