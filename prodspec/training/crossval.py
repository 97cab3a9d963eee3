"""Out-of-fold scoring, grouped by photo: no row is scored by a ranker that learned from its photo."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodspec.dataset.evaluate import reweighted, score_rows, score_table
from prodspec.dataset.splits import image_folds
from prodspec.features.build import FeatureTable
from prodspec.features.fold_words import FoldWords
from prodspec.features.priors import Priors
from prodspec.ranker.answers import answers_for
from prodspec.ranker.blend import (
    DIMENSION_BLEND,
    DIMENSIONS,
    HEIGHT_WIDTH,
    Rankers,
    dimension_rows,
    dimension_text,
    fit_dimension_ranker,
    fit_drawing_ranker,
    fit_height_width_ranker,
    fit_main_ranker,
    fit_other_ranker,
    ranker_features,
    rows_of,
    score_candidates,
)
from prodspec.ranker.confidence import out_of_fold_confidence
from prodspec.ranker.joint import ANSWER_POLICY, JointPolicy
from prodspec.ranker.lambdarank import ENSEMBLE_SIZE, RankerParams
from prodspec.ranker.rules import rule_accuracy

FRESH_SEEDS = range(1, 6)  # the bench's fresh fold splits: its figures with parameters not tuned on them


def oof_scores(lines: pd.DataFrame, folds_by_row: np.ndarray, features: list[str], params: RankerParams,
               text: pd.DataFrame | None = None, seeds: int = ENSEMBLE_SIZE,
               words: FoldWords | None = None, drawn: pd.DataFrame | None = None,
               drawing_weight: float = 0.0, learn: np.ndarray | None = None,
               dimension_blend: float = DIMENSION_BLEND, height_width_ranker: bool = True) -> np.ndarray:
    """Out-of-fold scores; with `text`, dimension rows are scored by a ranker that also learned from its dimension
    rankers' rows, and the height and width rows (`height_width_ranker`) by one that learned from the dimension rows
    alone; the other rows by a ranker that also learned from the text rows meant for it (`ranker.blend.OTHER_TEXT`).

    `seeds`: rankers averaged, as shipped; the parameter search runs one (a fourth of the time).
    `words`: each fold learns its context vocabulary from its training rows alone (`features.fold_words`);
    without it every fold uses the table's word columns as they are. `learn`: the rows that may be learned from
    (default all); the others are scored, never learned from (the unlabelled rows of a simulation).
    """
    scores = np.zeros(len(lines))
    learn = np.ones(len(folds_by_row), dtype=bool) if learn is None else np.asarray(learn, dtype=bool)
    row_fold = folds_by_row[lines["row_pos"].to_numpy()]
    line_learn = learn[lines["row_pos"].to_numpy()]
    dimensions, heights_and_widths = dimension_rows(lines), rows_of(lines, HEIGHT_WIDTH)
    drawing = fit_drawing_ranker(drawn, features, params, seeds) if drawn is not None and drawing_weight else None
    for fold in np.unique(folds_by_row):
        held = row_fold == fold
        if not held.any():  # the fold's rows offer no candidate at all
            continue
        fold_lines, fold_text, fold_features = (
            words.for_fold(lines, text, features, (folds_by_row != fold) & learn) if words is not None
            else (lines, text, features))
        training = ~held & line_learn
        # each ranker is fitted only where the held-out fold has rows for it to score: the photos ranker and
        # the dimension ranker for height, width and depth rows, the other ranker for the rest
        held_dimensions, held_others = (held & dimensions).any(), (held & ~dimensions).any()
        booster = fit_main_ranker(fold_lines[training], fold_features, params, seeds) if held_dimensions else None
        dimension_booster = (fit_dimension_ranker(fold_lines[training], fold_text, fold_features, params, seeds)
                             if dimension_text(fold_text) is not None and held_dimensions else None)
        height_width_booster = (fit_height_width_ranker(fold_lines[training], fold_text, fold_features, params, seeds)
                                if dimension_booster is not None and height_width_ranker
                                and (held & heights_and_widths).any() else None)
        other_booster = (fit_other_ranker(fold_lines[training], fold_features, params, seeds, fold_text) if held_others
                         else None)
        rankers = Rankers(booster, dimension_booster, height_width_booster, other_booster, drawing, dimension_blend,
                          drawing_weight)
        scores[held] = score_candidates(rankers, fold_lines[held], fold_features)
    return scores


def rows_with_a_right_candidate(lines: pd.DataFrame, n_rows: int) -> np.ndarray:
    """Which rows have a candidate equal to their label: the rows top-1 accuracy is measured on."""
    has_positive = np.zeros(n_rows, dtype=bool)
    has_positive[lines.loc[lines["label"] > 0, "row_pos"].unique()] = True
    return has_positive


def top1_accuracy(tops: pd.DataFrame, has_positive: np.ndarray) -> float:
    return float(tops["label"].to_numpy()[has_positive].mean()) if has_positive.any() else 0.0


def dimension_top1(tops: pd.DataFrame, rows: pd.DataFrame, has_positive: np.ndarray) -> float | None:
    """Top-1 on the height, width and depth rows alone: two thirds of the test file, a tenth of the dev rows."""
    among = has_positive & rows["entity_name"].isin(DIMENSIONS).to_numpy()
    return round(top1_accuracy(tops, among), 4) if among.any() else None


def split_means(splits: list[dict]) -> dict:
    """Each measure's mean over fold splits; a measure no split could take (dimension top-1 on labels without a
    height, width or depth row) stays None."""
    known = {k: [s[k] for s in splits if s[k] is not None] for k in splits[0]}
    return {k: round(statistics.fmean(v), 4) if v else None for k, v in known.items()}


@dataclass(frozen=True)
class FreshSplits:
    """Each fold split's figures (`split_measures`), and whether each split answered each row exactly right
    (splits × rows: how far the figures may lie from other photos', `prodspec.evaluation.intervals`)."""
    splits: list[dict]
    exact: np.ndarray

    @property
    def mean(self) -> dict:
        return split_means(self.splits)


def scores_on_fresh_splits(table: FeatureTable, priors: Priors, fallback: bool, features: list[str],
                           params: RankerParams, seeds: range = FRESH_SEEDS, k_folds: int = 5,
                           text: pd.DataFrame | None = None, words: FoldWords | None = None,
                           drawn: pd.DataFrame | None = None, drawing_weight: float = 0.0,
                           joint: JointPolicy = ANSWER_POLICY, rules: bool = False,
                           dimension_blend: float = DIMENSION_BLEND, height_width_ranker: bool = True) -> FreshSplits:
    """Top-1 accuracy and F1 (every row answered) with the tuned parameters on fold splits they were not tuned on;
    a photo's dimension rows answered by `joint` (default: as a model trained by this code answers them; see
    `ranker.joint.JointPolicy`). `rules`: each split's figures also hold the simple rules'
    (`ranker.rules`), `rule_<rule>_<attribute>`, on the same split.

    The parameters were picked for the best out-of-fold top-1 on one split, so that split's figures are
    flattered by the choice; other splits are not. With about 600 rows, one split's F1 also moves by a
    few rows from split to split: the mean over splits is the steadier figure.
    """
    rows, lines = table.rows, table.lines
    n_rows = len(rows)
    has_positive = rows_with_a_right_candidate(lines, n_rows)
    out, exact = [], []
    for seed in seeds:
        folds = image_folds(rows["image_name"], k=k_folds, seed=seed)
        tops = joint.tops(rows, lines, oof_scores(lines, folds, features, params, text, words=words, drawn=drawn,
                                                  drawing_weight=drawing_weight, dimension_blend=dimension_blend,
                                                  height_width_ranker=height_width_ranker))
        answers = answers_for(table, tops, np.ones(n_rows), {}, priors, fallback)
        measures = split_measures(rows, tops, answers, has_positive)
        exact.append(exactly_right(rows, answers))
        if rules:
            measures |= {f"rule_{rule}_{attribute}": share
                         for rule, shares in rule_accuracy(table, tops, priors, fallback).items() if rule != "ranker"
                         for attribute, share in shares.items()}
        out.append(measures)
    return FreshSplits(out, np.array(exact, dtype=bool).reshape(len(out), n_rows))


def exactly_right(rows: pd.DataFrame, answers: list[str]) -> np.ndarray:
    """Whether each row's answer is its label as written (the official, strict match)."""
    return np.array([a == v for a, v in zip(answers, rows["entity_value"], strict=True)], dtype=bool)


def split_measures(rows: pd.DataFrame, tops: pd.DataFrame, answers: list[str], has_positive: np.ndarray) -> dict:
    """One fold split's figures: top-1 where a right candidate exists, F1 (strict, numeric, on the test file's mix),
    and the share of rows answered exactly right: for height, width and depth together and each, for the other
    attributes together and each, and for each source of rows when there are several."""
    scored = score_table(rows[["index", "entity_name", "entity_value"]],
                         pd.DataFrame({"index": rows["index"], "prediction": answers}))
    mixed = reweighted({k: v.as_dict() for k, v in scored.items()})
    exact = exactly_right(rows, answers)
    entity = rows["entity_name"].to_numpy()
    dimension = np.isin(entity, list(DIMENSIONS))

    def share(mask: np.ndarray) -> float | None:
        return round(float(exact[mask].mean()), 4) if mask.any() else None

    measures = {"top1": round(top1_accuracy(tops, has_positive), 4),
                "strict_f1": round(scored["overall"].strict_f1, 4),
                "numeric_f1": round(scored["overall"].numeric_f1, 4),
                "test_mix_strict_f1": round(mixed.strict_f1, 4),
                "dimension_top1": dimension_top1(tops, rows, has_positive),
                "dimension_accuracy": share(dimension), "other_accuracy": share(~dimension)}
    for axis in sorted(DIMENSIONS):
        measures[f"{axis}_accuracy"] = share(entity == axis)
        measures[f"{axis}_top1"] = (round(top1_accuracy(tops, has_positive & (entity == axis)), 4)
                                    if (has_positive & (entity == axis)).any() else None)
    for name in sorted(set(entity) - set(DIMENSIONS)):
        measures[f"{name}_accuracy"] = share(entity == name)
    if "source" in rows and rows["source"].nunique() > 1:
        for source in sorted(rows["source"].unique()):
            mask = (rows["source"] == source).to_numpy()
            measures[f"{source}_strict_f1"] = round(score_rows(list(rows["entity_value"][mask]),
                                                               [a for a, m in zip(answers, mask) if m]).strict_f1, 4)
            measures[f"{source}_dimension_accuracy"] = share(mask & dimension)
    return measures


def catalogue_confidence(table: FeatureTable, features: list[str], params: RankerParams, text: pd.DataFrame | None,
                         k_folds: int, words: FoldWords | None = None, seed: int = 0, drawn: pd.DataFrame | None = None,
                         drawing_weight: float = 0.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Out-of-fold chosen candidates and confidences of the main ranker the precision objective trains.

    For the bench's catalogue figures beside an f1 model: the same parameters, without the gaps. `seed` picks
    the fold split (0: the one `train` uses).
    """
    folds = image_folds(table.rows["image_name"], k=k_folds, seed=seed)
    tops = ANSWER_POLICY.tops(table.rows, table.lines,
                              oof_scores(table.lines, folds, ranker_features(features, "precision"), params, text,
                                         words=words, drawn=drawn, drawing_weight=drawing_weight))
    return tops, out_of_fold_confidence(tops, folds)
