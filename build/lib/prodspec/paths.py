"""Where the shipped model lives, and where a checkout finds the shared data beside it."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SHIPPED_MODEL_DIR = PACKAGE / "model"  # package data: the wheel carries it
# a checkout's neighbour `../shared/data` (train.csv for priors, the labelled photos, the text corpus); an
# installed package has none, and every verb that would use it asks for the file instead
SHARED_DATA = PACKAGE.parent.parent / "shared" / "data"
DEFAULT_TRAIN_CSV = SHARED_DATA / "train.csv.gz"
DEFAULT_TEXT_CORPUS = SHARED_DATA / "ocr_text_corpus.csv"
DEV = SHARED_DATA / "dev"
SAMPLE = PACKAGE.parent / "dataset" / "sample"

