"""Tests of steplr_viz/training/."""
