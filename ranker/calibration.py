"""Calibration: the map from the confidence model's output to the chance that an answer is exactly right, and how far
that chance can be taken at its word (predicted against observed, out of fold).

The shipped confidence is the confidence model's output (`prodspec.ranker.confidence`) mapped by an isotonic fit to
the chance that the answer string is exactly the label. Judged on the rows it was fitted on it would look perfect, so
each fold's rows are mapped by a fit on the other folds' rows, and the reliability curve is drawn from those.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


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


BINS = np.linspace(0.0, 1.0, 11)
# a bin is called off where what was observed lies further from what was predicted than this many standard errors
# of a binomial share, and than 0.05: with a few dozen rows a bin moves by chance
OFF_BY_ERRORS = 2.0
OFF_BY_AT_LEAST = 0.05


def cross_fitted(confidence: np.ndarray, exact: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each fold's confidences mapped by a calibration fitted on the other folds'."""
    out = np.full(len(confidence), np.nan)
    for fold in np.unique(folds):
        held = folds == fold
        out[held] = calibrated(confidence[held], fit_calibration(confidence[~held], exact[~held]))
    return out


def reliability(predicted: np.ndarray, exact: np.ndarray) -> list[dict]:
    """Per bin of predicted confidence: rows, mean predicted, share exactly right, and whether they agree."""
    frame = pd.DataFrame({"predicted": predicted, "exact": exact.astype(float)}).dropna()
    frame["bin"] = pd.cut(frame["predicted"], BINS, include_lowest=True)
    out = []
    for interval, part in frame.groupby("bin", observed=True):
        mean, observed = float(part["predicted"].mean()), float(part["exact"].mean())
        error = math.sqrt(max(mean * (1 - mean), 1e-9) / len(part))
        out.append({"bin": f"{interval.left:.1f}-{interval.right:.1f}", "rows": len(part),
                    "predicted": round(mean, 3), "observed": round(observed, 3),
                    "calibrated": abs(observed - mean) <= max(OFF_BY_ERRORS * error, OFF_BY_AT_LEAST)})
    return out


def expected_calibration_error(table: list[dict]) -> float:
    """The rows-weighted mean gap between predicted and observed: 0 for a perfectly calibrated confidence."""
    rows = sum(b["rows"] for b in table)
    return round(sum(b["rows"] * abs(b["predicted"] - b["observed"]) for b in table) / rows, 4) if rows else 0.0


def summary(table: list[dict]) -> str:
    """One sentence: where the confidence can be trusted and where not."""
    off = [b for b in table if not b["calibrated"]]
    if not off:
        return "within the noise in every bin"
    parts = [f"{b['bin']} ({b['rows']} rows: {b['predicted']:.2f} predicted, {b['observed']:.2f} observed)" for b in off]
    return "off in " + "; ".join(parts)
