"""Photos a second for the single-machine path and for `--ray` with 1 and 2 OCR actors, on the same photos, each with
a cold OCR cache (no snapshot), in one run; and what starting the local Ray cluster costs.

    python -m bench.ray_throughput --limit 60 [--json bench/out/ray_throughput.json]

Each run is timed whole, as a user waits for it: reading the CSV, OCR, candidates, features, ranking, writing. The
Ray runs include starting a local cluster and each actor loading the model and building its OCR engine; the
cluster's start is also given alone. The README's scaling arithmetic rests on these figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from prodspec.dataset.rows import read_rows
from prodspec.serving.distributed import predict_on_ray
from prodspec.serving.predict import predict


def _run(kind: str, source: Path, images: Path, actors: int | None, work: Path) -> dict:
    cache, output = work / f"cache-{kind}-{actors}", work / f"{kind}-{actors}.csv"
    started = time.perf_counter()
    if kind == "plain":
        result = predict(source, str(images), output, cache_dir=cache, shipped_cache=False, progress=False)
    else:
        result = predict_on_ray(source, str(images), output, cache_dir=cache, actors=actors, progress=False,
                                ray_options={"num_cpus": os.cpu_count()}, shipped_cache=False)
    seconds = time.perf_counter() - started
    return {"run": kind, "actors": actors, "photos": result["images"], "seconds": round(seconds, 1),
            "photos_per_s": round(result["images"] / seconds, 3), "ocr_fresh": result["ocr_fresh"],
            "ray_start_seconds": result.get("ray_start_seconds"), "output": output}


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--labels", type=Path, default=Path("../shared/data/dev/labels.csv"))
    cli.add_argument("--images", type=Path, default=Path("../shared/data/dev/images"))
    cli.add_argument("--limit", type=int, default=60, help="photos")
    cli.add_argument("--json", type=Path, default=None)
    args = cli.parse_args()
    rows = read_rows(args.labels, labelled=True)
    names = pd.Series(sorted(set(rows["image_name"]))).sample(frac=1.0, random_state=0)[: args.limit]
    rows = rows[rows["image_name"].isin(set(names))].drop(columns=["image_name", "entity_value"])
    report = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        rows.to_csv(work / "in.csv", index=False)
        for kind, actors in (("plain", None), ("ray", 1), ("ray", 2)):
            line = _run(kind, work / "in.csv", args.images, actors, work)
            report.append(line)
            print(json.dumps({k: v for k, v in line.items() if k != "output"}), flush=True)
        same = [line["output"].read_bytes() == report[0]["output"].read_bytes() for line in report[1:]]
    for line in report:
        line.pop("output")
    result = {"cores": os.cpu_count(), "runs": report, "ray_output_equals_plain": all(same)}
    print(f"ray output byte for byte the plain path's: {all(same)}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
