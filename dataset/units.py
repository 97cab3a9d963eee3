"""The allowed-units table of the task (TASK.md), loaded from `allowed_units.json`, its one home."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

# The official checker accepts these spellings and rewrites them before comparing.
SPELLING_FIXES = {"meter": "metre", "feet": "foot"}

# Which physical family each unit belongs to; a candidate's family decides which attributes it can serve.
UNIT_FAMILY = {
    "centimetre": "length", "foot": "length", "inch": "length", "metre": "length",
    "millimetre": "length", "yard": "length",
    "gram": "mass", "kilogram": "mass", "microgram": "mass", "milligram": "mass",
    "ounce": "mass", "pound": "mass", "ton": "mass",
    "kilovolt": "voltage", "millivolt": "voltage", "volt": "voltage",
    "kilowatt": "power", "watt": "power",
    "centilitre": "volume", "cubic foot": "volume", "cubic inch": "volume", "cup": "volume",
    "decilitre": "volume", "fluid ounce": "volume", "gallon": "volume", "imperial gallon": "volume",
    "litre": "volume", "microlitre": "volume", "millilitre": "volume", "pint": "volume", "quart": "volume",
}


@lru_cache(maxsize=1)
def allowed_units() -> dict[str, frozenset[str]]:
    text = resources.files("prodspec.dataset").joinpath("allowed_units.json").read_text()
    return {entity: frozenset(units) for entity, units in json.loads(text).items()}


def entity_names() -> list[str]:
    return sorted(allowed_units())


def all_units() -> frozenset[str]:
    return frozenset().union(*allowed_units().values())


def fix_unit_spelling(unit: str) -> str:
    """Apply the checker's `...meter`→`...metre`, `feet`→`foot` rewrites."""
    unit = " ".join(unit.strip().split())
    for wrong, right in SPELLING_FIXES.items():
        if unit.endswith(wrong):
            unit = unit[: -len(wrong)] + right
    return unit
