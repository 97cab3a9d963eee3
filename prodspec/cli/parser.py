"""`prodspec`: the command line, a thin shell over functions the tests call directly (`prodspec.cli.commands`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from prodspec import __version__
from prodspec.candidates.ocr import ENGINES, OcrSettings
from prodspec.candidates.runtimes import RECOGNISERS, RUNTIMES
from prodspec.cli import commands
from prodspec.dataset.errors import UserError
from prodspec.dataset.rows import TextCorpus
from prodspec.dataset.units import entity_names


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (where it has one worth showing), and the examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if shown_default(action) and "(default" not in text:
            text += " (default: %(default)s)"
        return text


def shown_default(action: argparse.Action) -> bool:
    """An option's default is worth showing unless it is required, a flag, or unset (its help says what then)."""
    return (bool(action.option_strings) and not action.required and action.default not in (None, False)
            and action.default is not argparse.SUPPRESS)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: at least 1")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text}: more than 0")
    return value


def share(text: str) -> float:
    value = positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text}: a share, at most 1")
    return value


def _verb(sub, name: str, help: str, example: str, run) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".",
                            epilog=f"example:\n  {example}", formatter_class=_Formatter)
    parser.set_defaults(run=run)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prodspec", formatter_class=_Formatter,
        description="Product attribute values from product photos: OCR candidates plus a learned ranker.",
        epilog="example:\n  prodspec predict --input test.csv --images images/ --output predictions.csv\n\n"
               "`prodspec VERB --help` shows a verb's options, their defaults and an example.")
    parser.add_argument("--version", action="version", version=f"prodspec {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    sub = parser.add_subparsers(dest="command", required=True, metavar="VERB")
    cache = {"type": Path, "default": None, "help": "OCR cache folder (default: $PRODSPEC_CACHE_DIR or ~/.cache/prodspec)"}
    text_corpus = {"type": TextCorpus.parse, "action": "append", "default": None, "metavar": "PATH[:ENTITIES]",
                   "help": "labelled flat OCR text (image_link,group_id,entity_name,entity_value,ocr_text) that the "
                           "rankers also learn from; PATH:height,width,depth keeps only those attributes' rows; "
                           "repeat it for several (default: ../shared/data's ocr_text_corpus.csv, and the height, "
                           "width and depth rows of text/ocr_text_more.csv.gz, where they are)"}
    other_text = {"type": TextCorpus.parse, "default": None, "metavar": "PATH[:ENTITIES]",
                  "help": "labelled flat OCR text whose rows the ranker of every attribute but height, width and "
                          "depth also learns from (default: ../shared/data's text/ocr_text_more.csv.gz, 20,000 of "
                          "its item weight, volume and maximum weight rows, where it is; it needs train.csv)"}
    workers = {"type": positive_int, "default": None, "help": "OCR processes (default: one per core; at most 8 on CUDA)"}
    rows_csv = {"type": Path, "required": True, "help": "CSV with columns index,image_link,group_id,entity_name"}
    labels_csv = {"type": Path, "required": True,
                  "help": "CSV with columns image_link,group_id,entity_name,entity_value (the label); index optional"}
    images = {"type": Path, "required": True, "help": "folder of the photos, each found by its link's file name"}
    # a local folder, or a URI of object storage that pyarrow reads (s3://bucket/images)
    photos = {"type": str, "required": True,
              "help": "folder of the photos, each found by its link's file name: a local path, or a URI pyarrow "
                      "reads (s3://bucket/images)"}
    model = {"type": Path, "default": None, "help": "model folder (default: the shipped model)"}
    entities = entity_names()

    p = _verb(sub, "predict", "answer every row of an input CSV",
              "prodspec predict --input test.csv --images images/ --output predictions.csv --details", commands.predict)
    p.add_argument("--input", **rows_csv)
    p.add_argument("--images", **photos)
    p.add_argument("--output", type=Path, required=True,
                   help="file to write: CSV index,prediction (one line per input row), or JSON Lines if it ends "
                        "in .jsonl")
    p.add_argument("--details", action="store_true",
                   help="add confidence (chance the answer is exactly right), source (photo, prior or none) and "
                        "evidence (the printed text) to each line")
    p.add_argument("--no-prior", action="store_true",
                   help="answer only from what the photo prints: no group's usual label for a photo without one")
    p.add_argument("--model", **model)
    p.add_argument("--fast", action="store_true",
                   help="skip the turned pass for vertical text (faster, misses some vertical labels)")
    p.add_argument("--ray", action="store_true",
                   help="read the photos across a Ray cluster (README, Scaling out): a local one unless "
                        "--ray-address names one; finished blocks are kept, so a killed run resumes")
    p.add_argument("--ray-address", default=None,
                   help="the cluster to join, as `ray start --head` printed it (default: $RAY_ADDRESS, else a "
                        "local cluster started for this run)")
    p.add_argument("--ray-actors", type=positive_int, default=None,
                   help="OCR actors (default: as many as the cluster's CPUs hold)")
    p.add_argument("--ray-actor-cpus", type=positive_int, default=1, help="CPUs each OCR actor takes")
    p.add_argument("--ray-actor-gpus", type=float, default=0.0,
                   help="GPUs each OCR actor takes (a share, e.g. 0.25, puts four actors on one GPU)")
    p.add_argument("--cache-dir", **cache)
    p.add_argument("--workers", **workers)

    p = _verb(sub, "train", "learn a model from labelled photos",
              "prodspec train --labels labels.csv --images images/ --model-dir my_model/", commands.train)
    p.add_argument("--labels", **labels_csv | {"action": "append"})
    p.add_argument("--images", **images | {"action": "append",
                                           "help": "folder of the photos of the --labels before it; give --labels "
                                                   "and --images once per source to learn from several"})
    p.add_argument("--model-dir", type=Path, required=True,
                   help="folder to write the model into (`predict --model` reads it)")
    p.add_argument("--objective", choices=["f1", "precision"], default="f1",
                   help="f1: answer where it raises the official F1 (nearly every row); precision: answer only "
                        "where held-out precision reaches --min-precision (catalogue use)")
    p.add_argument("--min-precision", type=share, default=0.95, help="the floor for --objective precision")
    p.add_argument("--trials", type=positive_int, default=30,
                   help="Optuna trials for the ranker's parameters, all of them run: the same data, seed and "
                        "trials give the same model files")
    p.add_argument("--seed", type=int, default=0, help="the fold split's, the study's and LightGBM's seed")
    p.add_argument("--warm-start", type=Path, default=None, metavar="MODEL",
                   help="a model folder whose ranker parameters the study tries first and keeps unless clearly "
                        "beaten (default: none; the model already in --model-dir is not read)")
    p.add_argument("--resume", action="store_true",
                   help="continue the study kept for this very data beside the OCR cache (default: a fresh study)")
    p.add_argument("--train-csv", type=Path, default=None,
                   help="the challenge's train.csv, for priors (default: ../shared/data/train.csv.gz; without it "
                        "the shipped model's priors)")
    p.add_argument("--text-corpus", **text_corpus)
    p.add_argument("--no-text-corpus", action="store_true", help="learn from the photos' rows only")
    p.add_argument("--other-text", **other_text)
    p.add_argument("--no-other-text", action="store_true",
                   help="the other attributes' ranker learns from the photos' rows only")
    p.add_argument("--synthetic", type=Path, default=None,
                   help="a folder of synthetic dimension drawings (labels.csv, images/; `make synth` makes one) "
                        "that height and width rows also learn from (default: none)")
    p.add_argument("--cache-dir", **cache)
    p.add_argument("--workers", **workers)

    p = _verb(sub, "ocr", "fill the OCR cache for an input CSV's photos (resumable, all cores)",
              "prodspec ocr --input test.csv --images images/", commands.ocr)
    p.add_argument("--input", **rows_csv)
    p.add_argument("--images", **photos)
    p.add_argument("--engine", choices=ENGINES, default="rapidocr", help="OCR engine (easyocr needs the extra)")
    p.add_argument("--runtime", choices=RUNTIMES, default=OcrSettings.runtime,
                   help="where RapidOCR's models run on CPU (CUDA always uses ONNX Runtime)")
    p.add_argument("--recogniser", choices=RECOGNISERS, default=OcrSettings.recogniser,
                   help="RapidOCR's text recogniser")
    p.add_argument("--export", type=Path, default=None, help="also write these photos' OCR as a Parquet snapshot (default: none written)")
    p.add_argument("--cache-dir", **cache)
    p.add_argument("--workers", **workers)

    predictions = {"type": Path, "required": True, "help": "CSV with columns index,prediction"}
    p = _verb(sub, "check", "check a predictions CSV against the official format rules",
              "prodspec check --input test.csv --predictions predictions.csv", commands.check)
    p.add_argument("--input", **rows_csv)
    p.add_argument("--predictions", **predictions)

    p = _verb(sub, "evaluate", "official (strict) and numeric F1 per attribute",
              "prodspec evaluate --labels labels.csv --predictions predictions.csv", commands.evaluate)
    p.add_argument("--labels", **labels_csv)
    p.add_argument("--predictions", **predictions)
    p.add_argument("--json", action="store_true", help="print the scores as JSON rather than a table")

    p = _verb(sub, "bench", "ranker against rule baseline and oracle, out of fold, with figures and speed",
              "prodspec bench --limit 100", commands.bench)
    p.add_argument("--labels", type=Path, action="append", default=None,
                   help="labelled CSV, as for train; repeat with --images for several sources (default: "
                        "../shared/data/dev and more, else the bundled sample)")
    p.add_argument("--images", type=Path, action="append", default=None, help="its photos (default: as for --labels)")
    p.add_argument("--out", type=Path, default=Path("bench/out"), help="folder for the report, figures and JSON")
    p.add_argument("--limit", type=positive_int, default=None,
                   help="use this many photos of a single source, picked with --seed (default: all)")
    p.add_argument("--trials", type=positive_int, default=10, help="Optuna trials for the ranker")
    p.add_argument("--seed", type=int, default=0, help="seed that picks the --limit photos")
    p.add_argument("--engines", nargs="*", default=None, help="OCR engines to time (default: the model's)")
    p.add_argument("--text-corpus", **text_corpus)
    p.add_argument("--no-text-corpus", action="store_true", help="learn from the photos' rows only")
    p.add_argument("--other-text", **other_text)
    p.add_argument("--no-other-text", action="store_true",
                   help="the other attributes' ranker learns from the photos' rows only")
    p.add_argument("--synthetic", type=Path, default=None,
                   help="a folder of synthetic dimension drawings, as for train (default: none)")
    p.add_argument("--cache-dir", **cache)
    p.add_argument("--workers", **workers)

    p = _verb(sub, "explain", "draw one photo's boxes, lines, candidates, scores and answer",
              "prodspec explain --image photo.jpg --entity height --output explain.png", commands.explain)
    p.add_argument("--image", type=Path, required=True, help="the photo")
    p.add_argument("--entity", required=True, choices=entities, metavar="ENTITY",
                   help=f"the attribute: one of {', '.join(entities)}")
    p.add_argument("--group", default="", help="the row's group_id (its priors; default: none known)")
    p.add_argument("--output", type=Path, default=Path("out/explain.png"), help="PNG to draw")
    p.add_argument("--model", **model)
    p.add_argument("--cache-dir", **cache)

    p = _verb(sub, "review", "check the answers in a browser, least confident first; corrections become labels",
              "prodspec review --input test.csv --images images/ --predictions predictions.csv "
              "--labels corrections.csv", commands.review)
    p.add_argument("--input", **rows_csv)
    p.add_argument("--images", **images)
    p.add_argument("--predictions", type=Path, required=True,
                   help="the answers to review: `prodspec predict --details` output (index,prediction,confidence,...)")
    p.add_argument("--labels", type=Path, required=True,
                   help="the corrections file, written at each action in the labels format (created if missing; "
                        "`prodspec train --labels` reads it)")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (loopback: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port to serve on")
    p.add_argument("--reviewer", default=None, help="name written beside each correction (default: the login)")
    p.add_argument("--model", **model)
    p.add_argument("--cache-dir", **cache)

    p = _verb(sub, "download", "fetch an input CSV's photos by link into a folder (resumable)",
              "prodspec download --input test.csv --images images/", commands.download)
    p.add_argument("--input", **rows_csv)
    p.add_argument("--images", type=Path, required=True, help="folder to fetch into (photos already there are kept)")
    p.add_argument("--workers", type=positive_int, default=16, help="downloads at once")

    p = _verb(sub, "sample", "a smaller CSV with the same attribute mix",
              "prodspec sample --input test.csv --n 500 --output small.csv", commands.sample)
    p.add_argument("--input", type=Path, required=True, help="CSV to sample rows from")
    p.add_argument("--n", type=positive_int, required=True, help="rows to keep")
    p.add_argument("--stratify", default="entity_name", help="column whose mix the sample keeps")
    p.add_argument("--output", type=Path, required=True, help="CSV to write")
    p.add_argument("--seed", type=int, default=0, help="random seed")
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
    except BrokenPipeError:  # `prodspec ... | head`: the reader left; nothing to say
        sys.stderr.close()
        sys.exit(1)
    except Exception as error:  # a fault of ours, not of the input: one line, the traceback under -v
        if args.verbose:
            raise
        print(f"prodspec: unexpected error: {type(error).__name__}: {error} (run again with -v for the traceback, "
              "and please report it)", file=sys.stderr)
        sys.exit(1)

