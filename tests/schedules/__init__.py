"""Tests of steplr_viz/schedules/."""
