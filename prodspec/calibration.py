"""How far an answer's `confidence` can be taken at its word: predicted against observed, out of fold.

The shipped confidence is the confidence model's output mapped by an isotonic fit (`ranker.confidence`) to the
chance that the answer string is exactly the label. Judged on the rows it was fitted on it would look perfect, so
each fold's rows are mapped by a fit on the other folds' rows, and the curve is drawn from those.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ranker.confidence import calibrated, fit_calibration

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
