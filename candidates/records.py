"""The two records this stage produces: an OCR text box, and a quantity candidate read from boxes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property


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
