"""`prodspec bench`: the ranker, the rule baseline and the oracle on the same images and OCR cache,
with figures, a loss breakdown and a speed section. Out-of-fold throughout: no row is scored by a model
that saw its image.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.image import image_candidates
from prodspec.candidates.ocr import OcrSettings, cuda_available
from prodspec.candidates.recall import recall_table
from prodspec.dataset.errors import UserError
from prodspec.dataset.images import file_digest
from prodspec.dataset.photos import PhotoFolder
from prodspec.dataset.rows import TextCorpus, check_output, read_rows, write_atomically
from prodspec.dataset.splits import image_folds
from prodspec.evaluation import figures
from prodspec.evaluation.intervals import photo_intervals
from prodspec.evaluation.misses import miss_counts, miss_reasons
from prodspec.evaluation.report import render_report
from prodspec.evaluation.rules import rule_figure, rule_frame, text_rules
from prodspec.features.build import build_table
from prodspec.paths import DEV, MORE, SAMPLE, SHIPPED_MODEL_DIR
from prodspec.ranker import calibration
from prodspec.ranker.artifacts import load_model
from prodspec.ranker.lambdarank import RankerParams
from prodspec.ranker.thresholds import (
    held_out_precision,
    precision_recall_curve,
    tune_thresholds,
)
from prodspec.training.crossval import (
    FRESH_SEEDS,
    catalogue_confidence,
    scores_on_fresh_splits,
)
from prodspec.training.data import corpora_of, labelled_rows, paths_of, read_sources
from prodspec.training.train import train

# first LightGBM seeds of other seed ensembles than the shipped one (seeds 0-3), for the fresh-split spread
OTHER_MODEL_SEEDS = (4, 8)
# fold splits of the catalogue confidences besides the training split's (seed 0): on the dev photos seed 0's
# alone read 49.9% of rows answered at precision 0.948 held out, seeds 0-5 together 41.4% at 0.943
CATALOGUE_FOLD_SEEDS = (1, 2, 3, 4, 5)

# mean OCR seconds per dev photo in one worker with the default settings (bench/out/runtime_600.json, last line)
OCR_SECONDS_PER_IMAGE = 0.69


def default_data() -> tuple[list[Path], list[Path]]:
    """The labelled photos the shipped model learns from (dev and more, where they are), else the bundled sample."""
    sources = [folder for folder in (DEV, MORE) if (folder / "labels.csv").is_file()]
    if sources:
        return [folder / "labels.csv" for folder in sources], [folder / "images" for folder in sources]
    return [SAMPLE / "sample_labels.csv"], [SAMPLE / "images"]


def _limit_rows(labels: Path, limit: int | None, seed: int) -> pd.DataFrame | None:
    """The rows of `limit` images picked with a fixed seed (None: use all)."""
    if not limit:
        return None
    rows = read_rows(labels, labelled=True)
    images = pd.Series(sorted(set(rows["image_name"]))).sample(frac=1.0, random_state=seed)[:limit]
    return rows[rows["image_name"].isin(set(images))]


def _cold_cache_note(rows: pd.DataFrame, images: list[Path], settings: OcrSettings, cache: OcrCache) -> str:
    fingerprint = settings.fingerprint()
    missing = [n for n in set(rows["image_name"])
               if (d := next(filter(None, (file_digest(folder / n) for folder in images)), None))
               and cache.get(d, fingerprint) is None]
    if not missing:
        return "OCR cache warm: no image needs OCR"
    estimate = len(missing) * OCR_SECONDS_PER_IMAGE / max(os.cpu_count() or 1, 1)
    return f"{len(missing)} images need OCR: about {estimate / 60:.1f} min on {os.cpu_count()} cores"


def run_bench(labels: Path | list[Path] | None = None, images: Path | list[Path] | None = None,
              out: Path = Path("bench/out"), limit: int | None = None, trials: int = 10, seed: int = 0,
              cache_dir: Path | None = None, workers: int | None = None, engines: list[str] | None = None,
              progress: bool = True, text_corpus: Path | list[Path] | None = None,
              synthetic: Path | None = None, other_text: TextCorpus | None = None) -> Path:
    """`labels` and `images`: one source or several, in pairs (default: `default_data`); `limit` takes that many
    photos of a single source."""
    if not (labels and images):  # the default sources; with a limit, the first of them
        labels, images = default_data()
        labels, images = (labels[:1], images[:1]) if limit else (labels, images)
    labels, images = paths_of(labels), paths_of(images)
    for folder in images:
        PhotoFolder(folder)  # one line if it is not a folder of photos
    check_output(out, "report", folder=True)
    out.mkdir(parents=True, exist_ok=True)
    if limit and len(labels) > 1:
        raise UserError("--limit picks photos of one source: give one --labels and --images with it")
    limited = _limit_rows(labels[0], limit, seed)
    if limited is not None:
        labels = [write_atomically(limited.drop(columns=["image_name"]), out / "bench_labels.csv")]
    rows = labelled_rows(labels)
    settings = OcrSettings()
    cache = OcrCache(cache_dir)
    note = _cold_cache_note(rows, images, settings, cache)
    print(note, flush=True)

    started = time.perf_counter()
    k_folds = min(5, rows["image_name"].nunique())
    # the shipped model's parameters stand in the selection, so a fresh clone's bench scores the shipped choice
    report = train(labels, images, model_dir=out / "model", trials=trials,
                   cache_dir=cache_dir, workers=workers, progress=progress, k_folds=k_folds, text_corpus=text_corpus,
                   warm_start=SHIPPED_MODEL_DIR, priors_fallback=SHIPPED_MODEL_DIR, synthetic=synthetic,
                   other_text=other_text)
    oof = report.pop("oof")
    data = oof["data"]
    rows, table = data.rows, data.table

    # speed of each stage on these images (OCR seconds as measured when each image was read)
    t0 = time.perf_counter()
    images_read = {name: image_candidates(reading) for name, reading in data.readings.items()}
    t1 = time.perf_counter()
    model = load_model(out / "model")
    features = build_table(rows, images_read, model.priors, model.vocabulary)
    t2 = time.perf_counter()
    model.scores(features.lines)
    t3 = time.perf_counter()
    n_images = len(data.readings)
    ocr_seconds = {settings.engine: [float(s) for s in data.ocr_stats["ocr_seconds"]]}
    for engine in engines or []:
        if engine != settings.engine:
            _, stats = read_sources(rows, images, labels, OcrSettings(engine=engine), cache, workers, progress)
            ocr_seconds[engine] = [float(s) for s in stats["ocr_seconds"]]
    ocr_mean = statistics.fmean(ocr_seconds[settings.engine]) if n_images else 0.0
    speed = {
        "cores": os.cpu_count(), "gpu": cuda_available(), "images": n_images,
        "ocr_images_per_s": round(1 / ocr_mean, 3) if ocr_mean else None,
        "ocr_seconds_median": {e: round(statistics.median(v), 3) for e, v in ocr_seconds.items() if v},
        "ocr_seconds_p90": {e: round(float(np.quantile(v, 0.9)), 3) for e, v in ocr_seconds.items() if v},
        "parse_features_images_per_s": round(n_images / max(t2 - t0, 1e-9), 1),
        "parse_images_per_s": round(n_images / max(t1 - t0, 1e-9), 1),
        "ranking_images_per_s": round(n_images / max(t3 - t2, 1e-9), 1),
        "ocr_note": "OCR seconds are per image in one worker process, as measured when the image was read",
    }

    # the shipped rankers average LightGBM seeds 0-3; other seed ensembles show how much luck is left in the figure
    fresh_by_seed = {
        model_seed: scores_on_fresh_splits(table, model.priors, report["fallback"], model.features,
                                           RankerParams(**{**report["params"], "seed": model_seed}), k_folds=k_folds,
                                           text=data.text, words=data.words, drawn=data.drawn,
                                           drawing_weight=report["drawing_weight"],
                                           rules=model_seed == report["params"]["seed"])
        for model_seed in (report["params"]["seed"], *OTHER_MODEL_SEEDS)}
    fresh = fresh_by_seed[report["params"]["seed"]]
    fresh_mean = fresh.mean
    by_seed = [{"seed": model_seed, **fresh_by_seed[model_seed].mean} for model_seed in OTHER_MODEL_SEEDS]
    recall = recall_table(rows, [data.images[n].candidates if n in data.images else []
                                 for n in rows["image_name"]])
    reasons = miss_reasons(table, data.images, oof["answers"])
    losses = miss_counts(reasons)
    # the catalogue figures are those of the model `--objective precision` trains: without the rel_* gaps; its
    # confidences out of fold on the training split, then on other fold splits for the held-out figures' spread
    def catalogue(seed: int) -> tuple[pd.DataFrame, np.ndarray]:
        return catalogue_confidence(table, model.features, RankerParams(**report["params"]), data.text,
                                    k_folds, data.words, seed=seed, drawn=data.drawn,
                                    drawing_weight=report["drawing_weight"])

    catalogue_runs = [catalogue(0) if report["objective"] == "f1" else (oof["tops"], oof["confidence"]),
                      *(catalogue(seed) for seed in CATALOGUE_FOLD_SEEDS)]
    precision_point, curve = _precision_operating_point(rows, catalogue_runs, 0.95, k_folds)
    operating = {"f1 objective": 0.0, "precision ≥ 0.95 (global)": precision_point["global_threshold"]}
    confidence_curves = _reliability(oof, image_folds(rows["image_name"], k=k_folds))
    results = {
        "data": {"labels": ", ".join(map(str, labels)), "images": ", ".join(map(str, images)), "rows": len(rows), "images_count": n_images,
                 "text_corpus": [str(c) for c in corpora_of(text_corpus)] or None,
                 "text_rows": report["text_rows"],
                 "seed": seed, "limit": limit, "cache": note},
        "scores": {s: report[s] for s in ("ranker", "baseline", "oracle")},
        "candidate_recall": recall, "top1_accuracy_where_possible": report["top1_accuracy_where_possible"],
        "fresh_splits": fresh.splits, "fresh_splits_other_model_seeds": by_seed,
        "fresh_splits_intervals": photo_intervals(rows, fresh.exact),
        "rules": {"photos": _plain(rule_frame(fresh_mean)),
                  "text": None if data.text is None else _plain(text_rules(data.text))},
        "thresholds": report["thresholds"], "objective": report["objective"], "fallback": report["fallback"],
        "threshold_curve": curve, "precision_objective": precision_point, "losses": losses, "speed": speed,
        "confidence": confidence_curves,
        "ocr_seconds": {e: [round(v, 3) for v in s] for e, s in ocr_seconds.items()},
        "params": report["params"], "finalists": report["finalists"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    pngs = {
        "f1_per_attribute": figures.f1_per_attribute(results["scores"], out / "f1_per_attribute.png"),
        "threshold_curve": figures.threshold_curve(curve, operating, out / "threshold_curve.png"),
        "candidate_recall": figures.candidate_recall(recall, out / "candidate_recall.png"),
        "reliability": figures.reliability({k: v["bins"] for k, v in confidence_curves.items()},
                                           out / "reliability.png"),
        "ocr_seconds": figures.ocr_seconds(ocr_seconds, out / "ocr_seconds.png"),
        "losses": figures.losses(losses, out / "losses.png"),
        "rules": rule_figure(fresh_mean, out / "rules.png", intervals=results["fresh_splits_intervals"]),
    }
    results["figures"] = {k: p.name for k, p in pngs.items()}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "report.md").write_text(render_report(results, report))
    pd.DataFrame({"index": rows["index"], "entity_name": rows["entity_name"], "label": rows["entity_value"],
                  "ranker": oof["answers"], "baseline": oof["baseline_answers"], "reason": reasons}).to_csv(
        out / "answers.csv", index=False)
    cache.close()
    return out


def _plain(frame: pd.DataFrame) -> dict:
    """A table as JSON holds it: attribute → column → share (None where a rule has nothing to pick)."""
    return {k: {c: None if pd.isna(v) else round(float(v), 4) for c, v in row.items()}
            for k, row in frame.to_dict(orient="index").items()}


def _reliability(oof: dict, folds: np.ndarray) -> dict[str, dict]:
    """The answers' confidence against how often they were exactly right, out of fold: as shipped (the confidence
    model's output mapped by an isotonic fit on other folds' rows) and the confidence model's own output."""
    chosen = (oof["tops"]["cand_pos"] >= 0).to_numpy()
    raw, exact = oof["confidence"][chosen], oof["exact"][chosen]
    curves = {"as shipped (calibrated)": calibration.cross_fitted(raw, exact, folds[chosen]),
              "confidence model alone": raw}
    out = {}
    for name, predicted in curves.items():
        bins = calibration.reliability(predicted, exact)
        out[name] = {"bins": bins, "expected_calibration_error": calibration.expected_calibration_error(bins),
                     "summary": calibration.summary(bins)}
    return out


def _precision_operating_point(rows: pd.DataFrame, runs: list[tuple[pd.DataFrame, np.ndarray]],
                               floor: float, k_folds: int) -> tuple[dict, dict]:
    """The catalogue objective on out-of-fold confidences (`runs`: chosen candidates and confidences, one pair per
    fold split of the confidence model, the training split's first): the threshold `train` would ship and the
    curve of precision, recall and F1 against the threshold, on the first; and what a threshold found on other
    rows gives on rows it never saw, for every run on each fresh fold split."""
    scored = [(run_confidence, run_tops["label"].to_numpy().astype(bool)) for run_tops, run_confidence in runs]
    confidence, correct = scored[0]
    entities = rows["entity_name"].to_numpy()
    empty = (rows["entity_value"].str.strip() == "").to_numpy()
    thresholds, _ = tune_thresholds(confidence, correct, entities, empty, "precision", floor)
    cut = next(iter(thresholds.values()))  # the precision objective gives every attribute the same one
    answered = confidence >= cut
    splits = [image_folds(rows["image_name"], k=k_folds, seed=s) for s in FRESH_SEEDS]
    held_out = [point for run_confidence, run_correct in scored
                for point in held_out_precision(run_confidence, run_correct, splits, floor)]
    curve = precision_recall_curve(confidence, correct, empty).to_dict("list")
    return {"min_precision": floor, "thresholds": thresholds,
            "answered_rate": round(float(answered.mean()), 4),
            "precision": round(float(correct[answered].mean()), 4) if answered.any() else None,
            "right_answers": int((correct & answered).sum()),
            "held_out_answered_rate": round(statistics.fmean(a for a, _ in held_out), 4),
            "held_out_precision": round(statistics.fmean(p for _, p in held_out), 4),
            "held_out_precision_min": round(min(p for _, p in held_out), 4),
            "held_out_below_floor": sum(p < floor for _, p in held_out), "held_out_runs": len(held_out),
            "global_threshold": round(cut, 4),
            "note": (f"precision of the chosen candidate's value and unit (numeric); held out: each fold's rows cut "
                     f"at the threshold found on the other folds' out-of-fold rows, mean of {len(splits)} fold splits "
                     f"for each of the confidence model's {len(runs)}")}, curve


