"""Where answers were lost: one reason per row, so the report shows what to fix next."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from dataset.evaluate import numeric_match

REASONS = ["right", "no text", "no candidate of an allowed unit", "label not among candidates",
           "right candidate ranked lower", "abstained", "wrong written form"]


def loss_reasons(rows: pd.DataFrame, boxes: dict, table: pd.DataFrame, answers: list[str]) -> list[str]:
    has_allowed = set(table.loc[table["unit_allowed"] > 0, "row_pos"])
    has_right = set(table.loc[table["label"] > 0, "row_pos"])
    out = []
    for pos, (row, answer) in enumerate(zip(rows.to_dict("records"), answers)):
        truth = row["entity_value"]
        if answer and answer == truth:
            out.append("right")
        elif answer and numeric_match(answer, truth):
            out.append("wrong written form")
        elif not boxes.get(row["image_name"]):
            out.append("no text")
        elif pos not in has_allowed:
            out.append("no candidate of an allowed unit")
        elif pos not in has_right:
            out.append("label not among candidates")
        elif not answer:
            out.append("abstained")
        else:
            out.append("right candidate ranked lower")
    return out


def loss_counts(reasons: list[str]) -> dict[str, int]:
    counts = Counter(reasons)
    return {reason: counts.get(reason, 0) for reason in REASONS}
