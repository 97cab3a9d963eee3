"""Drawn-line cues on a rendered dimension drawing, and their place in the OCR cache."""

import numpy as np
from PIL import Image, ImageDraw

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.lines import cache_key, find_segments, line_cues
from prodspec.candidates.ocr import OcrSettings
from prodspec.candidates.records import TextBox
from prodspec.candidates.run_ocr import ocr_images
from prodspec.dataset.images import file_digest, load_rgb


def box(text, left, top, right, bottom):
    return TextBox(text, ((left, top), (right, top), (right, bottom), (left, bottom)), 0.9)


def drawing(path):
    """A box in outline with a height arrow at the left, a width arrow below and a depth arrow receding from its
    top right corner."""
    image = Image.new("RGB", (800, 400), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.line((100, 40, 100, 340), fill=(30, 30, 30), width=3)
    draw.line((200, 360, 580, 360), fill=(30, 30, 30), width=3)
    draw.rectangle((200, 60, 580, 300), outline=(120, 120, 120), width=1)
    draw.line((580, 60, 700, 10), fill=(30, 30, 30), width=3)
    image.save(path)
    return path


def test_measures_beside_drawn_lines(tmp_path):
    image = load_rgb(drawing(tmp_path / "drawing.png"))
    segments = find_segments(image)
    height_label = box("30 cm", 110, 180, 170, 200)   # right of the vertical arrow, at its middle
    width_label = box("45 cm", 360, 330, 420, 350)    # just above the horizontal arrow
    far_label = box("500 g", 20, 370, 70, 390)        # below the height arrow's end, left of the width arrow
    depth_label = box("20 cm", 610, 5, 660, 20)         # above the receding arrow
    across, down, slant = line_cues(height_label, segments, 800, 400)
    assert down > 0.6 and across == 0.0 and slant == 0.0
    across, down, slant = line_cues(width_label, segments, 800, 400)
    assert across > 0.4 and down == 0.0 and slant == 0.0
    *_, slant = line_cues(depth_label, segments, 800, 400)
    assert slant > 0.05
    assert line_cues(far_label, segments, 800, 400) == (0.0, 0.0, 0.0)
    assert line_cues(height_label, np.zeros((0, 4), np.float32), 800, 400) == (0.0, 0.0, 0.0)


def test_lines_are_cached_and_filled_in_for_old_cache_rows(tmp_path):
    path = drawing(tmp_path / "drawing.png")
    settings = OcrSettings(threads=1)
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    # boxes cached by an older run that kept no lines: the lines are found without OCR running again
    cache.put(file_digest(path), settings.fingerprint(), [box("30 cm", 110, 180, 170, 200)], 1.5)
    result = ocr_images([path], settings, cache, workers=1, progress=False)[path]
    assert result.cached and [b.text for b in result.boxes] == ["30 cm"]
    assert len(result.segments) >= 2
    stored = cache.get_drawing(file_digest(path), cache_key(settings.max_side))
    assert np.allclose(stored.segments, np.rint(result.segments))
    assert stored.size == (800.0, 400.0) and stored.product is not None
    again = ocr_images([path], settings, cache, workers=1, progress=False)[path]
    assert again.cached and len(again.segments) == len(result.segments)
