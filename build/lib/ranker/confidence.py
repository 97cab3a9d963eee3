"""A small calibrated model: P(the chosen candidate is right), learned on out-of-fold ranker output."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from ranker.selection import CONFIDENCE_FEATURES

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


def fit_calibration(confidence: np.ndarray, exact: np.ndarray) -> list[list[float]] | None:
    """The map from the confidence model's output to the chance that the answer string is exactly the label,
    learned by isotonic regression on out-of-fold pairs; stored in the model's meta.json as [x, y] knots.

    The confidence model learns whether the chosen value and unit are right; the string can still differ in its
    written form (`500` for `500.0`), and a model fitted to its own rows is over-sure on new ones. None when
    there is nothing to learn from.
    """
    from sklearn.isotonic import IsotonicRegression

    known = ~np.isnan(confidence)
    if known.sum() < 2 or len(np.unique(exact[known])) < 2:
        return None
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(confidence[known], exact[known])
    return [[round(float(x), 6), round(float(y), 6)] for x, y in zip(fitted.X_thresholds_, fitted.y_thresholds_)]


def calibrated(confidence: np.ndarray, knots: list[list[float]] | None) -> np.ndarray:
    """Confidences mapped by `fit_calibration`'s knots; as they are where the model has none."""
    if not knots:
        return confidence
    x, y = np.asarray(knots, dtype=float).T
    return np.interp(confidence, x, y)
