"""Training: labelled photos and text rows → a model folder (the data, the parameter study, cross-validation)."""
