"""The feature table's columns, in one place: their order is the model's contract (`FEATURES` plus one column per
vocabulary word is stored in the model's meta.json and checked when it is loaded), and the subsets each ranker
reads."""

from __future__ import annotations

from prodspec.dataset.units import UNIT_FAMILY, allowed_units
from prodspec.features.context import word_feature
from prodspec.features.quantities import QUANTITY_FEATURES

# bumped when a feature this code made before changes its meaning: a model trained on the old meaning is refused.
# New features need no bump: a model reads the columns it names (meta.json), and ignores the others.
FEATURE_VERSION = 1

UNITS = sorted(UNIT_FAMILY)
FAMILIES = sorted(set(UNIT_FAMILY.values()))
KINDS = ["single", "range_low", "range_high", "dimension", "multipack", "multipack_total"]
FLAGS = ["ocr_fix", "alt_number", "ambiguous_unit", "unit_from_group", "unit_from_range", "split_boxes",
         "has_equivalent"]
AXIS_OF_ENTITY = {"height": "H", "width": "W", "depth": "D"}  # the letter printed beside a value, and its line
LINE_ALONG_AXIS = {"height": "line_down", "width": "line_across", "depth": "line_slant"}
ENTITY_FAMILY = {e: UNIT_FAMILY[next(iter(u))] for e, u in allowed_units().items()}

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
# the drawn line a length labels (`candidates.axes`), and how its axis fits the row's attribute
AXIS = ["drawn_matches", "drawn_angle", "drawn_abs_angle", "drawn_length", "drawn_gap", "drawn_in_gap",
        "drawn_across_product", "drawn_rel_x", "drawn_rel_y", "drawn_largest_on_axis", "drawn_longest_line",
        "drawn_entity_lengths", "drawn_axes"]
FEATURES += AXIS
# where the quantity stands among the distinct quantities printed, and which of its units it is (`features.quantities`)
FEATURES += QUANTITY_FEATURES
CATEGORICAL = ["entity", "unit", "family", "kind"]
# what each line carries besides its features: where it came from, its truth, and the text it was read in
# (`qty_group`: the distinct quantity the candidate prints, `features.quantities`)
LINE_COLUMNS = ["row_pos", "cand_pos", "box_index", "value", "unit_name", "label", "evidence", "qty_group"]

# features that describe a box's place, size, drawn lines or share of the box: unknown for a flat text
NEEDS_BOXES = [
    "centre_x", "centre_y", "box_width", "box_height", "text_height_rel", "text_height_vs_max", "vertical", "angle",
    "edge_distance", "reading_order", "box_text_len", "confidence", "match_share_of_box", "x_rank", "y_rank",
    "is_bottommost", "is_topmost", "is_leftmost", "is_rightmost", "family_vertical_count", "line_across",
    "line_down", "line_slant", "line_along_axis", "line_off_axis", "text_along_axis",
    "rel_text_height_vs_max", "rel_confidence", *AXIS,
]


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
# without them (`for_other_attributes`). It keeps the quantity features (`features.quantities`): with them, out of
# fold over fold splits 1-20, the other attributes read right 0.6209 against 0.6197 (14 splits better, 4 worse).
PLACE_AND_ORDER = ("x_rank", "y_rank", "is_bottommost", "is_topmost", "is_leftmost", "is_rightmost",
                   "rank_desc", "rank_asc", "is_largest", "is_smallest")


def for_other_attributes(features: list[str]) -> list[str]:
    """The inputs of the ranker that scores every row but height, width and depth.

    The trees learn drawings' layouts from these cues and apply them to a weight or a voltage, where they mislead.
    Out of fold over fold splits 1-20, a photos ranker without PLACE_AND_ORDER for every row ranked the other
    attributes better but the dimension rows worse (top-1 0.8417 -> 0.8508, dimension top-1 0.6814 -> 0.6621);
    used for the other rows alone, the dimension rows keeping the full photos ranker in their blend
    (`ranker.blend.score_candidates`), top-1 rose to 0.8533, and on splits 21-40 from 0.8423 to 0.8521.
    """
    return [f for f in features if f not in PLACE_AND_ORDER]
