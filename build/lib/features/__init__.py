"""One row per (sample, candidate): what the ranker learns from."""
