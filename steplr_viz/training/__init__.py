"""Training a run: the data, the seed's model, the metrics it publishes, the Trainer, its plan."""
