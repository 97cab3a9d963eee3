"""Candidate recall: the share of labelled rows whose label is among the image's candidates (the ceiling)."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from candidates.records import Candidate
from dataset.labels import parse_label


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
