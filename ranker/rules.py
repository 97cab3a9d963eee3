"""Simple rules that answer a row without learning, as baselines the ranker must beat on every attribute.

Each value rule picks one quantity of the attribute's family per row (the largest printed, the second largest, the
smallest, the longest on a vertical or a horizontal line, ...) and writes it in the unit printed first; the unit rules
keep the ranker's quantity and pick its unit (the one printed first, or the group's usual one). They read only the
feature table (`features.quantities` gives each candidate its rank among the distinct quantities printed and the
order of its units), so they apply to the flat text rows as to the photos. `peer` is what most OCR+regex teams did
(`ranker.selection.rule_baseline`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prodspec.features.build import FeatureTable
from prodspec.features.priors import Priors
from prodspec.ranker.answers import answers_for
from prodspec.ranker.blend import DIMENSIONS, entity_codes
from prodspec.ranker.selection import rule_baseline

# a value rule: among a row's allowed candidates of the attribute's family, the sort keys (ascending) whose first line
# is the pick; the quantity's first-printed unit (`twin_first` 1, or NaN for a quantity in one unit) then the print
# order break ties
VALUE_RULES: dict[str, tuple[str, ...]] = {
    "largest": ("qty_rank",),
    "second_largest": ("second_rank",),
    "smallest": ("qty_rank_asc",),
    "vertical_line": ("vertical_rank", "qty_rank"),
    "horizontal_line": ("horizontal_rank", "qty_rank"),
}
UNIT_RULES = ("first_printed_unit", "group_unit")
RULES = ("peer", *VALUE_RULES, *UNIT_RULES)
RULE_TEXT = {
    "peer": "OCR+regex peer: the first allowed candidate, the largest number for a dimension",
    "largest": "the largest quantity printed",
    "second_largest": "the second largest (the only one where one is printed)",
    "smallest": "the smallest quantity printed",
    "vertical_line": "the longest length on a vertical line (else the largest)",
    "horizontal_line": "the longest length on a horizontal or receding line (else the largest)",
    "first_printed_unit": "the ranker's quantity, in the unit printed first",
    "group_unit": "the ranker's quantity, in the group's most common unit",
}


def _candidates(lines: pd.DataFrame) -> pd.DataFrame:
    """The lines a rule may pick: an allowed unit of the attribute's family, with a known quantity rank."""
    keep = (lines["unit_allowed"] > 0) & (lines["family_matches"] > 0) & lines["qty_rank"].notna()
    picked = lines[keep].copy()
    # the second largest where one is printed, else the largest: rank 1 first, then rank 0
    picked["second_rank"] = picked["qty_rank"].map(lambda r: 0 if r == 1 else 1 if r == 0 else r)
    picked["unit_order"] = 1.0 - picked["twin_first"].fillna(1.0)
    return picked


def _first_lines(picked: pd.DataFrame, keys: tuple[str, ...], n_rows: int) -> pd.DataFrame:
    """Each row's first line by `keys` (NaN last), the first-printed unit and the print order breaking ties: the
    `tops` frame `ranker.selection.top_candidates` makes (cand_pos -1 where nothing is picked)."""
    ordered = picked.sort_values(["row_pos", *keys, "unit_order", "cand_pos"], na_position="last", kind="stable")
    best = ordered.groupby("row_pos", sort=False).head(1).set_index("row_pos")
    out = pd.DataFrame({"row_pos": np.arange(n_rows)})
    out = out.join(best[["cand_pos", "label", "value", "unit_name"]], on="row_pos")
    out["cand_pos"] = out["cand_pos"].fillna(-1).astype(int)
    out["label"] = out["label"].fillna(0).astype(int)
    return out


def value_rule(lines: pd.DataFrame, n_rows: int, rule: str) -> pd.DataFrame:
    return _first_lines(_candidates(lines), VALUE_RULES[rule], n_rows)


def unit_rule(lines: pd.DataFrame, tops: pd.DataFrame, rule: str) -> pd.DataFrame:
    """The ranker's chosen quantity (`tops`) in the unit the rule keeps: the line of the same row and quantity rank
    printed first (`first_printed_unit`), or the one with the group's largest unit share (`group_unit`)."""
    picked = _candidates(lines)
    chosen = tops.loc[tops["cand_pos"] >= 0, ["row_pos", "cand_pos"]]
    rank = picked.set_index(["row_pos", "cand_pos"])["qty_rank"]
    chosen = chosen.assign(chosen_rank=rank.reindex(pd.MultiIndex.from_frame(chosen)).to_numpy())
    same = picked.merge(chosen[["row_pos", "chosen_rank"]], on="row_pos")
    same = same[same["qty_rank"] == same["chosen_rank"]]
    if rule == "group_unit":
        same = same.assign(share=-same["group_unit_share"])
        keys: tuple[str, ...] = ("share",)
    else:
        keys = ()
    out = _first_lines(same, keys, len(tops))
    # a chosen line with no rank (not of the family) stays the ranker's own
    kept = ((out["cand_pos"] < 0) & (tops["cand_pos"] >= 0)).to_numpy()
    for column in ("cand_pos", "label", "value", "unit_name"):
        out[column] = np.where(kept, tops[column].to_numpy(dtype=object), out[column].to_numpy(dtype=object))
    return out.astype({"cand_pos": int, "label": int})


def rule_tops(lines: pd.DataFrame, n_rows: int, rule: str, tops: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each row's pick by `rule` (one of RULES); the unit rules need the ranker's `tops`."""
    if rule == "peer":
        return rule_baseline(lines, n_rows, entity_codes(DIMENSIONS))
    if rule in VALUE_RULES:
        return value_rule(lines, n_rows, rule)
    if tops is None:
        raise ValueError(f"the rule {rule!r} keeps the ranker's quantity: give its tops")
    return unit_rule(lines, tops, rule)


def rule_accuracy(table: FeatureTable, tops: pd.DataFrame, priors: Priors, fallback: bool) -> dict[str, dict[str, float]]:
    """The share of each attribute's rows every rule answers exactly right (rows with no pick answered as the
    ranker answers them, from the priors where `fallback`), beside the ranker's own (`tops`), on one table."""
    rows = table.rows
    n_rows = len(rows)
    entity = rows["entity_name"].to_numpy()
    truth = rows["entity_value"].to_numpy()

    def shares(picks: pd.DataFrame) -> dict[str, float]:
        exact = np.array(answers_for(table, picks, np.ones(n_rows), {}, priors, fallback)) == truth
        return {name: round(float(exact[entity == name].mean()), 4) for name in sorted(set(entity))}

    return {"ranker": shares(tops)} | {rule: shares(rule_tops(table.lines, n_rows, rule, tops)) for rule in RULES}
