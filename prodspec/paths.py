"""Where the shipped model lives, and where a checkout finds the shared data beside it."""

from __future__ import annotations

from pathlib import Path

import prodspec.dataset
import prodspec.models
from prodspec.dataset.rows import TextCorpus

PACKAGE = Path(__file__).resolve().parent
# the shipped model: `models/` at the top of a checkout, `prodspec/models` inside the wheel
SHIPPED_MODEL_DIR = Path(prodspec.models.__file__).resolve().parent
# a checkout's neighbour `../shared/data` (train.csv for priors, the labelled photos, the text corpus); an
# installed package has none, and every verb that would use it asks for the file instead
SHARED_DATA = PACKAGE.parent.parent / "shared" / "data"
DEFAULT_TRAIN_CSV = SHARED_DATA / "train.csv.gz"
DEFAULT_TEXT_CORPUS = SHARED_DATA / "ocr_text_corpus.csv"
# the dimension rankers learn from the larger corpus's height, width and depth rows alone: the dimension rows are
# what the photos lack, and its 79,000 other rows would multiply their training time
DEFAULT_TEXT_CORPORA = [f"{DEFAULT_TEXT_CORPUS}", f"{SHARED_DATA / 'text' / 'ocr_text_more.csv.gz'}:height,width,depth"]
# its item weight, volume and maximum weight rows teach the other attributes' ranker, a seeded sample of 20,000:
# out of fold over fold splits 1-10 of dev + more those rows were right 0.635 against 0.620 without them; with its
# voltage and wattage rows too 0.625, with 40,000 rows 0.628 on splits 1-5 (docs/experiments.md: "The other
# attributes learn from text rows")
OTHER_TEXT_ROWS = 20_000
OTHER_TEXT_ATTRIBUTES = ("item_weight", "item_volume", "maximum_weight_recommendation")
DEFAULT_OTHER_TEXT = TextCorpus(SHARED_DATA / "text" / "ocr_text_more.csv.gz", OTHER_TEXT_ATTRIBUTES, OTHER_TEXT_ROWS)
DEV = SHARED_DATA / "dev"
MORE = SHARED_DATA / "more"
SAMPLE = Path(prodspec.dataset.__file__).resolve().parent / "sample"  # a checkout's; not in the wheel

