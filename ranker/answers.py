"""From each row's chosen candidate to the answer string, and what a row answers with no candidate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from candidates.parse import printed_numbers
from candidates.records import TextBox
from dataset.labels import format_prediction
from features.priors import Priors


def answer_text(value: float, unit: str, group: str, entity: str, priors: Priors) -> str:
    """The written form labels use for this group, unit and value: `500` or `500.0` for integers."""
    style = "plain" if float(value).is_integer() and priors.plain_share(group, entity, unit, value) > 0.5 else "decimal"
    return format_prediction(value, unit, style)


def fallback_answer(group: str, entity: str, boxes: list[TextBox], priors: Priors) -> tuple[str, str]:
    """For a row whose photo offers no candidate of an allowed unit: a common label of its group whose number
    the photo prints (the unit lost or misread), else the group's most common label, else nothing; with
    where the answer came from, for `prodspec explain`."""
    if (printed := priors.printed_label(group, entity, printed_numbers(boxes))) is not None:
        return answer_text(*printed, group, entity, priors), "a common label of its group whose number the photo prints"
    top = priors.group_top_value(group, entity)
    return (top[0], "its group's most common label") if top else ("", "no label of its group to fall back on")


def answers_for(rows: pd.DataFrame, tops: pd.DataFrame, confidence: np.ndarray, thresholds: dict[str, float],
                priors: Priors, fallback: bool, boxes: dict[str, list[TextBox]] | None = None) -> list[str]:
    """One answer per row; `boxes` (per image name) lets the fallback look for printed numbers."""
    boxes = boxes or {}
    out = []
    for row, (_, top), conf in zip(rows.to_dict("records"), tops.iterrows(), confidence):
        entity, group = row["entity_name"], str(row["group_id"])
        if top["cand_pos"] >= 0:
            answer = answer_text(top["value"], top["unit_name"], group, entity, priors)
            out.append(answer if conf >= thresholds.get(entity, 0.0) else "")
        elif fallback:
            out.append(fallback_answer(group, entity, boxes.get(row["image_name"], []), priors)[0])
        else:
            out.append("")
    return out
