"""Parser recall on another system's OCR text (`ocr_text_corpus.csv`: flat text, no boxes), side by side
with quantulum3 on the same texts.

    python -m bench.parser_recall [--corpus ../shared/data/ocr_text_corpus.csv] [--json bench/out/parser_recall.json]

A row counts when its label (value and unit; either end of a range) is among the quantities found.
quantulum3's unit names are mapped to the task's; its `cubic centimetre` counts as millilitre.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections import defaultdict
from pathlib import Path

import pandas as pd

from prodspec.candidates.parse import parse_text
from prodspec.dataset.labels import parse_label

QUANTULUM_UNITS = {"pound-mass": "pound", "cubic centimetre": "millilitre", "litre": "litre", "tonne": "ton",
                   "short ton": "ton", "metric ton": "ton", "us fluid ounce": "fluid ounce",
                   "cubic foot": "cubic foot", "cubic inch": "cubic inch", "us gallon": "gallon"}


def quantulum_quantities(text: str) -> list[tuple[float, str]]:
    from quantulum3 import parser

    out = []
    for q in parser.parse(text):
        name = q.unit.name
        out.append((float(q.value), QUANTULUM_UNITS.get(name, name)))
        if name == "ounce":
            out.append((float(q.value), "fluid ounce"))
    return out


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--corpus", type=Path, default=Path("../shared/data/ocr_text_corpus.csv"))
    cli.add_argument("--json", type=Path, default=None)
    args = cli.parse_args()
    warnings.filterwarnings("ignore")
    corpus = pd.read_csv(args.corpus, dtype=str, keep_default_na=False)
    hits: dict[str, dict[str, list[bool]]] = {"prodspec": defaultdict(list), "quantulum3": defaultdict(list)}
    seconds = {"prodspec": 0.0, "quantulum3": 0.0}
    for entity, truth, text in zip(corpus["entity_name"], corpus["entity_value"], corpus["ocr_text"]):
        label = parse_label(truth)
        if label is None:
            continue
        for name, finder in (("prodspec", lambda t: [(c.value, c.unit) for c in parse_text(t)]),
                             ("quantulum3", quantulum_quantities)):
            started = time.perf_counter()
            try:
                found = finder(text)
            except Exception:  # noqa: BLE001 - a library crash on one text counts as nothing found
                found = []
            seconds[name] += time.perf_counter() - started
            ok = any(label.matches(v, u) for v, u in found)
            hits[name][entity].append(ok)
            hits[name]["overall"].append(ok)
    report = {
        name: {k: {"rows": len(v), "recall": round(sum(v) / len(v), 4)} for k, v in sorted(table.items())}
        | {"seconds": round(seconds[name], 1)}
        for name, table in hits.items()
    }
    for name, table in report.items():
        print(name, json.dumps(table))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
