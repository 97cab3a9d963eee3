"""Evaluation: `make bench`'s report, its figures, and why answers were missed."""
