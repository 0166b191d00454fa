"""Runs kept and managed: the run store and its SQL dialects, owners, recorder, RunView, manager."""
