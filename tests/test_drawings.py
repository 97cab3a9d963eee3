"""Dimension drawings: which axis a printed length measures, read off real OCR of rendered drawings; the synthetic
drawings' generator; and training with them end to end."""

import json

import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageFont

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.image import image_candidates
from prodspec.candidates.ocr import OcrSettings
from prodspec.candidates.run_ocr import ocr_images
from prodspec.dataset.synthetic import make_drawings
from prodspec.ranker.artifacts import load_model
from prodspec.serving.predict import predict
from prodspec.training.train import train
from tests.render import FONT
from tests.synthetic import make_image_set


def _drawing(path, height_text="43 cm", width_text="65 cm"):
    """A box in outline; a vertical arrow at its left labelled with the height, a horizontal one below it with the
    width, each label beside its line."""
    image = Image.new("RGB", (900, 700), (252, 252, 252))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 34)
    draw.rectangle((300, 120, 700, 520), fill=(225, 228, 232), outline=(90, 90, 90), width=2)
    draw.line((230, 120, 230, 520), fill=(40, 40, 40), width=3)
    for y in (120, 520):
        draw.line((215, y, 245, y), fill=(40, 40, 40), width=3)
    draw.line((300, 580, 700, 580), fill=(40, 40, 40), width=3)
    for x in (300, 700):
        draw.line((x, 565, x, 595), fill=(40, 40, 40), width=3)
    draw.text((60, 300), height_text, fill=(20, 20, 20), font=font)
    draw.text((450, 600), width_text, fill=(20, 20, 20), font=font)
    image.save(path, quality=95)
    return path


def test_a_length_beside_a_vertical_line_reads_as_a_height_and_beside_a_horizontal_one_as_a_width(tmp_path):
    path = _drawing(tmp_path / "drawing.jpg")
    reading = ocr_images([path], OcrSettings(threads=2), OcrCache(tmp_path / "cache", shipped_dir=None), workers=1,
                         progress=False)[path]
    image = image_candidates(reading)
    axes = {(c.value, c.unit): a for c, a in zip(image.candidates, image.axes)}
    assert axes[(43.0, "centimetre")].axis == "H" and abs(axes[(43.0, "centimetre")].angle) > 80
    assert axes[(65.0, "centimetre")].axis == "W" and abs(axes[(65.0, "centimetre")].angle) < 10
    assert reading.drawing.product is not None  # the box
    # the shipped model answers each attribute with the length its line measures
    rows = pd.DataFrame({"index": ["h", "w"], "image_link": ["https://x/drawing.jpg"] * 2, "group_id": "",
                         "entity_name": ["height", "width"]})
    rows.to_csv(tmp_path / "in.csv", index=False)
    predict(tmp_path / "in.csv", str(tmp_path), tmp_path / "out.csv", cache_dir=tmp_path / "cache", progress=False)
    answers = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)["prediction"].tolist()
    assert answers == ["43.0 centimetre", "65.0 centimetre"]
    # swapped: the labels follow their lines, not their values
    swapped = _drawing(tmp_path / "swapped.jpg", height_text="65 cm", width_text="43 cm")
    rows.assign(image_link="https://x/swapped.jpg").to_csv(tmp_path / "in2.csv", index=False)
    predict(tmp_path / "in2.csv", str(swapped.parent), tmp_path / "out2.csv", cache_dir=tmp_path / "cache",
            progress=False)
    answers = pd.read_csv(tmp_path / "out2.csv", dtype=str, keep_default_na=False)["prediction"].tolist()
    assert answers == ["65.0 centimetre", "43.0 centimetre"]


def _box(path, height_text="50 cm", width_text="35 cm", depth_text="80 cm"):
    """A box in three-quarter view: the height on a vertical line at its left, the width on a horizontal line below
    its front, the depth on the receding edge at its right."""
    image = Image.new("RGB", (1100, 800), (252, 252, 252))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 34)
    draw.polygon([(300, 250), (420, 150), (820, 150), (700, 250)], fill=(235, 236, 240), outline=(90, 90, 90))
    draw.polygon([(700, 250), (820, 150), (820, 500), (700, 600)], fill=(210, 212, 218), outline=(90, 90, 90))
    draw.rectangle((300, 250, 700, 600), fill=(225, 228, 232), outline=(90, 90, 90), width=2)
    for line in ((230, 250, 230, 600), (215, 250, 245, 250), (215, 600, 245, 600),  # height
                 (300, 660, 700, 660), (300, 645, 300, 675), (700, 645, 700, 675),  # width
                 (760, 640, 880, 540)):  # depth
        draw.line(line, fill=(40, 40, 40), width=3)
    draw.text((60, 400), height_text, fill=(20, 20, 20), font=font)
    draw.text((450, 680), width_text, fill=(20, 20, 20), font=font)
    draw.text((880, 600), depth_text, fill=(20, 20, 20), font=font)
    image.save(path, quality=95)
    return path


def _box_answers(tmp_path) -> dict[str, str]:
    _box(tmp_path / "box.jpg")
    rows = pd.DataFrame({"index": ["height", "width", "depth"], "image_link": "https://x/box.jpg", "group_id": "",
                         "entity_name": ["height", "width", "depth"]})
    rows.to_csv(tmp_path / "in.csv", index=False)
    predict(tmp_path / "in.csv", str(tmp_path), tmp_path / "out.csv", cache_dir=tmp_path / "cache", progress=False)
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    return dict(zip(out["index"], out["prediction"], strict=True))


def test_a_box_with_three_lengths_answers_its_height_by_the_vertical_line(tmp_path):
    answers = _box_answers(tmp_path)
    assert answers["height"] == "50.0 centimetre"
    assert answers["width"] in {"35.0 centimetre", "80.0 centimetre"}  # one of the box's horizontal lengths


@pytest.mark.xfail(strict=True, reason="the depth ranker puts the height's vertical 50 cm ahead of the longest, "
                   "receding 80 cm, mostly by its place; refitted without the all-candidate ranks it answers 80 but "
                   "real depth rows read worse (docs/experiments.md, 2026-12-08): a known gap")
def test_a_box_with_three_lengths_answers_width_and_depth_by_the_catalogues_convention(tmp_path):
    # the catalogue's depth is the longest horizontal length, its width the shorter one
    answers = _box_answers(tmp_path)
    assert (answers["width"], answers["depth"]) == ("35.0 centimetre", "80.0 centimetre")


def test_the_generator_makes_the_same_drawings_for_a_seed(tmp_path):
    first = make_drawings(tmp_path / "a", 4, seed=7)
    again = make_drawings(tmp_path / "b", 4, seed=7)
    other = make_drawings(tmp_path / "c", 4, seed=8)
    names = sorted(p.name for p in (tmp_path / "a" / "images").iterdir())
    assert len(names) == 4 and first.read_text() == again.read_text()
    for name in names:
        assert (tmp_path / "a" / "images" / name).read_bytes() == (tmp_path / "b" / "images" / name).read_bytes()
    assert first.read_text() != other.read_text()
    labels = pd.read_csv(first, dtype=str)
    assert set(labels["entity_name"]) <= {"height", "width", "depth"} and {"height", "width"} <= set(labels["entity_name"])
    assert labels["entity_value"].str.fullmatch(r"\d+(\.\d+)? (centimetre|millimetre|inch)").all()


def test_training_with_synthetic_drawings_runs_end_to_end(tmp_path):
    make_drawings(tmp_path / "synthetic", 12, seed=3)
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    labels = make_image_set(tmp_path / "images", cache, 40, seed=1, prefix="t")
    cache.close()
    labels.to_csv(tmp_path / "labels.csv", index=False)
    labels.drop(columns=["index"]).to_csv(tmp_path / "train.csv", index=False)
    report = train(tmp_path / "labels.csv", tmp_path / "images", model_dir=tmp_path / "model", trials=2,
                   train_csv=tmp_path / "train.csv", cache_dir=tmp_path / "cache", progress=False, k_folds=3,
                   synthetic=tmp_path / "synthetic")
    assert report["ranker"]["overall"]["strict_f1"] > 0.8
    model = load_model(tmp_path / "model")
    meta = json.loads((tmp_path / "model" / "meta.json").read_text())
    assert model.rankers.drawing is not None and meta["drawing_weight"] > 0 and meta["synthetic_rows"] > 12
    assert meta["drawing_ranker_files"][0] == "ranker_drawings.txt"
    drawn = pd.read_csv(tmp_path / "synthetic" / "labels.csv", dtype=str).assign(index=lambda f: f.index.astype(str))
    drawn.drop(columns=["entity_value"]).to_csv(tmp_path / "drawn.csv", index=False)
    result = predict(tmp_path / "drawn.csv", str(tmp_path / "synthetic" / "images"), tmp_path / "out.csv",
                     model_dir=tmp_path / "model", cache_dir=tmp_path / "cache", progress=False)
    assert result["rows"] == len(drawn) and result["from_photo"] > 0
