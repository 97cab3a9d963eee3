"""Scoring: the official F1 (exact strings), a numeric F1 (same unit and value), answered rate."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from prodspec.dataset.labels import parse_label
from prodspec.dataset.units import fix_unit_spelling


@dataclass
class Score:
    rows: int
    answered: int
    strict_tp: int
    numeric_tp: int
    strict_fp: int
    numeric_fp: int
    fn: int

    @staticmethod
    def _f1(tp: int, fp: int, fn: int) -> float:
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    @property
    def strict_f1(self) -> float:
        return self._f1(self.strict_tp, self.strict_fp, self.fn)

    @property
    def numeric_f1(self) -> float:
        return self._f1(self.numeric_tp, self.numeric_fp, self.fn)

    @property
    def answered_rate(self) -> float:
        return self.answered / self.rows if self.rows else 0.0

    @property
    def strict_precision(self) -> float:
        return self.strict_tp / self.answered if self.answered else 0.0

    @property
    def numeric_precision(self) -> float:
        return self.numeric_tp / self.answered if self.answered else 0.0

    def as_dict(self) -> dict:
        out = asdict(self)
        for name in ("strict_f1", "numeric_f1", "answered_rate", "strict_precision", "numeric_precision"):
            out[name] = round(getattr(self, name), 4)
        return out


def numeric_match(prediction: str, truth: str) -> bool:
    """Same unit and same value; a range label counts either end (it is the same quantity read once)."""
    label, answer = parse_label(truth), parse_label(prediction)
    if label is None or answer is None or len(answer.values) != 1:
        return False
    return label.matches(answer.values[0], fix_unit_spelling(answer.unit))


def score_rows(truths: list[str], predictions: list[str]) -> Score:
    counts = {"rows": len(truths), "answered": 0, "strict_tp": 0, "numeric_tp": 0, "strict_fp": 0, "numeric_fp": 0, "fn": 0}
    for truth, prediction in zip(truths, predictions, strict=True):
        truth, prediction = (truth or "").strip(), (prediction or "").strip()
        if not prediction:
            counts["fn"] += truth != ""
            continue
        counts["answered"] += 1
        strict = truth != "" and prediction == truth
        numeric = truth != "" and numeric_match(prediction, truth)
        counts["strict_tp" if strict else "strict_fp"] += 1
        counts["numeric_tp" if numeric else "numeric_fp"] += 1
    return Score(**counts)


def score_table(labels: pd.DataFrame, predictions: pd.DataFrame) -> dict[str, Score]:
    """Scores per entity_name and `overall`; rows are joined on `index`, a missing prediction is no answer."""
    answer_of = dict(zip(predictions["index"], predictions["prediction"]))
    answers = [answer_of.get(i, "") for i in labels["index"]]
    frame = labels.assign(prediction=answers)
    table = {"overall": score_rows(list(frame["entity_value"]), answers)}
    for entity, part in sorted(frame.groupby("entity_name"), key=lambda kv: kv[0]):
        table[entity] = score_rows(list(part["entity_value"]), list(part["prediction"]))
    return table


def format_score_table(table: dict[str, Score]) -> str:
    header = f"{'attribute':32} {'rows':>5} {'answered':>8} {'strict F1':>9} {'numeric F1':>10} {'precision':>9}"
    lines = [header, "-" * len(header)]
    for name, s in table.items():
        lines.append(
            f"{name:32} {s.rows:5d} {s.answered_rate:8.3f} {s.strict_f1:9.3f} {s.numeric_f1:10.3f} {s.strict_precision:9.3f}"
        )
    return "\n".join(lines)


# the attribute mix of the challenge's test file (../shared/data/test_links.csv.gz, 130,787 rows): two
# thirds dimensions, where the dev images (70% item_weight) hold few rows
CHALLENGE_TEST_MIX = {"height": 0.2458, "depth": 0.2144, "width": 0.205, "item_weight": 0.1683,
                      "maximum_weight_recommendation": 0.0537, "voltage": 0.0419, "wattage": 0.0416,
                      "item_volume": 0.0293}


def reweighted(table: dict[str, dict], shares: dict[str, float] = CHALLENGE_TEST_MIX) -> Score:
    """The overall score had the rows come in `shares` per attribute: each attribute's counts scaled to its share.

    Answers the question "what would the dev results give on the test file's mix", not a new measurement.
    """
    present = {e: s for e, s in shares.items() if table.get(e, {}).get("rows")}
    total = sum(present.values())
    fields = ("rows", "answered", "strict_tp", "numeric_tp", "strict_fp", "numeric_fp", "fn")
    scaled = dict.fromkeys(fields, 0.0)
    for entity, share in present.items():
        factor = share / total * 10_000 / table[entity]["rows"]
        for f in fields:
            scaled[f] += table[entity][f] * factor
    return Score(**{f: round(v) for f, v in scaled.items()})
