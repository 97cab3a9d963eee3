"""Labels and predictions as strings: parse `"[1.0, 2.0] volt"`, write `"500.0 gram"`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from prodspec.dataset.units import fix_unit_spelling

_NUMBER = r"-?\d+(?:\.\d+)?"
_SINGLE = re.compile(rf"^\s*({_NUMBER})\s+([a-zA-Z ]+?)\s*$")
_BRACKET_RANGE = re.compile(rf"^\s*\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]\s+([a-zA-Z ]+?)\s*$")
_TO_RANGE = re.compile(rf"^\s*({_NUMBER})\s+([a-zA-Z ]+?)\s+to\s+({_NUMBER})\s+([a-zA-Z ]+?)\s*$")


@dataclass(frozen=True)
class Label:
    """A parsed label: one value, or a range whose ends are both counted as right answers."""

    values: tuple[float, ...]
    unit: str

    def matches(self, value: float, unit: str) -> bool:
        return unit == self.unit and any(math.isclose(value, v, rel_tol=1e-6, abs_tol=1e-9) for v in self.values)


def parse_label(text: str) -> Label | None:
    """Parse a train label; None for an empty or unreadable one."""
    if not isinstance(text, str) or not text.strip():
        return None
    if m := _BRACKET_RANGE.match(text):
        return Label((float(m[1]), float(m[2])), fix_unit_spelling(m[3]))
    if m := _TO_RANGE.match(text):
        if fix_unit_spelling(m[2]) == fix_unit_spelling(m[4]):
            return Label((float(m[1]), float(m[3])), fix_unit_spelling(m[2]))
        return None
    if m := _SINGLE.match(text):
        return Label((float(m[1]),), fix_unit_spelling(m[2]))
    return None


def format_number(value: float, integer_style: str = "decimal") -> str:
    """No exponent, no thousands separator; integers as `500.0` ("decimal") or `500` ("plain")."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    text = f"{value:.6f}".rstrip("0")
    if text.endswith("."):
        text = text[:-1] if integer_style == "plain" else text + "0"
    if text in ("-0", "-0.0"):
        text = text[1:]
    return text


def format_prediction(value: float, unit: str, integer_style: str = "decimal") -> str:
    return f"{format_number(value, integer_style)} {unit}"
