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

from candidates.cache import OcrCache
from candidates.ocr import OcrSettings, cuda_available
from candidates.parse import parse_boxes
from candidates.recall import recall_table
from dataset.images import file_digest
from dataset.rows import check_images, check_output, read_rows, write_atomically
from dataset.splits import image_folds
from features.build import build_table
from ranker import figures
from ranker.artifacts import DEFAULT_MODEL_DIR, load_model
from ranker.lambdarank import ENSEMBLE_SIZE, RankerParams
from ranker.losses import loss_counts, loss_reasons
from ranker.pipeline import (
    FRESH_SEEDS,
    INCUMBENT_MARGIN,
    catalogue_confidence,
    read_images,
    score_candidates,
    scores_on_fresh_splits,
    split_means,
    train,
)
from ranker.report import score_lines
from ranker.thresholds import (
    held_out_precision,
    precision_recall_curve,
    tune_thresholds,
)

# first LightGBM seeds of other seed ensembles than the shipped one (seeds 0-3), for the fresh-split spread
OTHER_MODEL_SEEDS = (4, 8)
# fold splits of the catalogue confidences besides the training split's (seed 0): on the dev photos seed 0's
# alone read 49.9% of rows answered at precision 0.948 held out, seeds 0-5 together 41.4% at 0.943
CATALOGUE_FOLD_SEEDS = (1, 2, 3, 4, 5)

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "dev"
SAMPLE = ROOT / "dataset" / "sample"
# mean OCR seconds per dev photo in one worker with the default settings (bench/out/runtime_600.json, last line)
OCR_SECONDS_PER_IMAGE = 0.69


def default_data() -> tuple[Path, Path]:
    if (DEV / "labels.csv").is_file():
        return DEV / "labels.csv", DEV / "images"
    return SAMPLE / "sample_labels.csv", SAMPLE / "images"


def _limit_rows(labels: Path, limit: int | None, seed: int) -> pd.DataFrame | None:
    """The rows of `limit` images picked with a fixed seed (None: use all)."""
    if not limit:
        return None
    rows = read_rows(labels, labelled=True)
    images = pd.Series(sorted(set(rows["image_name"]))).sample(frac=1.0, random_state=seed)[:limit]
    return rows[rows["image_name"].isin(set(images))]


def _cold_cache_note(rows: pd.DataFrame, images: Path, settings: OcrSettings, cache: OcrCache) -> str:
    fingerprint = settings.fingerprint()
    missing = [n for n in set(rows["image_name"])
               if (d := file_digest(images / n)) and cache.get(d, fingerprint) is None]
    if not missing:
        return "OCR cache warm: no image needs OCR"
    estimate = len(missing) * OCR_SECONDS_PER_IMAGE / max(os.cpu_count() or 1, 1)
    return f"{len(missing)} images need OCR: about {estimate / 60:.1f} min on {os.cpu_count()} cores"


def run_bench(labels: Path | None = None, images: Path | None = None, out: Path = Path("bench/out"),
              limit: int | None = None, trials: int = 10, seed: int = 0, cache_dir: Path | None = None,
              workers: int | None = None, engines: list[str] | None = None, progress: bool = True,
              text_corpus: Path | None = None) -> Path:
    labels, images = (labels, images) if labels and images else default_data()
    check_images(images)
    check_output(out, "report", folder=True)
    out.mkdir(parents=True, exist_ok=True)
    limited = _limit_rows(labels, limit, seed)
    if limited is not None:
        labels = write_atomically(limited.drop(columns=["image_name"]), out / "bench_labels.csv")
    rows = read_rows(labels, labelled=True)
    settings = OcrSettings()
    cache = OcrCache(cache_dir)
    note = _cold_cache_note(rows, Path(images), settings, cache)
    print(note, flush=True)

    started = time.perf_counter()
    k_folds = min(5, rows["image_name"].nunique())
    # the shipped model's parameters stand in the selection, so a fresh clone's bench scores the shipped choice
    report = train(Path(labels), Path(images), model_dir=out / "model", trials=trials, budget_s=300,
                   cache_dir=cache_dir, workers=workers, progress=progress, k_folds=k_folds, text_corpus=text_corpus,
                   current_model_dir=DEFAULT_MODEL_DIR)
    oof = report.pop("oof")
    rows, boxes, segments, table = oof["rows"], oof["boxes"], oof["segments"], oof["table"]

    # speed of each stage on these images (OCR seconds as measured when each image was read)
    t0 = time.perf_counter()
    candidates = {name: parse_boxes(b) for name, b in boxes.items()}
    t1 = time.perf_counter()
    model = load_model(out / "model")
    features, _ = build_table(rows, boxes, model.priors, model.meta["vocabulary"], candidates, segments)
    t2 = time.perf_counter()
    score_candidates(model.ranker, model.dimension_ranker, features, model.features, model.other_ranker)
    t3 = time.perf_counter()
    n_images = len(boxes)
    ocr_seconds = {settings.engine: [float(s) for s in oof["ocr_stats"]["ocr_seconds"]]}
    for engine in engines or []:
        if engine != settings.engine:
            _, _, stats = read_images(rows, Path(images), OcrSettings(engine=engine), cache, workers, progress)
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
        model_seed: scores_on_fresh_splits(table, rows, model.priors, report["fallback"], model.features,
                                           RankerParams(**{**report["params"], "seed": model_seed}), k_folds=k_folds,
                                           text=oof["text_table"], boxes=boxes, words=oof["words"])
        for model_seed in (report["params"]["seed"], *OTHER_MODEL_SEEDS)}
    fresh = fresh_by_seed[report["params"]["seed"]]
    by_seed = [{"seed": model_seed, **split_means(fresh_by_seed[model_seed])} for model_seed in OTHER_MODEL_SEEDS]
    recall = recall_table(rows, [candidates.get(n, []) for n in rows["image_name"]])
    reasons = loss_reasons(rows, boxes, table, oof["answers"])
    losses = loss_counts(reasons)
    # the catalogue figures are those of the model `--objective precision` trains: without the rel_* gaps; its
    # confidences out of fold on the training split, then on other fold splits for the held-out figures' spread
    def catalogue(seed: int) -> tuple[pd.DataFrame, np.ndarray]:
        return catalogue_confidence(table, rows, model.features, RankerParams(**report["params"]), oof["text_table"],
                                    k_folds, oof["words"], seed=seed)

    catalogue_runs = [catalogue(0) if report["objective"] == "f1" else (oof["tops"], oof["confidence"]),
                      *(catalogue(seed) for seed in CATALOGUE_FOLD_SEEDS)]
    precision_point, curve = _precision_operating_point(rows, catalogue_runs, 0.95, k_folds)
    operating = {"f1 objective": 0.0, "precision ≥ 0.95 (global)": precision_point["global_threshold"]}
    results = {
        "data": {"labels": str(labels), "images": str(images), "rows": len(rows), "images_count": n_images,
                 "text_corpus": str(text_corpus) if text_corpus else None,
                 "text_rows": report["text_rows"],
                 "seed": seed, "limit": limit, "cache": note},
        "scores": {s: report[s] for s in ("ranker", "baseline", "oracle")},
        "candidate_recall": recall, "top1_accuracy_where_possible": report["top1_accuracy_where_possible"],
        "fresh_splits": fresh, "fresh_splits_other_model_seeds": by_seed,
        "thresholds": report["thresholds"], "objective": report["objective"], "fallback": report["fallback"],
        "threshold_curve": curve, "precision_objective": precision_point, "losses": losses, "speed": speed,
        "ocr_seconds": {e: [round(v, 3) for v in s] for e, s in ocr_seconds.items()},
        "params": report["params"], "finalists": report["finalists"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    pngs = {
        "f1_per_attribute": figures.f1_per_attribute(results["scores"], out / "f1_per_attribute.png"),
        "threshold_curve": figures.threshold_curve(curve, operating, out / "threshold_curve.png"),
        "candidate_recall": figures.candidate_recall(recall, out / "candidate_recall.png"),
        "ocr_seconds": figures.ocr_seconds(ocr_seconds, out / "ocr_seconds.png"),
        "losses": figures.losses(losses, out / "losses.png"),
    }
    results["figures"] = {k: p.name for k, p in pngs.items()}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "report.md").write_text(render_report(results, report))
    pd.DataFrame({"index": rows["index"], "entity_name": rows["entity_name"], "label": rows["entity_value"],
                  "ranker": oof["answers"], "baseline": oof["baseline_answers"], "reason": reasons}).to_csv(
        out / "answers.csv", index=False)
    cache.close()
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


def _model_seeds_text(fresh: list[dict], by_seed: list[dict]) -> str:
    top1 = [statistics.fmean(s["top1"] for s in fresh)] + [s["top1"] for s in by_seed]
    mixed = [statistics.fmean(s["test_mix_strict_f1"] for s in fresh)] + [s["test_mix_strict_f1"] for s in by_seed]
    others = ", ".join(f"{s['seed']}–{s['seed'] + ENSEMBLE_SIZE - 1}" for s in by_seed)
    return (f"The rankers average LightGBM seeds 0–{ENSEMBLE_SIZE - 1}; with seeds {others} instead: mean top-1 "
            f"{min(top1):.3f}–{max(top1):.3f}, test-file mix {min(mixed):.3f}–{max(mixed):.3f}")


def _fresh_splits_text(fresh: list[dict]) -> str:
    def spread(key: str) -> str:
        values = [split[key] for split in fresh if split.get(key) is not None]
        return f"{statistics.fmean(values):.3f} ({min(values):.3f}–{max(values):.3f})" if values else "none"

    return (f"on {len(fresh)} other fold splits with the same parameters (the fairer estimate), every row answered: "
            f"top-1 {spread('top1')}, strict F1 {spread('strict_f1')}, numeric F1 {spread('numeric_f1')}, "
            f"strict F1 on the test file's attribute mix {spread('test_mix_strict_f1')}, "
            f"top-1 on the height, width and depth rows alone {spread('dimension_top1')}")


def _catalogue_text(point: dict) -> str:
    return (f"Catalogue objective (precision ≥ {point['min_precision']}, one threshold for every attribute): on rows "
            f"the threshold never saw it answers {point['held_out_answered_rate']:.3f} of rows at precision "
            f"{point['held_out_precision']:.3f} (the lowest of {point['held_out_runs']} runs "
            f"{point['held_out_precision_min']:.3f}, {point['held_out_below_floor']} of them below the floor); "
            f"the threshold found on all rows answers {point['answered_rate']:.3f} of them at "
            f"{point['precision']} ({point['note']}). These are the figures of the model `--objective precision` "
            "trains, whose ranker goes without the `rel_*` gaps (here with the f1 study's parameters); the curve "
            "below is its own.")


def _finalist_line(finalist: dict) -> str:
    p = finalist["params"]
    cells = [p["num_leaves"], f"{p['learning_rate']:.3f}", p["num_rounds"], p["min_data_in_leaf"],
             f"{p['feature_fraction']:.2f}", f"{p['lambda_l2']:.3g}", finalist["tuned_top1"], finalist["selection_top1"],
             ("yes" if finalist["shipped"] else "") + (" (the shipped model's)" if finalist.get("current") else "")]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def render_report(results: dict, report: dict) -> str:
    speed = results["speed"]
    lines = [
        "# prodspec bench", "",
        (f"Data: {results['data']['rows']} rows, {results['data']['images_count']} images ({results['data']['labels']}); "
        f"seed {results['data']['seed']}; {results['data']['cache']}."),
        "All scores are out-of-fold (image-grouped 5-fold cross-validation).", "",
        "## F1 per attribute (strict = official string equality; numeric = same unit and value)", "", "```",
        *score_lines(report), "```", "",
        (f"Top-1 accuracy where a right candidate exists: {results['top1_accuracy_where_possible']:.3f} on the fold "
        f"split the ranker's parameters were tuned on; {_fresh_splits_text(results['fresh_splits'])}. "
        f"{_model_seeds_text(results['fresh_splits'], results['fresh_splits_other_model_seeds'])}. "
        f"Objective `{results['objective']}`, thresholds {results['thresholds']}, prior fallback "
        f"{'on' if results['fallback'] else 'off'}."), "",
        "![F1 per attribute](f1_per_attribute.png)", "",
        "## Ranker parameters", "",
        ("Optuna's best parameter sets on the tuning split, re-scored by mean top-1 on three other fold splits "
         "(not the fresh splits above), with the shipped model's parameters; the best of those ships, "
         f"unless the shipped parameters are within {INCUMBENT_MARGIN} of it:"), "",
        ("| num_leaves | learning_rate | num_rounds | min_data_in_leaf | feature_fraction | lambda_l2 "
         "| top-1, tuning split | top-1, other splits | shipped |"), "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *[_finalist_line(f) for f in results["finalists"]], "",
        "## Candidate recall (the ceiling the candidates allow)", "", "| attribute | rows | recall |", "|---|---:|---:|",
        *[f"| {k} | {v['rows']} | {v['recall']:.3f} |" for k, v in results["candidate_recall"].items()], "",
        "![candidate recall](candidate_recall.png)", "",
        "## Where answers were lost", "", "| reason | rows |", "|---|---:|",
        *[f"| {k} | {v} |" for k, v in results["losses"].items()], "", "![losses](losses.png)", "",
        "## Abstention", "",
        _catalogue_text(results["precision_objective"]), "",
        "![precision, recall and F1 against the threshold](threshold_curve.png)", "",
        "## Speed", "",
        (f"{speed['cores']} CPU cores, GPU used: {speed['gpu']}. OCR median seconds per image "
        f"{speed['ocr_seconds_median']} (p90 {speed['ocr_seconds_p90']}); OCR {speed['ocr_images_per_s']} images/s "
        f"per worker; parsing + features {speed['parse_features_images_per_s']} images/s; ranking "
        f"{speed['ranking_images_per_s']} images/s. {speed['ocr_note']}."), "",
        "![OCR seconds per image](ocr_seconds.png)", "",
    ]
    return "\n".join(lines)
