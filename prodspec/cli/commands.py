"""What each `prodspec` verb runs: a few lines over the functions the tests call directly."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from prodspec.dataset.errors import UserError

log = logging.getLogger("prodspec")


def predict(args) -> None:
    from prodspec.candidates.ocr import FAST
    from prodspec.serving.predict import predict

    if args.ray:
        from prodspec.serving.distributed import predict_on_ray

        if args.fast or args.workers:
            raise UserError("--fast and --workers are not for --ray: its actors read with the model's settings, "
                            "as many as --ray-actors says")
        result = predict_on_ray(args.input, args.images, args.output, args.model, args.cache_dir, args.ray_address,
                                args.ray_actors, args.ray_actor_cpus, args.ray_actor_gpus, details=args.details,
                                prior=not args.no_prior)
    else:
        result = predict(args.input, args.images, args.output, args.model, args.cache_dir, args.workers,
                         ocr_changes=FAST if args.fast else None, details=args.details, prior=not args.no_prior)
    rate = f"{result['images_per_second']} images/s, " if result["missing_images"] < result["images"] else ""
    print(f"{result['rows']} rows, {result['answered']} answered, {result['images']} images in "
          f"{result['seconds']} s ({rate}{result['ocr_fresh']} newly OCRed"
          + (f", {result['missing_images']} missing or unreadable" if result["missing_images"] else "")
          + ")")
    print(f"answers: {result['from_photo']} read off the photo, {result['from_prior']} from the group's usual "
          f"label (prior), {result['unanswered']} unanswered; {result['missing_images']} photo(s) missing or "
          "unreadable")
    if "strict_f1" in result:
        print(f"strict F1 against the input's entity_value: {result['strict_f1']}")
    if args.ray:
        print(f"ray: {result['actors']} OCR actors, cluster started in {result['ray_start_seconds']} s, "
              f"{result['resumed_blocks']} finished block(s) of an earlier run kept")
    print(result["output"])


def chosen_text_corpus(args) -> list[Path] | None:
    """The corpora the user named, else the shared ones where they exist; `--no-text-corpus` trains on photos only."""
    from prodspec.dataset.rows import TextCorpus
    from prodspec.paths import DEFAULT_TEXT_CORPORA

    if args.no_text_corpus:
        return None
    if args.text_corpus:
        return list(args.text_corpus) if isinstance(args.text_corpus, list) else [args.text_corpus]
    corpora = [TextCorpus.parse(text) for text in DEFAULT_TEXT_CORPORA]
    return [corpus for corpus in corpora if corpus.path.is_file()] or None


def chosen_other_text(args):
    """The other attributes' text corpus the user named, else the shared one where it exists; `--no-other-text`
    leaves their ranker to the photos."""
    from prodspec.paths import DEFAULT_OTHER_TEXT

    if args.no_other_text:
        return None
    if args.other_text:
        return args.other_text
    return DEFAULT_OTHER_TEXT if DEFAULT_OTHER_TEXT.path.is_file() else None


def train(args) -> None:
    from prodspec.training.summary import print_training_report
    from prodspec.training.train import train

    report = train(args.labels, args.images, args.model_dir, args.objective, args.min_precision, args.trials,
                   args.train_csv, cache_dir=args.cache_dir, workers=args.workers,
                   text_corpus=chosen_text_corpus(args), other_text=chosen_other_text(args),
                   synthetic=args.synthetic, seed=args.seed,
                   resume=args.resume, warm_start=args.warm_start)
    print_training_report(report)
    print(f"model written to {args.model_dir}; answer with it: prodspec predict --model {args.model_dir} ...")


def ocr(args) -> None:
    from prodspec.candidates.cache import OcrCache
    from prodspec.candidates.lines import cache_key
    from prodspec.candidates.ocr import OcrSettings
    from prodspec.candidates.run_ocr import read_folder
    from prodspec.dataset.photos import PhotoFolder
    from prodspec.dataset.rows import check_output, read_rows

    if args.export:
        check_output(args.export, "Parquet file")
    rows = read_rows(args.input)
    folder = PhotoFolder(args.images)
    settings = OcrSettings(engine=args.engine, runtime=args.runtime, recogniser=args.recogniser)
    cache = OcrCache(args.cache_dir)
    readings, stats = read_folder(rows["image_name"], folder, settings, cache, args.workers)
    print(f"{stats['images']} images, {stats['ocr_fresh']} newly read, {len(stats['missing'])} missing or unreadable, "
          f"{sum(1 for r in readings.values() if not r.boxes and not r.missing)} with no text; cache {cache.path}")
    if args.export:
        digests = {folder.digest(name) for name, reading in readings.items() if not reading.missing}
        count = cache.export(digests, settings.fingerprint(), args.export, drawing_key=cache_key(settings.max_side))
        print(f"exported {count} images' OCR to {args.export}")


def check(args) -> None:
    from prodspec.dataset.check import check_files

    report = check_files(args.input, args.predictions)
    for line in report.errors:
        print(f"error: {line}")
    for line in report.warnings:
        print(f"warning: {line}")
    verdict = "OK: the official checker accepts it" if report.ok else "FAILED: the official checker refuses it"
    print(f"{verdict}; {report.rows} rows, {report.answered} answered, {len(report.errors)} error(s), "
          f"{len(report.warnings)} warning(s)")
    if not report.ok:
        sys.exit(1)


def evaluate(args) -> None:
    from prodspec.dataset.evaluate import format_score_table, score_table
    from prodspec.dataset.rows import read_predictions, read_rows

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
    if "machine_answer" in labels and not args.json:  # a reviewer's corrections (`prodspec review`)
        from prodspec.review.corrections import changed_shares

        print("\nreviewer changed the machine's answer (share of reviewed rows):")
        for line in changed_shares(labels).to_dict("records"):
            print(f"  {line['group']:32} {line['reviewed']:>6} reviewed, {line['changed']:.3f} changed")


def bench(args) -> None:
    from prodspec.evaluation.bench import run_bench

    out = run_bench(args.labels, args.images, args.out, limit=args.limit, trials=args.trials, seed=args.seed,
                    cache_dir=args.cache_dir, workers=args.workers, engines=args.engines,
                    text_corpus=chosen_text_corpus(args), other_text=chosen_other_text(args),
                    synthetic=args.synthetic)
    print(f"report: {out / 'report.md'}\nresults: {out / 'results.json'}")


def explain(args) -> None:
    from prodspec.serving.explain import explain

    print(explain(args.image, args.entity, args.group, args.output, args.model, args.cache_dir))
    print(args.output)


def review(args) -> None:
    from prodspec.review.serve import serve

    serve(args.input, args.images, args.predictions, args.labels, host=args.host, port=args.port,
          reviewer=args.reviewer, model_dir=args.model, cache_dir=args.cache_dir)


def download(args) -> None:
    from prodspec.dataset.download import download_images
    from prodspec.dataset.rows import read_rows

    rows = read_rows(args.input)
    print(json.dumps(download_images(list(rows["image_link"]), args.images, workers=args.workers)))


def sample(args) -> None:
    from prodspec.dataset.rows import check_output, read_rows, write_atomically
    from prodspec.dataset.splits import stratified_sample

    check_output(args.output, input_csv=args.input)
    rows = read_rows(args.input)
    if args.stratify not in rows.columns:
        raise UserError(f"{args.input}: no column {args.stratify!r} to stratify on; its columns: "
                        f"{', '.join(c for c in rows.columns if c != 'image_name')}")
    picked = stratified_sample(rows, args.n, args.stratify, seed=args.seed).drop(columns=["image_name"])
    write_atomically(picked, args.output)
    print(f"{len(picked)} rows written to {args.output}")
