"""Tests of steplr_viz/classroom/."""
