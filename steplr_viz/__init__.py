"""steplr-viz engine: StepLR math, MNIST data, trainer, run store and CLI (no Streamlit here)."""

__version__ = "0.1.0"
