"""The LR math: StepLR's closed form and PyTorch's curve (steplr.py), and the scheduler choices."""
