"""The official output-format rules, in our own code: `prodspec check` says what the challenge's checker would say.

The checker (TASK.md, "The official format checker, exactly") reads both files with pandas' default reader, so a
cell pandas reads as missing (empty, `nan`, `NA`, `null`, ...) is no answer; it strips each prediction, requires
`number unit` by PREDICTION_PATTERN, takes the number before the first whitespace and the rest as the unit, and
accepts the unit only as one of the allowed units exactly as written, or after `ter`→`tre` or `feet`→`foot`. One
bad prediction refuses the file. Missing or extra indices it only prints: `check` reports them as warnings, with
a unit that the row's attribute does not allow (accepted, but never right).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from prodspec.dataset.errors import UserError
from prodspec.dataset.units import all_units, allowed_units

PREDICTION_PATTERN = re.compile(r"^-?\d+(\.\d+)?\s+[a-zA-Z\s]+$")
# the checker's two repairs, each tried on the whole unit (every occurrence) when it is not allowed as written
REPAIRS = (("ter", "tre"), ("feet", "foot"))


class Refused(ValueError):
    """A prediction the official checker refuses; the message says why."""


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)  # what makes the official checker refuse the file
    warnings: list[str] = field(default_factory=list)  # accepted, but off the task's contract
    answered: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def official_unit(unit: str) -> str:
    """The unit as the checker reads it: as written if allowed, else after the first repair that makes it allowed."""
    if unit in all_units():
        return unit
    for wrong, right in REPAIRS:
        if unit.replace(wrong, right) in all_units():
            return unit.replace(wrong, right)
    return unit


def read_prediction(value: object) -> tuple[float, str] | None:
    """A prediction cell as the checker reads it: None for no answer, else (number, unit); raises Refused."""
    if value is None or str(value) == "nan":
        return None
    if not isinstance(value, str):  # a column pandas read as numbers: the checker's strip() fails on it
        raise Refused(f"{value!r} is not text")
    text = value.strip()
    if text == "":
        return None
    if not PREDICTION_PATTERN.match(text):
        raise Refused(f"{value!r} does not match the pattern 'number unit'")
    number, unit = text.split(maxsplit=1)
    if official_unit(unit) not in all_units():
        raise Refused(f"{value!r}: unit {unit!r} is not an allowed unit")
    return float(number), official_unit(unit)


def check_prediction(value: object, entity: str | None = None) -> tuple[str | None, str | None]:
    """(error, warning) for one prediction cell: an error where the checker refuses it, a warning where its unit is
    not one the row's attribute allows (accepted, but never right)."""
    try:
        read = read_prediction(value)
    except Refused as refused:
        return str(refused), None
    if read is not None and entity in allowed_units() and read[1] not in allowed_units()[entity]:
        return None, f"{value!r}: unit {read[1]!r} is not allowed for {entity}, so it can never be right"
    return None, None


def check_predictions(inputs: pd.DataFrame, predictions: pd.DataFrame, max_listed: int = 20) -> CheckReport:
    """Every prediction read as the checker reads it, and the indices matched against the input's."""
    report = CheckReport(rows=len(predictions))
    expected, got = set(inputs["index"]), set(predictions["index"])
    duplicated = predictions["index"][predictions["index"].duplicated()]
    if len(duplicated):
        report.warnings.append(f"duplicate index in predictions: {sorted(set(duplicated), key=str)[:5]}")
    if missing := sorted(expected - got, key=str):
        report.warnings.append(f"{len(missing)} input index(es) missing from predictions, e.g. {missing[:5]}")
    if extra := sorted(got - expected, key=str):
        report.warnings.append(f"{len(extra)} index(es) not in the input, e.g. {extra[:5]}")
    entity_of = dict(zip(inputs["index"], inputs["entity_name"])) if "entity_name" in inputs else {}
    refused = 0
    for line, (index, value) in enumerate(zip(predictions["index"], predictions["prediction"]), 2):
        error, warning = check_prediction(value, entity_of.get(index))
        if error:
            refused += 1
            if refused <= max_listed:
                report.errors.append(f"line {line} (index {index}): {error}")
            continue
        report.answered += read_prediction(value) is not None
        if warning and len(report.warnings) < max_listed:
            report.warnings.append(f"line {line} (index {index}): {warning}")
    if refused > max_listed:
        report.errors.append(f"... and {refused - max_listed} more malformed prediction(s)")
    return report


def check_files(input_csv: Path, predictions_csv: Path) -> CheckReport:
    """What the checker says of a predictions file for an input file, read as it reads them."""
    for path in (input_csv, predictions_csv):
        if not Path(path).is_file():
            raise UserError(f"{path}: no such file")
        if not str(path).lower().endswith(".csv"):
            return CheckReport(errors=[f"{path}: only .csv files are accepted"])
    try:
        inputs, predictions = pd.read_csv(input_csv), pd.read_csv(predictions_csv)
    except Exception as error:  # noqa: BLE001 - whatever pandas cannot read, the checker refuses
        return CheckReport(errors=[f"the files cannot be read as CSV ({str(error).splitlines()[0]})"])
    if "index" not in inputs.columns:
        return CheckReport(errors=[f"{input_csv}: no 'index' column"])
    if "index" not in predictions.columns or "prediction" not in predictions.columns:
        return CheckReport(errors=[f"{predictions_csv}: the columns must include 'index' and 'prediction'"])
    return check_predictions(inputs, predictions)
