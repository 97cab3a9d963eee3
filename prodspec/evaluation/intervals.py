"""How far a share measured on these photos may lie from the same share on other photos like them.

The mean over many fold splits takes out the luck of the split, not that of the sample: with 28 height rows, one
row is 0.036 of the share. `photo_intervals` draws the photos again with replacement (each with all of its rows)
and gives the percentile interval of each attribute's share of rows answered exactly right, of the dimension and
the other rows' shares, and of the strict F1 on the test file's mix, from how often each row was answered exactly
right over the fold splits. It leaves out the luck of training on the drawn photos, so it is if anything narrow.
`paired_intervals` does the same for the difference between two models scored on the same rows and splits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prodspec.dataset.evaluate import reweighted
from prodspec.ranker.blend import DIMENSIONS

DRAWS = 2000
LEVEL = 0.95


def photo_intervals(rows: pd.DataFrame, exact: np.ndarray, draws: int = DRAWS, level: float = LEVEL,
                    seed: int = 0) -> dict[str, list[float]]:
    """`exact`: fold splits × rows, whether each split answered each row exactly right (every row answered).
    Per measure (named as `training.crossval.split_measures` names them), [low, high] at `level`."""
    return _percentiles(_drawn_measures(rows, exact, draws, seed), level)


def paired_intervals(rows: pd.DataFrame, exact: np.ndarray, baseline: np.ndarray, draws: int = DRAWS,
                     level: float = LEVEL, seed: int = 0) -> dict[str, list[float]]:
    """The same for the difference of two models' figures on the same rows (`exact` less `baseline`), each draw of
    photos scoring both: a change is told from the luck of the sample by this interval, which is much narrower
    than either model's own where the two answer most rows alike."""
    drawn, before = _drawn_measures(rows, exact, draws, seed), _drawn_measures(rows, baseline, draws, seed)
    return _percentiles({name: drawn[name] - before[name] for name in drawn}, level)


def _drawn_measures(rows: pd.DataFrame, exact: np.ndarray, draws: int, seed: int) -> dict[str, np.ndarray]:
    """Each measure on each draw of the photos (the same draws for the same rows and seed)."""
    right = np.asarray(exact, dtype=float).reshape(-1, len(rows)).mean(axis=0)
    _, photo_of_row = np.unique(rows["image_name"].to_numpy(), return_inverse=True)
    photos = photo_of_row.max() + 1
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(photos, np.full(photos, 1 / photos), size=draws)[:, photo_of_row]  # draws × rows
    entity = rows["entity_name"].to_numpy()
    masks = {f"{name}_accuracy": entity == name for name in sorted(set(entity))}
    masks["dimension_accuracy"] = np.isin(entity, list(DIMENSIONS))
    masks["other_accuracy"] = ~masks["dimension_accuracy"]
    counts = {name: (drawn[:, mask].sum(axis=1), drawn[:, mask] @ right[mask]) for name, mask in masks.items()
              if mask.any()}
    samples = {name: np.divide(tp, n, out=np.full(draws, np.nan), where=n > 0) for name, (n, tp) in counts.items()}
    samples["test_mix_strict_f1"] = np.array([_mix_f1({name: (n[i], tp[i]) for name, (n, tp) in counts.items()})
                                              for i in range(draws)])
    return samples


def _percentiles(samples: dict[str, np.ndarray], level: float) -> dict[str, list[float]]:
    tail = (1 - level) / 2 * 100
    return {name: [round(float(np.nanpercentile(s, tail)), 4), round(float(np.nanpercentile(s, 100 - tail)), 4)]
            for name, s in samples.items()}


def exact_text(exact: np.ndarray) -> list[str]:
    """A splits × rows matrix of exact answers as one string of 0 and 1 per split (for a JSON file)."""
    return ["".join("1" if right else "0" for right in split) for split in np.asarray(exact, dtype=bool)]


def exact_of(text: list[str]) -> np.ndarray:
    return np.array([[c == "1" for c in split] for split in text], dtype=bool)


def _mix_f1(counts: dict[str, tuple[float, float]]) -> float:
    """The strict F1 on the test file's mix of one draw: each attribute's (rows, rows right), every row answered."""
    table = {name.removesuffix("_accuracy"): {"rows": n, "answered": n, "strict_tp": tp, "numeric_tp": tp,
                                              "strict_fp": n - tp, "numeric_fp": n - tp, "fn": 0}
             for name, (n, tp) in counts.items() if n > 0 and name not in ("dimension_accuracy", "other_accuracy")}
    return reweighted(table).strict_f1
