"""`train`: labelled photos → OCR → candidates → features → tuned rankers, thresholds and confidence → a model folder."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.ocr import OcrSettings
from prodspec.dataset.errors import UserError
from prodspec.dataset.evaluate import score_table
from prodspec.dataset.rows import TextCorpus, check_output
from prodspec.dataset.splits import image_folds
from prodspec.features.columns import CATEGORICAL
from prodspec.features.priors import Priors
from prodspec.progress import Stages
from prodspec.ranker.answers import answer_text, answers_for
from prodspec.ranker.artifacts import save_model
from prodspec.ranker.blend import (
    DIMENSION_BLEND,
    DIMENSIONS,
    DRAWING_BLEND,
    Rankers,
    dimension_text,
    entity_codes,
    fit_dimension_ranker,
    fit_drawing_ranker,
    fit_height_width_ranker,
    fit_main_ranker,
    fit_other_ranker,
    other_text_lines,
    ranker_features,
)
from prodspec.ranker.calibration import fit_calibration
from prodspec.ranker.confidence import fit_confidence, out_of_fold_confidence
from prodspec.ranker.joint import ANSWER_POLICY
from prodspec.ranker.lambdarank import ENSEMBLE_SIZE, MAX_BIN, RankerParams
from prodspec.ranker.selection import VALUE_TEMPERATURE, rule_baseline
from prodspec.ranker.thresholds import tune_thresholds
from prodspec.training.crossval import (
    oof_scores,
    rows_with_a_right_candidate,
    top1_accuracy,
)
from prodspec.training.data import TrainingData, training_data
from prodspec.training.study import tune_ranker

log = logging.getLogger(__name__)


def train(labels_csv: Path, images_dir: Path, model_dir: Path, objective: str = "f1",
          min_precision: float = 0.95, trials: int = 30, train_csv: Path | None = None,
          settings: OcrSettings | None = None, cache_dir: Path | None = None, workers: int | None = None,
          k_folds: int = 5, work_dir: Path | None = None, progress: bool = True,
          text_corpus: TextCorpus | Path | list[TextCorpus | Path] | None = None, warm_start: Path | None = None,
          priors_fallback: Path | None = None, synthetic: Path | None = None, seed: int = 0,
          resume: bool = False, other_text: TextCorpus | None = None) -> dict:
    """A model from the data, the seed and the options: two runs with the same ones write the same files.

    `text_corpus`: labelled flat OCR text (`dataset.rows.read_text_corpus`) for the dimension ranker;
    `synthetic`: a folder of synthetic drawings (`dataset.synthetic`) for the drawing ranker; `other_text`: one for the
    ranker of the other attributes (`prodspec.training.data.training_data`). `trials`: the Optuna
    study's trials, all of them run (no clock decides). `seed`: the fold split, the study's sampler and the LightGBM
    seeds. `warm_start`: a model folder whose ranker parameters the study tries first and keeps unless clearly
    beaten (`prodspec.training.study.pick_on_other_splits`); none by default, the output folder's model included.
    `resume`: continue the study stored in `work_dir` for this very data (default: a fresh study in memory).
    `priors_fallback`: a model folder whose priors serve where `train_csv` is absent.
    """
    started = time.perf_counter()
    check_output(model_dir, "model", folder=True)
    stages = Stages(6, progress)
    settings = settings or OcrSettings()
    cache = OcrCache(cache_dir)
    data = training_data(labels_csv, images_dir, settings, cache, workers, progress, text_corpus, train_csv,
                         priors_fallback or model_dir, stages, synthetic, other_text)
    rows, priors, table = data.rows, data.priors, data.table
    lines, text = table.lines, data.text
    features = ranker_features(data.table_features, objective)  # the main ranker's
    n_rows = len(rows)
    folds = image_folds(rows["image_name"], k=k_folds, seed=seed)
    has_positive = rows_with_a_right_candidate(lines, n_rows)
    if not has_positive.any():
        raise UserError("no labelled row has its label among the OCR candidates: nothing to learn from")

    warm = _current_params(warm_start) if warm_start is not None else None
    if warm_start is not None and warm is None:
        raise UserError(f"{warm_start}: no model's parameters to warm-start from (meta.json)")
    stages.next(f"tuning the ranker's parameters ({trials} Optuna trials"
                + (f", warm-started from {warm_start}" if warm else "") + (", resumed" if resume else "") + ")")
    # a study resumes only for the same training table (data, OCR, candidates, priors, features) and the same way
    # of picking the answer: old trials never score a table they were not run on
    table_key = str(pd.util.hash_pandas_object(lines[["row_pos", "label", *features]], index=False).sum())
    picking = f"value_mass:{VALUE_TEMPERATURE}|fold_vocabulary|max_bin:{MAX_BIN}|other_ranker"
    study_key = hashlib.sha1((_data_key(rows, settings) + "|".join(features) + table_key + picking).encode()
                             ).hexdigest()[:12]
    storage = None
    if resume:  # the study is kept on disk only when asked to resume it
        work_dir = Path(work_dir or (cache.path.parent / "studies"))
        work_dir.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{work_dir / ('study-' + study_key + f'-seed{seed}.sqlite3')}"
    # the study weighs parameters without the other attributes' text rows: the same photos give the same
    # parameters whether or not a corpus teaches the other ranker
    study_text, study_words = text, data.words
    if text is not None and other_text_lines(text).any():
        study_text, study_words = dimension_text(text), data.words.with_text_lines(~other_text_lines(text))
    params, tuning = tune_ranker(lines, folds, features, n_rows, has_positive, trials, storage,
                                 rows["image_name"], warm_start=warm, words=study_words, text=study_text,
                                 progress=progress, seed=seed)

    stages.next("scoring every row out of fold, thresholds and confidence")
    # the parameters are tuned on the photos' rows alone; the dimension ranker borrows them
    drawing_weight = DRAWING_BLEND if data.drawn is not None else 0.0
    tops = ANSWER_POLICY.tops(rows, lines, oof_scores(lines, folds, features, params, text, words=data.words,
                                                      drawn=data.drawn, drawing_weight=drawing_weight))
    confidence = out_of_fold_confidence(tops, folds)
    entities = rows["entity_name"].to_numpy()
    truth_empty = (rows["entity_value"].str.strip() == "").to_numpy()
    correct = tops["label"].to_numpy().astype(bool)
    thresholds, _ = tune_thresholds(confidence, correct, entities, truth_empty, objective, min_precision,
                                    trials=max(50, trials * 5), storage=storage,
                                    study_name=f"thresholds-{objective}-{min_precision}", seed=seed)
    fallback, fallback_hits, fallback_precision = _fallback(table, tops, priors, objective)
    every_answer = answers_for(table, tops, np.ones(n_rows), {}, priors, fallback=False)
    chosen = (tops["cand_pos"] >= 0).to_numpy()
    exact = np.array([a == v for a, v in zip(every_answer, rows["entity_value"])], dtype=float)
    calibration = fit_calibration(confidence[chosen], exact[chosen])

    ranker_answers = answers_for(table, tops, confidence, thresholds, priors, fallback)
    baseline_tops = rule_baseline(lines, n_rows, entity_codes(DIMENSIONS))
    baseline_answers = answers_for(table, baseline_tops, np.ones(n_rows), {}, priors, fallback=False)
    oracle_answers = _oracle_answers(rows, lines, priors)
    labels = rows[["index", "entity_name", "entity_value"]]

    def scores(answers):
        return {k: v.as_dict() for k, v in score_table(labels, pd.DataFrame({"index": rows["index"], "prediction": answers})).items()}

    report = {
        "rows": n_rows, "images": int(rows["image_name"].nunique()), "text_rows": data.text_rows,
        "candidate_recall": round(float(has_positive.mean()), 4),
        "top1_accuracy_where_possible": round(top1_accuracy(tops, has_positive), 4),
        "tuned_top1": tuning["tuned_top1"], "finalists": tuning["finalists"], "params": asdict(params),
        "study": {"trials": trials, "trials_run": tuning["trials_run"], "seed": seed, "resumed": resume,
                  "warm_start": str(warm_start) if warm_start is not None else None},
        "objective": objective,
        "min_precision": min_precision, "thresholds": thresholds, "fallback": fallback, "fallback_hits": fallback_hits,
        "drawing_weight": drawing_weight,
        "ranker": scores(ranker_answers), "baseline": scores(baseline_answers), "oracle": scores(oracle_answers),
    }

    stages.next(f"fitting the shipped rankers ({ENSEMBLE_SIZE} LightGBM seeds each) on every row")
    final = fit_main_ranker(lines, features, params, ENSEMBLE_SIZE)
    learns_dimensions = dimension_text(text) is not None
    dimension_ranker = fit_dimension_ranker(lines, text, features, params, ENSEMBLE_SIZE) if learns_dimensions else None
    height_width_ranker = (fit_height_width_ranker(lines, text, features, params, ENSEMBLE_SIZE) if learns_dimensions
                           else None)
    other_ranker = fit_other_ranker(lines, features, params, ENSEMBLE_SIZE, text)
    drawing_ranker = (fit_drawing_ranker(data.drawn, features, params, ENSEMBLE_SIZE) if data.drawn is not None
                      else None)
    confidence_model = fit_confidence(tops)
    meta = {
        "features": data.table_features, "ranker_features": features, "categorical": CATEGORICAL,
        "vocabulary": data.vocabulary, "thresholds": thresholds,
        "objective": objective, "min_precision": min_precision, "fallback": fallback,
        "fallback_precision": fallback_precision, "calibration": calibration, "params": asdict(params),
        **ANSWER_POLICY.as_meta(),
        "synthetic_rows": 0 if data.drawn is None else int(data.drawn["row_pos"].nunique()),
        "ocr_settings": asdict(settings), "ocr_fingerprint": settings.fingerprint(),
        "data_sha1": _data_key(rows, settings), "training_rows": n_rows,
        "text_rows": data.text_rows, "other_text_rows": data.other_text_rows,
        "cv": {k: report[k] for k in ("candidate_recall", "top1_accuracy_where_possible")}
        | {"strict_f1": report["ranker"]["overall"]["strict_f1"], "numeric_f1": report["ranker"]["overall"]["numeric_f1"],
           "baseline_strict_f1": report["baseline"]["overall"]["strict_f1"]},
    }
    stages.next(f"writing the model to {model_dir}")
    rankers = Rankers(final, dimension_ranker, height_width_ranker, other_ranker, drawing_ranker, DIMENSION_BLEND,
                      drawing_weight)
    save_model(model_dir, rankers, confidence_model, priors, meta)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["oof"] = {"tops": tops, "confidence": confidence, "answers": ranker_answers, "exact": exact,
                     "baseline_answers": baseline_answers, "oracle_answers": oracle_answers, "data": data}
    cache.close()
    return report


def _fallback(table, tops: pd.DataFrame, priors: Priors, objective: str) -> tuple[bool, int, float]:
    """Whether rows with no candidate answer from the priors (only where, out of fold, that adds right answers),
    how many of them it got right, and the share right among those it answered."""
    rows = table.rows
    no_candidate = np.nonzero((tops["cand_pos"] < 0).to_numpy())[0]
    answers = answers_for(table, tops, np.ones(len(rows)), {}, priors, fallback=True)
    answered = [i for i in no_candidate if answers[i]]
    hits = sum(1 for i in answered if answers[i] == rows["entity_value"][i])
    return objective == "f1" and hits > 0, hits, round(hits / len(answered), 4) if answered else 0.0


def _current_params(model_dir: Path) -> dict | None:
    """The ranker parameters of the model in `model_dir`, if one is there and they still fit RankerParams."""
    try:
        params = json.loads((Path(model_dir) / "meta.json").read_text())["params"]
        return asdict(RankerParams(**params))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _oracle_answers(rows: pd.DataFrame, lines: pd.DataFrame, priors: Priors) -> list[str]:
    """Right whenever a right candidate exists (in the written form our formatter would choose)."""
    right = lines[lines["label"] > 0].groupby("row_pos").head(1).set_index("row_pos")
    out = []
    for pos, row in enumerate(rows.to_dict("records")):
        if pos in right.index:
            r = right.loc[pos]
            out.append(answer_text(r["value"], r["unit_name"], str(row["group_id"]), row["entity_name"], priors))
        else:
            out.append("")
    return out


def _data_key(rows: pd.DataFrame, settings: OcrSettings) -> str:
    text = "|".join(rows["image_name"] + ":" + rows["entity_name"] + ":" + rows["entity_value"]) + settings.fingerprint()
    return hashlib.sha1(text.encode()).hexdigest()[:12]


__all__ = ["TrainingData", "train", "training_data"]
