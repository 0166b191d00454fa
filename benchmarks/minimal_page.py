"""The yardstick for the pages' speed: a bare page, the explorer's four sliders, one chart."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

# The explorer's controls, as plain Streamlit widgets under the same keys (the benchmarks find
# them by key): η₀ on a 1-2-5 series, γ, s and the horizon.
LRS = [float(f"{m}e{e}") for e in range(-5, 0) for m in (1, 2, 5)] + [1.0]
with st.sidebar:
    lr0 = st.select_slider("lr0", options=LRS, value=0.1, key="lr0")
    gamma = st.slider("gamma", min_value=0.01, max_value=1.0, value=0.5, step=0.01, key="gamma")
    step_size = st.slider("step size", min_value=1, max_value=100, value=10, key="step_size")
    n = st.slider("epochs", min_value=1, max_value=1000, value=40, key="epochs")
epochs = np.arange(n)
fig = go.Figure(go.Scatter(x=epochs, y=lr0 * gamma ** (epochs // step_size), line={"shape": "hv"}))
st.plotly_chart(fig, key="staircase", width="stretch")
