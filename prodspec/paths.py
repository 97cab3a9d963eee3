"""Where the shipped model lives, and where a checkout finds the shared data beside it."""

from __future__ import annotations

from pathlib import Path

import prodspec.dataset
import prodspec.models

PACKAGE = Path(__file__).resolve().parent
# the shipped model: `models/` at the top of a checkout, `prodspec/models` inside the wheel
SHIPPED_MODEL_DIR = Path(prodspec.models.__file__).resolve().parent
# a checkout's neighbour `../shared/data` (train.csv for priors, the labelled photos, the text corpus); an
# installed package has none, and every verb that would use it asks for the file instead
SHARED_DATA = PACKAGE.parent.parent / "shared" / "data"
DEFAULT_TRAIN_CSV = SHARED_DATA / "train.csv.gz"
DEFAULT_TEXT_CORPUS = SHARED_DATA / "ocr_text_corpus.csv"
# the larger corpus only for its height, width and depth rows: the dimension rows are what the photos lack, and
# its 80,000 other rows would multiply training time (docs/experiments.md: "More text rows")
DEFAULT_TEXT_CORPORA = [f"{DEFAULT_TEXT_CORPUS}", f"{SHARED_DATA / 'text' / 'ocr_text_more.csv.gz'}:height,width,depth"]
DEV = SHARED_DATA / "dev"
MORE = SHARED_DATA / "more"
SAMPLE = Path(prodspec.dataset.__file__).resolve().parent / "sample"  # a checkout's; not in the wheel

