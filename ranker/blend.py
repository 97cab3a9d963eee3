"""A model's rankers (`Rankers`) and how their scores combine: a photos ranker, a dimension ranker that also learns
from flat text rows (and one for height and width alone), a ranker for every attribute but height, width and depth,
and a drawing ranker learnt from synthetic drawings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodspec.dataset.units import entity_names
from prodspec.features.columns import CATEGORICAL, for_other_attributes, without_gaps
from prodspec.features.quantities import QUANTITY_FEATURES
from prodspec.ranker.lambdarank import (
    Ranker,
    RankerParams,
    SeedEnsemble,
    fit_ranker,
    fit_seeds,
    score,
)

DIMENSIONS = ("height", "width", "depth")  # the attributes the dimension ranker scores, in the order tables show them
# weight of the photos ranker's standardized score in a dimension row's blend (`score_candidates`). Picked among 0,
# 0.1, 0.25, 0.5 and 1 on fold splits 1-20 of dev + more (dimension rows exactly right 0.6731, 0.6725, 0.6744,
# 0.6606, 0.6294), held on splits 21-40 (0.6744 against 0.6631 at 0.5, 14 splits better, 2 worse): with the
# quantity features the dimension ranker, which also learns from the text rows, carries the row. Before them it was
# 0.5, picked among 0, 0.25, 0.5, 1 and 2 (dimension top-1 0.634 -> 0.656 over 12 fold seeds): a model's meta.json
# that names no weight was trained at that
DIMENSION_BLEND = 0.25
DIMENSION_BLEND_BEFORE_META = 0.5


def dimension_blend_of(meta: dict) -> float:
    """The weight a model was trained with (its meta.json), for `score_candidates`."""
    return float(meta.get("dimension_blend", DIMENSION_BLEND_BEFORE_META))


def has_height_width_ranker(meta: dict) -> bool:
    """Whether a model's height and width rows take a ranker of their own (its meta.json; `fit_height_width_ranker`)."""
    return bool(meta.get("height_width_ranker_files"))


def entity_codes(entities: Iterable[str]) -> set[int]:
    """The `entity` feature's codes of these attributes."""
    return {entity_names().index(e) for e in entities}


def rows_of(lines: pd.DataFrame, entities: Iterable[str]) -> np.ndarray:
    """Which feature lines belong to a row of these attributes."""
    return lines["entity"].isin(entity_codes(entities)).to_numpy()


def dimension_rows(lines: pd.DataFrame) -> np.ndarray:
    """Which feature lines belong to a height, width or depth row: the rows the dimension ranker scores."""
    return rows_of(lines, DIMENSIONS)


# a text line's column: 1 where its row teaches the other attributes' ranker (`fit_other_ranker`), 0 where it teaches
# the dimension rankers (a text table without it teaches the dimension rankers alone)
OTHER_TEXT = "other_text"


def other_text_lines(text: pd.DataFrame) -> np.ndarray:
    """Which text lines teach the other attributes' ranker (`OTHER_TEXT`)."""
    return (text[OTHER_TEXT] == 1).to_numpy() if OTHER_TEXT in text else np.zeros(len(text), dtype=bool)


def text_for(text: pd.DataFrame | None, other: bool) -> pd.DataFrame | None:
    """The text lines that teach the other attributes' ranker (`other`), or those that teach the dimension rankers."""
    return None if text is None else text[other_text_lines(text) == other]


def dimension_text(text: pd.DataFrame | None) -> pd.DataFrame | None:
    """The text lines the dimension rankers learn from; None where there are none (a model without those rankers)."""
    part = text_for(text, other=False)
    return part if part is not None and len(part) else None


def fit_dimension_ranker(lines: pd.DataFrame, text: pd.DataFrame, features: list[str], params: RankerParams,
                         seeds: int = 1):
    """A ranker for dimension rows, learned from the photos' rows plus the dimension rankers' text rows.

    The dev photos hold 67 dimension rows and the text corpus 1,328. Out of fold, one model over both
    sources ranks dimension rows better but the other attributes worse than the photos alone, so each
    source serves the rows it helps.
    """
    both = pd.concat([lines, text_for(text, other=False)], ignore_index=True)
    return fit_seeds(lambda p: fit_ranker(both, without_gaps(features), CATEGORICAL, p), params, seeds)


# the dimension rows a model's height-and-width ranker scores (`fit_height_width_ranker`), where it has one: out of fold
# on splits 1-20 of dev + more a dimension ranker that learned from the dimension rows alone read height 0.725 and
# width 0.688 against 0.707 and 0.660 for the one that learned from every row, but depth 0.619 against 0.655
HEIGHT_WIDTH = ("height", "width")


def fit_height_width_ranker(lines: pd.DataFrame, text: pd.DataFrame, features: list[str], params: RankerParams,
                            seeds: int = 1):
    """A dimension ranker learned from the height, width and depth rows alone (photos and text), for the height and
    width rows; the depth rows keep the one that learned from every row (`HEIGHT_WIDTH`)."""
    return fit_dimension_ranker(lines[dimension_rows(lines)], text[dimension_rows(text)], features, params, seeds)


def fit_main_ranker(lines: pd.DataFrame, features: list[str], params: RankerParams, seeds: int = 1):
    return fit_seeds(lambda p: fit_ranker(lines, features, CATEGORICAL, p), params, seeds)


def fit_other_ranker(lines: pd.DataFrame, features: list[str], params: RankerParams, seeds: int = 1,
                     text: pd.DataFrame | None = None):
    """The ranker for every row but height, width and depth: the main ranker's inputs less the place cues, learned
    from the photos' rows plus the text rows meant for it (`OTHER_TEXT`), where `text` holds any."""
    other = text_for(text, other=True)
    if other is not None and len(other):
        lines = pd.concat([lines, other], ignore_index=True)
    return fit_main_ranker(lines, for_other_attributes(features), params, seeds)


def ranker_features(features: list[str], objective: str) -> list[str]:
    """The main ranker's inputs for an objective: the `rel_*` gaps only for `f1`.

    The gaps pick the right candidate more often but make the confidence model's ordering worse. Out of fold
    over 16 fold seeds, with the f1 study's parameters: right answers for 64.0% of rows against 63.4%, but at
    a 0.95 precision floor (held out) 31.3% of rows answered against 38.0%, ROC AUC 0.895 against 0.899.
    """
    return features if objective == "f1" else without_gaps(features)


def standardized_within_rows(scores: np.ndarray, row_pos: pd.Series) -> np.ndarray:
    """Each row's scores as z-scores, so that two rankers' scores can be added."""
    by_row = pd.Series(scores, index=row_pos.index).groupby(row_pos)
    spread = by_row.transform("std").fillna(1.0).replace(0.0, 1.0)
    return ((scores - by_row.transform("mean")) / spread).to_numpy()


def fit_drawing_ranker(drawn: pd.DataFrame, features: list[str], params: RankerParams, seeds: int = 1):
    """A ranker learnt from synthetic drawings alone (`dataset.synthetic`), on what a drawing shows: the lines, the
    print's place and size, the values' order; not the words, nor the catalogue's priors."""
    return fit_seeds(lambda p: fit_ranker(drawn, drawing_features(features), CATEGORICAL, p), params, seeds)


def drawing_features(features: list[str]) -> list[str]:
    """What the drawing ranker reads: not the words, the priors, nor the quantities' ranks and units
    (`features.quantities`): the drawings' lengths are random, so their ranks teach nothing of the catalogue's habits,
    and with them the height and width rows read worse (docs/experiments.md)."""
    return [f for f in without_gaps(features) if not f.startswith(("word_", "group_", "value_", "unit_share"))
            and f not in QUANTITY_FEATURES]


# the attributes the drawing ranker scores, and its standardized score's weight in their blend. Out of fold over
# fold splits 1-20 of the dev and more photos (docs/experiments.md, "Dimension drawings"), height and width rows
# read right 0.686 of the time with it against 0.594 without; with the depth rows too (the drawings' receding
# lines) depth read far worse: the catalogue's depth is as often a drawing's horizontal or upright line as a
# receding one. A hair over 1: in a row of two candidates each z-score is +-1, so at 1 the two rankers tie
# wherever they disagree and the order of print decides; over 1 the drawing does (0.003 fewer dimension rows
# right over those splits, within a row's noise, and a drawing as plain as a box with two arrows is read right)
DRAWING_ENTITIES = {"height", "width"}
DRAWING_BLEND = 1.01


@dataclass(frozen=True)
class Rankers:
    """A model's rankers and the weights their scores blend at: what `score_candidates` scores with, what
    `ranker.artifacts.save_model` writes and `load_model` reads back. A ranker a model lacks is None: its rows fall
    to the one before it (a model trained before it existed scores as it did)."""

    photos: Ranker | None  # every row the others do not take (None only where none is asked: cross-validation fits
    # only the rankers a fold's rows need)
    dimension: Ranker | None = None  # leads height, width and depth rows (`fit_dimension_ranker`)
    height_width: Ranker | None = None  # leads height and width rows in its place (`fit_height_width_ranker`)
    other: Ranker | None = None  # every row but height, width and depth (`fit_other_ranker`)
    drawing: Ranker | None = None  # added to height and width rows (`fit_drawing_ranker`)
    dimension_blend: float = DIMENSION_BLEND  # the photos ranker's weight in a dimension row (`dimension_blend_of`)
    drawing_weight: float = 0.0  # the drawing ranker's weight in a height or width row (`DRAWING_BLEND`)

    def __post_init__(self):
        if self.height_width is not None and self.dimension is None:
            raise ValueError("a height-and-width ranker without the dimension ranker it leads beside")


def score_candidates(rankers: Rankers, lines: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Every feature line's score, the model's rankers blended as they were trained (`Rankers`).

    A dimension row blends the dimension ranker's standardized score (the height-and-width ranker's for height and
    width rows, where the model has one) with the photos ranker's at `dimension_blend`: the dimension ranker knows
    the wording and the priors from many text rows, the photos ranker the drawn lines and turned print that text
    rows lack. Height and width rows then add the drawing ranker's at `drawing_weight`. With an other ranker the
    remaining rows take its scores, else the photos ranker's. Seed ensembles blend seed by seed and average the
    blends (out of fold this ranked better than blending the averaged scores: top-1 0.838 against 0.835 on the
    bench's fresh splits).
    """
    if rankers.other is None:
        return _with_drawing_scores(_photos_scores(rankers, lines, features), rankers, lines, features)
    # the photos ranker scores the dimension rows alone: the other rows take the other ranker's scores
    dimensions = dimension_rows(lines)
    scores = np.zeros(len(lines))
    if dimensions.any():
        scores[dimensions] = _photos_scores(rankers, lines[dimensions], features)
    if not dimensions.all():
        scores[~dimensions] = score(rankers.other, lines[~dimensions], for_other_attributes(features))
    return _with_drawing_scores(scores, rankers, lines, features)


def _with_drawing_scores(scores: np.ndarray, rankers: Rankers, lines: pd.DataFrame,
                         features: list[str]) -> np.ndarray:
    """Height and width rows' scores with the drawing ranker's standardized scores added at its weight."""
    if rankers.drawing is None or not rankers.drawing_weight:
        return scores
    rows = rows_of(lines, DRAWING_ENTITIES)
    if rows.any():
        part = lines[rows]
        scores = scores.copy()
        scores[rows] = (standardized_within_rows(scores[rows], part["row_pos"])
                        + rankers.drawing_weight * standardized_within_rows(
                            score(rankers.drawing, part, drawing_features(features)), part["row_pos"]))
    return scores


def _photos_scores(rankers: Rankers, lines: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Seed by seed where every ensemble has the photos ranker's size (the shipped model's do), else in one blend."""
    ranker, leading, weight = rankers.photos, (rankers.dimension, rankers.height_width), rankers.dimension_blend
    given = [r for r in (ranker, *leading) if r is not None]
    if len(given) > 1 and all(isinstance(r, SeedEnsemble) and len(r.boosters) == len(ranker.boosters) for r in given):
        n = len(ranker.boosters)
        per_seed = zip(ranker.boosters, *([None] * n if r is None else r.boosters for r in leading))
        return np.mean([_blended_scores(r, tuple(seed_leading), lines, features, weight)
                        for r, *seed_leading in per_seed], axis=0)
    return _blended_scores(ranker, leading, lines, features, weight)


def _blended_scores(ranker, leading: tuple, lines: pd.DataFrame, features: list[str], weight: float) -> np.ndarray:
    dimension_ranker, height_width_ranker = leading
    scores = score(ranker, lines, features)
    if dimension_ranker is None:
        return scores
    dimensions = dimension_rows(lines)
    part = lines[dimensions]
    # each line is scored once: by the height-and-width ranker where the model has one and the row asks for either
    apart = rows_of(part, HEIGHT_WIDTH) if height_width_ranker is not None else np.zeros(len(part), dtype=bool)
    lead = np.zeros(len(part))
    lead[~apart] = score(dimension_ranker, part[~apart], without_gaps(features))
    if apart.any():
        lead[apart] = score(height_width_ranker, part[apart], without_gaps(features))
    scores[dimensions] = (standardized_within_rows(lead, part["row_pos"])
                          + weight * standardized_within_rows(scores[dimensions], part["row_pos"]))
    return scores
