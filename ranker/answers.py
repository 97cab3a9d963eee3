"""From each row's chosen candidate to its answer: the string, and where it came from.

An answer read off the photo has `source` "photo"; a row whose photo offers no candidate of an allowed unit
(or was not there) may answer with its group's usual label, `source` "prior"; a row left unanswered has
`source` "none". A caller that wants only what the photo says asks for `prior=False`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodspec.dataset.labels import format_prediction, parse_label
from prodspec.features.build import FeatureTable
from prodspec.features.priors import Priors

SOURCES = ("photo", "prior", "none")


@dataclass(frozen=True)
class Answer:
    """One row's answer. `text` is what the output file holds ("" for no answer); `confidence` the probability
    that `text` is exactly the label; `evidence` the printed text it was read from (or, for a prior answer,
    why it was chosen)."""

    text: str
    value: float | None
    unit: str
    confidence: float
    source: str
    evidence: str = ""

    def as_dict(self) -> dict:
        return {"prediction": self.text, "value": self.value, "unit": self.unit,
                "confidence": round(self.confidence, 4), "source": self.source, "evidence": self.evidence}


NO_ANSWER = Answer("", None, "", 0.0, "none")


def answer_text(value: float, unit: str, group: str, entity: str, priors: Priors) -> str:
    """The written form labels use for this group, unit and value: `500` or `500.0` for integers."""
    style = "plain" if float(value).is_integer() and priors.plain_share(group, entity, unit, value) > 0.5 else "decimal"
    return format_prediction(value, unit, style)


def fallback_answer(group: str, entity: str, printed: frozenset[float], priors: Priors) -> tuple[str, str]:
    """For a row whose photo offers no candidate of an allowed unit: a common label of its group whose number
    the photo prints (the unit lost or misread), else the group's most common label, else nothing; with
    where the answer came from."""
    if (label := priors.printed_label(group, entity, set(printed))) is not None:
        return answer_text(*label, group, entity, priors), "a common label of its group whose number the photo prints"
    top = priors.group_top_value(group, entity)
    return (top[0], "its group's most common label") if top else ("", "no label of its group to fall back on")


def _prior_answer(text: str, why: str, confidence: float) -> Answer:
    label = parse_label(text)
    return Answer(text, label.values[0], label.unit, confidence, "prior", why) if label else NO_ANSWER


def answer_rows(table: FeatureTable, tops: pd.DataFrame, confidence: np.ndarray, thresholds: dict[str, float],
                priors: Priors, fallback: bool, prior_confidence: float = 0.0,
                calibrated: np.ndarray | None = None) -> list[Answer]:
    """One Answer per row of the table. `confidence` (the confidence model's) is compared with the thresholds;
    `calibrated` (the same, mapped to the chance of an exactly right string) is what the answer reports.
    `prior_confidence`: the share of prior answers that were right out of fold."""
    reported = confidence if calibrated is None else calibrated
    evidence = table.lines["evidence"].to_numpy() if len(table.lines) else np.array([], dtype=object)
    lines_at = {pos: i for i, pos in enumerate(zip(table.lines["row_pos"], table.lines["cand_pos"]))}
    out = []
    for pos, (row, top) in enumerate(zip(table.rows.to_dict("records"), tops.itertuples(index=False))):
        entity, group = row["entity_name"], str(row["group_id"])
        if top.cand_pos >= 0:
            if confidence[pos] < thresholds.get(entity, 0.0):
                out.append(NO_ANSWER)
                continue
            text = answer_text(top.value, top.unit_name, group, entity, priors)
            out.append(Answer(text, float(top.value), top.unit_name, _probability(reported[pos]), "photo",
                              str(evidence[lines_at[(pos, top.cand_pos)]])))
        elif fallback:
            out.append(_prior_answer(*fallback_answer(group, entity, table.printed[pos], priors), prior_confidence))
        else:
            out.append(NO_ANSWER)
    return out


def _probability(value: float) -> float:
    return 0.0 if math.isnan(value) else min(max(float(value), 0.0), 1.0)


def answers_for(table: FeatureTable, tops: pd.DataFrame, confidence: np.ndarray, thresholds: dict[str, float],
                priors: Priors, fallback: bool) -> list[str]:
    """The answer strings alone, as the output file holds them."""
    return [a.text for a in answer_rows(table, tops, confidence, thresholds, priors, fallback)]
