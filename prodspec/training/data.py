"""What training learns from: the labelled photos' OCR and feature table, and the text rows' table."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.image import image_candidates, text_candidates
from prodspec.candidates.ocr import OcrSettings
from prodspec.candidates.records import ImageCandidates, ImageReading
from prodspec.candidates.run_ocr import read_folder
from prodspec.dataset.errors import UserError
from prodspec.dataset.rows import TextCorpus, read_rows
from prodspec.features.build import FeatureTable, build_table
from prodspec.features.columns import feature_names
from prodspec.features.fold_words import FoldWords
from prodspec.features.priors import Priors, build_priors
from prodspec.features.text_rows import text_table
from prodspec.paths import DEFAULT_TRAIN_CSV
from prodspec.progress import Stages
from prodspec.ranker.blend import OTHER_TEXT

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
    # the text rows' lines, `row_pos` after the photos' rows: the dimension rankers' rows, then the other
    # attributes' ranker's (`ranker.blend.OTHER_TEXT` tells them apart)
    text: pd.DataFrame | None
    text_rows: int  # labelled rows of the dimension rankers' corpora (the text table holds only those with a candidate)
    words: FoldWords  # the tables' line words: cross-validation relearns the vocabulary per fold
    drawn: pd.DataFrame | None = None  # the synthetic drawings' lines (no word columns: the drawing ranker reads none)
    other_text_rows: int = 0  # labelled rows of the other attributes' ranker's corpus

    @property
    def vocabulary(self) -> list[str]:
        """The vocabulary learned from every row: the tables' word columns and the shipped model's."""
        return self.words.vocabulary(np.ones(len(self.rows), dtype=bool))

    @property
    def table_features(self) -> list[str]:
        return feature_names(self.vocabulary)


def _synthetic_table(folder: Path, priors: Priors, settings: OcrSettings, cache: OcrCache, workers: int | None,
                     progress: bool, row_offset: int) -> FeatureTable:
    rows = read_rows(folder / "labels.csv", labelled=True).reset_index(drop=True)
    readings, _ = read_folder(rows["image_name"], folder / "images", settings, cache, workers, progress)
    table = build_table(rows, {n: image_candidates(r) for n, r in readings.items()}, priors, [])
    table.lines["row_pos"] += row_offset
    return table


def photo_half(image_name: str) -> int:
    """Which half of a text corpus a photo falls in (`other_text_table`): the same on every run and machine."""
    return hashlib.sha1(image_name.encode()).digest()[0] % 2


def other_text_table(corpus: pd.DataFrame, train_csv: Path, held_out: set[str], row_offset: int) -> FeatureTable:
    """The other attributes' text rows (`corpus`) as one feature table, each half of its photos with priors that
    leave that half out: priors built without all of them would lose their train.csv rows (a third of its item
    weights, and with them the written-form habits of products listed twice), and priors with a row's own label
    would teach the ranker to trust them."""
    halves = corpus["image_name"].map(photo_half).to_numpy()
    tables = []
    for half in (0, 1):
        part = corpus[halves == half].reset_index(drop=True)
        priors = Priors(build_priors(train_csv, exclude_images=held_out | set(part["image_name"])))
        tables.append(text_table(part, [text_candidates(t) for t in part["ocr_text"]], priors, [],
                                 row_offset=row_offset, keep_words=True))
        row_offset += len(part)
    return FeatureTable(pd.concat([t.lines for t in tables], ignore_index=True), corpus, [], np.zeros(0),
                        [w for t in tables for w in t.line_words])


def text_rows_of(corpora: list[pd.DataFrame]) -> pd.DataFrame | None:
    """The text rows of every corpus, a photo's rows once (a photo two corpora read is the first one's)."""
    if not corpora:
        return None
    seen: set[str] = set()
    kept = []
    for corpus in corpora:
        kept.append(corpus[~corpus["image_name"].isin(seen)])
        seen |= set(corpus["image_name"])
    return pd.concat(kept, ignore_index=True)


def corpora_of(value: TextCorpus | Path | str | Sequence[TextCorpus | Path | str] | None) -> list[TextCorpus]:
    if value is None:
        return []
    values = [value] if isinstance(value, (str, Path, TextCorpus)) else list(value)
    return [TextCorpus.parse(v) for v in values]


def paths_of(value: Path | str | Sequence[Path | str] | None) -> list[Path]:
    if value is None:
        return []
    return [Path(value)] if isinstance(value, (str, Path)) else [Path(v) for v in value]


def source_name(labels: Path) -> str:
    """A source's name: its labels' folder (`dev` for dev/labels.csv)."""
    return Path(labels).parent.name or Path(labels).stem


def labelled_rows(labels: Sequence[Path]) -> pd.DataFrame:
    """The labelled rows of every source, one after the other, with the source each came from (the labels'
    folder name). With more than one source, each `index` is prefixed with its source (`dev:182336`, `more:0`),
    since two sources may number their rows alike."""
    parts = []
    for path in labels:
        rows = read_rows(path, labelled=True).assign(source=source_name(path))
        if len(labels) > 1:
            rows["index"] = rows["source"] + ":" + rows["index"]
        parts.append(rows)
    rows = pd.concat(parts, ignore_index=True)
    if rows["index"].duplicated().any():
        raise UserError(f"two sources are named alike ({rows['source'].iloc[0]}): give each its own folder")
    return rows


def read_sources(rows: pd.DataFrame, images: Sequence[Path], labels: Sequence[Path], settings: OcrSettings,
                 cache: OcrCache, workers: int | None, progress: bool) -> tuple[dict[str, ImageReading], dict]:
    """Each source's photos from its own folder; a photo named alike in two sources is one photo."""
    if len(images) != len(labels):
        raise UserError(f"{len(labels)} label file(s) but {len(images)} photo folder(s): give one --images per --labels")
    readings, stats = {}, {"images": 0, "ocr_fresh": 0, "ocr_seconds": [], "missing": []}
    for source_labels, folder in zip(labels, images, strict=True):
        names = rows.loc[rows["source"] == source_name(source_labels), "image_name"]
        found, found_stats = read_folder([n for n in names if n not in readings], folder, settings, cache, workers,
                                         progress)
        readings |= found
        for key in stats:
            stats[key] += found_stats[key]
    return readings, stats


def training_data(labels_csv: Path | Sequence[Path], images_dir: Path | Sequence[Path], settings: OcrSettings,
                  cache: OcrCache, workers: int | None = None, progress: bool = True,
                  text_corpus: TextCorpus | Path | Sequence[TextCorpus | Path] | None = None, train_csv: Path | None = None,
                  model_dir: Path | None = None, stages: Stages | None = None,
                  synthetic: Path | None = None, other_text: TextCorpus | None = None) -> TrainingData:
    """Labelled rows (of one source or several: `labels_csv` and `images_dir` in pairs) → OCR (from the cache where
    it can) → candidates → features; priors from train.csv without the rows they score (else the priors of the
    model in `model_dir`, when train.csv is absent). `text_corpus`: one labelled flat-text file or several
    (`TextCorpus`: a path, or a path with the attributes to keep).

    `synthetic`: a folder of synthetic drawings (`dataset.synthetic`: labels.csv and images/), whose rows teach the
    drawing ranker (`ranker.blend.fit_drawing_ranker`) and are never scored. `other_text`: a labelled flat-text
    file whose rows teach the other attributes' ranker (`ranker.blend.fit_other_ranker`; its photos that the photos
    or the text corpora hold are left out); it needs train.csv for its priors.
    """
    stages = stages or Stages(2, progress)
    labels, images = paths_of(labels_csv), paths_of(images_dir)
    rows = labelled_rows(labels)
    stages.next(f"reading {rows['image_name'].nunique()} photos (OCR of those not in the cache)")
    readings, ocr_stats = read_sources(rows, images, labels, settings, cache, workers, progress)

    stages.next("candidates, priors and features")
    corpora = [corpus.read(exclude_images=set(rows["image_name"])) for corpus in corpora_of(text_corpus)]
    corpus = text_rows_of(corpora)
    train_csv = train_csv or DEFAULT_TRAIN_CSV
    # priors never hold the labels of rows they score: neither the photos' nor the text rows'
    held_out = set(rows["image_name"]) | (set(corpus["image_name"]) if corpus is not None else set())
    if Path(train_csv).is_file():
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
    others = _other_text(other_text, held_out, Path(train_csv).is_file())
    if others is not None:
        others = other_text_table(others, Path(train_csv), held_out, len(rows) + text_rows)
        text = _joined_text(text, others)
    other_rows = 0 if others is None else len(others.rows)
    drawn = (_synthetic_table(Path(synthetic), priors, settings, cache, workers, progress,
                              len(rows) + text_rows + other_rows) if synthetic is not None else None)
    words = FoldWords(table.lines, table.line_words, text.line_words if text is not None else None)
    lines, text_lines = words.laid_over(table.lines, text.lines if text is not None else None,
                                        words.vocabulary(np.ones(len(rows), dtype=bool)))
    table.lines, table.line_words = lines, None
    return TrainingData(rows, readings, images, ocr_stats, priors, table, text_lines, text_rows, words,
                        drawn.lines if drawn is not None else None, other_rows)


def _other_text(other_text: TextCorpus | None, held_out: set[str], with_train_csv: bool) -> pd.DataFrame | None:
    """The other attributes' text rows, none of the photos `held_out`; none without train.csv."""
    if other_text is None:
        return None
    if not with_train_csv:
        log.warning("no train.csv: %s is left out (its rows need priors without their own labels)", other_text)
        return None
    corpus = other_text.read(exclude_images=held_out)
    return corpus if len(corpus) else None


def _joined_text(text: FeatureTable | None, others: FeatureTable) -> FeatureTable:
    """One text table: the dimension rankers' lines (`OTHER_TEXT` 0), then the other attributes' ranker's (1)."""
    parts = [] if text is None else [text.lines.assign(**{OTHER_TEXT: 0})]
    lines = pd.concat([*parts, others.lines.assign(**{OTHER_TEXT: 1})], ignore_index=True)
    words = ([] if text is None else text.line_words) + others.line_words
    return FeatureTable(lines, others.rows.iloc[:0], [], np.zeros(0), words)
