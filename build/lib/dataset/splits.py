"""Sampling that keeps the attribute mix, and folds that keep every image on one side."""

from __future__ import annotations

import numpy as np
import pandas as pd


def stratified_sample(rows: pd.DataFrame, n: int, column: str = "entity_name", seed: int = 0) -> pd.DataFrame:
    """About n rows with the same share of each `column` value as the input (at least one of each)."""
    if n >= len(rows):
        return rows.copy()
    shares = rows[column].value_counts(normalize=True)
    parts = []
    for value, share in shares.items():
        group = rows[rows[column] == value]
        take = min(len(group), max(1, round(share * n)))
        parts.append(group.sample(n=take, random_state=seed))
    return pd.concat(parts).sort_index()


def image_folds(image_names: pd.Series, k: int = 5, seed: int = 0) -> np.ndarray:
    """Fold number per row; all rows of one image share a fold."""
    images = np.array(sorted(set(image_names)))
    order = np.random.default_rng(seed).permutation(len(images))
    fold_of = {images[i]: rank % k for rank, i in enumerate(order)}
    return image_names.map(fold_of).to_numpy()


def train_validation_split(rows: pd.DataFrame, validation_share: float = 0.2, seed: int = 0):
    folds = image_folds(rows["image_name"], k=max(2, round(1 / validation_share)), seed=seed)
    return rows[folds != 0], rows[folds == 0]
