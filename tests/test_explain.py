"""`prodspec explain` draws its boxes where the text is, on photos of every size."""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from prodspec.serving.explain import CHOSEN, FONT, explain


def _photo(path, size, text, at, font_size):
    image = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), font_size)
    draw.text(at, text, fill=(10, 10, 10), font=font)
    image.save(path, quality=95)
    return draw.textbbox(at, text, font=font)


def _chosen_box(picture) -> tuple[int, int, int, int]:
    """Where the green of the chosen candidate lies in the drawing: its outline, and its label just above it."""
    pixels = np.asarray(Image.open(picture).convert("RGB")).astype(int)
    green = (np.abs(pixels - np.array(CHOSEN[:3])).sum(axis=2) < 30).nonzero()
    return green[1].min(), green[0].min(), green[1].max(), green[0].max()


def test_boxes_are_drawn_on_the_text_of_a_photo_larger_than_the_ocr_reads(tmp_path):
    # a 3000 px photo is read shrunk to 1600 px: its boxes are drawn on the picture the OCR read, not on the
    # full-size one, so they fall on the text
    text_box = _photo(tmp_path / "big.jpg", (3000, 2000), "NET WT 500g", (1500, 1400), 120)
    listing = explain(tmp_path / "big.jpg", "item_weight", "", tmp_path / "big.png", cache_dir=tmp_path / "cache")
    assert listing.startswith(("answer: 500.0 gram", "answer: 500 gram")), listing
    with Image.open(tmp_path / "big.png") as drawn:
        assert drawn.width == 1600  # the picture the OCR read, with the legend below
    scale = 1600 / 3000
    left, top, right, bottom = _chosen_box(tmp_path / "big.png")
    expected = [v * scale for v in text_box]
    # the green outline surrounds the printed `500g`, at the right of the line
    assert expected[0] - 10 < left and right < expected[2] + 20, (left, right, expected)
    assert abs(bottom - expected[3]) < 25 and expected[1] - 80 < top < expected[1], (top, bottom, expected)


def test_a_thumbnail_is_drawn_enlarged_with_its_boxes_on_the_text(tmp_path):
    text_box = _photo(tmp_path / "small.png", (400, 300), "230V", (150, 120), 48)
    explain(tmp_path / "small.png", "voltage", "", tmp_path / "small_explained.png", cache_dir=tmp_path / "cache")
    scale = 1000 / 300
    left, top, right, bottom = _chosen_box(tmp_path / "small_explained.png")
    assert abs(left - text_box[0] * scale) < 40 and abs(right - text_box[2] * scale) < 40
    assert abs(bottom - text_box[3] * scale) < 40 and text_box[1] * scale - 80 < top < text_box[1] * scale
