"""Feature rows from flat OCR text with no boxes (`ocr_text_corpus.csv`), as extra training data.

The corpus holds 1,328 dimension rows where the dev photos hold 67, but its text has no geometry: every
feature that needs a box's place, size or drawn lines is left unknown (NaN, which LightGBM routes on its
own; `features.columns.NEEDS_BOXES`), and the context words are those within a few words of the candidate
instead of its own and neighbouring boxes (`features.context.flat_context`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from prodspec.candidates.records import ImageCandidates
from prodspec.features.build import FeatureTable, build_table
from prodspec.features.priors import Priors


def text_table(corpus: pd.DataFrame, texts: Sequence[ImageCandidates], priors: Priors, vocabulary: list[str],
               row_offset: int = 0, keep_words: bool = False) -> FeatureTable:
    """The feature table of `features.build` for text rows (`texts`: each row's `candidates.image.text_candidates`);
    `row_pos` starts at `row_offset`, so the lines can join a photos table's."""
    # one pseudo image per row (a photo may carry two rows), named by its row_pos so that two tables never share one
    names = [f"text-{row_offset + i}" for i in range(len(corpus))]
    table = build_table(corpus.assign(image_name=names), dict(zip(names, texts, strict=True)), priors, vocabulary,
                        keep_words=keep_words)
    table.lines["row_pos"] += row_offset
    return table
