"""`arc24 sweep`: the submission notebook over a grid of parameters, and its report."""
