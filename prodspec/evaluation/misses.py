"""Why answers were missed: one reason per row (or "right"), so the report shows what to fix next."""

from __future__ import annotations

from collections import Counter

from prodspec.candidates.records import ImageCandidates
from prodspec.dataset.evaluate import numeric_match
from prodspec.features.build import FeatureTable

REASONS = ["right", "no text", "no candidate of an allowed unit", "label not among candidates",
           "right candidate ranked lower", "abstained", "wrong written form"]


def miss_reasons(table: FeatureTable, images: dict[str, ImageCandidates], answers: list[str]) -> list[str]:
    lines = table.lines
    has_allowed = set(lines.loc[lines["unit_allowed"] > 0, "row_pos"])
    has_right = set(lines.loc[lines["label"] > 0, "row_pos"])
    out = []
    for pos, (row, answer) in enumerate(zip(table.rows.to_dict("records"), answers)):
        truth = row["entity_value"]
        if answer and answer == truth:
            out.append("right")
        elif answer and numeric_match(answer, truth):
            out.append("wrong written form")
        elif row["image_name"] not in images or not images[row["image_name"]].boxes:
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


def miss_counts(reasons: list[str]) -> dict[str, int]:
    counts = Counter(reasons)
    return {reason: counts.get(reason, 0) for reason in REASONS}
