"""The ranker: LightGBM lambdarank over each row's candidates, fit/predict with plain parameters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import lightgbm as lgb
import numpy as np
import pandas as pd

# LightGBM's histogram bins per feature (its default 255). Coarser bins ranked dimension rows better with the
# same parameters: over fold splits 1-20 dimension top-1 0.681 against 0.658 and the test file's mix 0.772
# against 0.761, in the same order on splits 21-40 and on held-out text rows (docs/experiments.md)
MAX_BIN = 31


@dataclass(frozen=True)
class RankerParams:
    num_leaves: int = 15
    learning_rate: float = 0.05
    num_rounds: int = 300
    min_data_in_leaf: int = 10
    feature_fraction: float = 0.8
    lambda_l2: float = 1.0
    seed: int = 0

    def lgb_params(self) -> dict:
        p = asdict(self)
        rounds = p.pop("num_rounds")
        return {**p, "objective": "lambdarank", "metric": "ndcg", "eval_at": [1], "verbosity": -1,
                "num_threads": 0, "deterministic": True, "force_row_wise": True,
                "lambdarank_truncation_level": 10, "max_bin": MAX_BIN}, rounds


# how many LightGBM seeds a shipped ranker averages (README, "seed"): seed 0, 1, 2 and 3 alone ranked fresh
# splits 0.832-0.840 top-1 and 0.737-0.761 on the test file's mix; the four averaged, 0.838 and 0.762
ENSEMBLE_SIZE = 4


class SeedEnsemble:
    """Boosters that differ only in LightGBM's seed, their scores averaged: less of one seed's luck.

    It answers `predict` and `feature_name` as one booster does, so scoring code takes either.
    """

    def __init__(self, boosters: list[lgb.Booster]):
        self.boosters = boosters

    def predict(self, data, num_threads: int = 0) -> np.ndarray:
        return np.mean([b.predict(data, num_threads=num_threads) for b in self.boosters], axis=0)

    def feature_name(self) -> list[str]:
        return self.boosters[0].feature_name()


Ranker = lgb.Booster | SeedEnsemble  # a fitted ranker: one booster, or seeds averaged


def fit_seeds(fit, params: RankerParams, size: int) -> Ranker:
    """`fit(params)` once, or `size` times with seeds params.seed, params.seed + 1, ... averaged."""
    if size <= 1:
        return fit(params)
    return SeedEnsemble([fit(replace(params, seed=params.seed + k)) for k in range(size)])


def _groups(table: pd.DataFrame) -> np.ndarray:
    return table.groupby("row_pos", sort=False).size().to_numpy()


def fit_ranker(table: pd.DataFrame, features: list[str], categorical: list[str], params: RankerParams) -> lgb.Booster:
    """Train on rows that have a right candidate (a row without one carries no ranking signal)."""
    has_positive = table.groupby("row_pos")["label"].transform("max") > 0
    train = table[has_positive].sort_values(["row_pos", "cand_pos"], kind="stable")
    lgb_params, rounds = params.lgb_params()
    dataset = lgb.Dataset(
        train[features], label=train["label"], group=_groups(train), categorical_feature=categorical,
        free_raw_data=False,
    )
    return lgb.train(lgb_params, dataset, num_boost_round=rounds)


def score(booster: Ranker, table: pd.DataFrame, features: list[str]) -> np.ndarray:
    if table.empty:
        return np.zeros(0)
    return booster.predict(table[features], num_threads=1 if len(table) < 2000 else 0)
