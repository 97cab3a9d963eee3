"""The feature table: one line per (row, candidate), from the row, its photo's `ImageCandidates` and the priors.

Column order is the model's contract (`features.columns`). The table crosses to the ranker as one record,
`FeatureTable`, with what the ranker needs of each row besides its lines: the numbers its photo prints (for a row
with no candidate) and whether its photo was there at all.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodspec.candidates.axes import NO_AXIS, AxisReading
from prodspec.candidates.image import no_photo
from prodspec.candidates.records import Candidate, ImageCandidates, LineCues, TextBox
from prodspec.dataset.labels import parse_label
from prodspec.dataset.units import UNIT_FAMILY, allowed_units, entity_names
from prodspec.features.columns import (
    AXIS_OF_ENTITY,
    ENTITY_FAMILY,
    FAMILIES,
    FLAGS,
    KINDS,
    LINE_ALONG_AXIS,
    LINE_COLUMNS,
    NEEDS_BOXES,
    RELATIVE,
    UNITS,
    feature_names,
)
from prodspec.features.context import (
    flat_context,
    nearest_boxes,
    word_feature,
    word_value,
    words,
)
from prodspec.features.priors import Priors
from prodspec.features.quantities import quantity_features

# a candidate's context words: (in its own box, in the boxes nearest it)
ContextWords = Callable[[Candidate], tuple[set[str], set[str]]]
_NO_LINES = {"line_across": np.nan, "line_down": np.nan, "line_slant": np.nan}


@dataclass
class FeatureTable:
    """This stage's record: `lines` holds one line per (row, candidate) with the features and LINE_COLUMNS;
    per row (`row_pos` is the row's position in `rows`), the numbers its photo prints and whether it was missing.

    `line_words`: each line's context words (own, near), kept when asked for, so that another vocabulary's word
    columns can be laid over the table later (`features.fold_words`).
    """

    lines: pd.DataFrame
    rows: pd.DataFrame
    printed: list[frozenset[float]]
    missing: np.ndarray
    line_words: list[tuple[set[str], set[str]]] | None = None


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


def candidate_features(row: dict, image: ImageCandidates, priors: Priors, vocabulary: list[str],
                       context_words: ContextWords) -> list[dict]:
    """One feature dict per candidate of the row's photo."""
    entity, group = row["entity_name"], str(row["group_id"])
    allowed = allowed_units()[entity]
    boxes, candidates = image.boxes, image.candidates
    width, height = image.size
    max_text = max((b.text_height for b in boxes), default=1.0) or 1.0
    counts = Counter(c.key for c in candidates)
    # reading order of the allowed candidates: the rule most OCR teams used, offered as a feature
    allowed_order = {id(c): k for k, c in enumerate(c for c in candidates if c.unit in allowed)}
    same_family = sorted({c.value for c in candidates if UNIT_FAMILY[c.unit] == ENTITY_FAMILY[entity]})
    placement = _placement_among_family(boxes, candidates, ENTITY_FAMILY[entity])
    axes_read = {(a.axis, c.key) for a, c in zip(image.axes, candidates) if a.axis}
    entity_lengths = float(sum(axis == AXIS_OF_ENTITY.get(entity) for axis, _ in axes_read))
    axis_count = float(len({axis for axis, _ in axes_read}))
    standing = quantity_features(candidates, image.axes)
    out = []
    for k, c in enumerate(candidates):
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
        feature |= _NO_LINES if image.lines is None else _line_features(image.lines[k])
        feature |= _axis_fit(entity, feature)
        feature |= placement.get(first, _NO_PLACEMENT)
        feature |= {f"flag_{f}": float(f in c.flags) for f in FLAGS}
        feature |= _axis_features(entity, image.axes[k] if image.axes else NO_AXIS, entity_lengths, axis_count)
        feature |= standing[k]
        feature |= {word_feature(w): word_value(w, own, near) for w in vocabulary}
        out.append(feature)
    return out


def _axis_features(entity: str, reading: AxisReading, entity_lengths: float, axis_count: float) -> dict:
    """The axis reading, and how it fits the row's attribute: a height wants a vertical line, a width a horizontal
    one, a depth a receding one (the fit NaN where no line was read, or the attribute is no length)."""
    wanted = AXIS_OF_ENTITY.get(entity)
    matches = float(reading.axis == wanted) if wanted and reading.axis else np.nan
    return {"drawn_matches": matches, "drawn_angle": reading.angle, "drawn_abs_angle": abs(reading.angle),
            "drawn_length": reading.length, "drawn_gap": reading.gap, "drawn_in_gap": reading.in_gap,
            "drawn_across_product": reading.across_product, "drawn_rel_x": reading.rel_x, "drawn_rel_y": reading.rel_y,
            "drawn_largest_on_axis": reading.largest_on_axis, "drawn_longest_line": reading.longest_line,
            "drawn_entity_lengths": entity_lengths if wanted else np.nan, "drawn_axes": axis_count}


def _line_features(cues: LineCues) -> dict:
    return {"line_across": cues.across, "line_down": cues.down, "line_slant": cues.slant}


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


def build_table(rows: pd.DataFrame, images: Mapping[str, ImageCandidates], priors: Priors, vocabulary: list[str],
                keep_words: bool = False) -> FeatureTable:
    """Features for every (row, candidate); `row_pos` ties each line to its input row, `label` to its truth.

    A row whose photo is not in `images` is a row with no photo. `keep_words`: keep each line's context words.
    """
    records = []
    line_words: list[tuple[set[str], set[str]]] = []
    flat_lines: list[bool] = []
    row_images = [images.get(name) or no_photo() for name in rows["image_name"]]
    contexts: dict[int, ContextWords] = {}
    for row_pos, (row, image) in enumerate(zip(rows.to_dict("records"), row_images)):
        truth = parse_label(row.get("entity_value", "")) if "entity_value" in row else None
        if id(image) not in contexts:  # rows of one photo share its boxes' context words
            contexts[id(image)] = flat_context if image.flat else _box_context(image.boxes)
        words_of = contexts[id(image)]
        for cand_pos, (c, feats) in enumerate(
                zip(image.candidates, candidate_features(row, image, priors, vocabulary, words_of))):
            feats |= {"row_pos": row_pos, "cand_pos": cand_pos, "box_index": c.boxes[0], "value": c.value,
                      "unit_name": c.unit, "label": int(truth is not None and truth.matches(c.value, c.unit)),
                      "evidence": c.matched_text if image.flat else " ".join(image.boxes[i].text for i in c.boxes)}
            records.append(feats)
            flat_lines.append(image.flat)
            if keep_words:
                line_words.append(words_of(c))
    lines = pd.DataFrame.from_records(records, columns=feature_names(vocabulary) + LINE_COLUMNS)
    _add_relative(lines)
    if any(flat_lines):
        lines.loc[np.array(flat_lines), NEEDS_BOXES] = np.nan
    return FeatureTable(lines, rows.reset_index(drop=True), [image.printed for image in row_images],
                        np.array([image.missing for image in row_images], dtype=bool),
                        line_words if keep_words else None)


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

