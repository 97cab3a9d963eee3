"""Priors built from a small train.csv written in the test: the look-ups the features rely on."""

import math

import pandas as pd
import pytest

from prodspec.candidates.parse import printed_numbers
from prodspec.candidates.records import TextBox
from prodspec.features.priors import Priors, build_priors
from prodspec.ranker.answers import fallback_answer


def test_priors_from_a_small_train_csv(tmp_path):
    values = ["500.0 gram"] * 10 + ["500 gram"] * 2 + [f"{100 + k}.0 gram" for k in range(10)] + ["2.0 kilogram"] * 3
    frame = pd.DataFrame({"image_link": [f"https://x/{k}.jpg" for k in range(len(values))],
                          "group_id": "1", "entity_name": "item_weight", "entity_value": values})
    frame.to_csv(tmp_path / "train.csv", index=False)
    priors = Priors(build_priors(tmp_path / "train.csv"))
    # 12 of the 22 gram labels say exactly 500 gram, whichever way it is written; single values are too rare to keep
    assert priors.value_share("item_weight", "gram", 500.0) == round(12 / 22, 5)
    assert priors.value_share("item_weight", "gram", 101.0) == 0.0
    assert math.isnan(priors.value_share("item_weight", "ounce", 500.0))
    assert math.isnan(priors.value_share("item_weight", "kilogram", 2.0))  # 3 labels: too few for a table
    assert priors.unit_share("item_weight", "gram") == 0.88
    # 2 of the 22 integer gram labels are written `500`, not `500.0`
    assert priors.plain_share("1", "item_weight", "gram") == round(2 / 22, 4)
    assert priors.group_top_value("1", "item_weight") == ("500.0 gram", 0.4)
    # the group's values are compared in base units, whatever unit a candidate is written in
    assert priors.group_value_percentile("1", "item_weight", "kilogram", 0.5) == pytest.approx(
        priors.group_value_percentile("1", "item_weight", "gram", 500.0))
    assert priors.group_value_percentile("1", "item_weight", "gram", 50.0) == -0.05  # lighter than any label
    assert priors.group_value_percentile("1", "item_weight", "kilogram", 2.0) > 0.85  # the heaviest labels
    assert math.isnan(priors.group_value_percentile("2", "item_weight", "gram", 500.0))  # unseen group


def test_rows_about_the_training_photos_are_left_out(tmp_path):
    # the dev rows are train.csv rows too: a row's own label must not feed the priors it is scored with
    values = ["7.0 gram"] * 5 + ["9.0 gram"] * 5
    links = [f"https://m.media-amazon.com/images/I/{k}.jpg" for k in range(10)]
    pd.DataFrame({"image_link": links, "group_id": "1", "entity_name": "item_weight",
                  "entity_value": values}).to_csv(tmp_path / "train.csv", index=False)
    priors = Priors(build_priors(tmp_path / "train.csv", exclude_images={"0.jpg", "1.jpg", "2.jpg"}))
    assert priors.group_top_value("1", "item_weight") == ("9.0 gram", round(5 / 7, 4))


def test_a_value_written_its_own_way_within_its_group(tmp_path):
    # the group writes integers `N.0`, but one product's 250 g listings all say `250 gram`
    values = [f"{100 + k}.0 gram" for k in range(12)] + ["250 gram"] * 5 + ["300.0 gram"] * 5
    pd.DataFrame({"image_link": [f"https://x/{k}.jpg" for k in range(len(values))], "group_id": "1",
                  "entity_name": "item_weight", "entity_value": values}).to_csv(tmp_path / "train.csv", index=False)
    document = build_priors(tmp_path / "train.csv")
    priors = Priors(document)
    assert priors.plain_share("1", "item_weight", "gram") == round(5 / 22, 4)
    assert priors.plain_share("1", "item_weight", "gram", 250.0) == 1.0
    assert priors.plain_share("1", "item_weight", "gram", 300.0) == round(5 / 22, 4)  # agrees with its group
    assert "1|item_weight|gram|300" not in document["plain_share"]  # so it is not shipped


def test_a_printed_number_answers_with_a_common_label_of_its_group(tmp_path):
    # a photo that prints `75` with its unit out of reach: a common label of the group with that number answers
    values = ["120.0 microgram"] * 16 + ["75.0 microgram"] * 3 + ["75 microgram"] * 1 + ["2.0 microgram"] * 3
    pd.DataFrame({"image_link": [f"https://x/{k}.jpg" for k in range(len(values))], "group_id": "1",
                  "entity_name": "item_weight", "entity_value": values}).to_csv(tmp_path / "train.csv", index=False)
    priors = Priors(build_priors(tmp_path / "train.csv"))
    boxes = [TextBox(text=t, points=((0, 0), (1, 0), (1, 1), (0, 1)), confidence=1.0)
             for t in ["EXTRA", "75", "STRENGTH", "mcg", "2 GUMMIES"]]
    assert priors.printed_label("1", "item_weight", {75.0, 2.0}) == (75.0, "microgram")  # 4 labels, both forms
    assert fallback_answer("1", "item_weight", frozenset(printed_numbers(boxes)), priors) == (
        "75.0 microgram", "a common label of its group whose number the photo prints")
    # `2` is printed too, but 3 labels, under a quarter of the top's 16, is too rare to outweigh the group's habit
    assert priors.printed_label("1", "item_weight", {2.0}) is None
    assert fallback_answer("1", "item_weight", frozenset(printed_numbers(boxes[4:])), priors) == (
        "120.0 microgram", "its group's most common label")
    assert fallback_answer("2", "item_weight", frozenset(printed_numbers(boxes)), priors)[0] == ""  # an unseen group has nothing to offer


def test_labels_in_a_unit_the_attribute_does_not_allow_never_become_answers(tmp_path):
    # train.csv holds 242 wattage rows labelled "1080.0 horsepower": a group's most common label must not be one
    values = ["1080.0 horsepower"] * 8 + ["60.0 watt"] * 6
    pd.DataFrame({"image_link": [f"https://x/{k}.jpg" for k in range(len(values))], "group_id": "1",
                  "entity_name": "wattage", "entity_value": values}).to_csv(tmp_path / "train.csv", index=False)
    priors = Priors(build_priors(tmp_path / "train.csv"))
    boxes = [TextBox(text="1080", points=((0, 0), (1, 0), (1, 1), (0, 1)), confidence=1.0)]
    assert priors.group_top_value("1", "wattage") == ("60.0 watt", 1.0)
    assert fallback_answer("1", "wattage", frozenset(printed_numbers(boxes)), priors)[0] == "60.0 watt"
