"""The shipped model: LightGBM text files plus JSON metadata (no pickle), checked when loaded."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb

from dataset.errors import UserError
from features.build import feature_names, without_gaps
from features.priors import Priors

MODEL_VERSION = 2
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass
class Model:
    ranker: lgb.Booster
    confidence: lgb.Booster | None
    priors: Priors
    meta: dict
    dimension_ranker: lgb.Booster | None = None  # scores height/width/depth rows when trained with text rows

    @property
    def features(self) -> list[str]:
        """The main ranker's inputs: the table's features, without the `rel_*` gaps under the precision objective."""
        return self.meta["ranker_features"]


DIMENSION_RANKER_FILE = "ranker_dimensions.txt"


def save_model(model_dir: Path, ranker: lgb.Booster, confidence: lgb.Booster | None, priors: Priors, meta: dict,
               dimension_ranker: lgb.Booster | None = None) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    ranker.save_model(str(model_dir / "ranker.txt"))
    if dimension_ranker is not None:
        dimension_ranker.save_model(str(model_dir / DIMENSION_RANKER_FILE))
    else:
        (model_dir / DIMENSION_RANKER_FILE).unlink(missing_ok=True)
    if confidence is not None:
        confidence.save_model(str(model_dir / "confidence.txt"))
    else:
        (model_dir / "confidence.txt").unlink(missing_ok=True)
    priors.save(model_dir / "priors.json")
    meta = {**meta, "model_version": MODEL_VERSION, "lightgbm": lgb.__version__,
            "priors_file": "priors.json",
            "dimension_ranker_file": DIMENSION_RANKER_FILE if dimension_ranker is not None else None,
            "priors_sha1": hashlib.sha1((model_dir / "priors.json").read_bytes()).hexdigest()}
    (model_dir / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))


def load_model(model_dir: str | Path | None = None) -> Model:
    model_dir = Path(model_dir or DEFAULT_MODEL_DIR)
    meta_path = model_dir / "meta.json"
    if not meta_path.is_file() or not (model_dir / "ranker.txt").is_file():
        raise UserError(f"{model_dir}: no trained model (meta.json and ranker.txt); run `make train`")
    meta = json.loads(meta_path.read_text())
    if meta.get("model_version") != MODEL_VERSION:
        raise UserError(
            f"{model_dir}: model version {meta.get('model_version')} does not match this code's {MODEL_VERSION}; retrain"
        )
    expected = feature_names(meta.get("vocabulary", []))
    if meta.get("features") != expected:
        missing = sorted(set(expected) - set(meta.get("features", [])))
        extra = sorted(set(meta.get("features", [])) - set(expected))
        raise UserError(f"{model_dir}: model features differ from this code's (missing {missing[:5]}, extra {extra[:5]}); retrain")
    ranker = lgb.Booster(model_file=str(model_dir / "ranker.txt"))
    if meta.get("ranker_features") not in (expected, without_gaps(expected)) or ranker.feature_name() != meta["ranker_features"]:
        raise UserError(f"{model_dir}/ranker.txt: its features do not match meta.json")
    dimension_ranker = None
    if meta.get("dimension_ranker_file"):
        path = model_dir / meta["dimension_ranker_file"]
        if not path.is_file():
            raise UserError(f"{path}: named in meta.json but missing; retrain or restore it")
        dimension_ranker = lgb.Booster(model_file=str(path))
        if dimension_ranker.feature_name() != without_gaps(meta["features"]):
            raise UserError(f"{path}: its features do not match meta.json")
    confidence_path = model_dir / "confidence.txt"
    confidence = lgb.Booster(model_file=str(confidence_path)) if confidence_path.is_file() else None
    priors_path = model_dir / meta["priors_file"]
    if hashlib.sha1(priors_path.read_bytes()).hexdigest() != meta["priors_sha1"]:
        raise UserError(f"{priors_path}: does not match the hash in meta.json; retrain or restore it")
    return Model(ranker, confidence, Priors.load(priors_path), meta, dimension_ranker)
