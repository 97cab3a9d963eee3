"""What training learns from: the labelled photos' OCR and feature table, and the text rows' table."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from candidates.cache import OcrCache
from candidates.image import image_candidates, text_candidates
from candidates.ocr import OcrSettings
from candidates.records import ImageCandidates, ImageReading
from candidates.run_ocr import read_folder
from dataset.errors import UserError
from dataset.rows import read_rows, read_text_corpus
from features.build import FeatureTable, build_table
from features.columns import feature_names
from features.fold_words import FoldWords
from features.priors import Priors, build_priors
from features.text_rows import text_table
from prodspec.paths import DEFAULT_TRAIN_CSV
from prodspec.progress import Stages

log = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """The labelled rows, their photos' readings and candidates, the priors, and the feature tables."""

    rows: pd.DataFrame
    readings: dict[str, ImageReading]
    images: dict[str, ImageCandidates]
    ocr_stats: dict
    priors: Priors
    table: FeatureTable
    text: pd.DataFrame | None  # the text rows' lines, `row_pos` after the photos' rows
    text_rows: int  # labelled rows of the text corpus (the text table holds only those with a candidate)
    words: FoldWords  # the tables' line words: cross-validation relearns the vocabulary per fold

    @property
    def vocabulary(self) -> list[str]:
        """The vocabulary learned from every row: the tables' word columns and the shipped model's."""
        return self.words.vocabulary(np.ones(len(self.rows), dtype=bool))

    @property
    def table_features(self) -> list[str]:
        return feature_names(self.vocabulary)


def training_data(labels_csv: Path, images_dir: Path, settings: OcrSettings, cache: OcrCache,
                  workers: int | None = None, progress: bool = True, text_corpus: Path | None = None,
                  train_csv: Path | None = None, model_dir: Path | None = None,
                  stages: Stages | None = None) -> TrainingData:
    """Labelled rows → OCR (from the cache where it can) → candidates → features; priors from train.csv
    without the rows they score (else the priors of the model in `model_dir`, when train.csv is absent)."""
    stages = stages or Stages(2, progress)
    rows = read_rows(labels_csv, labelled=True).reset_index(drop=True)
    stages.next(f"reading {rows['image_name'].nunique()} photos (OCR of those not in the cache)")
    readings, ocr_stats = read_folder(rows["image_name"], images_dir, settings, cache, workers, progress)

    stages.next("candidates, priors and features")
    corpus = read_text_corpus(text_corpus, exclude_images=set(rows["image_name"])) if text_corpus else None
    train_csv = train_csv or DEFAULT_TRAIN_CSV
    if Path(train_csv).is_file():
        # priors never hold the labels of rows they score: neither the photos' nor the text rows'
        held_out = set(rows["image_name"]) | (set(corpus["image_name"]) if corpus is not None else set())
        priors = Priors(build_priors(train_csv, exclude_images=held_out))
    elif model_dir is not None and (Path(model_dir) / "priors.json").is_file():
        log.warning("%s not found: reusing %s", train_csv, Path(model_dir) / "priors.json")
        priors = Priors.load(Path(model_dir) / "priors.json")
    else:
        raise UserError(f"{train_csv}: no such file, and no priors in {model_dir} to reuse")

    images = {name: image_candidates(reading) for name, reading in readings.items()}
    # the tables are built without word columns, keeping each line's words; the vocabulary learned from them
    # (every row here, each fold's training rows in cross-validation) then lays its columns over them
    table = build_table(rows, images, priors, [], keep_words=True)
    text_rows = 0 if corpus is None else len(corpus)
    text = (text_table(corpus, [text_candidates(t) for t in corpus["ocr_text"]], priors, [], row_offset=len(rows),
                       keep_words=True) if text_rows else None)
    words = FoldWords(table.lines, table.line_words, text.line_words if text is not None else None)
    lines, text_lines = words.laid_over(table.lines, text.lines if text is not None else None,
                                        words.vocabulary(np.ones(len(rows), dtype=bool)))
    table.lines, table.line_words = lines, None
    return TrainingData(rows, readings, images, ocr_stats, priors, table, text_lines, text_rows, words)
