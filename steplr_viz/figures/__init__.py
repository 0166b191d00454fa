"""Plotly figure builders shared by the pages (plotly only, no Streamlit)."""
