"""A photo's height, width and depth rows answered together.

The challenge's test file asks two or three of height, width and depth of one photo for two thirds of its
dimension rows. Answered one by one, two such rows often take the same printed length, where the catalogue's labels
of one photo differ four times in five (train.csv). Here each row's score mass over the photo's distinct quantities
(`qty_group`, `features.quantities`) is read as a probability, and the photo's rows take the assignment of
quantities with the most probability, an assignment that gives two rows one quantity weighed down by `P_EQUAL` for
each such pair. Not a hard rule: the catalogue gives a photo's depth and width one value in 30% of pairs.

Chosen by simulation (`python -m bench.joint_answers`): each labelled dimension row of dev + more answered beside
the sibling rows the test file would ask of its photo (the sets of attributes in the test file's proportions), out
of fold. A row asked alone is answered as before.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from prodspec.ranker.blend import DIMENSIONS, dimension_rows
from prodspec.ranker.selection import top_candidates, value_mass

# the weight of an assignment per pair of rows given one quantity: chosen among 0 (never), 0.19, 0.3, 0.5 and 0.7 on
# fold splits 1-10 of the simulation and held on splits 11-20 (docs/experiments.md); 1 would answer each row alone
P_EQUAL = 0.5
# what a model trained by this code answers with (meta.json `joint_p_equal`; None: each row alone). With a height and
# width ranker of their own (`ranker.blend.fit_height_width_ranker`) the joint answer at P_EQUAL cost dimension rows
# in the simulation (0.6772 against 0.6846 one by one on splits 1-10, 0.6888 against 0.6962 on 11-20) and gained
# 0.0025 on the labelled rows, mostly asked alone (docs/experiments.md): the rows are answered one by one
ANSWER_P_EQUAL: float | None = None
MAX_ASSIGNMENTS = 20_000  # a photo with more quantities than this allows is answered row by row


def quantity_masses(lines: pd.DataFrame, scores: np.ndarray) -> pd.DataFrame:
    """Per (row, quantity): its share of the row's score mass, over the allowed candidates (as `value_mass` sums
    a row's mass by value)."""
    allowed = lines[lines["unit_allowed"] > 0].assign(score=scores[(lines["unit_allowed"] > 0).to_numpy()])
    if allowed.empty:
        return pd.DataFrame(columns=["row_pos", "qty_group", "mass"])
    shares = value_mass(allowed)  # each line's value's share: a value's lines share one figure
    per_value = allowed.assign(mass=shares).drop_duplicates(["row_pos", "qty_group", "value", "unit_name"])
    return per_value.groupby(["row_pos", "qty_group"], as_index=False)["mass"].sum()


def best_assignment(masses: dict[int, pd.Series], p_equal: float = P_EQUAL) -> dict[int, int] | None:
    """The quantity for each row (by row_pos) with the most probability: the product of the rows' masses, times
    `p_equal` for each pair of rows given one quantity; None when there are too many to weigh."""
    rows = sorted(masses)
    choices = [list(masses[r].index) for r in rows]
    if math.prod(len(c) for c in choices) > MAX_ASSIGNMENTS:
        return None
    logs = [np.log(np.maximum(masses[r].to_numpy(dtype=float), 1e-12)) for r in rows]
    penalty = math.log(p_equal)
    best, chosen = -math.inf, None
    for picks in itertools.product(*[range(len(c)) for c in choices]):
        quantities = [choices[k][i] for k, i in enumerate(picks)]
        value = sum(logs[k][i] for k, i in enumerate(picks))
        value += penalty * sum(a == b for a, b in itertools.combinations(quantities, 2))
        if value > best:
            best, chosen = value, quantities
    return dict(zip(rows, chosen, strict=True)) if chosen is not None else None


def joint_choices(rows: pd.DataFrame, lines: pd.DataFrame, scores: np.ndarray, tops: pd.DataFrame,
                  p_equal: float = P_EQUAL) -> dict[int, int]:
    """The rows (by row_pos) whose quantity the joint answer changes, and the quantity each takes. Only the rows of a
    photo asked for two or three of height, width and depth are weighed, and only where two of them, answered one by
    one (`tops`), answer one quantity."""
    dimension = rows["entity_name"].isin(DIMENSIONS).to_numpy() & (tops["cand_pos"] >= 0).to_numpy()
    names = rows["image_name"].to_numpy()
    photos = pd.Series(np.arange(len(rows)))[dimension].groupby(names[dimension]).agg(list)
    photos = photos[photos.map(len) > 1]
    if photos.empty or "qty_group" not in lines:
        return {}
    involved = np.concatenate(photos.to_numpy())
    keep = lines["row_pos"].isin(involved).to_numpy() & dimension_rows(lines)
    masses = quantity_masses(lines[keep], scores[keep])
    by_row = {r: part.set_index("qty_group")["mass"] for r, part in masses.groupby("row_pos")}
    group_of = lines[keep].set_index(["row_pos", "cand_pos"])["qty_group"]
    own = {r: group_of[(r, int(tops.at[r, "cand_pos"]))] for r in involved}
    changed = {}
    for members in photos:
        if len({own[r] for r in members}) == len(members):  # no two rows answer one quantity: nothing to weigh
            continue
        assignment = best_assignment({r: by_row[r] for r in members if r in by_row}, p_equal)
        changed |= {row: group for row, group in (assignment or {}).items() if group != own[row]}
    return changed


def joint_tops(rows: pd.DataFrame, lines: pd.DataFrame, scores: np.ndarray,
               p_equal: float | None = P_EQUAL) -> pd.DataFrame:
    """`ranker.selection.top_candidates`, with a photo's dimension rows answered together (`p_equal` None: each row
    alone, as a model trained before the joint answer does)."""
    tops = top_candidates(lines, scores, len(rows))
    if p_equal is not None and (forced := joint_choices(rows, lines, scores, tops, p_equal)):
        tops = top_candidates(lines, scores, len(rows), forced)
    return tops
