"""Compare OCR engines and settings on the same real images: candidate recall and seconds per image.

    python -m bench.ocr_trial --limit 60 --setting rapidocr:det_limit_side=960 --setting easyocr

Each --setting is `engine[:key=value,...]` over `OcrSettings`. Results go through the OCR cache, so a
re-run only prints.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import pandas as pd

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.ocr import OcrSettings
from prodspec.candidates.parse import parse_boxes
from prodspec.candidates.recall import recall_table
from prodspec.candidates.run_ocr import ocr_images
from prodspec.dataset.rows import read_rows


def parse_setting(text: str) -> OcrSettings:
    engine, _, rest = text.partition(":")
    settings = OcrSettings(engine=engine)
    for pair in filter(None, rest.split(",")):
        key, value = pair.split("=")
        kind = type(getattr(settings, key))
        settings = settings.with_changes(**{key: value.lower() in ("1", "true") if kind is bool else kind(value)})
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default="../shared/data/dev/labels.csv")
    parser.add_argument("--images", default="../shared/data/dev/images")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--setting", action="append", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = read_rows(args.labels, labelled=True)
    images = sorted(pd.Series(sorted(set(rows["image_name"]))).sample(frac=1.0, random_state=0)[: args.limit])
    rows = rows[rows["image_name"].isin(images)]
    cache = OcrCache()
    report = []
    for text in args.setting:
        settings = parse_setting(text)
        paths = [Path(args.images) / name for name in images]
        results = ocr_images(paths, settings, cache, workers=args.workers)
        seconds = sorted(results[p].seconds for p in paths)
        by_name = {p.name: parse_boxes(results[p].boxes) for p in paths}
        table = recall_table(rows, [by_name[n] for n in rows["image_name"]])
        line = {
            "setting": text,
            "images": len(paths),
            "recall": table["overall"]["recall"],
            "median_s": round(statistics.median(seconds), 3),
            "p90_s": round(seconds[int(0.9 * (len(seconds) - 1))], 3),
            "mean_s": round(statistics.fmean(seconds), 3),
        }
        line["recall_per_s"] = round(line["recall"] / line["mean_s"], 3) if line["mean_s"] else None
        line["recall_per_attribute"] = {k: v["recall"] for k, v in table.items() if k != "overall"}
        report.append(line)
        print(json.dumps(line), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
