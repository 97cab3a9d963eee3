"""Compact priors from train.csv, shipped in `models/priors.json` so predict needs no data beyond its input.

- unit shares per attribute and per (group, attribute): which unit labels are written in;
- value quantiles per (attribute, unit): where a candidate's value falls among real labels;
- the most common label per (group, attribute): a fallback answer when a photo offers no candidate;
- written-form habits: how often an integer value is written `500` rather than `500.0`, per (attribute, unit),
  per (group, attribute, unit), and per exact value within a group where that value's habit differs from its
  group's (the same product sold in several listings keeps its labels' form);
- value popularity per (attribute, unit): how many labels carry exactly this value (round sizes recur);
- a group's common labels: what a row answers when its photo prints one's number but no unit the attribute allows;
- value quantiles per (group, attribute) in SI base units: a category's heights or weights cluster, whatever
  unit each label was written in, and that tells a 16 g sachet from a 1.6 kg tub.
Rows about the photos a model trains on are left out (`exclude_images`), so no row's own label feeds its features
(the dev rows are train.csv rows; their `index` is not their position in it, so rows are matched by photo).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from prodspec.candidates.convert import to_base
from prodspec.dataset.labels import parse_label
from prodspec.dataset.rows import image_basename
from prodspec.dataset.units import allowed_units

QUANTILES = np.linspace(0, 1, 21)
GROUP_QUANTILES = np.linspace(0, 1, 11)  # coarser: one table per (group, attribute) ships in models/
MIN_GROUP_VALUES = 20
MIN_GROUP_ROWS = 5
MIN_VALUE_COUNT = 3  # rarer values are left out of the popularity table (it ships in models/)
PRINTED_SHARE_OF_TOP = 0.25  # a printed number answers with a group label at least this common against the group's top


def build_priors(train_csv: str | Path, exclude_images: set[str] | None = None) -> dict:
    frame = pd.read_csv(train_csv, dtype=str, keep_default_na=False)
    if exclude_images:
        frame = frame[~frame["image_link"].map(image_basename).isin(exclude_images)]
    units: dict[str, Counter] = defaultdict(Counter)
    group_units: dict[str, Counter] = defaultdict(Counter)
    values: dict[str, list[float]] = defaultdict(list)
    value_counts: dict[str, Counter] = defaultdict(Counter)
    group_values: dict[str, Counter] = defaultdict(Counter)
    plain_style: dict[str, Counter] = defaultdict(Counter)
    group_base_values: dict[str, list[float]] = defaultdict(list)
    group_rows: Counter = Counter()
    group_labels: dict[str, Counter] = defaultdict(Counter)
    allowed = allowed_units()
    for group, entity, text in zip(frame["group_id"], frame["entity_name"], frame["entity_value"]):
        label = parse_label(text)
        if label is None:
            continue
        group_rows[group] += 1
        units[entity][label.unit] += 1
        group_units[f"{group}|{entity}"][label.unit] += 1
        values[f"{entity}|{label.unit}"].extend(label.values)
        for value in label.values:
            value_counts[f"{entity}|{label.unit}"][_value_key(value)] += 1
            base = to_base(value, label.unit)
            if base and base[0] > 0:
                group_base_values[f"{group}|{entity}"].append(math.log10(base[0]))
        # the group's labels answer rows with no candidate: one in a unit the attribute does not allow
        # (train.csv has 242 "1080.0 horsepower" wattages) can never be right and would fail the output check
        if len(label.values) == 1 and label.unit in allowed.get(entity, ()):
            group_values[f"{group}|{entity}"][text.strip()] += 1
            group_labels[f"{group}|{entity}"][f"{_value_key(label.values[0])}|{label.unit}"] += 1
        if len(label.values) == 1 and float(label.values[0]).is_integer():
            written = text.split()[0]
            style = "plain" if "." not in written else "decimal"
            for key in _plain_keys(group, entity, label.unit, label.values[0]):
                plain_style[key][style] += 1
    return {
        "source_sha1": hashlib.sha1(Path(train_csv).read_bytes()).hexdigest(),
        "rows": len(frame),
        "unit_share": {k: _shares(c) for k, c in units.items()},
        "group_unit_share": {k: _shares(c) for k, c in group_units.items() if sum(c.values()) >= MIN_GROUP_ROWS},
        "value_quantiles": {
            k: [round(float(q), 6) for q in np.quantile(np.log10(np.maximum(v, 1e-9)), QUANTILES)]
            for k, v in values.items()
            if len(v) >= 20
        },
        "group_top_value": {
            k: [c.most_common(1)[0][0], round(c.most_common(1)[0][1] / sum(c.values()), 4)]
            for k, c in group_values.items()
            if sum(c.values()) >= MIN_GROUP_ROWS
        },
        "plain_share": _plain_shares(plain_style),
        "group_labels": _common_labels(group_labels),
        "group_rows": {g: n for g, n in group_rows.items() if n >= MIN_GROUP_ROWS},
        "group_value_quantiles": {
            k: [round(float(q), 4) for q in np.quantile(v, GROUP_QUANTILES)]
            for k, v in group_base_values.items()
            if len(v) >= MIN_GROUP_VALUES
        },
        "value_share": {
            k: {v: round(n / sum(c.values()), 5) for v, n in c.items() if n >= MIN_VALUE_COUNT}
            for k, c in value_counts.items()
            if sum(c.values()) >= 20
        },
    }


# each table of the priors document, and the type of one entry of it
SHAPE = {"unit_share": dict, "group_unit_share": dict, "value_quantiles": list, "group_top_value": list,
         "plain_share": list, "group_labels": dict, "group_rows": int, "group_value_quantiles": list,
         "value_share": dict}


class MalformedPriors(ValueError):
    """A priors document of another shape than this code reads."""


def check_shape(document: object) -> None:
    """Raise MalformedPriors unless `document` has every table of SHAPE, each a mapping of entries of the right type."""
    if not isinstance(document, dict):
        raise MalformedPriors("a JSON object is expected")
    for table, entry in SHAPE.items():
        if not isinstance(document.get(table), dict):
            raise MalformedPriors(f"the table {table!r} is missing or not a mapping")
        wrong = next((key for key, value in document[table].items() if not isinstance(value, entry)), None)
        if wrong is not None:
            raise MalformedPriors(f"{table}[{wrong!r}] is not a {entry.__name__}")


def _plain_shares(styles: dict[str, Counter]) -> dict[str, list]:
    """[share written plain, labels] per key with enough labels.

    A value-level key (`group|entity|unit|value`) is kept only where its majority form differs from the
    form the less specific keys would choose: one that agrees changes no answer, and dropping those keeps the
    shipped table small (about 380 of 7,000 values).
    """
    shares = {k: [round(c["plain"] / (c["plain"] + c["decimal"]), 4), c["plain"] + c["decimal"]]
              for k, c in styles.items() if c["plain"] + c["decimal"] >= MIN_GROUP_ROWS}
    for key in [k for k in shares if k.count("|") == 3]:
        group, entity, unit, _ = key.split("|")
        fallback = next((shares[k][0] for k in _plain_keys(group, entity, unit) if k in shares), 0.0)
        if (shares[key][0] > 0.5) == (fallback > 0.5):
            del shares[key]
    return shares


def _common_labels(counts: dict[str, Counter]) -> dict[str, dict[str, int]]:
    """Per (group, attribute), the labels (`value|unit`, any written form) a printed number may answer with.

    Only those with at least MIN_VALUE_COUNT labels and PRINTED_SHARE_OF_TOP of the group's most common one:
    a rare label that happens to match some number on the photo (a `2` in a list) is weaker evidence than
    the group's habit, and the rest need not ship.
    """
    out = {}
    for key, counter in counts.items():
        floor = max(MIN_VALUE_COUNT, PRINTED_SHARE_OF_TOP * max(counter.values()))
        kept = {label: n for label, n in counter.items() if n >= floor}
        if kept:
            out[key] = kept
    return out


def _plain_keys(group: str, entity: str, unit: str, value: float | None = None) -> tuple[str, ...]:
    """The written-form keys for a label, most specific first (the value's only when a value is given)."""
    keys = (f"{group}|{entity}|{unit}", f"{entity}|{unit}")
    return keys if value is None else (f"{group}|{entity}|{unit}|{_value_key(value)}", *keys)


def _percentile(log_value: float, quantiles: list[float], levels: np.ndarray) -> float:
    """Where a log10 value falls among stored quantiles (0..1); -0.05 below the lowest, 1.05 above the highest."""
    return float(np.interp(log_value, quantiles, levels, left=-0.05, right=1.05))


def _value_key(value: float) -> str:
    return f"{float(value):.6g}"


def _shares(counter: Counter) -> dict[str, float]:
    total = sum(counter.values())
    return {unit: round(n / total, 4) for unit, n in counter.most_common(8)}


class Priors:
    """Look-ups over the priors document, with sensible answers for unseen groups."""

    def __init__(self, document: dict):
        self.doc = document

    @classmethod
    def load(cls, path: str | Path) -> Priors:
        """Priors from their JSON file, their shape checked (`check_shape`): a ValueError says what is wrong."""
        document = json.loads(Path(path).read_text())
        check_shape(document)
        return cls(document)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.doc, separators=(",", ":"), sort_keys=True))

    def unit_share(self, entity: str, unit: str) -> float:
        return self.doc["unit_share"].get(entity, {}).get(unit, 0.0)

    def group_unit_share(self, group: str, entity: str, unit: str) -> float:
        shares = self.doc["group_unit_share"].get(f"{group}|{entity}")
        return shares.get(unit, 0.0) if shares else float("nan")

    def value_percentile(self, entity: str, unit: str, value: float) -> float:
        """Where log10(value) falls among train labels of this attribute and unit (0..1; NaN if unseen)."""
        quantiles = self.doc["value_quantiles"].get(f"{entity}|{unit}")
        if not quantiles or value <= 0:
            return float("nan")
        return _percentile(np.log10(value), quantiles, QUANTILES)

    def group_value_percentile(self, group: str, entity: str, unit: str, value: float) -> float:
        """Where the value, in SI base units, falls among the group's labels of this attribute (NaN if unknown)."""
        quantiles = self.doc.get("group_value_quantiles", {}).get(f"{group}|{entity}")
        base = to_base(value, unit) if quantiles else None
        if not base or base[0] <= 0:
            return float("nan")
        return _percentile(math.log10(base[0]), quantiles, GROUP_QUANTILES)

    def value_share(self, entity: str, unit: str, value: float) -> float:
        """Share of train labels of this attribute and unit with exactly this value (NaN if the pair is unseen)."""
        table = self.doc.get("value_share", {}).get(f"{entity}|{unit}")
        return table.get(_value_key(value), 0.0) if table is not None else float("nan")

    def group_top_value(self, group: str, entity: str) -> tuple[str, float] | None:
        hit = self.doc["group_top_value"].get(f"{group}|{entity}")
        return (hit[0], hit[1]) if hit else None

    def printed_label(self, group: str, entity: str, numbers: set[float]) -> tuple[float, str] | None:
        """The group's most common label (value, unit) whose number is among `numbers`, if one is common enough."""
        printed = {_value_key(n) for n in numbers}
        labels = self.doc.get("group_labels", {}).get(f"{group}|{entity}", {})
        hits = [(n, label) for label, n in labels.items() if label.split("|")[0] in printed]
        if not hits:
            return None
        value, unit = max(hits)[1].split("|")
        return float(value), unit

    def plain_share(self, group: str, entity: str, unit: str, value: float | None = None) -> float:
        """Share of integer labels written `500` (not `500.0`), most specific evidence first.

        With `value`, a habit of that exact value in the group wins where one was kept (see `_plain_shares`).
        """
        for key in _plain_keys(group, entity, unit, value):
            if key in self.doc["plain_share"]:
                return self.doc["plain_share"][key][0]
        return 0.0

    def group_rows(self, group: str) -> int:
        return self.doc["group_rows"].get(group, 0)
