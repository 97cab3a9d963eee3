"""A photo's height, width and depth rows answered together.

The challenge's test file asks two or three of height, width and depth of one photo for two thirds of its
dimension rows. Answered one by one, two such rows often take the same printed length, where the catalogue's labels
of one photo differ four times in five (train.csv). Here each row's score mass over the photo's distinct quantities
(`qty_group`, `features.quantities`) is read as a probability, and the photo's rows take the assignment of
quantities with the most probability, an assignment that gives two rows one quantity weighed down by `P_EQUAL` for
each such pair. Not a hard rule: the catalogue gives a photo's depth and width one value in 30% of pairs.

A photo's depth and width rows also answer together by the catalogue's order of the two (`order_choices`): its
depth is seldom the smaller (train.csv), so a pair of lengths that makes it so is weighed down.

Chosen by simulation (`python -m bench.joint_answers`): each labelled dimension row of dev + more answered beside
the sibling rows the test file would ask of its photo (the sets of attributes in the test file's proportions), out
of fold. A row asked alone is answered as before.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodspec.features.quantities import metres
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

# the catalogue's order of one photo's depth and width: of train.csv's 2,526 photos labelled with both, the depth is
# the larger in 0.620, equal to the width within 2% in 0.313, the smaller in 0.067 (`tests/test_joint.py` recounts it)
DEPTH_WIDTH_ORDER = {"larger": 0.620, "equal": 0.313, "smaller": 0.067}
EQUAL_WITHIN = 0.02
# the order's weight (an exponent on its shares) where a photo's depth and width rows answer together. Chosen among
# 0.5, 1 and 2, and against the height's order with either (weaker: height before width 0.52 / 0.14 / 0.35), on fold
# splits 1-10 of the simulation (dimension rows 0.6846 one by one, 0.6912 at 0.5, depth 0.645 -> 0.662), held on
# 11-20 (0.6962 -> 0.6981) and checked on 201-210 (0.6692 -> 0.6777, depth 0.629 -> 0.652) (docs/experiments.md)
ORDER_WEIGHT = 0.5
# what a model trained by this code answers with (meta.json `joint_order_weight`; None: the order is not weighed)
ANSWER_ORDER_WEIGHT: float | None = ORDER_WEIGHT


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


def order_share(depth: float | None, width: float | None, weight: float) -> float:
    """The catalogue's share of this order of a photo's depth and width lengths (in one unit), to the power `weight`;
    1 where either is no length."""
    if depth is None or width is None:
        return 1.0
    order = ("equal" if abs(depth - width) <= EQUAL_WITHIN * max(depth, width)
             else "larger" if depth > width else "smaller")
    return DEPTH_WIDTH_ORDER[order] ** weight


def ordered_pair(depth: pd.Series, width: pd.Series, lengths: dict[int, float], own: tuple[int, int],
                 weight: float) -> tuple[int, int]:
    """The depth's and the width's quantities (each row's mass by `qty_group`) with the most probability, each pair's
    masses times its `order_share`; the rows' own quantities (`own`) unless another pair beats them. `lengths`: each
    quantity's length in one unit."""
    def value(pair: tuple[int, int]) -> float:
        return depth.get(pair[0], 0.0) * width.get(pair[1], 0.0) * order_share(lengths.get(pair[0]),
                                                                                 lengths.get(pair[1]), weight)

    best = max(itertools.product(depth.index, width.index), key=value, default=own)
    return best if value(best) > value(own) * (1 + 1e-9) else own


def quantity_lengths(lines: pd.DataFrame) -> dict[int, dict[int, float]]:
    """Each row's quantities (`qty_group`) in metres, where they are lengths (a photo's rows share them)."""
    lengths: dict[int, dict[int, float]] = {}
    for row, group, value, unit in zip(lines["row_pos"], lines["qty_group"], lines["value"], lines["unit_name"]):
        if (length := metres(value, unit)) is not None:
            lengths.setdefault(row, {}).setdefault(group, length)
    return lengths


def order_choices(rows: pd.DataFrame, lines: pd.DataFrame, scores: np.ndarray, tops: pd.DataFrame,
                  weight: float = ORDER_WEIGHT) -> dict[int, int]:
    """The depth and width rows (by row_pos) whose quantity the catalogue's order changes, and the quantity each
    takes: only a photo asked for its depth and its width, each with a candidate, is weighed (`ordered_pair`)."""
    entity = rows["entity_name"].to_numpy()
    answered = (tops["cand_pos"] >= 0).to_numpy()
    asked = pd.DataFrame({"photo": rows["image_name"], "entity": entity, "row": np.arange(len(rows))})[
        np.isin(entity, ["depth", "width"]) & answered]
    pairs = asked.drop_duplicates(["photo", "entity"]).pivot(index="photo", columns="entity", values="row")
    pairs = pairs.dropna() if {"depth", "width"} <= set(pairs.columns) else pairs.iloc[:0]
    if pairs.empty or "qty_group" not in lines:
        return {}
    keep = lines["row_pos"].isin(pairs.to_numpy().ravel()).to_numpy()
    masses = quantity_masses(lines[keep], scores[keep])
    by_row = {r: part.set_index("qty_group")["mass"] for r, part in masses.groupby("row_pos")}
    group_of = lines[keep].set_index(["row_pos", "cand_pos"])["qty_group"]
    lengths = quantity_lengths(lines[keep])
    changed = {}
    for depth, width in pairs.astype(int).itertuples(index=False):
        own = (group_of[(depth, int(tops.at[depth, "cand_pos"]))], group_of[(width, int(tops.at[width, "cand_pos"]))])
        chosen = ordered_pair(by_row[depth], by_row[width], lengths.get(depth, {}) | lengths.get(width, {}), own,
                              weight)
        changed |= {row: group for row, group, was in zip((depth, width), chosen, own) if group != was}
    return changed


@dataclass(frozen=True)
class JointPolicy:
    """How a photo's dimension rows are answered: together where `p_equal` is given (a shared length weighed by
    it), a depth and a width by the catalogue's order where `order_weight` is; None leaves the rows alone. The
    default is what a model trained by this code answers with; meta.json keeps it (`as_meta`, `of`)."""

    p_equal: float | None = ANSWER_P_EQUAL
    order_weight: float | None = ANSWER_ORDER_WEIGHT

    @classmethod
    def of(cls, meta: dict) -> JointPolicy:
        """A model's policy; a model trained before either key was kept answers its rows alone."""
        return cls(meta.get("joint_p_equal"), meta.get("joint_order_weight"))

    def as_meta(self) -> dict:
        return {"joint_p_equal": self.p_equal, "joint_order_weight": self.order_weight}

    def tops(self, rows: pd.DataFrame, lines: pd.DataFrame, scores: np.ndarray) -> pd.DataFrame:
        return joint_tops(rows, lines, scores, self.p_equal, self.order_weight)


ANSWER_POLICY = JointPolicy()  # what a model trained by this code answers with


def joint_tops(rows: pd.DataFrame, lines: pd.DataFrame, scores: np.ndarray,
               p_equal: float | None = P_EQUAL, order_weight: float | None = None) -> pd.DataFrame:
    """`ranker.selection.top_candidates`, with a photo's dimension rows answered together: two rows sharing a length
    weighed by `p_equal`, a depth and a width by the catalogue's order at `order_weight` (`order_choices`); each
    None leaves the rows alone, as a model trained before either does."""
    tops = top_candidates(lines, scores, len(rows))
    forced = {}
    if order_weight is not None:
        forced |= order_choices(rows, lines, scores, tops, order_weight)
    if p_equal is not None:
        forced |= joint_choices(rows, lines, scores, tops, p_equal)
    return top_candidates(lines, scores, len(rows), forced) if forced else tops
