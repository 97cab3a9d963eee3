"""The shipped model: LightGBM text files and JSON (`prodspec.ranker.artifacts`), what `make train` writes by default.

Kept at the top of the repository and carried inside the wheel as `prodspec.models`."""
