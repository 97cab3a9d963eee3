"""A model's ranker parameters scored out of fold on many image-grouped fold splits, every row answered.

    python -m bench.fold_splits --splits 20 [--model models] [--json bench/out/fold_splits.json]

One fold split of about 600 rows moves top-1 and F1 by a few rows, so a change of 0.005 is within the
noise of the bench's five fresh splits; over 20 splits (about 5 min on 2 cores) it is not. The table is
built as `prodspec train` builds it (OCR from the cache or the shipped snapshot, priors without the rows
they score, the text corpus for the dimension ranker), and each split trains four-seed ensembles with the
model's parameters on four folds and scores the fifth. Splits 1-5 are the bench's fresh splits. Top-1 on the
height, width and depth rows alone is given too: about 60 dev rows, but two thirds of the test file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from candidates.cache import OcrCache
from candidates.ocr import OcrSettings
from prodspec.bench import default_data
from prodspec.commands import chosen_text_corpus
from prodspec.crossval import scores_on_fresh_splits, split_means
from prodspec.paths import SHIPPED_MODEL_DIR
from prodspec.training_data import training_data
from ranker.blend import ranker_features
from ranker.lambdarank import RankerParams

MEASURES = ("top1", "strict_f1", "numeric_f1", "test_mix_strict_f1", "dimension_top1")


def fold_splits(labels: Path, images: Path, model_dir: Path, splits: int, text_corpus: Path | None,
                train_csv: Path | None = None, cache_dir: Path | None = None, progress: bool = True) -> dict:
    meta = json.loads((model_dir / "meta.json").read_text())
    settings = OcrSettings.from_meta(meta["ocr_settings"])
    cache = OcrCache(cache_dir)
    try:
        data = training_data(labels, images, settings, cache, progress=progress, text_corpus=text_corpus,
                             train_csv=train_csv, model_dir=model_dir)
    finally:
        cache.close()
    params = RankerParams(**meta["params"])
    features = ranker_features(data.table_features, meta["objective"])
    per_split = scores_on_fresh_splits(data.table, data.priors, meta["fallback"], features, params,
                                       seeds=range(1, splits + 1), text=data.text, words=data.words)
    return {"model": str(model_dir), "params": meta["params"], "rows": len(data.rows), "text_rows": data.text_rows,
            "splits": per_split,
            "mean": split_means(per_split)}


def _cell(value: float | None) -> str:
    return f"{value:>18.4f}" if value is not None else f"{'-':>18}"


def render(result: dict) -> str:
    lines = [f"{'split':>5}  " + "  ".join(f"{k:>18}" for k in MEASURES)]
    lines += [f"{i:>5}  " + "  ".join(_cell(s[k]) for k in MEASURES) for i, s in enumerate(result["splits"], 1)]
    lines.append(f"{'mean':>5}  " + "  ".join(_cell(result["mean"][k]) for k in MEASURES))
    return "\n".join(lines)


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--splits", type=int, default=20)
    cli.add_argument("--model", type=Path, default=SHIPPED_MODEL_DIR)
    cli.add_argument("--labels", type=Path, default=None)
    cli.add_argument("--images", type=Path, default=None)
    cli.add_argument("--text-corpus", type=Path, default=None,
                     help="default ../shared/data/ocr_text_corpus.csv if present")
    cli.add_argument("--no-text-corpus", action="store_true", help="the dimension ranker learns from photos only")
    cli.add_argument("--json", type=Path, default=None)
    args = cli.parse_args()
    labels, images = (args.labels, args.images) if args.labels and args.images else default_data()
    result = fold_splits(labels, images, args.model, args.splits, chosen_text_corpus(args))
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
