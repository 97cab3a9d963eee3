"""A LightGBM lambdarank model picks one candidate per row; a calibrated confidence decides whether to answer."""
