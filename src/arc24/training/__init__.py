"""`arc24 train`: the trainer, its checkpoints, the memory-safe loss and batching."""
