"""Time RapidOCR's speed levers one at a time on the same real photos: one process, one thread, no cache.

    python -m bench.ocr_levers --limit 30

The first eight lines each add one lever to the line before, from rapidocr-onnxruntime's own behaviour
(ONNX Runtime, the detector run at the photo's size up to 2000 px, no memory arena, recognition batches
of 16) to today's default; the others change one thing in the default. Seconds are the mean of `engine.read` per
image (decode excluded); recall is over the rows of those photos. On 30 photos recall moves by a row
or two between settings: `bench.ocr_trial --limit 600` is the quality check.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from prodspec.candidates.engines import make_engine
from prodspec.candidates.ocr import OcrSettings
from prodspec.candidates.parse import parse_boxes
from prodspec.candidates.recall import recall_table
from prodspec.dataset.images import load_rgb
from prodspec.dataset.rows import read_rows

CLS = {"use_angle_cls": True}  # rapidocr's own default, and prodspec's until the detector went to 1440
ORT_1280 = CLS | {"runtime": "onnxruntime", "det_limit_side": 1280}
LEVERS = [
    ("rapidocr as shipped: ONNX Runtime, detector at the photo's size (1600 px), no arena, batches of 16",
     CLS | {"runtime": "onnxruntime", "det_limit_side": 1600, "memory_arena": False, "rec_batch": 16}),
    ("+ detector at 1280 px (recognition still reads the 1600 px photo)",
     ORT_1280 | {"memory_arena": False, "rec_batch": 16}),
    ("+ ONNX Runtime memory arena", ORT_1280 | {"rec_batch": 16}),
    ("+ recognition batches of 3", ORT_1280),
    ("+ OpenVINO instead of ONNX Runtime, f32", CLS | {"det_limit_side": 1280, "precision": "f32"}),
    ("+ OpenVINO in bf16", CLS | {"det_limit_side": 1280}),
    ("+ detector at 1600 px", CLS | {"det_limit_side": 1600}),
    ("+ detector at 1440 px, no angle classifier on the main pass: the default", {}),
    ("default, crops padded to 160 px, not 320", {"rec_min_width": 160}),
    ("default, no turned pass (--fast)", {"rotation_pass": False}),
]


def time_setting(settings: OcrSettings, images: list[Path]) -> tuple[float, dict[str, list]]:
    engine = make_engine(settings)
    engine.read(load_rgb(images[0], max_side=settings.max_side))  # first call allocates: not timed
    seconds, candidates = 0.0, {}
    for path in images:
        image = load_rgb(path, max_side=settings.max_side)
        started = time.perf_counter()
        boxes = engine.read(image)
        seconds += time.perf_counter() - started
        candidates[path.name] = parse_boxes(boxes)
    return seconds / len(images), candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, default=Path("../shared/data/dev/labels.csv"))
    parser.add_argument("--images", type=Path, default=Path("../shared/data/dev/images"))
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--json", type=Path, default=Path("bench/out/ocr_levers.json"))
    args = parser.parse_args()
    rows = read_rows(args.labels, labelled=True)
    names = sorted(pd.Series(sorted(set(rows["image_name"]))).sample(frac=1.0, random_state=0)[: args.limit])
    rows = rows[rows["image_name"].isin(set(names))]
    images = [args.images / name for name in names]
    report = []
    for label, changes in LEVERS:
        settings = OcrSettings(threads=1).with_changes(**changes)
        mean_s, candidates = time_setting(settings, images)
        recall = recall_table(rows, [candidates[n] for n in rows["image_name"]])["overall"]["recall"]
        line = {"lever": label, "settings": changes, "images": len(images), "mean_s_per_image_one_core": round(mean_s, 3),
                "candidate_recall": recall}
        report.append(line)
        print(json.dumps(line), flush=True)
    base = report[0]["mean_s_per_image_one_core"]
    for line in report:
        line["speedup_vs_shipped"] = round(base / line["mean_s_per_image_one_core"], 2)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
