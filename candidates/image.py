"""This stage's output: a photo's OCR reading (or a flat OCR text) → one `ImageCandidates` record.

Everything the features stage needs from the boxes is worked out here, once: the candidates, the drawn lines
beside each, and the numbers the photo prints. No later stage parses text or looks at segments again.
"""

from __future__ import annotations

import numpy as np

from prodspec.candidates.axes import axis_readings
from prodspec.candidates.lines import line_cues
from prodspec.candidates.parse import parse_boxes, printed_numbers
from prodspec.candidates.records import (
    ImageCandidates,
    ImageReading,
    LineCues,
    TextBox,
    image_extent,
)

# a flat text is read as one wide box: its candidates keep a box to point at, and the features stage knows
# (`ImageCandidates.flat`) that the box's geometry means nothing
FLAT_BOX = ((0.0, 0.0), (1000.0, 0.0), (1000.0, 20.0), (0.0, 20.0))


def image_candidates(reading: ImageReading, segments: np.ndarray | None = None) -> ImageCandidates:
    """A photo's candidates, with the line cues beside each (`segments`: the reading's own unless given;
    None-like only for a reading whose lines are unknown)."""
    boxes = reading.boxes
    segments = reading.segments if segments is None else segments
    candidates = parse_boxes(boxes)
    size = image_extent(boxes)
    cues: dict[int, LineCues] = {}
    for c in candidates:
        first = c.boxes[0]
        if first not in cues:
            cues[first] = LineCues(*line_cues(boxes[first], segments, *size))
    return ImageCandidates(boxes, candidates, [cues[c.boxes[0]] for c in candidates],
                           frozenset(printed_numbers(boxes)), size, missing=reading.missing,
                           axes=axis_readings(candidates, boxes, reading.drawing, size))


def text_candidates(text: str) -> ImageCandidates:
    """The candidates of a flat OCR text with no boxes (another system's reading of a photo)."""
    boxes = [TextBox(text, FLAT_BOX, 1.0)]
    return ImageCandidates(boxes, parse_boxes(boxes), None, frozenset(printed_numbers(boxes)), image_extent(boxes),
                           flat=True)


def no_photo() -> ImageCandidates:
    """What a row whose photo is not there to read gets: nothing."""
    return ImageCandidates([], [], [], frozenset(), (1.0, 1.0), missing=True)
