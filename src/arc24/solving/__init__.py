"""`arc24 solve`: test-time fine-tuning, augmented prediction, voting and the run's files."""
