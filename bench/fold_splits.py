"""A model's ranker parameters scored out of fold on many photo-grouped fold splits, every row answered.

    python -m bench.fold_splits --splits 20 [--model models] [--json bench/out/fold_splits.json]
    python -m bench.fold_splits --labels ../shared/data/dev/labels.csv --images ../shared/data/dev/images
    python -m bench.fold_splits --synthetic out/synthetic        # with the drawing ranker, as `make train` builds it
    python -m bench.fold_splits --without drawn_                  # an ablation: these features left out
    python -m bench.fold_splits --one-by-one                      # a photo's dimension rows answered one by one
    python -m bench.fold_splits --order-weight 1                  # a depth and a width by the catalogue's order at 1
    python -m bench.fold_splits --rules                           # and the simple rules on the same splits
    python -m bench.fold_splits --splits 20 --first-split 201 --synthetic out/synthetic --rules --figure docs/rules.png
    python -m bench.fold_splits --dimension-blend 0.5             # the photos ranker's weight in a dimension row
    python -m bench.fold_splits --dimension-blend 0.5 --against base.json   # its difference from a --json base.json
    python -m bench.fold_splits --no-other-text                   # the other attributes' ranker without text rows
    python -m bench.fold_splits --other-text ../shared/data/text/ocr_text_more.csv.gz:voltage --other-text-rows 5000

One fold split of about 600 rows moves top-1 and F1 by a few rows, so a change of 0.005 is within the noise of a
few splits; over 20 it is not, but the 80 height, width and depth rows still hold their share only to about ±0.09
over other photos like them (the intervals it prints), and `--against` gives a change's own, narrower interval. The
table is built as `prodspec train` builds it (OCR from the cache or the shipped snapshots, priors without the rows
they score, the text corpora for the dimension and the other rankers), from every labelled source given (default:
the dev and more photos, folds grouped by photo across both), and each split trains four-seed ensembles with the
model's parameters on four folds and scores the fifth. Besides top-1 and F1 it gives the share of rows answered
exactly right: height, width and depth together and each, the other attributes, and each source.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import pandas as pd

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.ocr import OcrSettings
from prodspec.cli.commands import chosen_other_text, chosen_text_corpus
from prodspec.dataset.errors import UserError
from prodspec.dataset.rows import TextCorpus
from prodspec.evaluation.intervals import (
    exact_of,
    exact_text,
    paired_intervals,
    photo_intervals,
)
from prodspec.evaluation.rules import rule_figure, rule_table
from prodspec.paths import SHARED_DATA, SHIPPED_MODEL_DIR
from prodspec.ranker.blend import (
    dimension_blend_of,
    has_height_width_ranker,
    ranker_features,
)
from prodspec.ranker.joint import JointPolicy
from prodspec.ranker.lambdarank import RankerParams
from prodspec.training.crossval import scores_on_fresh_splits
from prodspec.training.data import corpora_of, training_data

SHOWN = ("top1", "strict_f1", "test_mix_strict_f1", "dimension_top1", "dimension_accuracy", "other_accuracy")
DEFAULT_SOURCES = [SHARED_DATA / "dev", SHARED_DATA / "more"]
MODELS = "the model's"  # an option left to the model's meta.json


def fold_splits(labels: list[Path], images: list[Path], model_dir: Path, splits: int, text_corpus: list[Path] | None,
                train_csv: Path | None = None, cache_dir: Path | None = None, progress: bool = True,
                without: tuple[str, ...] = (), first_split: int = 1, synthetic: Path | None = None,
                drawing_weight: float | None = None, p_equal: float | None | str = MODELS,
                order_weight: float | None | str = MODELS, rules: bool = False,
                dimension_blend: float | None = None, height_width_ranker: bool | None = None,
                other_text: TextCorpus | None = None) -> dict:
    """`drawing_weight`: the drawing ranker's weight in the blend (default: the model's; it needs `synthetic`);
    `dimension_blend`: the photos ranker's weight in a dimension row's blend (default: the model's);
    `p_equal`: the joint answer's weight (`ranker.joint`; None: one by one; default: the model's); `order_weight`:
    the weight of the catalogue's order of a photo's depth and width (`ranker.joint.order_choices`; None: not weighed;
    default: the model's); `rules`: the
    simple rules too;
    `height_width_ranker`: whether height and width rows take a dimension ranker of their own (default: as the model
    does; `ranker.blend.fit_height_width_ranker`); `other_text`: a text corpus the other attributes' ranker learns
    from too (`prodspec.training.data.training_data`)."""
    meta = json.loads((model_dir / "meta.json").read_text())
    if drawing_weight is None:
        drawing_weight = float(meta.get("drawing_weight", 0.0)) if synthetic is not None else 0.0
    if dimension_blend is None:
        dimension_blend = dimension_blend_of(meta)
    if height_width_ranker is None:
        height_width_ranker = has_height_width_ranker(meta)
    models = JointPolicy.of(meta)
    joint = JointPolicy(models.p_equal if p_equal == MODELS else p_equal,
                        models.order_weight if order_weight == MODELS else order_weight)
    settings = OcrSettings.from_meta(meta["ocr_settings"])
    cache = OcrCache(cache_dir)
    try:
        data = training_data(labels, images, settings, cache, progress=progress, text_corpus=text_corpus,
                             train_csv=train_csv, model_dir=model_dir, synthetic=synthetic, other_text=other_text)
    finally:
        cache.close()
    params = RankerParams(**meta["params"])
    features = [f for f in ranker_features(data.table_features, meta["objective"]) if not f.startswith(without)]
    fresh = scores_on_fresh_splits(data.table, data.priors, meta["fallback"], features, params,
                                   seeds=range(first_split, first_split + splits), text=data.text, words=data.words,
                                   drawn=data.drawn, drawing_weight=drawing_weight, joint=joint, rules=rules,
                                   dimension_blend=dimension_blend, height_width_ranker=height_width_ranker)
    return {"model": str(model_dir), "params": meta["params"], "rows": len(data.rows), "text_rows": data.text_rows,
            "sources": data.rows["source"].value_counts().to_dict(),
            "text_corpus": [str(c) for c in corpora_of(text_corpus)], "other_text": str(other_text) if other_text else None,
            "other_text_rows": data.other_text_rows, "synthetic": str(synthetic) if synthetic else None,
            "without": list(without), "drawing_weight": drawing_weight, "dimension_blend": dimension_blend,
            "height_width_ranker": height_width_ranker,
            "p_equal": joint.p_equal, "order_weight": joint.order_weight, "first_split": first_split,
            "splits": fresh.splits, "mean": fresh.mean, "intervals": photo_intervals(data.rows, fresh.exact),
            "row_index": data.rows["index"].astype(str).tolist(), "row_photo": data.rows["image_name"].tolist(),
            "row_entity": data.rows["entity_name"].tolist(), "exact": exact_text(fresh.exact)}


def compared(result: dict, baseline: dict) -> dict:
    """The difference of `result`'s shares from `baseline`'s (another run's `fold_splits` on the same rows and fold
    splits), with its 95% interval over photos (`paired_intervals`)."""
    if baseline.get("row_index") != result["row_index"] or "exact" not in baseline:
        raise UserError("the runs compared must score the same rows (a --json of this script on the same labels)")
    if (baseline.get("first_split"), len(baseline["splits"])) != (result["first_split"], len(result["splits"])):
        raise UserError("the runs compared must score the same fold splits (--first-split and --splits)")
    rows = pd.DataFrame({"image_name": result["row_photo"], "entity_name": result["row_entity"]})
    spans = paired_intervals(rows, exact_of(result["exact"]), exact_of(baseline["exact"]))
    return {name: [round(result["mean"][name] - baseline["mean"][name], 4), *span] for name, span in spans.items()
            if result["mean"].get(name) is not None and baseline["mean"].get(name) is not None}


def _cell(value: float | None) -> str:
    return f"{value:>18.4f}" if value is not None else f"{'-':>18}"


def render(result: dict) -> str:
    lines = [f"{'split':>5}  " + "  ".join(f"{k:>18}" for k in SHOWN)]
    lines += [f"{i:>5}  " + "  ".join(_cell(s.get(k)) for k in SHOWN) for i, s in enumerate(result["splits"], 1)]
    lines.append(f"{'mean':>5}  " + "  ".join(_cell(result["mean"].get(k)) for k in SHOWN))
    rest = {k: v for k, v in result["mean"].items() if k not in SHOWN and not k.startswith("rule_")}
    lines.append("means of the rest: " + ", ".join(f"{k} {v}" for k, v in rest.items()))
    intervals = result.get("intervals") or {}
    if intervals:
        lines.append("95% over photos (drawn again with replacement): " + ", ".join(
            f"{k} {result['mean'][k]:.3f} ({low:.3f}–{high:.3f})" for k, (low, high) in intervals.items()
            if result["mean"].get(k) is not None))
    if "against" in result:
        lines.append(f"against {result['against']['path']}, the difference and its 95% over photos: " + ", ".join(
            f"{k} {d:+.4f} ({low:+.3f} to {high:+.3f})" for k, (d, low, high) in result["against"]["differences"].items()))
    if any(k.startswith("rule_") for k in result["mean"]):
        lines += ["", rule_table(result["mean"], intervals or None)]
    return "\n".join(lines)


def _baseline(path: Path) -> dict:
    """Another run's --json, read before this run's work; one clear line where it cannot serve."""
    try:
        baseline = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot be read as a fold_splits result ({error})") from error
    if not isinstance(baseline, dict) or "exact" not in baseline:
        raise UserError(f"{path}: holds no per-row answers (a --json of this script holds them)")
    return baseline


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--splits", type=int, default=20)
    cli.add_argument("--first-split", type=int, default=1, help="the first fold split's seed (1: the bench's)")
    cli.add_argument("--model", type=Path, default=SHIPPED_MODEL_DIR)
    cli.add_argument("--labels", type=Path, action="append", default=None,
                     help="a labelled CSV; give --labels and --images once per source (default: dev and more)")
    cli.add_argument("--images", type=Path, action="append", default=None)
    cli.add_argument("--text-corpus", type=TextCorpus.parse, action="append", default=None,
                     help="default: the shared text corpora where present")
    cli.add_argument("--no-text-corpus", action="store_true", help="the dimension ranker learns from photos only")
    cli.add_argument("--other-text", type=TextCorpus.parse, default=None,
                     help="a text corpus the other attributes' ranker learns from (default: the shared one, a sample)")
    cli.add_argument("--other-text-rows", type=int, default=None,
                     help="a seeded sample of this many of --other-text's rows (default: all of a corpus named, the "
                          "shared one's sample)")
    cli.add_argument("--no-other-text", action="store_true", help="the other attributes' ranker learns from photos only")
    cli.add_argument("--without", action="append", default=[], help="leave out the features whose names start so")
    cli.add_argument("--synthetic", type=Path, default=None, help="a folder of synthetic drawings to learn from too")
    cli.add_argument("--drawing-weight", type=float, default=None,
                     help="the drawing ranker's weight in the blend (default: the model's, with --synthetic)")
    cli.add_argument("--dimension-blend", type=float, default=None,
                     help="the photos ranker's weight in a dimension row's blend (default: the model's)")
    cli.add_argument("--height-width-ranker", action=argparse.BooleanOptionalAction, default=None,
                     help="height and width rows take a dimension ranker of their own (default: as the model does)")
    joint = cli.add_mutually_exclusive_group()
    joint.add_argument("--one-by-one", action="store_true",
                       help="answer a photo's dimension rows one by one (neither joint answer)")
    joint.add_argument("--p-equal", type=float, default=None,
                       help="answer a photo's dimension rows together at this weight (default: as the model does)")
    cli.add_argument("--order-weight", type=float, default=None,
                     help="answer a photo's depth and width by the catalogue's order at this weight (default: as the "
                          "model does)")
    cli.add_argument("--rules", action="store_true", help="score the simple rules on the same splits")
    cli.add_argument("--json", type=Path, default=None)
    cli.add_argument("--against", type=Path, default=None,
                     help="another run's --json on the same rows and splits: each share's difference from it, with "
                          "its 95%% interval over photos")
    cli.add_argument("--figure", type=Path, default=None,
                     help="with --rules, draw the ranker against the rules here (as docs/rules.png)")
    args = cli.parse_args()
    if args.one_by_one and args.order_weight is not None:
        cli.error("--one-by-one answers every row alone: give it or --order-weight, not both")
    if args.figure and not args.rules:
        cli.error("--figure draws the ranker against the rules: give --rules with it")
    try:
        baseline = _baseline(args.against) if args.against else None
    except UserError as error:
        cli.error(str(error))
    other_text = chosen_other_text(args)
    if args.other_text_rows is not None and other_text is not None:
        other_text = dataclasses.replace(other_text, rows=args.other_text_rows)
    labels = args.labels or [folder / "labels.csv" for folder in DEFAULT_SOURCES]
    images = args.images or [folder / "images" for folder in DEFAULT_SOURCES]
    result = fold_splits(labels, images, args.model, args.splits, chosen_text_corpus(args),
                         without=tuple(args.without), first_split=args.first_split, synthetic=args.synthetic,
                         drawing_weight=args.drawing_weight,
                         p_equal=None if args.one_by_one else MODELS if args.p_equal is None else args.p_equal,
                         order_weight=(None if args.one_by_one else MODELS if args.order_weight is None
                                       else args.order_weight),
                         rules=args.rules, dimension_blend=args.dimension_blend,
                         height_width_ranker=args.height_width_ranker, other_text=other_text)
    if baseline is not None:
        try:
            result["against"] = {"path": str(args.against), "differences": compared(result, baseline)}
        except UserError as error:  # this run's own figures are still shown and written
            print(f"--against {args.against}: {error}", file=sys.stderr)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    if args.figure:
        first = args.first_split
        rule_figure(result["mean"], args.figure, f"The ranker against simple rules, fold splits {first}–"
                    f"{first + args.splits - 1}", result["intervals"])


if __name__ == "__main__":
    main()
