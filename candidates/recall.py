"""Candidate recall: the share of labelled rows whose label is among the image's candidates (the ceiling)."""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

from prodspec.candidates.convert import to_base
from prodspec.candidates.parse import printed_numbers
from prodspec.candidates.records import Candidate, TextBox
from prodspec.dataset.labels import parse_label


def label_found(label_text: str, candidates: list[Candidate]) -> bool:
    label = parse_label(label_text)
    return label is not None and any(label.matches(c.value, c.unit) for c in candidates)


def recall_table(rows: pd.DataFrame, candidates_by_row: list[list[Candidate]]) -> dict[str, dict]:
    """Per entity_name and overall: rows, rows whose label is a candidate, recall."""
    hits: dict[str, list[bool]] = defaultdict(list)
    for entity, label, candidates in zip(rows["entity_name"], rows["entity_value"], candidates_by_row):
        found = label_found(label, candidates)
        hits[entity].append(found)
        hits["overall"].append(found)
    return {
        name: {"rows": len(v), "found": int(sum(v)), "recall": round(sum(v) / len(v), 4)}
        for name, v in sorted(hits.items(), key=lambda kv: (kv[0] != "overall", kv[0]))
    }


# why a label is not among an image's candidates, in the order they are tried (`miss_cause`)
MISS_CAUSES = ("no text read", "the same quantity in another unit", "its number printed, not as that quantity",
               "one character off", "not in the text")
SAME_QUANTITY = 0.02  # relative gap within which two quantities in different units are taken as one


def miss_cause(label_text: str, boxes: list[TextBox], candidates: list[Candidate]) -> str:
    """Why a label is not among the candidates, from what the boxes hold; the first of MISS_CAUSES that fits.

    Only the last says nothing on the photo comes near the label: its value not printed, or not read at all.
    """
    label = parse_label(label_text)
    if not boxes:
        return MISS_CAUSES[0]
    if label is None:
        return MISS_CAUSES[-1]
    bases = [to_base(v, label.unit) for v in label.values]
    for c in candidates:
        there = to_base(c.value, c.unit)
        if c.unit != label.unit and there and any(
                b and b[1] == there[1] and math.isclose(b[0], there[0], rel_tol=SAME_QUANTITY) for b in bases):
            return MISS_CAUSES[1]
    if any(math.isclose(p, v, rel_tol=1e-6) for p in printed_numbers(boxes) for v in label.values):
        return MISS_CAUSES[2]
    if any(c.unit == label.unit and _one_edit_apart(f"{c.value:g}", f"{v:g}") for c in candidates for v in label.values):
        return MISS_CAUSES[3]
    return MISS_CAUSES[-1]


def _one_edit_apart(a: str, b: str) -> bool:
    """One character changed, added or dropped (`1806`/`1800`, `125`/`1.25`): an OCR slip, or the label's."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))
