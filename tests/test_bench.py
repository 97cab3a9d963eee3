"""`prodspec bench` and `prodspec explain` on a tiny fixture set: every figure's numbers and PNGs."""

import json

import pytest
from PIL import Image

from bench.fold_splits import compared, fold_splits, render
from prodspec.candidates.cache import OcrCache
from prodspec.dataset.errors import UserError
from prodspec.evaluation.bench import run_bench
from prodspec.serving.explain import explain
from tests.synthetic import make_image_set


def test_bench_writes_results_report_and_figures(tmp_path):
    cache = OcrCache(tmp_path / "cache", shipped_dir=None)
    labels = make_image_set(tmp_path / "images", cache, 40, seed=3, prefix="b")
    labels.to_csv(tmp_path / "labels.csv", index=False)
    cache.close()
    out = run_bench(tmp_path / "labels.csv", tmp_path / "images", tmp_path / "out", limit=30, trials=2,
                    cache_dir=tmp_path / "cache", progress=False)
    results = json.loads((out / "results.json").read_text())
    assert results["data"]["images_count"] == 30
    assert set(results["scores"]) == {"ranker", "baseline", "oracle"}
    assert results["scores"]["oracle"]["overall"]["strict_f1"] >= results["scores"]["ranker"]["overall"]["strict_f1"]
    assert len(results["threshold_curve"]["threshold"]) == len(results["threshold_curve"]["f1"]) > 10
    assert sum(results["losses"].values()) == 30
    assert results["candidate_recall"]["overall"]["rows"] == 30
    assert results["speed"]["cores"] >= 1 and "rapidocr" in results["ocr_seconds"]
    assert len(results["fresh_splits"]) == 5
    # the catalogue's held-out figure: every fold split of the confidence model on each fresh split
    catalogue = results["precision_objective"]
    assert catalogue["held_out_runs"] == 30 and 0 <= catalogue["held_out_below_floor"] <= 30
    assert catalogue["held_out_precision_min"] <= catalogue["held_out_precision"] <= 1
    assert all(0 <= split[k] <= 1 for split in results["fresh_splits"] for k in ("top1", "strict_f1", "numeric_f1", "test_mix_strict_f1"))
    # these 30 rows may hold no height row with a right candidate: then there is no dimension top-1 to give
    assert all(split["dimension_top1"] is None or 0 <= split["dimension_top1"] <= 1 for split in results["fresh_splits"])
    for name in results["figures"].values():
        with Image.open(out / name) as image:
            image.verify()
    # the answers' confidence against how often they were exactly right, out of fold, every answered row in a bin
    shipped = results["confidence"]["as shipped (calibrated)"]
    assert 0 < sum(b["rows"] for b in shipped["bins"]) <= 30 and 0 <= shipped["expected_calibration_error"] <= 1
    assert all(0 <= b["predicted"] <= 1 and 0 <= b["observed"] <= 1 for b in shipped["bins"])
    report = (out / "report.md").read_text()
    assert "## Confidence" in report and "reliability.png" in report
    assert "## Speed" in report and "f1_per_attribute.png" in report and "other fold splits" in report
    # the ranker against the simple rules, each attribute a row, on the same fresh splits
    assert set(results["rules"]["photos"]) == set(results["scores"]["ranker"]) - {"overall"}
    assert all(0 <= v <= 1 for row in results["rules"]["photos"].values() for v in row.values() if v is not None)
    assert "## The ranker against simple rules" in report and "rules.png" in report
    # how far the fresh splits' shares may lie from other photos': the photos drawn again, each with its rows
    low, high = results["fresh_splits_intervals"]["test_mix_strict_f1"]
    mixed = sum(split["test_mix_strict_f1"] for split in results["fresh_splits"]) / 5
    assert low <= mixed <= high and "95% of draws give" in report
    # a fixed seed: a second run picks the same images and gets the same scores
    again = run_bench(tmp_path / "labels.csv", tmp_path / "images", tmp_path / "out2", limit=30, trials=2,
                      cache_dir=tmp_path / "cache", progress=False)
    assert json.loads((again / "results.json").read_text())["scores"] == results["scores"]

    # bench.fold_splits builds the table as training does: its split 1 is the bench's first fresh split
    many = fold_splits(out / "bench_labels.csv", tmp_path / "images", out / "model", 2, None,
                       cache_dir=tmp_path / "cache", progress=False, rules=True)
    assert many["splits"][0] == results["fresh_splits"][0] and len(many["splits"]) == 2
    shown = render(many).splitlines()
    shown = shown[:shown.index("")]  # then the rules' table
    assert shown[-3].startswith(" mean") and shown[-2].startswith("means of the rest: numeric_f1")
    assert shown[-1].startswith("95% over photos") and "test_mix_strict_f1 " in shown[-1]
    assert "| ranker − best rule |" in render(many) and "| 95% over photos |" in render(many)
    low, high = many["intervals"]["test_mix_strict_f1"]
    assert low <= many["mean"]["test_mix_strict_f1"] <= high
    # a run against another on the same rows and splits: each share's difference with its paired interval
    assert all(d == low == high == 0.0 for d, low, high in compared(many, many).values())
    other = {**many, "mean": {**many["mean"], "other_accuracy": 0.0}}  # these rows hold no dimension row
    assert compared(many, other)["other_accuracy"][0] == many["mean"]["other_accuracy"]
    shown = render({**many, "against": {"path": "base.json", "differences": compared(many, many)}})
    assert "against base.json, the difference and its 95% over photos: " in shown
    assert "test_mix_strict_f1 +0.0000 (+0.000 to +0.000)" in shown
    for wrong in ({**many, "row_index": many["row_index"][1:]}, {**many, "first_split": 2}):
        with pytest.raises(UserError, match="the same"):
            compared(many, wrong)

    picture = tmp_path / "explain.png"
    listing = explain(tmp_path / "images" / "b0.png", "item_weight", "7", picture, model_dir=out / "model",
                      cache_dir=tmp_path / "cache")
    assert listing.startswith("answer: ") and "gram" in listing
    with Image.open(picture) as image:
        assert min(image.size) >= 1000  # an 8-pixel image is enlarged so labels stay legible
    # a photo with no text, of a category train.csv never saw: no answer, and explain says why
    Image.new("RGB", (300, 200), "white").save(tmp_path / "blank.png")
    listing = explain(tmp_path / "blank.png", "item_weight", "999999", picture, model_dir=out / "model",
                      cache_dir=tmp_path / "cache")
    assert listing.startswith("answer: no answer (OCR found no text)")


def test_rows_sharing_a_photo_and_dimension_pairs_answered_alike():
    import pandas as pd

    from bench.shared_photos import answered_pairs, sharing

    rows = pd.DataFrame({
        "image_link": ["a.jpg", "a.jpg", "b.jpg", "b.jpg", "c.jpg", "d.jpg", "d.jpg"],
        "entity_name": ["height", "width", "depth", "item_weight", "height", "width", "depth"],
        "label": ["5.0 inch", "11.88 inch", "2.0 cm", "5.0 gram", "1.0 inch", "3.0 inch", "3.0 inch"],
        "ranker": ["5.0 inch", "5.0 inch", "2.0 cm", "5.0 gram", "1.0 inch", "3.0 inch", "3.0 inch"],
    })
    assert sharing(rows) == {"rows": 7, "photos": 4, "rows_sharing_a_photo": 6, "dimension_rows": 6,
                             "dimension_rows_sharing_a_photo": 4}
    pairs = answered_pairs(rows)
    # a.jpg: one answer for two attributes, one of them right; d.jpg: equal labels, both right
    assert (pairs["pairs"], pairs["answered_alike"], pairs["answered_alike_labels_equal"],
            pairs["answered_alike_one_right"]) == (2, 2, 1, 1)
    assert pairs["answered_alike_examples"][0] == {"photo": "a.jpg", "height": "5.0 inch", "width": "11.88 inch",
                                                   "answer": "5.0 inch"}
