"""The command-line programs: train, compare, export and the app's launcher (common.py: shared)."""
