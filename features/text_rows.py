"""Feature rows from flat OCR text with no boxes (`ocr_text_corpus.csv`), as extra training data.

The corpus holds 1,328 dimension rows where the dev photos hold 67, but its text has no geometry: every
feature that needs a box's place, size or drawn lines is left unknown (NaN, which LightGBM routes on its
own), and the context words are those within a few words of the candidate instead of its own and
neighbouring boxes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from candidates.parse import parse_boxes
from candidates.records import Candidate, TextBox
from features.build import build_table
from features.context import words
from features.priors import Priors

# features that describe a box's place, size, drawn lines or share of the box: unknown for flat text
NEEDS_BOXES = [
    "centre_x", "centre_y", "box_width", "box_height", "text_height_rel", "text_height_vs_max", "vertical", "angle",
    "edge_distance", "reading_order", "box_text_len", "confidence", "match_share_of_box", "x_rank", "y_rank",
    "is_bottommost", "is_topmost", "is_leftmost", "is_rightmost", "family_vertical_count", "line_across",
    "line_down", "line_slant", "line_along_axis", "line_off_axis", "text_along_axis",
    "rel_text_height_vs_max", "rel_confidence",
]
# words either side standing in for the candidate's own box (`Height: 30 cm`) and for its neighbours
OWN_WORDS = (2, 0)
NEAR_WORDS = (8, 8)
_FLAT_BOX = ((0.0, 0.0), (1000.0, 0.0), (1000.0, 20.0), (0.0, 20.0))


def _around(text: str, start: int, end: int, before: int, after: int) -> str:
    """The span with `before` whole words ahead of it and `after` behind it."""
    return " ".join(text[:start].split()[-before:] + [text[start:end]] + text[end:].split()[:after])


def _flat_context(candidate: Candidate) -> tuple[set[str], set[str]]:
    """Words just before the candidate stand in for its own box, and a few words either side for its neighbours."""
    start, end = candidate.span
    return (set(words(_around(candidate.source, start, end, *OWN_WORDS))),
            set(words(_around(candidate.source, start, end, *NEAR_WORDS))))


def text_table(corpus: pd.DataFrame, priors: Priors, vocabulary: list[str], row_offset: int = 0,
               line_words: list[tuple[set[str], set[str]]] | None = None) -> pd.DataFrame:
    """The feature table of `features.build` for text rows; `row_pos` starts at `row_offset`; `line_words` as there."""
    names = [f"text-{i}" for i in range(len(corpus))]  # one pseudo image per row: a photo may carry two rows
    rows = corpus.assign(image_name=names)
    boxes = {n: [TextBox(text, _FLAT_BOX, 1.0)] for n, text in zip(names, corpus["ocr_text"])}
    candidates = {n: parse_boxes(b) for n, b in boxes.items()}
    table, _ = build_table(rows, boxes, priors, vocabulary, candidates, context_words=_flat_context,
                           line_words=line_words)
    table[NEEDS_BOXES] = np.nan
    table["row_pos"] += row_offset
    return table
