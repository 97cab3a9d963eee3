"""The official output-format rules, in our own code: `prodspec check`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from dataset.units import all_units, allowed_units, fix_unit_spelling

PREDICTION_PATTERN = re.compile(r"^-?\d+(\.\d+)?\s+[a-zA-Z\s]+$")


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    answered: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def check_prediction(text: str, entity: str) -> tuple[str | None, str | None]:
    """(error, warning) for one prediction string; empty means "no answer" and is always fine."""
    if text == "":
        return None, None
    if not PREDICTION_PATTERN.match(text):
        return f"{text!r} does not match the pattern 'number unit'", None
    unit = fix_unit_spelling(text.split(maxsplit=1)[1])
    if unit not in all_units():
        return f"{text!r}: unit {unit!r} is not an allowed unit", None
    if unit not in allowed_units()[entity]:
        return None, f"{text!r}: unit {unit!r} is not allowed for {entity}, so it can never be right"
    return None, None


def check_predictions(inputs: pd.DataFrame, predictions: pd.DataFrame, max_listed: int = 20) -> CheckReport:
    report = CheckReport(rows=len(predictions))
    expected = set(inputs["index"])
    duplicated = predictions["index"][predictions["index"].duplicated()]
    if len(duplicated):
        report.errors.append(f"duplicate index in predictions: {sorted(set(duplicated))[:5]}")
    got = set(predictions["index"])
    if missing := sorted(expected - got):
        report.errors.append(f"{len(missing)} input index(es) missing from predictions, e.g. {missing[:5]}")
    if extra := sorted(got - expected):
        report.errors.append(f"{len(extra)} index(es) not in the input, e.g. {extra[:5]}")
    entity_of = dict(zip(inputs["index"], inputs["entity_name"]))
    bad = 0
    for index, text in zip(predictions["index"], predictions["prediction"]):
        if index not in entity_of:
            continue
        report.answered += text != ""
        error, warning = check_prediction(text, entity_of[index])
        if error:
            bad += 1
            if bad <= max_listed:
                report.errors.append(f"index {index}: {error}")
        if warning and len(report.warnings) < max_listed:
            report.warnings.append(f"index {index}: {warning}")
    if bad > max_listed:
        report.errors.append(f"... and {bad - max_listed} more malformed prediction(s)")
    return report
