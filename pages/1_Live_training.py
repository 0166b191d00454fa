"""Live training: SimpleNet learns MNIST with Adam and StepLR while the charts update."""

from __future__ import annotations

import streamlit as st

from steplr_viz.store.run_view import poll_seconds
from ui import class_mode, experiments, training
from ui.chrome import page_setup
from ui.identity import teacher_key_ui, viewer
from ui.query import warn_bad_query_params
from ui.run_registry import get_manager


def main() -> None:
    page_setup("Live training", ":material/model_training:")
    st.title(":material/model_training: Live training")
    st.caption(
        "The seed's model, one `Linear(784, 10)`, learns MNIST with Adam while StepLR cuts the "
        "learning rate. Press Start and watch the loss, the LR and the accuracy move."
    )
    warn_bad_query_params(training.URL_CHECKS)
    training.storage_note()
    config = training.controls_ui()
    teacher_key_ui()
    me = viewer()
    training.act_on_clicks(config, me)  # before the page reads which run it watches
    run_id = training.watched_run_id()
    view = get_manager().view(run_id) if run_id else None
    training.buttons_ui(config, view, me)
    if view is None:
        if run_id:
            st.info("That run no longer exists (it may have been deleted). Start a new one.")
        training.predicted_section(config)
    else:
        st.fragment(training.run_panel, run_every=poll_seconds(view.status))(run_id, view.status)
    st.divider()
    experiments.sections(config, me)
    class_mode.training_sweep_ui(me)
    st.divider()
    training.runs_ui(me)


main()
