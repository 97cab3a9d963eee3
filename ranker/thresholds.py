"""Abstention: a confidence threshold per attribute for the objective the user picks.

- `f1`: the official metric. With every label non-empty, answering is never worse than abstaining, so the
  tuned thresholds come out at 0 unless the data has empty labels.
- `precision`: the most right answers while the precision of all answers stays at or above the floor, with
  one threshold for every attribute. Thresholds per attribute, tuned on the 610 dev rows' out-of-fold
  confidences, overfit: judged on rows they were not tuned on they held precision 0.928 for a 0.95 floor,
  where one threshold held 0.952 and answered nearly as many rows (43.4% against 44.8%; a script not kept in the
  repository for the per-attribute figures, `make bench`'s *Abstention* for the one threshold's).
"""

from __future__ import annotations

import hashlib

import numpy as np
import optuna
import pandas as pd

from prodspec.dataset.units import entity_names


def objective_value(correct: np.ndarray, answered: np.ndarray, truth_empty: np.ndarray, objective: str,
                    min_precision: float) -> float:
    tp = int((correct & answered).sum())
    fp = int((answered & ~correct).sum())
    fn = int((~answered & ~truth_empty).sum())
    if objective == "f1":
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    precision = tp / (tp + fp) if tp + fp else 1.0
    return tp if precision >= min_precision else (precision - min_precision) * 100


def tune_thresholds(
    confidence: np.ndarray, correct: np.ndarray, entities: np.ndarray, truth_empty: np.ndarray,
    objective: str = "f1", min_precision: float = 0.95, trials: int = 200, storage: str | None = None,
    study_name: str = "thresholds", seed: int = 0,
) -> tuple[dict[str, float], float]:
    """Per-attribute thresholds (answer when confidence >= threshold) and the objective they reach.

    `f1` tunes one per attribute with Optuna; `precision` gives every attribute the one global floor.
    """
    present = [e for e in entity_names() if (entities == e).any()]

    def evaluate(thresholds: dict[str, float]) -> float:
        cut = np.array([thresholds.get(e, 0.0) for e in entities])
        return objective_value(correct, confidence >= cut, truth_empty, objective, min_precision)

    if objective == "precision":
        shared = dict.fromkeys(present, global_floor(confidence, correct, min_precision))
        return shared, evaluate(shared)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # a stored study resumes only for the same confidences: trials scored on another model's never compete
    data_key = hashlib.sha1(b"".join(np.ascontiguousarray(a).tobytes() for a in
                                     (confidence, correct, entities.astype(str), truth_empty))).hexdigest()[:12]
    study = optuna.create_study(direction="maximize", storage=storage, study_name=f"{study_name}-{data_key}",
                                load_if_exists=storage is not None, sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial({e: 0.0 for e in present}, skip_if_exists=True)
    done = len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE])
    if trials > done:
        study.optimize(lambda t: evaluate({e: t.suggest_float(e, 0.0, 1.0) for e in present}), n_trials=trials - done)
    # among equal scores the lowest cuts win: they answer the most, the safe side on new rows (with every
    # label non-empty, F1 ties between answering everything and cuts that drop only wrong answers)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(complete, key=lambda t: (t.value, -sum(t.params.values())))
    return {e: float(v) for e, v in best.params.items()}, float(best.value)  # unrounded: a rounded cut could take in rows


def global_floor(confidence: np.ndarray, correct: np.ndarray, min_precision: float) -> float:
    """The lowest single threshold whose answers reach the precision floor (1.0 if none does)."""
    order = np.argsort(-confidence, kind="stable")
    ranked = confidence[order]
    precision = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    # a cut at a value answers every row of that value, so only the last of a run of equal values is a cut
    run_end = np.append(ranked[1:] < ranked[:-1], True)
    ok = np.nonzero((precision >= min_precision) & run_end)[0]
    return float(ranked[ok[-1]]) if len(ok) else 1.0


def held_out_precision(confidence: np.ndarray, correct: np.ndarray, splits: list[np.ndarray],
                       min_precision: float) -> list[tuple[float, float]]:
    """(answered rate, precision) per fold split, each fold's rows cut at the floor found on the other folds'.

    A floor found and judged on the same rows meets its precision by construction; this is what a
    catalogue gets on rows the threshold never saw.
    """
    out = []
    for folds in splits:
        answered = np.zeros(len(confidence), dtype=bool)
        for fold in np.unique(folds):
            held = folds == fold
            answered[held] = confidence[held] >= global_floor(confidence[~held], correct[~held], min_precision)
        out.append((float(answered.mean()), float(correct[answered].mean()) if answered.any() else 1.0))
    return out


def precision_recall_curve(confidence: np.ndarray, correct: np.ndarray, truth_empty: np.ndarray,
                           points: int = 41) -> pd.DataFrame:
    """Precision, recall and F1 against one global threshold (for the report's figure)."""
    rows = []
    for t in np.linspace(0, 1, points):
        answered = confidence >= t
        tp = int((answered & correct).sum())
        fp = int((answered & ~correct).sum())
        fn = int((~answered & ~truth_empty).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        rows.append((round(float(t), 4), precision, recall, f1, int(answered.sum())))
    return pd.DataFrame(rows, columns=["threshold", "precision", "recall", "f1", "answered"])
