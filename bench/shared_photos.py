"""Rows that share a photo: how many there are, how often their labels agree, and how the ranker answered them.

    python -m bench.shared_photos [--input ../shared/data/test_links.csv.gz] [--labels ../shared/data/train.csv.gz]
        [--answers bench/out/answers.csv --answer-labels ../shared/data/dev/labels.csv]
        [--json bench/out/shared_photos.json]

prodspec answers each row on its own. Where a photo has a height and a width row, say, the two answers could be
chosen together (one drawing's numbers shared out); whether that pays depends on how many test rows share a
photo, how often two dimension labels of one photo are equal (then different answers would be wrong), and how
often the ranker gives two such rows the same answer. `--answers` is the bench's `answers.csv`, whose rows are
matched to their photos through `--answer-labels`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from prodspec.dataset.rows import read_rows
from prodspec.ranker.blend import DIMENSIONS


def sharing(rows: pd.DataFrame) -> dict:
    """Rows whose photo has a row of another attribute; dimension rows whose photo has another dimension's row."""
    attributes = rows.groupby("image_link")["entity_name"].transform("nunique")
    dims = rows[rows["entity_name"].isin(DIMENSIONS)]
    dim_attributes = dims.groupby("image_link")["entity_name"].transform("nunique")
    return {"rows": len(rows), "photos": int(rows["image_link"].nunique()),
            "rows_sharing_a_photo": int((attributes > 1).sum()),
            "dimension_rows": len(dims), "dimension_rows_sharing_a_photo": int((dim_attributes > 1).sum())}


def dimension_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """Every pair of rows of one photo that ask for two different dimension attributes (columns `_a` and `_b`)."""
    dims = rows[rows["entity_name"].isin(DIMENSIONS)]
    pairs = dims.merge(dims, on="image_link", suffixes=("_a", "_b"))
    return pairs[pairs["entity_name_a"] < pairs["entity_name_b"]].reset_index(drop=True)


def answered_pairs(answers: pd.DataFrame) -> dict:
    """How the ranker answered each pair of dimension rows of one photo (`answers`: label, ranker, image_link)."""
    pairs = dimension_pairs(answers)
    alike = pairs[(pairs["ranker_a"] == pairs["ranker_b"]) & (pairs["ranker_a"] != "")]
    right_a, right_b = alike["ranker_a"] == alike["label_a"], alike["ranker_b"] == alike["label_b"]
    return {"pairs": len(pairs),
            "answered_alike": len(alike),
            "answered_alike_labels_equal": int((alike["label_a"] == alike["label_b"]).sum()),
            "answered_alike_one_right": int((right_a != right_b).sum()),
            "answered_alike_examples": [{"photo": Path(p["image_link"]).name, p["entity_name_a"]: p["label_a"],
                                         p["entity_name_b"]: p["label_b"], "answer": p["ranker_a"]}
                                        for p in alike.to_dict("records")]}


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--input", type=Path, default=Path("../shared/data/test_links.csv.gz"))
    cli.add_argument("--labels", type=Path, default=Path("../shared/data/train.csv.gz"))
    cli.add_argument("--answers", type=Path, default=Path("bench/out/answers.csv"))
    cli.add_argument("--answer-labels", type=Path, default=Path("../shared/data/dev/labels.csv"))
    cli.add_argument("--json", type=Path, default=None)
    args = cli.parse_args()
    report = {"input": {"file": str(args.input), **sharing(read_rows(args.input))}}
    labels = read_rows(args.labels, labelled=True)
    pairs = dimension_pairs(labels)
    report["labels"] = {"file": str(args.labels), **sharing(labels), "dimension_label_pairs": len(pairs),
                        "equal_pairs": int((pairs["entity_value_a"] == pairs["entity_value_b"]).sum())}
    if args.answers.is_file():
        answers = pd.read_csv(args.answers, dtype=str, keep_default_na=False)
        photos = read_rows(args.answer_labels, labelled=True)[["index", "image_link"]]
        report["answers"] = {"file": str(args.answers), **answered_pairs(answers.merge(photos, on="index"))}
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
