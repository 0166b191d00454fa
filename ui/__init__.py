"""Streamlit helpers shared by the pages (the engine, steplr_viz, never imports these)."""
