"""How a candidate's quantity stands among the distinct quantities its photo (or text) prints: the conventions a
catalogue's labels follow.

A photo prints one length twice when it gives two units (`30 cm / 11.8 in`), and the same figure again and again; a
rank among raw values would count such a length two or three times. Here the quantities of one family are merged
first (a value in another unit within `SAME_QUANTITY` of it, or the same value and unit printed again), then ranked.
The catalogue's habits read off these ranks: the depth is most often the longest length printed, the width a
shorter one, and of a length printed in two units the label usually keeps the unit printed first (docs/experiments.md,
"Dimensions as the catalogue names them"). Everything here needs only the values and their order, so the flat text
rows (no boxes) have it too; the vertical and horizontal ranks need the drawing's axis reading, NaN without one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from prodspec.candidates.axes import AxisReading
from prodspec.candidates.convert import to_base
from prodspec.candidates.records import Candidate
from prodspec.dataset.units import UNIT_FAMILY

# two prints in different units are one quantity when they differ by less than this share (`11.88 in` is 30.2 cm,
# printed `30 cm`; `1.25 in` is 3.175 cm, printed `3.125 cm`)
SAME_QUANTITY = 0.025
QUANTITY_FEATURES = ["qty_rank", "qty_rank_asc", "qty_distinct", "twin_units", "twin_first", "twin_larger_number",
                     "twin_rounder", "vertical_rank", "horizontal_rank"]
_NONE = dict.fromkeys(QUANTITY_FEATURES, math.nan)


def metres(value: float, unit: str) -> float | None:
    """A length in metres (None for a unit of no length): lengths printed in two units compared in one."""
    base = to_base(value, unit)
    return base[0] if base is not None and base[1] == "meter" else None


def _decimals(candidate: Candidate) -> int:
    text = f"{candidate.value:.6f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def _same(a: tuple[Candidate, float], b: tuple[Candidate, float]) -> bool:
    (ca, base_a), (cb, base_b) = a, b
    if ca.unit == cb.unit:
        return ca.value == cb.value
    return abs(base_a - base_b) <= SAME_QUANTITY * max(base_a, base_b)


def quantities(candidates: Sequence[Candidate]) -> list[list[int]]:
    """The distinct quantities, each the candidates' positions (in print order) that print it; candidates of
    another family never merge, and one without a known base unit is a quantity of its own."""
    groups: list[list[int]] = []
    bases = [to_base(c.value, c.unit) for c in candidates]
    for k, c in enumerate(candidates):
        home = None
        if bases[k]:
            for group in groups:
                first = group[0]
                if (UNIT_FAMILY.get(candidates[first].unit) == UNIT_FAMILY.get(c.unit) and bases[first]
                        and any(_same((candidates[j], bases[j][0]), (c, bases[k][0])) for j in group)):
                    home = group
                    break
        if home is None:
            groups.append([k])
        else:
            home.append(k)
    return groups


def quantity_features(candidates: Sequence[Candidate], axes: Sequence[AxisReading] | None) -> list[dict]:
    """QUANTITY_FEATURES for every candidate of one photo or text, in the candidates' order, and `qty_group`: which
    distinct quantity it prints (the same number for every print of it), for answering a photo's rows together."""
    groups = quantities(candidates)
    group_of = {k: g for g, members in enumerate(groups) for k in members}
    base = [b[0] if (b := to_base(c.value, c.unit)) else math.nan for c in candidates]
    group_base = [base[members[0]] for members in groups]
    family = [UNIT_FAMILY.get(candidates[members[0]].unit) for members in groups]
    axis = [_axis_of(members, axes) for members in groups]
    out = []
    for k, c in enumerate(candidates):
        g = group_of[k]
        if math.isnan(group_base[g]):
            out.append(_NONE | {"qty_group": g})
            continue
        same_family = [h for h in range(len(groups)) if family[h] == family[g] and not math.isnan(group_base[h])]
        larger = sorted({group_base[h] for h in same_family}, reverse=True)
        rank = larger.index(group_base[g])
        units = list(dict.fromkeys(candidates[j].unit for j in groups[g]))
        twins = [j for j in groups[g] if candidates[j].unit != c.unit]
        feature = {"qty_group": g, "qty_rank": float(rank), "qty_rank_asc": float(len(larger) - 1 - rank),
                   "qty_distinct": float(len(larger)), "twin_units": float(len(units)),
                   "twin_first": math.nan, "twin_larger_number": math.nan, "twin_rounder": math.nan,
                   "vertical_rank": _axis_rank(g, same_family, group_base, axis, ("H",)),
                   "horizontal_rank": _axis_rank(g, same_family, group_base, axis, ("W", "D"))}
        if twins:
            feature["twin_first"] = float(units[0] == c.unit)
            feature["twin_larger_number"] = float(c.value > max(candidates[j].value for j in twins))
            feature["twin_rounder"] = float(_decimals(c) < min(_decimals(candidates[j]) for j in twins))
        out.append(feature)
    return out


def _axis_of(members: list[int], axes: Sequence[AxisReading] | None) -> str:
    """The axis a quantity was read on: the first of its prints that has one."""
    if not axes:
        return ""
    return next((axes[j].axis for j in members if axes[j].axis), "")


def _axis_rank(group: int, same_family: list[int], size: list[float], axis: list[str], wanted: tuple[str, ...]) -> float:
    """The quantity's rank by size among those read on one of the `wanted` axes; NaN where it is read on none."""
    if axis[group] not in wanted:
        return math.nan
    on_axis = sorted({size[h] for h in same_family if axis[h] in wanted}, reverse=True)
    return float(on_axis.index(size[group]))
