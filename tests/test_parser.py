"""The quantity parser on real OCR strings (from the OCR text corpus and the dev images' OCR)."""

import pytest

from prodspec.candidates.parse import (
    parse_boxes,
    parse_number,
    parse_text,
    printed_numbers,
)
from prodspec.candidates.recall import miss_cause
from prodspec.candidates.records import TextBox


def found(text):
    return {(round(c.value, 4), c.unit) for c in parse_text(text)}


def kinds(text):
    return {(round(c.value, 4), c.unit, c.kind, c.position) for c in parse_text(text)}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Strong Load Bearing 120 kg Capacity: 1 20kg", {(120.0, "kilogram"), (20.0, "kilogram")}),
        ("Arrv 5 YEARS 300 KGS 5 Years Warranty", {(300.0, "kilogram")}),
        ("NETWT.180G", {(180.0, "gram")}),
        ("NETWt.300G", {(300.0, "gram")}),
        ("1oz/28g", {(1.0, "ounce"), (1.0, "fluid ounce"), (28.0, "gram")}),
        ("50GMS(1.76OZ)", {(50.0, "gram"), (1.76, "ounce"), (1.76, "fluid ounce")}),
        ("200 mI KOCHENDES", {(200.0, "millilitre")}),
        ("Total42WMAX", {(42.0, "watt")}),
        ("4000mAh 3.15V", {(3.15, "volt")}),
        ("250W48V", {(250.0, "watt"), (48.0, "volt")}),
        ("12 FL OZ (355 mL)", {(12.0, "fluid ounce"), (355.0, "millilitre")}),
        ("4,5g", {(4.5, "gram")}),
        ("Weight:0.43 ( oz)", {(0.43, "ounce"), (0.43, "fluid ounce")}),
        ("thick 0.43 (in)", {(0.43, "inch")}),
        ("E53/E43 (W213", set()),
        ("1.5kg", {(1.5, "kilogram")}),
        ("200gE", {(200.0, "gram")}),
        ("5O0g", {(500.0, "gram")}),
        ("l00ml", {(100.0, "millilitre")}),
        ("5 Ib", {(5.0, "pound")}),
        ("NETWT.3kg（6.61b)", {(3.0, "kilogram"), (6.6, "pound")}),
        ("16 0z", {(16.0, "ounce"), (16.0, "fluid ounce")}),
        ("OM CONCENTRATE 33.8 FL. 0Z (1.1", {(33.8, "fluid ounce")}),
        ("Weight: 109.3 |b Dimensio", {(109.3, "pound")}),
        ("T USER WELGHT: 30-55ibs", {(30.0, "pound"), (55.0, "pound")}),
        ("lc Irlhydrolo) 10 m9 Iniendcd", {(10.0, "milligram")}),
        ("service life. 150 K G 4)) SUP", {(150.0, "kilogram")}),
        ("Net Wt 3 02 (85 9) and", {(85.0, "gram")}),
        ("69mn2. 7 52mm/", {(69.0, "millimetre"), (52.0, "millimetre")}),
        ("NITRO 140cmi 56cm", {(140.0, "centimetre"), (56.0, "centimetre")}),
        ("Agendas 42cm 36cml Folio A4", {(42.0, "centimetre"), (36.0, "centimetre")}),
        ("Width Size: 1.69 inl 4.3 cm", {(1.69, "inch"), (4.3, "centimetre")}),
        ("10 inlets", set()),
        ("Cuisson: 10mn.", set()),
        ("4.53 Inchs 0.35 Inchs]", {(4.53, "inch"), (0.35, "inch")}),
        ("UL NCW Ahik WHH 0 25mm 7.3k9 uterkal", {(25.0, "millimetre"), (7.3, "kilogram")}),  # g read as 9
        ("SONGMICS 250k9 Maee", {(250.0, "kilogram")}),
        ("Height Zcm Weight 18.8Ogm Width 9cm", {(18.8, "gram"), (9.0, "centimetre")}),
        ("Ayurvedic Product 10Ogms", {(100.0, "gram")}),
        ("OURS Strongest 2OOGSM thick PE material", {(200.0, "gram")}),  # grams per square metre, labelled gram
        ("400 GSM COTTON SUPER ABSORBENT", {(400.0, "gram")}),
        ("ROLLSHADE 22OGSM PERMEABLE FABRIC", {(220.0, "gram")}),
        ("K9 dog food 15kg", {(15.0, "kilogram")}),  # a K9 with no number before it stays a name
        ('5 1/2"', {(5.5, "inch")}),
        ("1/2 in", {(0.5, "inch")}),
        ('3½"', {(3.5, "inch")}),  # not 31/2 as well
        ("12¾ inch", {(12.75, "inch")}),
        ('29.53"', {(29.53, "inch")}),
        ("12”", {(12.0, "inch")}),
        ("6'", {(6.0, "foot"), (6.0, "inch")}),  # a faint " is often read as '
        ("24' 16\" 16\" 16\"", {(24.0, "foot"), (24.0, "inch"), (16.0, "inch")}),
        ("5-INCH &-HOLE CUSHION PAD", {(5.0, "inch")}),
        ("250-W-Getriebenabenmotor", {(250.0, "watt")}),
        ("2.5-KG", {(2.5, "kilogram")}),
        ("2 cu ft", {(2.0, "cubic foot")}),
        ("500cc", {(500.0, "millilitre")}),
        ("1.2 KW", {(1.2, "kilowatt")}),
        ("5 tons", {(5.0, "ton")}),
        ("2L", {(2.0, "litre")}),
        ("100 mcg", {(100.0, "microgram")}),
        ("Power:12/16/20/24W", {(24.0, "watt")}),
        ('Nisi PURE CLEAR 4"x5.65"', {(4.0, "inch"), (5.65, "inch")}),
        ("3/16 in", {(0.1875, "inch")}),
        ("8.Ocm/3.15in 9.Scm", {(8.0, "centimetre"), (3.15, "inch"), (9.5, "centimetre")}),
        ("VOLTAGE:SV", {(5.0, "volt")}),  # S read for 5 after a label's colon
        ("Model:SW-200", set()),
        ("8GB 5GHz 5000mAh 50/60Hz", set()),
        ("M size", set()),
    ],
)
def test_quantities_in_real_ocr_strings(text, expected):
    assert found(text) == expected


def test_thousands_and_decimal_commas():
    assert parse_number("10,000") == [(10000.0, False), (10.0, True)]
    assert parse_number("1.000") == [(1.0, False), (1000.0, True)]
    assert parse_number("1,234.5") == [(1234.5, False)]
    assert parse_number("1.234,5") == [(1234.5, False)]
    assert parse_number("4,5") == [(4.5, False)]


def test_fraction_with_a_lost_space():
    # `12 1/2 inch` read as `121/2 inch`: the mixed number first, the plain fraction as an alternative
    candidates = parse_text("121/2 inch")
    assert [(c.value, "alt_number" in c.flags) for c in candidates] == [(12.5, False), (60.5, True)]


def test_ranges_give_both_ends():
    assert kinds("100-240V~ 50/60Hz") == {(100.0, "volt", "range_low", 0), (240.0, "volt", "range_high", 0)}
    assert kinds("220V-240V") == {(220.0, "volt", "range_low", 0), (240.0, "volt", "range_high", 0)}
    assert kinds("5 to 10 kg") == {(5.0, "kilogram", "range_low", 0), (10.0, "kilogram", "range_high", 0)}
    assert kinds("Thread Length 30.5 cmto 33.5 cm") == {(30.5, "centimetre", "range_low", 0),
                                                        (33.5, "centimetre", "range_high", 0)}
    # one length written twice is not a range
    assert kinds("5 in - 12.7 cm") == {(5.0, "inch", "single", 0), (12.7, "centimetre", "single", 0)}


def test_dimension_groups_and_multipacks():
    assert kinds("10 x 20 x 30 cm") == {(10.0, "centimetre", "dimension", 1), (20.0, "centimetre", "dimension", 2),
                                        (30.0, "centimetre", "dimension", 3)}
    # the unit in brackets after the group (`(cm)`) is the group's
    assert kinds("carrying 12.5*16.7*6.7 (cm) We") == {(12.5, "centimetre", "dimension", 1),
                                                       (16.7, "centimetre", "dimension", 2),
                                                       (6.7, "centimetre", "dimension", 3)}
    axes = {c.axis for c in parse_text("L 30 x W 20 x H 10cm")}
    assert axes == {"L", "W", "H"}
    assert kinds("4 x 100 g") == {(100.0, "gram", "multipack", 0), (400.0, "gram", "multipack_total", 0)}


def test_ocr_fixups_are_flagged():
    (candidate,) = parse_text("5O0g")
    assert "ocr_fix" in candidate.flags
    (plain,) = parse_text("500g")
    assert "ocr_fix" not in plain.flags


def box(text, left, top, width, height, confidence=0.9):
    return TextBox(text, ((left, top), (left + width, top), (left + width, top + height), (left, top + height)),
                   confidence)


def test_number_and_unit_in_neighbouring_boxes():
    boxes = [box("Net Wt", 10, 10, 100, 30), box("250", 10, 60, 60, 30), box("grams", 80, 60, 100, 30),
             box("500", 300, 300, 60, 30), box("ml", 300, 335, 40, 30)]
    candidates = parse_boxes(boxes)
    split = {(c.value, c.unit, c.boxes) for c in candidates if "split_boxes" in c.flags}
    assert (250.0, "gram", (1, 2)) in split
    assert (500.0, "millilitre", (3, 4)) in split
    # far-apart boxes are not joined
    assert not any(c.boxes == (1, 4) for c in candidates)
    # a number over its unit, the two boxes overlapping by a few pixels (a real dev photo's `300` / `KGS`)
    stacked = parse_boxes([box("300", 548, 1357, 104, 49), box("KGS", 542, 1402, 124, 58)])
    assert [(c.value, c.unit) for c in stacked] == [(300.0, "kilogram")]


def test_neighbouring_boxes_are_the_next_on_the_line_or_the_line_below():
    from prodspec.candidates.parse import _neighbours

    boxes = [box("Net Wt", 10, 10, 100, 30), box("250", 10, 60, 60, 30), box("grams", 80, 60, 100, 30),
             box("far", 400, 60, 60, 30), box("tall", 600, 0, 30, 200), box("", 600, 205, 30, 40)]
    # 1 is below 0, and 2 follows 1 on its line; 2 shares too little of 0's width (30 of 100 px) to be below
    # it, and 3 is too far right of 2; 4 is turned text whose letters are 30 px high (its width), so 5 sits
    # just below it; never a box with itself, nor a pair backwards
    assert _neighbours(boxes) == [(0, 1), (1, 2), (4, 5)]
    assert _neighbours(boxes[:1]) == [] and _neighbours([]) == []


def test_same_quantity_in_two_units_is_linked():
    candidates = parse_text("Net Wt 500g / 17.6 oz")
    from prodspec.candidates.parse import link_equivalents

    link_equivalents(candidates)
    linked = {(c.value, c.unit) for c in candidates if "has_equivalent" in c.flags}
    assert (500.0, "gram") in linked and (17.6, "ounce") in linked
    assert (17.6, "fluid ounce") not in linked


def test_printed_numbers_with_or_without_a_unit():
    # from the dev photos' OCR: a unit lost (`1208`), a unit boxes away (`75` … `mcg`), a bracketed unit
    texts = ["LIEBEN", "1208", "2006", "75", "STRENGTH", "mcg", "Weight:0.43 ( oz)", "5O0g", "v1.2.3"]
    boxes = [TextBox(text=t, points=((0, 0), (1, 0), (1, 1), (0, 1)), confidence=1.0) for t in texts]
    assert printed_numbers(boxes) == {1208.0, 2006.0, 75.0, 0.43, 500.0}


def test_why_a_label_is_missed():
    # dev photos' OCR strings; each miss under the first cause that fits (bench.recall_misses counts them)
    def cause(label, *texts):
        boxes = [TextBox(text=t, points=((0, 0), (1, 0), (1, 1), (0, 1)), confidence=1.0) for t in texts]
        return miss_cause(label, boxes, parse_boxes(boxes))

    assert cause("3.2 volt") == "no text read"
    assert cause("1.76 ounce", "NET WT 50ge 176ar") == "the same quantity in another unit"  # 50 g = 1.764 oz
    assert cause("71.12 centimetre", "28 in", "71,12(m") == "the same quantity in another unit"
    assert cause("2023.0 ounce", "Bluetooth 5.3", "2023") == "its number printed, not as that quantity"
    assert cause("1800.0 watt", "1806 WAIT- MAXIHUN OUTPUT") == "one character off"  # `1806 W`
    assert cause("1.25 kilogram", "STGR", "125KG") == "one character off"  # the point lost
    assert cause("12.5 inch", "12.75 inch") == "one character off"  # a digit dropped
    assert cause("8.0 inch", "10.7cm/4.2in", "17.3cm/6.8in") == "not in the text"
    assert cause("3.85 volt", "VOLTAGE:", "3.t5V") == "not in the text"
