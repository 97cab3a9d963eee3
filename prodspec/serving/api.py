"""The Python API: `prodspec.load()` gives a `Model` that answers one photo, or a whole CSV as `prodspec predict` does."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from PIL import Image

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.records import ImageReading
from prodspec.candidates.run_ocr import read_array, read_folder
from prodspec.dataset.errors import UserError
from prodspec.dataset.images import pil_to_rgb
from prodspec.dataset.units import allowed_units, entity_names
from prodspec.paths import SHIPPED_MODEL_DIR
from prodspec.ranker.answers import Answer
from prodspec.serving.predict import load_ranker, ocr_settings, predict, rank_rows

UNKNOWN_GROUP = ""  # a row with no group_id: no group priors apply


class Model:
    """A trained model and the OCR settings it was trained with; OCR models load on the first photo, once.

    `cache_dir`: the OCR cache (default `$PRODSPEC_CACHE_DIR` or `~/.cache/prodspec`); photos given by path are
    read once and answered from the cache after, as by the command line.
    """

    def __init__(self, model_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None):
        self.model_dir = Path(model_dir) if model_dir is not None else SHIPPED_MODEL_DIR
        self.cache_dir = cache_dir
        self.ranker = load_ranker(self.model_dir)
        self.settings = ocr_settings(self.ranker)

    def __repr__(self) -> str:
        return f"prodspec.Model({str(self.model_dir)!r}, trained on {self.ranker.meta.get('training_rows')} rows)"

    def predict(self, image: str | os.PathLike | Image.Image, entity: str, group_id: str | int | None = None,
                prior: bool = True) -> Answer:
        """The answer for one attribute of one photo (a path or a PIL image). `group_id`: the product's category,
        which sharpens the priors; `prior=False` answers only from what the photo prints."""
        if entity not in allowed_units():
            raise UserError(f"unknown attribute {entity!r}; one of {', '.join(entity_names())}")
        name, reading = self._read(image)
        group = UNKNOWN_GROUP if group_id is None else str(group_id)
        row = pd.DataFrame([{"index": "0", "image_link": name, "group_id": group, "entity_name": entity,
                             "image_name": name}])
        return rank_rows(row, {name: reading}, self.ranker, prior)[1].answers[0]

    def predict_csv(self, input_csv: str | os.PathLike, images: str | os.PathLike, output: str | os.PathLike,
                    ray: bool = False, **options) -> dict:
        """What `prodspec predict` does: every row of `input_csv` answered into `output` (CSV, or JSON Lines for a
        `.jsonl` name); `options` as `prodspec.serving.predict.predict` takes them (`details`, `prior`, `workers`, ...), or
        with `ray=True` as `prodspec.serving.distributed.predict_on_ray` does (`address`, `actors`, ...). Returns the counts."""
        if ray:
            from prodspec.serving.distributed import predict_on_ray

            return predict_on_ray(Path(input_csv), str(images), Path(output), self.model_dir,
                                  cache_dir=self.cache_dir, **options)
        return predict(Path(input_csv), str(images), Path(output), self.model_dir, cache_dir=self.cache_dir, **options)

    def _read(self, image: str | os.PathLike | Image.Image) -> tuple[str, ImageReading]:
        if isinstance(image, Image.Image):
            pixels = pil_to_rgb(image, self.settings.max_side or None)
            return "image", read_array(pixels, self.settings.with_changes(threads=os.cpu_count() or 1))
        path = Path(image)
        if not path.is_file():
            raise UserError(f"{path}: no such image file")
        cache = OcrCache(self.cache_dir)
        try:
            readings, _ = read_folder([path.name], path.parent, self.settings, cache, workers=1, progress=False)
        finally:
            cache.close()
        reading = readings[path.name]
        if reading.missing:
            raise UserError(f"{path}: not an image that can be read")
        return path.name, reading


def load(model_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None) -> Model:
    """The shipped model, or the one in `model_dir` (a folder `prodspec train` wrote)."""
    return Model(model_dir, cache_dir)
