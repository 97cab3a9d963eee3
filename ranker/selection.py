"""From scored candidates to one answer per row: the allowed-unit value with the most score, and its margins.

The margins feed the confidence model, because lambdarank scores are not comparable across rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# softmax temperature of the scores summed per value (`value_mass`); near 0 it is the single best candidate
VALUE_TEMPERATURE = 1.0

CONFIDENCE_FEATURES = [
    "top_score", "margin", "softmax_top", "n_candidates", "n_allowed", "entity", "unit_share",
    "value_percentile", "value_share", "confidence", "same_value_count", "text_height_vs_max", "kind", "top_is_largest",
]


def top_candidates(table: pd.DataFrame, scores: np.ndarray, n_rows: int,
                   forced: dict[int, int] | None = None) -> pd.DataFrame:
    """One line per input row (`row_pos` 0..n_rows-1): the best-scored allowed candidate of the value with the most
    score mass (`value_mass`, also the `softmax_top` confidence input), and the other confidence inputs.

    `forced`: rows whose answer must be one quantity (`qty_group`, by row_pos; `ranker.joint`): such a row takes that
    quantity's best candidate, its margin the gap to the row's best score (negative where the row preferred another).
    """
    frame = table.assign(score=scores)
    allowed = frame[frame["unit_allowed"] > 0]
    out = pd.DataFrame({"row_pos": np.arange(n_rows)})
    if allowed.empty:
        return out.assign(cand_pos=-1, label=0, **{c: np.nan for c in CONFIDENCE_FEATURES})
    allowed = in_answer_order(allowed)
    if forced:
        row_best = allowed.groupby("row_pos", sort=False)["score"].max()
        wanted = allowed["row_pos"].map(forced)
        allowed = allowed[wanted.isna() | (allowed["qty_group"] == wanted)]
    grouped = allowed.groupby("row_pos", sort=False)
    best = grouped.head(1).set_index("row_pos")
    second = grouped.nth(1).set_index("row_pos")["score"]
    margin = best["score"] - second.reindex(best.index).fillna(best["score"] - 5.0)
    if forced:
        moved = best.index.isin(list(forced))
        margin[moved] = best.loc[moved, "score"] - row_best.reindex(best.index[moved])
    info = pd.DataFrame({
        "cand_pos": best["cand_pos"], "label": best["label"], "value": best["value"], "unit_name": best["unit_name"],
        "top_score": best["score"], "margin": margin,
        "softmax_top": best["value_mass"], "n_candidates": best["candidates_in_image"],
        "n_allowed": best["allowed_in_image"], "entity": best["entity"], "unit_share": best["unit_share"],
        "value_percentile": best["value_percentile"], "value_share": best["value_share"],
        "confidence": best["confidence"],
        "same_value_count": best["same_value_count"], "text_height_vs_max": best["text_height_vs_max"],
        "kind": best["kind"], "top_is_largest": best["is_largest"],
    }, index=best.index)
    out = out.join(info, on="row_pos")
    out["cand_pos"] = out["cand_pos"].fillna(-1).astype(int)
    out["label"] = out["label"].fillna(0).astype(int)
    return out


def in_answer_order(allowed: pd.DataFrame) -> pd.DataFrame:
    """A row's scored allowed-unit lines in the order its answer is picked in: by their value's score mass
    (`value_mass`, kept as a column), then by score."""
    return allowed.assign(value_mass=value_mass(allowed)).sort_values(
        ["row_pos", "value_mass", "score"], ascending=[True, False, False])


def value_mass(allowed: pd.DataFrame) -> pd.Series:
    """Each candidate's share of its row's softmax mass summed over the candidates that read the same value and unit.

    The answer is a value, not a box: a weight printed three times is one answer with three chances, and
    summing them picked the right one more often out of fold than the single best box did.
    """
    weight = np.exp((allowed["score"] - allowed.groupby("row_pos")["score"].transform("max")) / VALUE_TEMPERATURE)
    answer = [allowed["row_pos"], allowed["value"].round(6), allowed["unit_name"]]
    return weight.groupby(answer).transform("sum") / weight.groupby(allowed["row_pos"]).transform("sum")


def rule_baseline(table: pd.DataFrame, n_rows: int, dimension_entities: set[int]) -> pd.DataFrame:
    """What most OCR teams did: the first allowed-unit candidate in reading order; the largest for dimensions."""
    allowed = table[table["unit_allowed"] > 0]
    rows = []
    for row_pos, part in allowed.groupby("row_pos", sort=False):
        if int(part["entity"].iloc[0]) in dimension_entities:
            pick = part.sort_values(["value", "cand_pos"], ascending=[False, True]).iloc[0]
        else:
            pick = part.sort_values("cand_pos").iloc[0]
        rows.append((row_pos, int(pick["cand_pos"]), int(pick["label"]), pick["value"], pick["unit_name"]))
    chosen = pd.DataFrame(rows, columns=["row_pos", "cand_pos", "label", "value", "unit_name"])
    return pd.DataFrame({"row_pos": np.arange(n_rows)}).merge(chosen, on="row_pos", how="left").fillna(
        {"cand_pos": -1, "label": 0}
    )
