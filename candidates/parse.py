"""Text boxes → every number+unit candidate.

The parser over-generates on purpose: a candidate that does not fit the row's attribute is a feature for
the ranker, not something to filter here. Order of work per text: repair OCR confusions in numeric
context, then find dimension groups (`10 x 20 x 30 cm`), ranges (`100-240V`), and plain quantities; the
most specific reading of each number wins. Numbers and units split over two neighbouring boxes are read
by parsing the two texts joined and keeping only matches that cross the join.
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np

from prodspec.candidates import lexicon
from prodspec.candidates.records import Candidate, TextBox

UNIT = lexicon.unit_pattern()
# a number: digits with `.`/`,` groups, or a fraction with a usual denominator (`5 1/2`, `1/2`, `3/16`);
# `20/24W` in a list `12/16/20/24W` is not a fraction
_FRACTION = r"\d+/(?:2|3|4|8|16|32|64)(?![\d/])"
NUMBER = rf"(?:\d+\s+{_FRACTION}|(?<!/){_FRACTION}|\d+(?:[.,]\d+)*)"
_LEFT = r"(?<!\d)(?<!\d[.,])"  # not inside another number; a full stop before is fine
_UNIT_END = r"(?![a-wyz])"  # case-sensitive: `200gE` and `4"x5"` read, `5 grapes` does not
# `5-inch`, `2.5-KG`, `250-W-Motor`: a hyphen may join a number to its unit (never to another number);
# `0.43 (oz)`, `25(mm)`: so may a bracket closed right after the unit (`C43 (W205` is a model code)
SINGLE = re.compile(rf"{_LEFT}({NUMBER})(?:\s*|-|\s*\(\s*(?=(?:{UNIT})\s*\)))({UNIT}){_UNIT_END}")
RANGE = re.compile(
    rf"{_LEFT}({NUMBER})\s*(?:({UNIT}){_UNIT_END}\s*)?(?:-|–|—|~|to|TO|To)\s*({NUMBER})\s*({UNIT}){_UNIT_END}"
)
_AXIS = r"(?:[LWHD]|Dia|DIA)"
DIM_ITEM = re.compile(
    rf"(?:({_AXIS})\s*[:.]?\s*)?({NUMBER})\s*(?:({UNIT}){_UNIT_END})?(?:\s*\(?({_AXIS})\)?(?![A-Za-z]))?"
)
_DIM_ITEM_SRC = rf"(?:{_AXIS}\s*[:.]?\s*)?{NUMBER}\s*(?:{UNIT}{_UNIT_END})?(?:\s*\(?{_AXIS}\)?(?![A-Za-z]))?"
DIMENSION = re.compile(rf"{_LEFT}{_DIM_ITEM_SRC}(?:\s*[xX×\*]\s*{_DIM_ITEM_SRC}){{1,3}}")

_QUOTE_FIXES = str.maketrans({"”": '"', "“": '"', "″": '"', "’": "'", "′": "'", "‘": "'", "⁄": "/", "，": ","})


def _replacer(replacement: str):
    # `re` parses a template (`\1g`) on every `sub` call, matched or not: three times the cost of a plain
    # string over every box's text; a function expands it only where a pattern matches
    return (lambda match: match.expand(replacement)) if "\\" in replacement else replacement


_FIXES = [(pattern, _replacer(replacement)) for pattern, replacement in lexicon.CONFUSIONS]
_VULGAR_AFTER_DIGIT = re.compile(r"(?<=\d)([\u00bc-\u00be\u2150-\u215e])")
_SPACE_BEFORE = _replacer(r" \1")
# `12.5*16.7*6.7 (cm)`: a length unit in brackets after a dimension group's last number is the group's unit
# (a single number's bracketed unit is read by SINGLE; `(W)` may be a width, not watts)
_BRACKETED_LENGTH = re.compile(r"([xX×*]\s*\d+(?:[.,]\d+)?)\s*\(\s*(cm|mm|in|inch|inches|CM|MM|IN)\s*\)")
_BRACKETED_LENGTH_UNIT = _replacer(r"\1 \2")


def normalise(text: str) -> str:
    # `3½` must become `3 1/2`: NFKC alone writes `31⁄2`, which reads as 31/2
    text = _VULGAR_AFTER_DIGIT.sub(_SPACE_BEFORE, text)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_FIXES)
    return _BRACKETED_LENGTH.sub(_BRACKETED_LENGTH_UNIT, text.replace("''", '"'))


def fix_ocr_confusions(text: str) -> str:
    """Apply the confusion table until nothing changes (`2,0oomg` needs two passes of the O rule)."""
    for _ in range(4):
        before = text
        for pattern, replacement in _FIXES:
            text = pattern.sub(replacement, text)
        if text == before:
            break
    return text


def parse_number(text: str) -> list[tuple[float, bool]]:
    """Readings of a number as (value, is_alternative): `4,5`→4.5; `10,000`→10000; `1.000`→1.0 or 1000."""
    text = text.strip()
    if "/" in text:
        whole, _, frac = text.rpartition(" ")
        num, den = frac.split("/")
        value = (float(whole) if whole else 0.0) + float(num) / float(den)
        if not whole and len(num) >= 2 and int(num[-1]) < int(den):
            # `121/2` is mostly `12 1/2` with the space lost
            return [(float(num[:-1]) + int(num[-1]) / int(den), False), (value, True)]
        return [(value, False)]
    if "," in text and "." in text:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        cleaned = text.replace(thousands, "").replace(decimal, ".")
        return [(float(cleaned), False)] if cleaned.count(".") <= 1 else []
    for separator in (",", "."):
        if separator in text:
            parts = text.split(separator)
            if len(parts) > 2:  # 1.000.000 or 1,000,000
                return [(float("".join(parts)), False)] if all(len(p) == 3 for p in parts[1:]) else []
            head, tail = parts
            decimal = float(f"{head or 0}.{tail}")
            if len(tail) == 3 and 1 <= len(head) <= 3 and head != "0":
                grouped = float(head + tail)
                # `10,000mg` is grouping; `1.000 g` may be either (European grouping)
                if separator == ",":
                    return [(grouped, False), (decimal, True)]
                return [(decimal, False), (grouped, True)]
            return [(decimal, False)]
    return [(float(text), False)]


_NOT_A_UNIT_AFTER = re.compile(r"B|Hz|HZ|Ah|AH|ah|h\b|bps|Bps|Wh|WH|PH|ph")


def _unit_ok(text: str, end: int, surface: str) -> bool:
    """Reject `5GB`, `5GHz` (a unit letter that starts another unit) and `5mAh` (short units glued to letters)."""
    following = text[end : end + 3]
    if not following[:1].isalpha():
        return True
    if lexicon.normal_form(surface) in lexicon.NO_LETTER_AFTER:
        return False
    return not _NOT_A_UNIT_AFTER.match(following)


def _emit(
    out: list[Candidate], text: str, number: str, surface: str, span: tuple[int, int], boxes: tuple[int, ...],
    **fields,
) -> None:
    units = lexicon.lookup(surface)
    if not units:
        return
    flags = set(fields.pop("flags", ()))
    for value, alternative in parse_number(number):
        if not math.isfinite(value) or value <= 0 or value > 1e7:
            continue
        for unit in units:
            extra = set(flags)
            if alternative:
                extra.add("alt_number")
            if len(units) > 1:
                extra.add("ambiguous_unit")
            out.append(
                Candidate(value, unit, text, span, boxes, surface_unit=surface.strip(), flags=extra, **fields)
            )


def parse_text(text: str, boxes: tuple[int, ...] = (0,)) -> list[Candidate]:
    """Candidates in one text (one box's, or two neighbours' joined)."""
    original = normalise(text)
    text = fix_ocr_confusions(original)
    fixed = text != original
    found: list[Candidate] = []
    claimed: set[int] = set()  # start offsets of numbers already read as part of a group or range

    for group in DIMENSION.finditer(text):
        items = [m for m in DIM_ITEM.finditer(text, group.start(), group.end()) if m.group(2)]
        if len(items) < 2:
            continue
        units = [m.group(3) for m in items if m.group(3) and lexicon.lookup(m.group(3))]
        if not units:
            continue
        shared = units[-1]
        families = lexicon.lookup(shared)
        first = items[0]
        if (
            len(items) == 2
            and not first.group(3)
            and not first.group(1)
            and re.fullmatch(r"\d{1,2}", first.group(2))
            and not ({"centimetre", "millimetre", "inch", "metre", "foot"} & set(families))
        ):
            # `4 x 100 g`: a multipack, not a dimension
            count = int(first.group(2))
            second = items[1]
            _emit(found, text, second.group(2), second.group(3) or shared, second.span(), boxes, kind="multipack")
            for value, alt in parse_number(second.group(2)):
                if count > 0 and not alt:
                    _emit(found, text, f"{value * count:.6f}", second.group(3) or shared, group.span(), boxes,
                          kind="multipack_total")
            claimed.update(m.start(2) for m in items)
            continue
        for position, item in enumerate(items, start=1):
            surface = item.group(3) or shared
            axis = (item.group(1) or item.group(4) or "").upper()[:1]
            flags = {"unit_from_group"} if not item.group(3) else set()
            _emit(found, text, item.group(2), surface, item.span(2), boxes, kind="dimension", position=position,
                  group_size=len(items), axis=axis, flags=flags)
            claimed.add(item.start(2))

    for match in RANGE.finditer(text):
        if match.start(1) in claimed or not _unit_ok(text, match.end(4), match.group(4)):
            continue
        if match.group(2) and lexicon.lookup(match.group(2)) != lexicon.lookup(match.group(4)):
            continue  # `5 in - 12.7 cm` is one length written twice, not a range
        low_unit = match.group(2) or match.group(4)
        flags = set() if match.group(2) else {"unit_from_range"}
        _emit(found, text, match.group(1), low_unit, match.span(1), boxes, kind="range_low", flags=flags)
        _emit(found, text, match.group(3), match.group(4), match.span(3), boxes, kind="range_high")
        claimed.update((match.start(1), match.start(3)))

    for match in SINGLE.finditer(text):
        if match.start(1) in claimed or not _unit_ok(text, match.end(2), match.group(2)):
            continue
        _emit(found, text, match.group(1), match.group(2), match.span(), boxes)

    if fixed:
        for candidate in found:
            if candidate.matched_text not in original:
                candidate.flags.add("ocr_fix")
    return found


def _neighbours(boxes: list[TextBox]) -> list[tuple[int, int]]:
    """Pairs (a, b) where b continues a: to its right on the same line, or just below it.

    Every pair of an image's boxes is tested, so the tests run on arrays: box by box in Python they took
    most of the time `predict` spends after OCR (the dev photos hold 17 boxes on average, 230 at most).
    """
    if len(boxes) < 2:
        return []
    left, right, top, bottom, width, text_height = (
        np.array([getattr(b, name) for b in boxes])[:, None]
        for name in ("left", "right", "top", "bottom", "width", "text_height"))
    # rows are a, columns b
    h = np.maximum(np.minimum(text_height, text_height.T), 1.0)
    same_line = ((np.minimum(bottom, bottom.T) - np.maximum(top, top.T) > 0.5 * h)
                 & (0 <= left.T - right) & (left.T - right < 2.0 * h))
    below = ((-0.25 * h <= top.T - bottom) & (top.T - bottom < 1.0 * h)  # stacked lines may overlap a little
             & (np.minimum(right, right.T) - np.maximum(left, left.T) > 0.3 * np.minimum(width, width.T)))
    pairs = same_line | below
    np.fill_diagonal(pairs, False)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(pairs))]


def link_equivalents(candidates: list[Candidate]) -> None:
    """Mark quantities written twice in different units (`500 g / 17.6 oz`) in the same text."""
    from prodspec.candidates.convert import to_base

    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            if a.unit == b.unit or a.boxes != b.boxes or abs(a.span[0] - b.span[0]) > 40:
                continue
            base_a, base_b = to_base(a.value, a.unit), to_base(b.value, b.unit)
            if base_a and base_b and base_a[1] == base_b[1] and math.isclose(base_a[0], base_b[0], rel_tol=0.04):
                a.flags.add("has_equivalent")
                b.flags.add("has_equivalent")


def parse_boxes(boxes: list[TextBox]) -> list[Candidate]:
    """Every candidate in an image's boxes, including those split over two neighbouring boxes."""
    found: list[Candidate] = []
    for index, box in enumerate(boxes):
        found.extend(parse_text(box.text, (index,)))
    seen = {(c.boxes[0], c.key) for c in found}
    for i, j in _neighbours(boxes):
        left, right = normalise(boxes[i].text), normalise(boxes[j].text)
        join = len(left)
        for candidate in parse_text(f"{left} {right}", (i, j)):
            start, end = candidate.span
            if start < join < end and (i, candidate.key) not in seen:
                candidate.flags.add("split_boxes")
                found.append(candidate)
                seen.add((i, candidate.key))
    link_equivalents(found)
    return found


_BARE_NUMBER = re.compile(rf"{_LEFT}{NUMBER}(?![\d])")


def printed_numbers(boxes: list[TextBox]) -> set[float]:
    """Every number the boxes print, with or without a unit, read as the parser reads numbers (`5O0` → 500).

    A photo whose unit was lost or misread (`1208` alone, `75` two boxes above `mcg`) still prints the number.
    """
    found: set[float] = set()
    for box in boxes:
        for match in _BARE_NUMBER.finditer(fix_ocr_confusions(normalise(box.text))):
            found.update(value for value, _ in parse_number(match.group(0)))
    return found
