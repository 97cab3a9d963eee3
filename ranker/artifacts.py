"""The shipped model: LightGBM text files plus JSON metadata (no pickle), checked when loaded."""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from prodspec.dataset.errors import UserError
from prodspec.features.build import FeatureTable
from prodspec.features.columns import (
    FEATURE_VERSION,
    feature_names,
    for_other_attributes,
    without_gaps,
)
from prodspec.features.priors import Priors
from prodspec.ranker.answers import Answer, answer_rows
from prodspec.ranker.blend import (
    Rankers,
    dimension_blend_of,
    drawing_features,
    score_candidates,
)
from prodspec.ranker.calibration import calibrated
from prodspec.ranker.confidence import predict_confidence
from prodspec.ranker.joint import JointPolicy
from prodspec.ranker.lambdarank import Ranker, SeedEnsemble

MODEL_VERSION = 3  # 3: each ranker is a seed ensemble, one LightGBM file per seed


@dataclass
class Ranked:
    """What the ranker made of a feature table: an Answer per row, and how it got there (for explain and bench)."""

    answers: list[Answer]
    tops: pd.DataFrame  # each row's chosen candidate (`ranker.selection.top_candidates`)
    confidence: np.ndarray  # the confidence model's, compared with the thresholds
    scores: np.ndarray  # each line's score


@dataclass
class RankerModel:
    rankers: Rankers  # its rankers and their blend's weights (`ranker.blend.score_candidates`)
    confidence: lgb.Booster | None
    priors: Priors
    meta: dict

    @property
    def features(self) -> list[str]:
        """The main ranker's inputs: the table's features, without the `rel_*` gaps under the precision objective."""
        return self.meta["ranker_features"]

    @property
    def vocabulary(self) -> list[str]:
        return self.meta["vocabulary"]

    def scores(self, lines: pd.DataFrame) -> np.ndarray:
        """Each feature line's score, every ranker of the model blended as it was trained."""
        return score_candidates(self.rankers, lines, self.features)

    def rank(self, table: FeatureTable, prior: bool = True) -> Ranked:
        """Every row's answer; `prior=False` leaves a row unanswered rather than answer it from the priors."""
        scores = self.scores(table.lines)
        tops = JointPolicy.of(self.meta).tops(table.rows, table.lines, scores)
        confidence = predict_confidence(self.confidence, tops)
        answers = answer_rows(table, tops, confidence, self.meta["thresholds"], self.priors,
                              prior and self.meta["fallback"], self.meta.get("fallback_precision", 0.0),
                              calibrated(confidence, self.meta.get("calibration")))
        return Ranked(answers, tops, confidence, scores)


RANKER_FILE = "ranker.txt"
DIMENSION_RANKER_FILE = "ranker_dimensions.txt"
OTHER_RANKER_FILE = "ranker_others.txt"
DRAWING_RANKER_FILE = "ranker_drawings.txt"
HEIGHT_WIDTH_RANKER_FILE = "ranker_height_width.txt"


def _seed_files(first: str, size: int) -> list[str]:
    """`ranker.txt`, `ranker.1.txt`, ...: the first seed keeps the plain name."""
    stem = first.removesuffix(".txt")
    return [first] + [f"{stem}.{k}.txt" for k in range(1, size)]


def _stage_seeds(model_dir: Path, first: str, ranker: Ranker | None,
                 staged: dict[str, Path]) -> list[str] | None:
    if ranker is None:
        return None
    boosters = ranker.boosters if isinstance(ranker, SeedEnsemble) else [ranker]
    names = _seed_files(first, len(boosters))
    for booster, name in zip(boosters, names):
        booster.save_model(str(_stage(model_dir, name, staged)))
    return names


def _stage(model_dir: Path, name: str, staged: dict[str, Path]) -> Path:
    """Where a file is written before it is moved to its name."""
    staged[name] = model_dir / f".{name}.partial"
    return staged[name]


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def save_model(model_dir: Path, rankers: Rankers, confidence: lgb.Booster | None, priors: Priors, meta: dict) -> None:
    """The rankers' files, the confidence model, the priors and meta.json (with the blend's weights).

    Every file is written beside its name first and moved into place after, meta.json last, with the hash of
    each: a save cut short (a full disk) leaves the old model whole, a kill among the moves a mix that
    `load_model` refuses."""
    model_dir.mkdir(parents=True, exist_ok=True)
    staged: dict[str, Path] = {}
    try:
        ranker_files = _stage_seeds(model_dir, RANKER_FILE, rankers.photos, staged)
        dimension_files = _stage_seeds(model_dir, DIMENSION_RANKER_FILE, rankers.dimension, staged)
        other_files = _stage_seeds(model_dir, OTHER_RANKER_FILE, rankers.other, staged)
        drawing_files = _stage_seeds(model_dir, DRAWING_RANKER_FILE, rankers.drawing, staged)
        height_width_files = _stage_seeds(model_dir, HEIGHT_WIDTH_RANKER_FILE, rankers.height_width, staged)
        if confidence is not None:
            confidence.save_model(str(_stage(model_dir, "confidence.txt", staged)))
        priors.save(_stage(model_dir, "priors.json", staged))
        hashes = {name: _sha1(path) for name, path in staged.items()}
        meta = {**meta, "model_version": MODEL_VERSION, "feature_version": FEATURE_VERSION, "lightgbm": lgb.__version__,
                "priors_file": "priors.json", "ranker_files": ranker_files, "dimension_ranker_files": dimension_files,
                "other_ranker_files": other_files, "drawing_ranker_files": drawing_files,
                "height_width_ranker_files": height_width_files, "dimension_blend": rankers.dimension_blend,
                "drawing_weight": rankers.drawing_weight, "file_sha1": hashes}
        _stage(model_dir, "meta.json", staged).write_text(json.dumps(meta, indent=1, sort_keys=True))
    except BaseException as error:
        for path in staged.values():
            path.unlink(missing_ok=True)
        if isinstance(error, (OSError, lgb.basic.LightGBMError)):
            raise UserError(f"{model_dir}: the model could not be saved ({error}); the model there before is "
                            "unchanged") from error
        raise
    for name, path in staged.items():  # meta.json, staged last, moves last
        os.replace(path, model_dir / name)
    for stale in [*model_dir.glob("ranker*.txt"), model_dir / "confidence.txt"]:
        if stale.name not in staged:  # an old seed beyond the new ensemble's, or a confidence model no longer made
            stale.unlink(missing_ok=True)


def _load_seeds(model_dir: Path, names: list[str], features: list[str]) -> SeedEnsemble:
    boosters = []
    for name in names:
        path = model_dir / name
        if not path.is_file():
            raise UserError(f"{path}: named in meta.json but missing; retrain or restore it")
        booster = _booster(path)
        if booster.feature_name() != features:
            raise UserError(f"{path}: its features do not match meta.json")
        boosters.append(booster)
    return SeedEnsemble(boosters)


@contextmanager
def _native_stderr_silenced():
    """LightGBM's C++ core prints `[LightGBM] [Fatal] ...` straight to file descriptor 2 before it raises: the
    caller's one line says the same, so the print is dropped while a model file is parsed."""
    saved, sink = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(sink)


def _booster(path: Path) -> lgb.Booster:
    try:
        with _native_stderr_silenced():
            return lgb.Booster(model_file=str(path))
    except lgb.basic.LightGBMError as error:
        raise UserError(f"{path}: LightGBM cannot read it ({str(error).splitlines()[0]}); retrain or restore "
                        "it") from None


# what meta.json must hold, and of what type, for a model to be used
META_FIELDS = {"model_version": int, "features": list, "ranker_features": list, "vocabulary": list,
               "thresholds": dict, "fallback": bool, "ocr_settings": dict, "priors_file": str, "params": dict}


def _read_meta(model_dir: Path) -> dict:
    meta_path = model_dir / "meta.json"
    if not meta_path.is_file() or not (model_dir / "ranker.txt").is_file():
        raise UserError(f"{model_dir}: no trained model (meta.json and ranker.txt); run `make train`")
    try:
        meta = json.loads(meta_path.read_text())
    except (ValueError, OSError) as error:  # a truncated or garbled file, or one that is not text
        raise UserError(f"{meta_path}: not a model's meta.json ({error}); retrain or restore it") from None
    if not isinstance(meta, dict):
        raise UserError(f"{meta_path}: not a model's meta.json (a JSON object is expected); retrain or restore it")
    for name, kind in META_FIELDS.items():
        if not isinstance(meta.get(name), kind):
            raise UserError(f"{meta_path}: {name!r} is missing or not a {kind.__name__}; retrain or restore it")
    return meta


def load_model(model_dir: str | Path) -> RankerModel:
    """The model in `model_dir`, checked whole before it is used: every file there, parsed, with the hash, the
    features and the shape meta.json gives; any fault is one UserError naming the file."""
    model_dir = Path(model_dir)
    meta = _read_meta(model_dir)
    if meta.get("model_version") != MODEL_VERSION:
        raise UserError(
            f"{model_dir}: model version {meta.get('model_version')} does not match this code's {MODEL_VERSION}; retrain"
        )
    # a model saved before every file had its hash (`file_sha1`) had its priors' alone
    hashes = meta.get("file_sha1") or {meta["priors_file"]: meta["priors_sha1"]}
    for name, digest in hashes.items():
        if not (model_dir / name).is_file():
            raise UserError(f"{model_dir / name}: named in meta.json but missing; retrain or restore it")
        if _sha1(model_dir / name) != digest:
            raise UserError(f"{model_dir / name}: does not match the hash in meta.json (a save cut short, or the "
                            "file changed since); retrain or restore it")
    # a model reads the columns it names; this code must make each of them, and mean by it what the model learned
    made = set(feature_names(meta["vocabulary"]))
    if unknown := [f for f in meta["features"] if f not in made]:
        raise UserError(f"{model_dir}: the model reads features this code does not make ({', '.join(unknown[:5])}); "
                        "retrain it")
    if meta.get("feature_version", 1) != FEATURE_VERSION:
        raise UserError(f"{model_dir}: trained on features of version {meta.get('feature_version', 1)}, this code "
                        f"makes version {FEATURE_VERSION}; retrain it")
    if meta["ranker_features"] not in (meta["features"], without_gaps(meta["features"])):
        raise UserError(f"{model_dir}/{RANKER_FILE}: its features do not match meta.json")
    ranker = _load_seeds(model_dir, meta.get("ranker_files") or [RANKER_FILE], meta["ranker_features"])
    dimension_ranker = None
    if meta.get("dimension_ranker_files"):
        dimension_ranker = _load_seeds(model_dir, meta["dimension_ranker_files"], without_gaps(meta["features"]))
    # a model saved before the other rows had a ranker of their own scores them with the main ranker
    other_ranker = (_load_seeds(model_dir, meta["other_ranker_files"], for_other_attributes(meta["ranker_features"]))
                    if meta.get("other_ranker_files") else None)
    confidence_path = model_dir / "confidence.txt"
    # a model saved with hashes names its confidence model there: one left from an older model is not its own
    saved = confidence_path.is_file() and ("file_sha1" not in meta or confidence_path.name in meta["file_sha1"])
    confidence = _booster(confidence_path) if saved else None
    try:
        priors = Priors.load(model_dir / meta["priors_file"])
    except (ValueError, OSError) as error:
        raise UserError(f"{model_dir / meta['priors_file']}: not the priors this code reads ({error}); retrain or "
                        "restore it") from None
    drawing_ranker = (_load_seeds(model_dir, meta["drawing_ranker_files"], drawing_features(meta["features"]))
                      if meta.get("drawing_ranker_files") else None)
    # a model saved before height and width had a dimension ranker of their own scores them with the dimension ranker
    height_width_ranker = (_load_seeds(model_dir, meta["height_width_ranker_files"], without_gaps(meta["features"]))
                           if meta.get("height_width_ranker_files") else None)
    try:
        rankers = Rankers(ranker, dimension_ranker, height_width_ranker, other_ranker, drawing_ranker,
                          dimension_blend_of(meta), float(meta.get("drawing_weight", 0.0)))
    except ValueError as error:  # rankers that cannot blend as meta.json names them
        raise UserError(f"{model_dir / 'meta.json'}: {error}; retrain or restore it") from None
    return RankerModel(rankers, confidence, priors, meta)
