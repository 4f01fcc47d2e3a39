"""Scoring submissions and predictions, and drawing tasks as PNG."""
