"""The unit surface forms the parser recognises, as one declarative table.

Each entry: the canonical allowed unit(s) a spelling stands for, and whether the spelling must match
case exactly. `oz` stands for both ounce and fluid ounce: which one fits is the ranker's call.
Spellings were gathered from the OCR text corpus and the dev images' OCR (OCR confusions such as `Ib`
and `0z` are repaired before matching, in `parse.fix_ocr_confusions`).
"""

from __future__ import annotations

import re

# canonical unit(s), surface forms (case-insensitive unless listed in CASE_SENSITIVE)
UNIT_SURFACES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("milligram",), ("mg", "mgs", "milligram", "milligrams", "milligramme", "milligrammes")),
    (("microgram",), ("mcg", "µg", "μg", "ug", "microgram", "micrograms")),
    (("kilogram",), ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kgm")),
    # `400 GSM` (grams per square metre) is labelled `400 gram`: 5 rows of the text corpus, 1 dev photo
    (("gram",), ("g", "gm", "gms", "gr", "grs", "gram", "grams", "gramm", "gramme", "grammes", "grm", "gsm")),
    (("ounce", "fluid ounce"), ("oz", "ozs", "oz.", "ounce", "ounces")),
    (("fluid ounce",), ("fl oz", "fl. oz", "fl.oz", "fl. oz.", "fl.oz.", "floz", "oz fl", "fl ounce",
                        "fluid ounce", "fluid ounces", "fl.ounce")),
    (("pound",), ("lb", "lbs", "lb.", "lbs.", "pound", "pounds")),
    (("ton",), ("ton", "tons", "tonne", "tonnes")),
    (("millilitre",), ("ml", "mls", "millilitre", "millilitres", "milliliter", "milliliters", "cc", "cm3", "cm³")),
    (("centilitre",), ("cl", "centilitre", "centiliter", "centilitres", "centiliters")),
    (("decilitre",), ("dl", "decilitre", "deciliter")),
    (("microlitre",), ("µl", "μl", "microlitre", "microliter")),
    (("litre",), ("l", "ltr", "ltrs", "lt", "litre", "litres", "liter", "liters")),
    (("gallon",), ("gal", "gals", "gallon", "gallons")),
    (("quart",), ("qt", "qts", "quart", "quarts")),
    (("pint",), ("pt", "pts", "pint", "pints")),
    (("cup",), ("cup", "cups")),
    (("cubic foot",), ("cu ft", "cu. ft", "cu.ft", "cu. ft.", "cubic feet", "cubic foot", "ft3", "ft³")),
    (("cubic inch",), ("cu in", "cu. in", "cubic inch", "cubic inches", "in3", "in³")),
    (("millivolt",), ("mv", "millivolt", "millivolts")),
    (("kilovolt",), ("kv", "kilovolt", "kilovolts")),
    (("volt",), ("v", "vac", "vdc", "v ac", "v dc", "volt", "volts", "v~")),
    (("kilowatt",), ("kw", "kilowatt", "kilowatts")),
    (("watt",), ("w", "watt", "watts")),
    (("millimetre",), ("mm", "millimetre", "millimetres", "millimeter", "millimeters")),
    (("centimetre",), ("cm", "cms", "centimetre", "centimetres", "centimeter", "centimeters")),
    (("metre",), ("m", "mtr", "mtrs", "metre", "metres", "meter", "meters")),
    (("inch",), ("in", "in.", "inch", "inches", "inchs", '"')),
    (("foot",), ("ft", "ft.", "feet", "foot")),
    # a lone `'` is a foot mark, but OCR often reads a faint `"` as `'` (`49' 15" 12"` on one drawing)
    (("foot", "inch"), ("'",)),
    (("yard",), ("yd", "yds", "yard", "yards")),
]

# Spellings that count only in these cases ("M" alone is a size as often as a metre).
CASE_SENSITIVE = {"m": {"m"}, "mv": {"mV", "mv"}}

# Short spellings that must not be followed by any letter at all (5mAh is not 5 metres).
NO_LETTER_AFTER = {"m", "mv", "in", "ft", "pt", "gr", "lt"}


def normal_form(surface: str) -> str:
    """Spelling without case, spaces and dots: `Fl. Oz.` and `floz` are one key."""
    return re.sub(r"[\s.]+", "", surface).lower()


UNITS_BY_SURFACE: dict[str, tuple[str, ...]] = {}
for _units, _surfaces in UNIT_SURFACES:
    for _surface in _surfaces:
        UNITS_BY_SURFACE[normal_form(_surface)] = _units
_ALL_SURFACES = [s for _, surfaces in UNIT_SURFACES for s in surfaces]


def _surface_regex(surface: str) -> str:
    return re.escape(surface).replace(r"\ ", r"\s*").replace(r"\.", r"\.?")


def unit_pattern() -> str:
    """One alternation of every spelling, longest first so `inches` wins over `in`."""
    surfaces = sorted(set(_ALL_SURFACES), key=len, reverse=True)
    return "(?i:" + "|".join(_surface_regex(s) for s in surfaces) + ")"


def lookup(surface: str) -> tuple[str, ...] | None:
    """The canonical unit(s) for a matched spelling; None when its case or form does not count."""
    key = normal_form(surface)
    units = UNITS_BY_SURFACE.get(key)
    if units is None:
        return None
    if key in CASE_SENSITIVE and surface.strip() not in CASE_SENSITIVE[key]:
        return None
    return units
