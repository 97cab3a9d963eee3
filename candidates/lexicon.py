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
    """One alternation of every spelling, longest first so `inches` wins over `in`; spellings of one length in
    alphabetical order. (Ordered by length alone they followed the set's order, which Python's hash seed draws anew
    for every process: `1.8 in3.6 cm` read `in3` as a cubic inch in some runs and `in` as an inch in others.)"""
    surfaces = sorted(set(_ALL_SURFACES), key=lambda surface: (-len(surface), surface))
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


# (pattern, replacement): OCR confusions, repaired before matching (`parse.fix_ocr_confusions`), applied only next
# to digits or units; each learned from real OCR text (the corpus's or the dev photos')
CONFUSIONS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"(?<=\d)[Oo](?=[\dOo]*\d)"), "0"),  # 5O0 → 500
    (re.compile(r"(?<=\d)[Oo](?=[Oo]*\s?(?:g|gm|gms|gsm|kg|mg|ml|mL|G|GM|GSM|KG|MG|ML|W|V|cm|mm|CM|MM)\b)"), "0"),  # 1OO g
    (re.compile(r"(?<![A-Za-z\d])[Oo](?=[.,]\d)"), "0"),  # O.5 kg
    (re.compile(r"(?<=\d[.,])[Oo](?=\s?[a-zA-Z\"'])"), "0"),  # 8.Ocm → 8.0cm
    (re.compile(r"(?<=\d[.,])S(?=\s?[a-zA-Z\"'])"), "5"),  # 9.Scm → 9.5cm
    (re.compile(r"(?<![A-Za-z])[lI|](?=\d)"), "1"),  # l00ml → 100ml
    (re.compile(r"(?<=\d)[lI](?=\d)"), "1"),  # 1l5 → 115
    (re.compile(r"(?<![A-Za-z\d])S(?=\d\d)"), "5"),  # S00g → 500g
    (re.compile(r"(?<=[:：])(\s?)S(?=\s?(?:V|W|kg|KG|g|G)(?:$|[\s,;)]))"), r"\g<1>5"),  # VOLTAGE:SV → VOLTAGE:5V
    (re.compile(r"(?<=\d)\s?0[zZ]\b"), " oz"),  # 16 0z → 16 oz
    (re.compile(r"(?<=[Ff][Ll])(\.?\s?)0[zZ]\b"), r"\1oz"),  # 8 FL 0Z → 8 FL oz
    (re.compile(r"(?<=\d)\s?([kK])9\b"), r" \1g"),  # 7.3k9 → 7.3 kg: g read as 9
    (re.compile(r"(?<=\d)\s?[Ii|][bB](?=[sS]?\b)"), " lb"),  # 5 Ib, 109.3 |b, 30-55ibs → lb
    (re.compile(r"(?<=\d)\s?m9\b"), " mg"),  # 10 m9 → 10 mg: g read as 9
    (re.compile(r"(?<=\d)\s?K\sG\b"), " KG"),  # 150 K G
    (re.compile(r"(?<=\d)mn(?=[\d/])"), "mm"),  # 151mn5.44in, 69mn2.7 → mm (`10mn.` is French minutes)
    (re.compile(r"(?<=\d)(\s?(?:cm|mm))[il](?![A-Za-z])"), r"\1"),  # 140cmi, 36cml: a bar read after the unit
    (re.compile(r"(?<=\d)(\s?in)l(?![A-Za-z])"), r"\1"),  # 1.69 inl 4.3 cm
    (re.compile(r"(?<=\d)(\s?(?:cm|mm|kg|g|lbs?))to\b"), r"\1 to"),  # 30.5 cmto 33.5 cm
    (re.compile(r"(?<=\d)1[bB](?=[sS]?\b)"), " lb"),  # (6.61b) → 6.6 lb: "b" alone is no unit
    (re.compile(r"(?<=\d)\s?[*](?![\s*]*\d)"), '"'),  # 12* → 12" (a star read for an inch mark)
    (re.compile(r"(?<=\d)\s?m[I|](?![a-z])"), " ml"),  # 200 mI → 200 ml
    (re.compile(r"(\d\s?(?:kg|g|ml|mL|cl|l|L))e\b"), r"\1 e"),  # 350ge: the ℮ (estimated) mark read as e
    (re.compile(r"(?<=[(（])(\d+(?:[.,]\d+)?\s?)9(?=\s?[)）])"), r"\1g"),  # 3.18OZ(909), 3 02 (85 9): g read as 9
]
