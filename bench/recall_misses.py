"""Why labels are missed: each labelled row whose label is not among its photo's candidates, put under the first
cause that fits (`candidates.recall.MISS_CAUSES`), counted overall and per attribute, with examples.

    python -m bench.recall_misses [--labels CSV] [--images DIR] [--json bench/out/recall_misses.json]

Reads the OCR cache (the shipped snapshot covers the dev photos); photos it lacks are OCRed first.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.ocr import OcrSettings
from prodspec.candidates.parse import parse_boxes
from prodspec.candidates.recall import MISS_CAUSES, label_found, miss_cause
from prodspec.candidates.run_ocr import ocr_images
from prodspec.dataset.rows import read_rows

EXAMPLES = 5  # rows shown per cause


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", default="../shared/data/dev/labels.csv")
    parser.add_argument("--images", default="../shared/data/dev/images")
    parser.add_argument("--json", type=Path, default=Path("bench/out/recall_misses.json"))
    args = parser.parse_args()
    rows = read_rows(args.labels, labelled=True)
    paths = [Path(args.images) / name for name in dict.fromkeys(rows["image_name"])]
    boxes = {p.name: r.boxes for p, r in ocr_images(paths, OcrSettings(), OcrCache()).items()}
    causes: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, list[dict]] = defaultdict(list)
    for index, entity, label, name in rows[["index", "entity_name", "entity_value", "image_name"]].itertuples(
            index=False):
        candidates = parse_boxes(boxes[name])
        if label_found(label, candidates):
            continue
        cause = miss_cause(label, boxes[name], candidates)
        causes["overall"][cause] += 1
        causes[entity][cause] += 1
        if len(examples[cause]) < EXAMPLES:
            examples[cause].append({"index": index, "entity_name": entity, "label": label,
                                    "text": " | ".join(b.text for b in boxes[name])[:160]})
    report = {"rows": len(rows), "missed": sum(causes["overall"].values()),
              "causes": {k: {c: v[c] for c in MISS_CAUSES} for k, v in sorted(causes.items(), key=lambda kv: kv[0] != "overall")},
              "examples": {c: examples[c] for c in MISS_CAUSES}}
    print(f"{report['missed']} of {report['rows']} rows have no candidate equal to their label")
    for cause in MISS_CAUSES:
        print(f"{report['causes']['overall'][cause]:5d}  {cause}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
