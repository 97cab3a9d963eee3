"""Serving: answering rows with a trained model (the API, `predict`, `predict --ray`, `explain`)."""
