"""`prodspec`: a thin command line over functions the tests call directly."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from dataset.errors import UserError

log = logging.getLogger("prodspec")


def _cmd_predict(args) -> None:
    from candidates.ocr import FAST
    from ranker.pipeline import predict

    result = predict(args.input, args.images, args.output, args.model, args.cache_dir, args.workers,
                     ocr_changes=FAST if args.fast else None)
    rate = f"{result['images_per_second']} images/s, " if result["missing_images"] < result["images"] else ""
    print(f"{result['rows']} rows, {result['answered']} answered, {result['images']} images in "
          f"{result['seconds']} s ({rate}{result['ocr_fresh']} newly OCRed"
          + (f", {result['missing_images']} missing or unreadable" if result["missing_images"] else "")
          + ")")
    if "strict_f1" in result:
        print(f"strict F1 against the input's entity_value: {result['strict_f1']}")
    print(result["output"])


def chosen_text_corpus(args) -> Path | None:
    """The corpus the user named, else the shared one where it exists; `--no-text-corpus` trains on photos only."""
    from ranker.pipeline import DEFAULT_TEXT_CORPUS

    if args.no_text_corpus:
        return None
    if args.text_corpus is not None:
        return args.text_corpus
    return DEFAULT_TEXT_CORPUS if DEFAULT_TEXT_CORPUS.is_file() else None


def _cmd_train(args) -> None:
    from ranker.pipeline import train
    from ranker.report import print_training_report

    report = train(args.labels, args.images, args.model_dir, args.objective, args.min_precision, args.trials,
                   args.budget, args.train_csv, cache_dir=args.cache_dir, workers=args.workers,
                   text_corpus=chosen_text_corpus(args))
    print_training_report(report)
    print(f"model written to {args.model_dir}")


def _cmd_ocr(args) -> None:
    from candidates.cache import OcrCache
    from candidates.lines import cache_key
    from candidates.ocr import OcrSettings
    from dataset.images import file_digest
    from dataset.rows import check_images, check_output, read_rows
    from ranker.pipeline import read_images

    if args.export:
        check_output(args.export, "Parquet file")
    rows = read_rows(args.input)
    check_images(args.images)
    settings = OcrSettings(engine=args.engine, runtime=args.runtime, recogniser=args.recogniser)
    cache = OcrCache(args.cache_dir)
    boxes, _, stats = read_images(rows, args.images, settings, cache, args.workers)
    print(f"{stats['images']} images, {stats['ocr_fresh']} newly read, {len(stats['missing'])} missing or unreadable, "
          f"{sum(1 for name, b in boxes.items() if not b and name not in stats['missing'])} with no text; "
          f"cache {cache.path}")
    if args.export:
        digests = {file_digest(args.images / name) for name in boxes} - {None}
        count = cache.export(digests, settings.fingerprint(), args.export, segments_key=cache_key(settings.max_side))
        print(f"exported {count} images' OCR to {args.export}")


def _cmd_check(args) -> None:
    from dataset.check import check_predictions
    from dataset.rows import read_predictions, read_rows

    report = check_predictions(read_rows(args.input), read_predictions(args.predictions))
    for line in report.errors:
        print(f"error: {line}")
    for line in report.warnings:
        print(f"warning: {line}")
    print(f"{'OK' if report.ok else 'FAILED'}: {report.rows} rows, {report.answered} answered, "
          f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if not report.ok:
        sys.exit(1)


def _cmd_evaluate(args) -> None:
    from dataset.evaluate import format_score_table, score_table
    from dataset.rows import read_predictions, read_rows

    labels, predictions = read_rows(args.labels, labelled=True), read_predictions(args.predictions)
    labelled, predicted = set(labels["index"]), set(predictions["index"])
    if not labelled & predicted:
        raise UserError(f"{args.predictions} shares no index with {args.labels}: are they of the same rows?")
    if unanswered := len(labelled - predicted):
        log.warning("%d labelled row(s) have no line in %s: scored as unanswered", unanswered, args.predictions)
    if extra := len(predicted - labelled):
        log.warning("%d line(s) of %s are of no labelled row: not scored", extra, args.predictions)
    table = score_table(labels, predictions)
    if args.json:
        print(json.dumps({k: v.as_dict() for k, v in table.items()}, indent=1))
    else:
        print(format_score_table(table))


def _cmd_bench(args) -> None:
    from ranker.bench import run_bench

    out = run_bench(args.labels, args.images, args.out, limit=args.limit, trials=args.trials, seed=args.seed,
                    cache_dir=args.cache_dir, workers=args.workers, engines=args.engines, text_corpus=chosen_text_corpus(args))
    print(f"report: {out / 'report.md'}\nresults: {out / 'results.json'}")


def _cmd_explain(args) -> None:
    from ranker.explain import explain

    table = explain(args.image, args.entity, args.group, args.output, args.model, args.cache_dir)
    print(table)
    print(args.output)


def _cmd_download(args) -> None:
    from dataset.download import download_images
    from dataset.rows import read_rows

    rows = read_rows(args.input)
    print(json.dumps(download_images(list(rows["image_link"]), args.images, workers=args.workers)))


def _cmd_sample(args) -> None:
    from dataset.rows import check_output, read_rows, write_atomically
    from dataset.splits import stratified_sample

    check_output(args.output)
    rows = read_rows(args.input)
    if args.stratify not in rows.columns:
        raise UserError(f"{args.input}: no column {args.stratify!r} to stratify on")
    picked = stratified_sample(rows, args.n, args.stratify, seed=args.seed).drop(columns=["image_name"])
    write_atomically(picked, args.output)
    print(f"{len(picked)} rows written to {args.output}")


def build_parser() -> argparse.ArgumentParser:
    from candidates.ocr import ENGINES, OcrSettings
    from candidates.runtimes import RECOGNISERS, RUNTIMES

    parser = argparse.ArgumentParser(prog="prodspec", description="Product attribute values from product photos.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    cache = {"type": Path, "default": None, "help": "OCR cache folder (default $PRODSPEC_CACHE_DIR or ~/.cache/prodspec)"}
    text_corpus = {"type": Path, "default": None,
                   "help": "labelled flat OCR text (image_link,group_id,entity_name,entity_value,ocr_text) that the "
                           "dimension ranker also learns from (default ../shared/data/ocr_text_corpus.csv if present)"}
    workers = {"type": int, "default": None, "help": "OCR processes (default: one per core; at most 8 on CUDA)"}
    rows_csv = {"type": Path, "required": True, "help": "CSV with columns index,image_link,group_id,entity_name"}
    labels_csv = {"type": Path, "required": True, "help": "CSV with columns index,image_link,group_id,entity_name,entity_value (the label)"}
    images = {"type": Path, "required": True, "help": "folder of the images, each found by its link's file name"}

    p = sub.add_parser("predict", help="answer an input CSV")
    p.add_argument("--input", **rows_csv)
    p.add_argument("--images", **images)
    p.add_argument("--output", type=Path, required=True, help="CSV to write: index,prediction, one line per input row")
    p.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped models/)")
    p.add_argument("--fast", action="store_true",
                   help="skip the turned pass for vertical text (faster, fewer vertical labels: see the "
                        "README's throughput table)")
    p.add_argument("--cache-dir", **cache)
    p.add_argument("--workers", **workers)
    p.set_defaults(run=_cmd_predict)

    p = sub.add_parser("train", help="learn the ranker from labelled images")
    p.add_argument("--labels", **labels_csv)
    p.add_argument("--images", **images)
    p.add_argument("--objective", choices=["f1", "precision"], default="f1",
                   help="f1: answer where it raises the official F1 (nearly every row); precision: answer only "
                        "where held-out precision reaches --min-precision (catalogue use)")
    p.add_argument("--min-precision", type=float, default=0.95, help="the floor for --objective precision")
    p.add_argument("--trials", type=int, default=30, help="Optuna trials for the ranker")
    p.add_argument("--budget", type=float, default=900, help="seconds Optuna may spend on the ranker")
    p.add_argument("--train-csv", type=Path, default=None, help="train.csv for priors (default ../shared/data)")
    p.add_argument("--model-dir", type=Path, default=Path("models"), help="where the trained model is written")
    p.add_argument("--text-corpus", **text_corpus)
    p.add_argument("--no-text-corpus", action="store_true", help="learn from the photos' rows only")
    p.add_argument("--cache-dir", **cache)
    p.add_argument("--workers", **workers)
    p.set_defaults(run=_cmd_train)

    p = sub.add_parser("ocr", help="fill the OCR cache for an input CSV's images")
    p.add_argument("--input", **rows_csv)
    p.add_argument("--images", **images)
    p.add_argument("--engine", choices=ENGINES, default="rapidocr", help="OCR engine (README, \"OCR engines\")")
    p.add_argument("--runtime", choices=RUNTIMES, default="openvino",
                   help="where RapidOCR's models run on CPU (CUDA always uses ONNX Runtime)")
    p.add_argument("--recogniser", choices=RECOGNISERS, default=OcrSettings.recogniser,
                   help="RapidOCR's text recogniser (README, \"OCR engines\")")
    p.add_argument("--export", type=Path, default=None, help="also write these images' OCR as a Parquet snapshot")
    p.add_argument("--cache-dir", **cache)
    p.add_argument("--workers", **workers)
    p.set_defaults(run=_cmd_ocr)

    predictions = {"type": Path, "required": True, "help": "CSV with columns index,prediction"}
    p = sub.add_parser("check", help="check a predictions CSV against the official format rules")
    p.add_argument("--input", **rows_csv)
    p.add_argument("--predictions", **predictions)
    p.set_defaults(run=_cmd_check)

    p = sub.add_parser("evaluate", help="official (strict) and numeric F1 per attribute")
    p.add_argument("--labels", **labels_csv)
    p.add_argument("--predictions", **predictions)
    p.add_argument("--json", action="store_true", help="print the scores as JSON rather than a table")
    p.set_defaults(run=_cmd_evaluate)

    p = sub.add_parser("bench", help="ranker vs rule baseline vs oracle, with figures and speed")
    p.add_argument("--labels", type=Path, default=None,
                   help="labelled CSV, as for train (default: ../shared/data/dev, else the shipped sample)")
    p.add_argument("--images", type=Path, default=None, help="its images (default: as for --labels)")
    p.add_argument("--out", type=Path, default=Path("bench/out"), help="folder for the report, figures and JSON")
    p.add_argument("--limit", type=int, default=None, help="use this many images, picked with --seed (default all)")
    p.add_argument("--trials", type=int, default=10, help="Optuna trials for the ranker")
    p.add_argument("--seed", type=int, default=0, help="seed that picks the --limit images")
    p.add_argument("--engines", nargs="*", default=None, help="OCR engines to time (default: the default engine)")
    p.add_argument("--text-corpus", **text_corpus)
    p.add_argument("--no-text-corpus", action="store_true", help="learn from the photos' rows only")
    p.add_argument("--cache-dir", **cache)
    p.add_argument("--workers", **workers)
    p.set_defaults(run=_cmd_bench)

    p = sub.add_parser("explain", help="draw one image's boxes, candidates, scores and answer")
    p.add_argument("--image", type=Path, required=True, help="the image file")
    p.add_argument("--entity", required=True, help="the attribute, e.g. item_weight or height")
    p.add_argument("--group", default="0", help="the row's group_id (its priors; default none known)")
    p.add_argument("--output", type=Path, default=Path("out/explain.png"), help="PNG to draw")
    p.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped models/)")
    p.add_argument("--cache-dir", **cache)
    p.set_defaults(run=_cmd_explain)

    p = sub.add_parser("download", help="fetch an input CSV's images into a folder")
    p.add_argument("--input", **rows_csv)
    p.add_argument("--images", type=Path, required=True, help="folder to fetch into (images already there are kept)")
    p.add_argument("--workers", type=int, default=16, help="downloads at once")
    p.set_defaults(run=_cmd_download)

    p = sub.add_parser("sample", help="a smaller CSV with the same attribute mix")
    p.add_argument("--input", type=Path, required=True, help="CSV to sample rows from")
    p.add_argument("--n", type=int, required=True, help="rows to keep")
    p.add_argument("--stratify", default="entity_name", help="column whose mix the sample keeps")
    p.add_argument("--output", type=Path, required=True, help="CSV to write")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.set_defaults(run=_cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        args.run(args)
    except UserError as error:
        print(f"prodspec: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("prodspec: interrupted (finished work is kept in the cache)", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
