"""Tests of steplr_viz/lab/."""
