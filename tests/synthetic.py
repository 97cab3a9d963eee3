"""OCR fixtures made in the test: tiny distinct image files whose boxes are put straight into a cache."""

import random
from pathlib import Path

import pandas as pd
from PIL import Image

from candidates.cache import OcrCache
from candidates.ocr import OcrSettings
from candidates.records import TextBox
from dataset.images import file_digest


def box(text, left, top, height, confidence=0.95):
    width = 0.55 * height * len(text)
    return TextBox(text, ((left, top), (left + width, top), (left + width, top + height), (left, top + height)),
                   confidence)


def make_image_set(folder: Path, cache: OcrCache, n: int, seed: int, prefix: str) -> pd.DataFrame:
    """Rows whose right answer is never the first allowed candidate: a small "per serving" weight comes
    first, the net weight later in large type. The rule baseline takes the first; a ranker should learn."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    fingerprint = OcrSettings().fingerprint()
    rows = []
    for i in range(n):
        name = f"{prefix}{i}.png"
        Image.new("RGB", (8, 8), (i % 256, seed % 256, 7)).save(folder / name)
        net = rng.choice([100, 150, 200, 250, 340, 400, 500, 750, 1000])
        serving = rng.choice([5, 10, 15, 20, 30])
        boxes = [box("Nutrition facts", 20, 20, 14), box(f"Serving size {serving}g", 20, 40, 14),
                 box(f"Protein {rng.randint(1, 9)}g", 20, 60, 14), box("NET WT", 20, 300, 40),
                 box(f"{net}g", 200, 300, 40)]
        rng.shuffle(boxes[1:3])
        cache.put(file_digest(folder / name), fingerprint, boxes, 0.5)
        rows.append({"index": f"{prefix}{i}", "image_link": f"https://x/{name}", "group_id": "7",
                     "entity_name": "item_weight", "entity_value": f"{net}.0 gram"})
    return pd.DataFrame(rows)
