"""End-to-end throughput on real images with a cold OCR cache, per OCR setting, in one run.

    python -m bench.throughput --limit 40 --setting rapidocr --setting rapidocr:max_side=1024,det_limit_side=736

For each setting: a fresh cache, then `predict` (decode → OCR → candidates → features → ranker → CSV) over
the same images, timed as a whole, with the candidate recall those boxes allow. `--easyocr N` also times
EasyOCR with its defaults on the first N images, for the ratio. F1 uses the shipped model, which was trained
on the dev images: read it as a check that quality holds across settings, not as a held-out score.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from bench.ocr_trial import parse_setting
from prodspec.candidates.cache import OcrCache
from prodspec.candidates.parse import parse_boxes
from prodspec.candidates.recall import recall_table
from prodspec.candidates.run_ocr import read_folder
from prodspec.dataset.evaluate import score_rows
from prodspec.dataset.rows import read_rows
from prodspec.paths import SHIPPED_MODEL_DIR
from prodspec.serving.predict import predict


def one_setting(rows: pd.DataFrame, images: Path, text: str, workers: int | None, model_dir: Path) -> dict:
    settings = parse_setting(text)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shutil.copytree(model_dir, tmp / "model")
        meta_path = tmp / "model" / "meta.json"
        meta = json.loads(meta_path.read_text())
        meta["ocr_settings"] = asdict(settings)
        meta_path.write_text(json.dumps(meta))
        rows.drop(columns=["image_name"]).to_csv(tmp / "input.csv", index=False)
        started = time.perf_counter()
        result = predict(tmp / "input.csv", images, tmp / "out.csv", tmp / "model", tmp / "cache", workers,
                         shipped_cache=False)
        seconds = time.perf_counter() - started
        answers = list(pd.read_csv(tmp / "out.csv", dtype=str, keep_default_na=False)["prediction"])
        readings, _ = read_folder(rows["image_name"], images, settings, OcrCache(tmp / "cache", shipped_dir=None),
                                  progress=False)
    recall = recall_table(rows, [parse_boxes(readings[n].boxes) for n in rows["image_name"]])["overall"]["recall"]
    return {"setting": text, "images": result["images"], "seconds": round(seconds, 1),
            "images_per_s": round(result["images"] / seconds, 3), "candidate_recall": recall,
            "strict_f1_shipped_model": round(score_rows(list(rows["entity_value"]), answers).strict_f1, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=Path, default=Path("../shared/data/dev/labels.csv"))
    parser.add_argument("--images", type=Path, default=Path("../shared/data/dev/images"))
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--setting", action="append", default=None)
    parser.add_argument("--easyocr", type=int, default=0, help="also time EasyOCR defaults on this many images")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL_DIR)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = read_rows(args.labels, labelled=True)
    names = pd.Series(sorted(set(rows["image_name"]))).sample(frac=1.0, random_state=0)[: args.limit]
    rows = rows[rows["image_name"].isin(set(names))].reset_index(drop=True)
    report = []
    for text in args.setting or ["rapidocr"]:
        line = one_setting(rows, args.images, text, args.workers, args.model)
        report.append(line)
        print(json.dumps(line), flush=True)
    if args.easyocr:
        few = rows[rows["image_name"].isin(set(names[: args.easyocr]))]
        line = one_setting(few, args.images, "easyocr:max_side=0,det_limit_side=2560,rotation_pass=false",
                           args.workers, args.model)
        line["note"] = "EasyOCR defaults (canvas 2560, full-size image)"
        report.append(line)
        print(json.dumps(line), flush=True)
        for other in report[:-1]:
            other["speedup_vs_easyocr_defaults"] = round(other["images_per_s"] / line["images_per_s"], 1)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
