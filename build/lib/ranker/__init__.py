"""A LightGBM lambdarank model scores the candidates, the value with the most score is the row's answer, and a
calibrated confidence decides whether to give it."""
