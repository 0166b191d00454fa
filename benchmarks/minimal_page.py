"""The yardstick for the explorer's speed: a bare page with one slider and one Plotly chart."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

gamma = st.slider("gamma", min_value=0.01, max_value=1.0, value=0.5, step=0.01, key="gamma")
epochs = np.arange(40)
fig = go.Figure(go.Scatter(x=epochs, y=0.1 * gamma ** (epochs // 10), line={"shape": "hv"}))
st.plotly_chart(fig, key="staircase", width="stretch")
