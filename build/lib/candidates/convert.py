"""Unit conversion with pint, for comparing quantities written in different units."""

from __future__ import annotations

from functools import lru_cache

import pint

_PINT_NAMES = {"cup": "us_cup", "imperial gallon": "imperial_gallon", "gallon": "gallon", "ton": "metric_ton",
               "fluid ounce": "fluid_ounce", "cubic foot": "cubic_foot", "cubic inch": "cubic_inch"}


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    return pint.UnitRegistry()


@lru_cache(maxsize=256)
def _factor(unit: str) -> tuple[float, str] | None:
    ureg = registry()
    try:
        quantity = ureg.Quantity(1.0, _PINT_NAMES.get(unit, unit.replace(" ", "_"))).to_base_units()
    except (pint.errors.UndefinedUnitError, pint.errors.DimensionalityError, AttributeError):
        return None
    return float(quantity.magnitude), str(quantity.units)


def to_base(value: float, unit: str) -> tuple[float, str] | None:
    """The value in SI base units and the dimensionality's name, or None for an unknown unit."""
    factor = _factor(unit)
    return (value * factor[0], factor[1]) if factor else None
