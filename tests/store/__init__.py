"""Tests of steplr_viz/store/."""
