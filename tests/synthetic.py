"""OCR fixtures made in the test: tiny distinct image files whose boxes are put straight into a cache."""

import random
from pathlib import Path

import pandas as pd
from PIL import Image

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.ocr import OcrSettings
from prodspec.candidates.records import TextBox
from prodspec.dataset.images import file_digest


def box(text, left, top, height, confidence=0.95):
    width = 0.55 * height * len(text)
    return TextBox(text, ((left, top), (left + width, top), (left + width, top + height), (left, top + height)),
                   confidence)


def _photo(folder: Path, cache: OcrCache, name: str, colour: tuple[int, int, int], boxes: list[TextBox]) -> None:
    """A tiny distinct image file, and its boxes put in the cache as the default OCR's reading of it."""
    Image.new("RGB", (8, 8), colour).save(folder / name)
    cache.put(file_digest(folder / name), OcrSettings().fingerprint(), boxes, 0.5)


def make_image_set(folder: Path, cache: OcrCache, n: int, seed: int, prefix: str, label: str = "net") -> pd.DataFrame:
    """Rows whose right answer is never the first allowed candidate: a small "per serving" weight comes
    first, the net weight later in large type. The rule baseline takes the first; a ranker should learn.
    `label="serving"` labels each row with its serving size instead (a convention no photo ranker would guess)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        name = f"{prefix}{i}.png"
        net = rng.choice([100, 150, 200, 250, 340, 400, 500, 750, 1000])
        serving = rng.choice([5, 10, 15, 20, 30])
        boxes = [box("Nutrition facts", 20, 20, 14), box(f"Serving size {serving}g", 20, 40, 14),
                 box(f"Protein {rng.randint(1, 9)}g", 20, 60, 14), box("NET WT", 20, 300, 40),
                 box(f"{net}g", 200, 300, 40)]
        rng.shuffle(boxes[1:3])
        _photo(folder, cache, name, (i % 256, seed % 256, 7), boxes)
        rows.append({"index": f"{prefix}{i}", "image_link": f"https://x/{name}", "group_id": "7",
                     "entity_name": "item_weight", "entity_value": f"{serving if label == 'serving' else net}.0 gram"})
    return pd.DataFrame(rows)


def make_dimension_set(folder: Path, cache: OcrCache, n: int, seed: int, prefix: str) -> pd.DataFrame:
    """Height rows on photos that also print a width and a depth, in any order."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        name = f"{prefix}{i}.png"
        sizes = rng.sample(range(5, 90), 3)
        texts = [f"Width {sizes[0]}cm", f"Height {sizes[1]}cm", f"Depth {sizes[2]}cm"]
        rng.shuffle(texts)
        _photo(folder, cache, name, (i % 256, 99, seed % 256), [box(t, 20, 40 + 40 * k, 16) for k, t in enumerate(texts)])
        rows.append({"index": f"{prefix}{i}", "image_link": f"https://x/{name}", "group_id": "7",
                     "entity_name": "height", "entity_value": f"{sizes[1]}.0 centimetre"})
    return pd.DataFrame(rows)
