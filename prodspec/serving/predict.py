"""`predict`: an input CSV and a folder of photos → one answer per row, through the four stages in order."""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from prodspec.candidates.cache import SHIPPED_DIR, OcrCache
from prodspec.candidates.image import image_candidates
from prodspec.candidates.ocr import OcrSettings
from prodspec.candidates.records import ImageCandidates, ImageReading
from prodspec.candidates.run_ocr import read_folder
from prodspec.dataset.check import check_predictions
from prodspec.dataset.errors import UserError
from prodspec.dataset.evaluate import score_rows
from prodspec.dataset.photos import PhotoFolder
from prodspec.dataset.rows import check_output, read_rows, write_answers
from prodspec.features.build import FeatureTable, build_table
from prodspec.paths import SHIPPED_MODEL_DIR
from prodspec.ranker.answers import Answer
from prodspec.ranker.artifacts import Ranked, RankerModel, load_model

log = logging.getLogger(__name__)
# rows predicted at once: 30,500 rows in one pass peaked at 1.83 GB, in chunks of 5,000 at 0.52 GB (README)
PREDICT_CHUNK_ROWS = 5000
DETAIL_COLUMNS = ["confidence", "source", "evidence"]


def load_ranker(model_dir: Path | None = None) -> RankerModel:
    """The model in `model_dir`, or the shipped one, checked whole (`ranker.artifacts.load_model`) with the OCR
    settings it was trained with: before any photo is read."""
    model = load_model(model_dir or SHIPPED_MODEL_DIR)
    ocr_settings(model)
    return model


def ocr_settings(model: RankerModel) -> OcrSettings:
    try:
        return OcrSettings.from_meta(model.meta["ocr_settings"])
    except TypeError as error:  # a setting this code does not know
        raise UserError(f"the model's OCR settings are not this code's ({error}); retrain it") from None


def rank_rows(rows: pd.DataFrame, readings: dict[str, ImageReading], model: RankerModel,
              prior: bool = True) -> tuple[FeatureTable, Ranked]:
    """Candidates, features and answers for rows whose photos were read (`readings`, by image name)."""
    return rank_candidates(rows, {name: image_candidates(reading) for name, reading in readings.items()}, model, prior)


def rank_candidates(rows: pd.DataFrame, images: dict[str, ImageCandidates], model: RankerModel,
                    prior: bool = True) -> tuple[FeatureTable, Ranked]:
    """Features and answers for rows whose photos' candidates are found (`images`, by image name)."""
    table = build_table(rows.reset_index(drop=True), images, model.priors, model.vocabulary)
    return table, model.rank(table, prior)


def answer_frame(rows: pd.DataFrame, answers: list[Answer], details: bool) -> pd.DataFrame:
    """The output's lines: `index,prediction`, and with `details` each answer's confidence, source and evidence."""
    frame = pd.DataFrame({"index": rows["index"].to_numpy(), "prediction": [a.text for a in answers]})
    if details:
        frame["confidence"] = [round(a.confidence, 4) for a in answers]
        frame["source"] = [a.source for a in answers]
        frame["evidence"] = [a.evidence for a in answers]
    return frame


def predict(input_csv: Path, images_dir: str | Path, output: Path, model_dir: Path | None = None,
            cache_dir: Path | None = None, workers: int | None = None, progress: bool = True,
            shipped_cache: bool = True, ocr_changes: dict | None = None, chunk_rows: int = PREDICT_CHUNK_ROWS,
            details: bool = False, prior: bool = True) -> dict:
    """Answer every row; `shipped_cache=False` ignores the repository's OCR snapshot (for cold timings),
    `ocr_changes` overrides the model's OCR settings (`candidates.ocr.FAST`). An output ending in `.jsonl` is
    written as JSON Lines, with the details; `details` adds them to a CSV; `prior=False` answers only from photos.

    Rows go `chunk_rows` at a time (OCR of what the cache lacks, features, ranking), so memory stays flat
    whatever the input's length: the challenge's test file has 130,787 rows.
    """
    started = time.perf_counter()
    model = load_ranker(model_dir)
    check_output(output, input_csv=input_csv)
    rows = read_rows(input_csv).reset_index(drop=True)
    images = int(rows.loc[rows["image_name"] != "", "image_name"].nunique())
    folder = PhotoFolder(images_dir)
    settings = ocr_settings(model).with_changes(**(ocr_changes or {}))
    cache = OcrCache(cache_dir, shipped_dir=SHIPPED_DIR if shipped_cache else None)
    answers: list[Answer] = []
    ocr_fresh, missing = 0, set()
    chunked = len(rows) > chunk_rows
    bar = tqdm(total=len(rows), desc="rows", unit="row", disable=not (progress and chunked))
    try:
        for start in range(0, len(rows), chunk_rows):
            chunk = rows.iloc[start:start + chunk_rows].reset_index(drop=True)
            readings, ocr_stats = read_folder(chunk["image_name"], folder, settings, cache, workers, progress)
            answers += rank_rows(chunk, readings, model, prior)[1].answers
            ocr_fresh += ocr_stats["ocr_fresh"]
            missing.update(ocr_stats["missing"])
            bar.update(len(chunk))
    finally:
        bar.close()
        cache.close()
    absent = [name for name in missing if not folder.exists(name)]  # not the unreadable ones
    if absent and len(absent) == images:
        log.warning(
            "none of the input's images is in %s: `prodspec download --input %s --images %s` fetches them by link; "
            "no answer comes from a photo", images_dir, input_csv, images_dir)
    frame = answer_frame(rows, answers, details or str(output).endswith(".jsonl"))
    report = check_predictions(rows, frame[["index", "prediction"]])
    if not report.ok:
        raise RuntimeError("own output failed the format check: " + "; ".join(report.errors[:3]))
    write_answers(frame, output)
    seconds = time.perf_counter() - started
    sources = Counter(a.source for a in answers)
    result = {"rows": len(rows), "images": images, "answered": sum(1 for a in answers if a.text),
              "from_photo": sources["photo"], "from_prior": sources["prior"], "unanswered": sources["none"],
              "seconds": round(seconds, 2),
              # over the images there were to read: a missing one costs nothing and would flatter the rate
              "images_per_second": round((images - len(missing)) / seconds, 2),
              "ocr_fresh": ocr_fresh, "missing_images": len(missing), "output": str(output)}
    if "entity_value" in rows.columns:
        result["strict_f1"] = round(score_rows(list(rows["entity_value"]), [a.text for a in answers]).strict_f1, 4)
    return result
