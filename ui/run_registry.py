"""The process-wide run manager, shared by every session, tab and refresh."""

from __future__ import annotations

import os

import streamlit as st
import torch

from steplr_viz.store.registry import RunManager
from steplr_viz.validation import check_int

# Settings a teacher can change without touching code (bad values fall back to the defaults).
ENV_MAX_TRAINERS = "STEPLR_VIZ_MAX_TRAINERS"  # default: the number of CPU cores
ENV_MAX_QUEUE = "STEPLR_VIZ_MAX_QUEUE"  # default: 50 waiting runs
ENV_KEEP_RUNS = "STEPLR_VIZ_KEEP_RUNS"  # default: 200 stored runs, oldest finished pruned
# With STEPLR_VIZ_DATABASE_URL (several servers on one PostgreSQL store): seconds without a
# heartbeat after which a server's runs count as dead and are marked interrupted.
ENV_HEARTBEAT_TIMEOUT = "STEPLR_VIZ_HEARTBEAT_TIMEOUT"  # default: 15


def _env_int(name: str, default: int, low: int, high: int) -> int:
    try:
        return check_int(name, int(os.environ.get(name, default)), low=low, high=high)
    except ValueError:
        return default


@st.cache_resource(show_spinner=False)
def get_manager() -> RunManager:
    """One RunManager per server process: runs outlive sessions, tabs and refreshes."""
    # Up to cpu_count trainers run at once next to the web server: one intra-op thread each
    # keeps them from fighting over the cores (measured: 2.6x slower under contention).
    torch.set_num_threads(1)
    return RunManager(
        max_concurrent=_env_int(ENV_MAX_TRAINERS, os.cpu_count() or 1, 1, 256),
        max_queue=_env_int(ENV_MAX_QUEUE, 50, 0, 10_000),
        keep_runs=_env_int(ENV_KEEP_RUNS, 200, 1, 1_000_000),
        heartbeat_timeout=_env_int(ENV_HEARTBEAT_TIMEOUT, 15, 1, 3600),
    )
