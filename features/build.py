"""The feature table: one row per (sample, candidate), from the row, its image's boxes and drawn lines, and priors.

Column order is the model's contract: `FEATURES` (plus one column per vocabulary word) is stored in
`models/meta.json` and checked at load time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd

from candidates.lines import line_cues
from candidates.parse import parse_boxes
from candidates.records import Candidate, TextBox
from dataset.labels import parse_label
from dataset.units import UNIT_FAMILY, allowed_units, entity_names
from features.context import nearest_boxes, word_feature, word_value, words
from features.priors import Priors

UNITS = sorted(UNIT_FAMILY)
FAMILIES = sorted(set(UNIT_FAMILY.values()))
KINDS = ["single", "range_low", "range_high", "dimension", "multipack", "multipack_total"]
FLAGS = ["ocr_fix", "alt_number", "ambiguous_unit", "unit_from_group", "unit_from_range", "split_boxes",
         "has_equivalent"]
AXIS_OF_ENTITY = {"height": "H", "width": "W", "depth": "D"}
LINE_ALONG_AXIS = {"height": "line_down", "width": "line_across", "depth": "line_slant"}
ENTITY_FAMILY = {e: UNIT_FAMILY[next(iter(u))] for e, u in allowed_units().items()}
# a candidate's context words: (in its own box, in the boxes nearest it)
ContextWords = Callable[[Candidate], tuple[set[str], set[str]]]

FEATURES = [
    "entity", "unit", "family", "kind", "log_value", "unit_allowed", "family_matches", "unit_share",
    "group_unit_share", "value_percentile", "group_value_percentile", "value_share", "group_rows", "position", "group_size",
    "axis_matches", "has_axis",
    "confidence", "same_value_count", "candidates_in_image", "allowed_in_image", "rank_desc", "rank_asc",
    "is_largest", "is_smallest", "centre_x", "centre_y", "box_width", "box_height", "text_height_rel",
    "text_height_vs_max", "vertical", "angle", "edge_distance", "reading_order", "box_text_len",
    "match_share_of_box", "has_decimal", "is_integer", "x_rank", "y_rank", "is_bottommost", "is_topmost",
    "is_leftmost", "is_rightmost", "family_vertical_count", "is_first_allowed", "allowed_order",
    "line_across", "line_down", "line_slant", "line_along_axis", "line_off_axis", "text_along_axis",
] + [f"flag_{f}" for f in FLAGS]
# Features also given as the gap to the best of the row's allowed candidates. lambdarank scores each
# candidate on its own features, so "the most common unit here" or "the largest print here" must be
# spelled out: out of fold over 16 fold seeds, these lifted non-dimension top-1 by about 0.006.
RELATIVE = ["group_unit_share", "unit_share", "text_height_vs_max", "confidence", "value_share",
            "same_value_count", "group_value_percentile"]
FEATURES += [f"rel_{f}" for f in RELATIVE]
CATEGORICAL = ["entity", "unit", "family", "kind"]


def _box_geometry(boxes: list[TextBox], index: int, width: float, height: float, max_text: float) -> dict:
    b = boxes[index]
    cx, cy = (b.left + b.right) / 2 / width, (b.top + b.bottom) / 2 / height
    return {
        "centre_x": cx, "centre_y": cy, "box_width": b.width / width, "box_height": b.height / height,
        "text_height_rel": b.text_height / height, "text_height_vs_max": b.text_height / max_text,
        "vertical": float(abs(b.angle) >= 45), "angle": abs(b.angle),
        "edge_distance": min(cx, cy, 1 - cx, 1 - cy), "reading_order": index / max(len(boxes) - 1, 1),
        "box_text_len": len(b.text), "confidence": b.confidence,
    }


_NO_PLACEMENT = {"x_rank": np.nan, "y_rank": np.nan, "is_bottommost": 0.0, "is_topmost": 0.0,
                 "is_leftmost": 0.0, "is_rightmost": 0.0, "family_vertical_count": 0.0}


def _placement_among_family(boxes: list[TextBox], candidates: list[Candidate], family: str) -> dict[int, dict]:
    """Where each candidate box of the row's unit family sits among the others of that family.

    In a dimension drawing the width label is the lowest, the height label the outermost or turned one:
    relative place says more than absolute place.
    """
    indices = sorted({c.boxes[0] for c in candidates if UNIT_FAMILY[c.unit] == family})
    if not indices:
        return {}
    xs = {i: (boxes[i].left + boxes[i].right) / 2 for i in indices}
    ys = {i: (boxes[i].top + boxes[i].bottom) / 2 for i in indices}
    x_order, y_order = sorted(indices, key=xs.get), sorted(indices, key=ys.get)
    span = max(len(indices) - 1, 1)
    vertical = float(sum(abs(boxes[i].angle) >= 45 for i in indices))
    return {
        i: {"x_rank": x_order.index(i) / span, "y_rank": y_order.index(i) / span,
            "is_bottommost": float(i == y_order[-1]), "is_topmost": float(i == y_order[0]),
            "is_leftmost": float(i == x_order[0]), "is_rightmost": float(i == x_order[-1]),
            "family_vertical_count": vertical}
        for i in indices
    }


def _axis_fit(entity: str, feature: dict) -> dict:
    """Cues measured along the attribute's own axis, so that height, width and depth rows pool them.

    A height is drawn beside a vertical line and often printed turned, a width beside a horizontal
    line, a depth beside a slanted one (the receding edge of a drawing in perspective). Each dimension
    attribute has only a few dozen labelled rows: as raw geometry the model would have to learn the
    link three times over.
    """
    if entity not in LINE_ALONG_AXIS:
        return {"line_along_axis": np.nan, "line_off_axis": np.nan, "text_along_axis": np.nan}
    along = LINE_ALONG_AXIS[entity]
    off = max(feature[k] for k in LINE_ALONG_AXIS.values() if k != along)
    return {"line_along_axis": feature[along], "line_off_axis": off,
            "text_along_axis": float(bool(feature["vertical"]) == (entity == "height"))}


def image_extent(boxes: list[TextBox]) -> tuple[float, float]:
    """The image size as far as the boxes show it (the cache keeps boxes, not the image)."""
    if not boxes:
        return 1.0, 1.0
    return max(max(b.right for b in boxes), 1.0), max(max(b.bottom for b in boxes), 1.0)


def candidate_features(
    row: dict, boxes: list[TextBox], candidates: list[Candidate], priors: Priors, vocabulary: list[str],
    image_size: tuple[float, float] | None = None, segments: np.ndarray | None = None,
    context_words: ContextWords | None = None,
) -> list[dict]:
    """`segments`: the photo's drawn lines (candidates.lines); None when unknown gives NaN line cues.
    `context_words`: where a candidate's words come from when not from boxes (flat text, `features.text_rows`).
    """
    entity, group = row["entity_name"], str(row["group_id"])
    allowed = allowed_units()[entity]
    width, height = image_size or image_extent(boxes)
    max_text = max((b.text_height for b in boxes), default=1.0) or 1.0
    counts = Counter(c.key for c in candidates)
    # reading order of the allowed candidates: the rule most OCR teams used, offered as a feature
    allowed_order = {id(c): k for k, c in enumerate(c for c in candidates if c.unit in allowed)}
    same_family = sorted({c.value for c in candidates if UNIT_FAMILY[c.unit] == ENTITY_FAMILY[entity]})
    context_words = context_words or _box_context(boxes)
    placement = _placement_among_family(boxes, candidates, ENTITY_FAMILY[entity])
    out = []
    for c in candidates:
        first = c.boxes[0]
        own, near = context_words(c)
        family = UNIT_FAMILY[c.unit]
        feature = {
            "entity": entity_names().index(entity), "unit": UNITS.index(c.unit), "family": FAMILIES.index(family),
            "kind": KINDS.index(c.kind), "log_value": math.log10(c.value), "unit_allowed": float(c.unit in allowed),
            "family_matches": float(family == ENTITY_FAMILY[entity]), "unit_share": priors.unit_share(entity, c.unit),
            "group_unit_share": priors.group_unit_share(group, entity, c.unit),
            "value_percentile": priors.value_percentile(entity, c.unit, c.value),
            "group_value_percentile": priors.group_value_percentile(group, entity, c.unit, c.value),
            "value_share": priors.value_share(entity, c.unit, c.value),
            "group_rows": math.log1p(priors.group_rows(group)), "position": c.position, "group_size": c.group_size,
            "axis_matches": float(bool(c.axis) and AXIS_OF_ENTITY.get(entity) == c.axis), "has_axis": float(bool(c.axis)),
            "same_value_count": counts[c.key], "candidates_in_image": len(candidates),
            "allowed_in_image": sum(1 for x in candidates if x.unit in allowed),
            "match_share_of_box": (c.span[1] - c.span[0]) / max(len(c.source), 1),
            "has_decimal": float("." in c.matched_text or "," in c.matched_text),
            "is_integer": float(float(c.value).is_integer()),
            "is_first_allowed": float(allowed_order.get(id(c)) == 0),
            "allowed_order": allowed_order.get(id(c), np.nan),
        }
        if family == ENTITY_FAMILY[entity] and same_family:
            rank = same_family.index(c.value)
            feature |= {"rank_desc": (len(same_family) - 1 - rank) / max(len(same_family) - 1, 1),
                        "rank_asc": rank / max(len(same_family) - 1, 1),
                        "is_largest": float(c.value == same_family[-1]), "is_smallest": float(c.value == same_family[0])}
        else:
            feature |= {"rank_desc": np.nan, "rank_asc": np.nan, "is_largest": 0.0, "is_smallest": 0.0}
        feature |= _box_geometry(boxes, first, width, height, max_text)
        if segments is None:
            feature |= {"line_across": np.nan, "line_down": np.nan, "line_slant": np.nan}
        else:
            across, down, slant = line_cues(boxes[first], segments, width, height)
            feature |= {"line_across": across, "line_down": down, "line_slant": slant}
        feature |= _axis_fit(entity, feature)
        feature |= placement.get(first, _NO_PLACEMENT)
        feature |= {f"flag_{f}": float(f in c.flags) for f in FLAGS}
        feature |= {word_feature(w): word_value(w, own, near) for w in vocabulary}
        out.append(feature)
    return out


def _box_context(boxes: list[TextBox]) -> ContextWords:
    """Words of the candidate's first box and of the boxes nearest it, worked out once per box."""
    by_box: dict[int, tuple[set[str], set[str]]] = {}

    def context(candidate: Candidate) -> tuple[set[str], set[str]]:
        first = candidate.boxes[0]
        if first not in by_box:
            near = set()
            for j in nearest_boxes(boxes, first):
                near.update(words(boxes[j].text))
            by_box[first] = (set(words(boxes[first].text)), near)
        return by_box[first]

    return context


def feature_names(vocabulary: list[str]) -> list[str]:
    return FEATURES + [word_feature(w) for w in vocabulary]


def without_gaps(features: list[str]) -> list[str]:
    """All but the `rel_*` gaps: the dimension ranker's inputs, and the main ranker's under the precision objective.

    Out of fold (12 fold seeds) the gaps lifted the other attributes' top-1 by 0.005 but lowered the
    dimension rows' by 0.014 to 0.034: the text rows the dimension ranker also learns from have no print
    sizes, and a drawing's labels share their size and their unit.
    """
    return [f for f in features if not f.startswith("rel_")]


# Where a candidate stands among the image's boxes and among its family's values: the cues a dimension drawing
# is read by (the height is the topmost or leftmost, the largest of three). The other attributes' ranker goes
# without them (`for_other_attributes`).
PLACE_AND_ORDER = ("x_rank", "y_rank", "is_bottommost", "is_topmost", "is_leftmost", "is_rightmost",
                   "rank_desc", "rank_asc", "is_largest", "is_smallest")


def for_other_attributes(features: list[str]) -> list[str]:
    """The inputs of the ranker that scores every row but height, width and depth.

    The trees learn drawings' layouts from these cues and apply them to a weight or a voltage, where they mislead.
    Out of fold over fold splits 1-20, a photos ranker without PLACE_AND_ORDER for every row ranked the other
    attributes better but the dimension rows worse (top-1 0.8417 -> 0.8508, dimension top-1 0.6814 -> 0.6621);
    used for the other rows alone, the dimension rows keeping the full photos ranker in their blend
    (`ranker.pipeline.score_candidates`), top-1 rose to 0.8533, and on splits 21-40 from 0.8423 to 0.8521.
    """
    return [f for f in features if f not in PLACE_AND_ORDER]


def build_table(
    rows: pd.DataFrame, boxes_by_image: dict[str, list[TextBox]], priors: Priors, vocabulary: list[str],
    candidates_by_image: dict[str, list[Candidate]] | None = None, segments: dict[str, np.ndarray] | None = None,
    context_words: ContextWords | None = None, line_words: list[tuple[set[str], set[str]]] | None = None,
) -> tuple[pd.DataFrame, dict[str, list[Candidate]]]:
    """Features for every (row, candidate); `row_pos` ties each line to its input row, `label` to its truth.

    `line_words`: a list that receives each line's context words (own, near), in line order, so that another
    vocabulary's word columns can be laid over the table later (`features.fold_words`).
    """
    candidates_by_image = dict(candidates_by_image or {})
    records = []
    for row_pos, row in enumerate(rows.to_dict("records")):
        name = row["image_name"]
        boxes = boxes_by_image.get(name, [])
        if name not in candidates_by_image:
            candidates_by_image[name] = parse_boxes(boxes)
        candidates = candidates_by_image[name]
        truth = parse_label(row.get("entity_value", "")) if "entity_value" in row else None
        words_of = context_words or _box_context(boxes)
        for cand_pos, (c, feats) in enumerate(
            zip(candidates, candidate_features(row, boxes, candidates, priors, vocabulary,
                                               segments=(segments or {}).get(name), context_words=words_of))
        ):
            feats |= {"row_pos": row_pos, "cand_pos": cand_pos, "box_index": c.boxes[0], "value": c.value, "unit_name": c.unit,
                      "label": int(truth is not None and truth.matches(c.value, c.unit))}
            records.append(feats)
            if line_words is not None:
                line_words.append(words_of(c))
    columns = feature_names(vocabulary) + ["row_pos", "cand_pos", "box_index", "value", "unit_name", "label"]
    table = pd.DataFrame.from_records(records, columns=columns)
    _add_relative(table)
    return table, candidates_by_image


def _add_relative(table: pd.DataFrame) -> None:
    """`rel_*`: each RELATIVE feature minus its row's best among allowed-unit candidates (NaN for the rest).

    A value's percentile counts as better the nearer it lies to its group's median.
    """
    allowed = table["unit_allowed"] > 0
    for name in RELATIVE:
        value = table[name].astype(float)
        if name == "group_value_percentile":
            value = -(value - 0.5).abs()
        best = value.where(allowed).groupby(table["row_pos"]).transform("max")
        table[f"rel_{name}"] = (value - best).where(allowed)

