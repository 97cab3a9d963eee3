"""Which axis a printed length measures: the dimension line it labels, read off the photo's drawing.

A dimension drawing prints each length beside the line it measures, or in a gap of that line: a vertical line for
a height, a horizontal one for a width, a receding one for a depth (in the usual three-quarter view the depth
recedes falling to the right, `\\`, the width rising, `/`). For every length candidate this finds the drawn line
whose gap or side its text sits in, and reads off its direction, its length against the image and the product, and
where the text sits against the product. Which axis is the row's attribute is for the features stage to say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from prodspec.candidates.convert import to_base
from prodspec.candidates.records import Candidate, Drawing, TextBox
from prodspec.dataset.units import UNIT_FAMILY

BESIDE = 2.5  # a line counts as labelled when the text sits within this many letter heights of it
IN_GAP = 2.0  # ... or in a gap of it: its end within this many letter heights of the text, the text on its course
STEEP, FLAT = 70.0, 20.0  # degrees: steeper is vertical (a height), flatter horizontal (a width), between receding


@dataclass(frozen=True)
class AxisReading:
    """How a length candidate sits in the drawing; NaN (or "") where no drawn line is its own."""

    axis: str  # "H" vertical line or turned text, "W" horizontal line, "D" receding line, "" none
    angle: float  # the line's direction in degrees, -90..90: 0 flat, 90 upright, > 0 rising to the right (`/`)
    length: float  # the line's length over the image's diagonal
    gap: float  # the text's distance from the line, in letter heights (0 inside a gap of it)
    in_gap: float  # 1 when the text interrupts the line (`|<- 43 cm ->|`), 0 when beside it
    across_product: float  # the line's length over the product's extent along it
    rel_x: float  # the text's centre against the product: 0 its left edge, 1 its right (beyond: outside)
    rel_y: float  # ... 0 its top, 1 its bottom
    largest_on_axis: float  # 1 when no length read on the same axis is larger
    longest_line: float  # 1 when no other length's line is longer
    segment: tuple[float, float, float, float] | None = None  # the line itself (x1, y1, x2, y2), for `explain`


NO_AXIS = AxisReading("", *([math.nan] * 9))


def _line_for(box: TextBox, segments: np.ndarray) -> tuple[int, float, bool] | None:
    """The segment the box labels: (index, gap in letter heights, in a gap of it), or None."""
    if len(segments) == 0:
        return None
    h = max(box.text_height, 1.0)
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    x1, y1, x2, y2 = segments.T
    dx, dy = x2 - x1, y2 - y1
    length = np.maximum(np.hypot(dx, dy), 1.0)
    ux, uy = dx / length, dy / length
    along = (cx - x1) * ux + (cy - y1) * uy  # where the centre falls along the line (0..length: beside it)
    apart = np.abs((cx - x1) * uy - (cy - y1) * ux)  # its distance from the line's course
    half_across = np.abs(ux) * box.height / 2 + np.abs(uy) * box.width / 2  # the box's half extent across the line
    half_along = np.abs(ux) * box.width / 2 + np.abs(uy) * box.height / 2
    beside = (along > -half_along) & (along < length + half_along) & (apart - half_across < BESIDE * h)
    beyond = np.maximum(-along, along - length) - half_along  # how far the line ends short of the text's edge
    gap = (apart < half_across) & ((along < 0) | (along > length)) & (beyond < IN_GAP * h)
    score = np.where(gap, 0.0, np.where(beside, np.maximum(apart - half_across, 0.0) / h, np.inf))
    best = int(np.argmin(score - 1e-6 * length))  # the nearest; of lines as near, the longest
    if not np.isfinite(score[best]):
        return None
    return best, float(score[best]), bool(gap[best])


def _angle(segment: np.ndarray) -> float:
    x1, y1, x2, y2 = segment
    degrees = math.degrees(math.atan2(-(y2 - y1), x2 - x1))  # image y grows downwards: rising is negative dy
    if degrees > 90:
        degrees -= 180
    elif degrees <= -90:
        degrees += 180
    return degrees


def _axis(angle: float) -> str:
    return "H" if abs(angle) >= STEEP else "W" if abs(angle) <= FLAT else "D"


def axis_readings(candidates: list[Candidate], boxes: list[TextBox], drawing: Drawing,
                  size: tuple[float, float]) -> list[AxisReading]:
    """Each candidate's AxisReading; NO_AXIS for a candidate that is not a length."""
    width, height = drawing.size or size
    diagonal = math.hypot(width, height)
    product = drawing.product or (0.0, 0.0, width, height)
    pw, ph = max(product[2] - product[0], 1.0), max(product[3] - product[1], 1.0)
    found: dict[int, tuple] = {}
    out: list[AxisReading] = []
    for c in candidates:
        if UNIT_FAMILY.get(c.unit) != "length":
            out.append(NO_AXIS)
            continue
        first = c.boxes[0]
        if first not in found:
            box = boxes[first]
            line = _line_for(box, drawing.segments)
            if line is None:  # text turned upright reads a height even with no line found beside it
                found[first] = ("H" if abs(box.angle) >= 45 else "", math.nan, math.nan, math.nan, math.nan, math.nan,
                                None)
            else:
                index, gap, in_gap = line
                x1, y1, x2, y2 = drawing.segments[index]
                angle = _angle(drawing.segments[index])
                across = max(abs(x2 - x1) / pw, abs(y2 - y1) / ph)
                found[first] = (_axis(angle), angle, math.hypot(x2 - x1, y2 - y1) / diagonal, gap, float(in_gap),
                                across, (float(x1), float(y1), float(x2), float(y2)))
        axis, angle, length, gap, in_gap, across, segment = found[first]
        box = boxes[first]
        cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
        out.append(AxisReading(axis, angle, length, gap, in_gap, across, (cx - product[0]) / pw,
                               (cy - product[1]) / ph, math.nan, math.nan, segment))
    return _ranked(candidates, out)


def _ranked(candidates: list[Candidate], readings: list[AxisReading]) -> list[AxisReading]:
    """Fill in how each length ranks among the others: the largest on its axis, the longest line."""
    bases = [to_base(c.value, c.unit) for c in candidates]
    longest = max((r.length for r in readings if not math.isnan(r.length)), default=math.nan)
    out = []
    for reading, base in zip(readings, bases):
        if reading is NO_AXIS or not base:
            out.append(reading)
            continue
        same_axis = [b[0] for r, b in zip(readings, bases) if b and r is not NO_AXIS and r.axis == reading.axis]
        out.append(AxisReading(
            reading.axis, reading.angle, reading.length, reading.gap, reading.in_gap, reading.across_product,
            reading.rel_x, reading.rel_y, float(base[0] >= max(same_axis) * (1 - 1e-9)),
            math.nan if math.isnan(reading.length) else float(reading.length >= longest - 1e-9), reading.segment))
    return out
