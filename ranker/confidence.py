"""A small calibrated model: P(the chosen candidate is right), learned on out-of-fold ranker output."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from prodspec.ranker.selection import CONFIDENCE_FEATURES

PARAMS = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.05, "min_data_in_leaf": 15,
          "lambda_l2": 5.0, "verbosity": -1, "deterministic": True, "force_row_wise": True, "seed": 0,
          "num_threads": 0}
ROUNDS = 150


def fit_confidence(tops: pd.DataFrame) -> lgb.Booster | None:
    """Fit on rows that have a chosen candidate; None when one class is missing (nothing to calibrate)."""
    chosen = tops[tops["cand_pos"] >= 0]
    if chosen.empty or chosen["label"].nunique() < 2:
        return None
    data = lgb.Dataset(chosen[CONFIDENCE_FEATURES], label=chosen["label"], categorical_feature=["entity", "kind"])
    return lgb.train(PARAMS, data, num_boost_round=ROUNDS)


def predict_confidence(model: lgb.Booster | None, tops: pd.DataFrame) -> np.ndarray:
    """Probability per row; 0 where no candidate was chosen, the training share where no model exists."""
    out = np.zeros(len(tops))
    chosen = (tops["cand_pos"] >= 0).to_numpy()
    if chosen.any():
        out[chosen] = model.predict(tops.loc[chosen, CONFIDENCE_FEATURES]) if model is not None else 0.5
    return out


def out_of_fold_confidence(tops: pd.DataFrame, folds: np.ndarray) -> np.ndarray:
    """Confidence for each row from a model that never saw that row's image."""
    out = np.zeros(len(tops))
    for fold in np.unique(folds):
        held = folds == fold
        model = fit_confidence(tops[~held])
        out[held] = predict_confidence(model, tops[held])
    return out
