"""The records of this stage: what OCR read off a photo (`ImageReading`: text boxes and drawn lines), the
quantity candidates read from it, and `ImageCandidates`, the one record the next stage (features/) reads."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class TextBox:
    """One OCR reading: the quadrilateral (4 (x, y) points, clockwise from top-left), text, confidence.

    Its geometry is computed once: the parser and the features ask for it dozens of times per box.
    """

    text: str
    points: tuple[tuple[float, float], ...]
    confidence: float

    @cached_property
    def left(self) -> float:
        return min(p[0] for p in self.points)

    @cached_property
    def right(self) -> float:
        return max(p[0] for p in self.points)

    @cached_property
    def top(self) -> float:
        return min(p[1] for p in self.points)

    @cached_property
    def bottom(self) -> float:
        return max(p[1] for p in self.points)

    @cached_property
    def width(self) -> float:
        return self.right - self.left

    @cached_property
    def height(self) -> float:
        return self.bottom - self.top

    @cached_property
    def angle(self) -> float:
        """Reading angle in degrees: the top edge's slope, or ±90 for a tall box holding a line of text."""
        (x0, y0), (x1, y1) = self.points[0], self.points[1]
        slope = math.degrees(math.atan2(y1 - y0, x1 - x0))
        if self.height > 1.5 * self.width and len(self.text) > 1:
            return 90.0
        return slope

    @cached_property
    def text_height(self) -> float:
        """Height of the letters: the box's short side for rotated text."""
        return self.width if abs(self.angle) >= 45 else self.height


@dataclass
class Candidate:
    """A number with an allowed unit, where it came from, and how it was read."""

    value: float
    unit: str
    source: str  # the text the match was found in (one box, or two joined)
    span: tuple[int, int]  # the match inside `source`
    boxes: tuple[int, ...]  # indices of the TextBoxes it came from
    kind: str = "single"  # single | range_low | range_high | dimension | multipack | multipack_total
    position: int = 0  # 1-based place in a dimension group, 0 otherwise
    group_size: int = 0  # number of values in the dimension group
    axis: str = ""  # L/W/H/D letter written next to a dimension value
    surface_unit: str = ""  # the unit as written
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[float, str]:
        return (round(self.value, 6), self.unit)

    @property
    def matched_text(self) -> str:
        return self.source[self.span[0] : self.span[1]]


NO_SEGMENTS = np.zeros((0, 4), np.float32)


@dataclass(frozen=True)
class Drawing:
    """What a photo shows besides its text, found in one pass over its pixels (`candidates.lines`): the straight
    drawn lines (x1, y1, x2, y2), the image's size, and the bounding box of the product (x0, y0, x1, y1), in the
    pixels the boxes use; size and product None where unknown."""

    segments: np.ndarray = field(default_factory=lambda: NO_SEGMENTS)
    size: tuple[float, float] | None = None
    product: tuple[float, float, float, float] | None = None


NO_DRAWING = Drawing()


@dataclass
class ImageReading:
    """What OCR read off one photo: text boxes, and the photo's drawing in the same pixels."""

    boxes: list[TextBox]
    seconds: float = 0.0  # OCR seconds, as measured when the photo was read
    cached: bool = False  # taken from the OCR cache, not read now
    drawing: Drawing = NO_DRAWING
    missing: bool = False  # no readable photo: nothing was read

    @property
    def segments(self) -> np.ndarray:
        return self.drawing.segments


@dataclass(frozen=True)
class LineCues:
    """The longest drawn line beside a candidate's text in each direction, as shares of the image's width
    (across), height (down) and diagonal (slant); 0 where there is none."""

    across: float
    down: float
    slant: float


@dataclass
class ImageCandidates:
    """Everything features/ reads about one photo, or one flat OCR text with no boxes (`flat`).

    `lines` holds each candidate's line cues, in the candidates' order; None where the drawn lines are not known
    (a flat text, a cache that never kept them). `printed`: every number the photo prints, with or without a unit.
    """

    boxes: list[TextBox]
    candidates: list[Candidate]
    lines: list[LineCues] | None
    printed: frozenset[float]
    size: tuple[float, float]  # the image's width and height as far as the boxes show them
    flat: bool = False
    missing: bool = False
    axes: list = field(default_factory=list)  # each candidate's `candidates.axes.AxisReading`


def image_extent(boxes: list[TextBox]) -> tuple[float, float]:
    """The image size as far as the boxes show it (the cache keeps boxes, not the image)."""
    if not boxes:
        return 1.0, 1.0
    return max(max(b.right for b in boxes), 1.0), max(max(b.bottom for b in boxes), 1.0)
