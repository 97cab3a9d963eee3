"""A photo's height, width and depth rows answered together (`ranker.joint`): two rows take one printed length only
when their scores make it more likely than the best assignment of different lengths, each pair sharing one
weighed down by P_EQUAL; rows answered one by one that do not collide, and rows asked alone, are never touched.
A photo's depth and width answer by the catalogue's order of the two, recounted here from train.csv."""

import math

import numpy as np
import pandas as pd
import pytest

from prodspec.candidates.image import text_candidates
from prodspec.features.build import build_table
from prodspec.features.priors import Priors, build_priors
from prodspec.features.quantities import metres
from prodspec.paths import DEFAULT_TRAIN_CSV
from prodspec.ranker.joint import (
    ANSWER_POLICY,
    DEPTH_WIDTH_ORDER,
    EQUAL_WITHIN,
    ORDER_WEIGHT,
    P_EQUAL,
    JointPolicy,
    best_assignment,
    joint_tops,
    order_share,
)
from prodspec.ranker.selection import top_candidates

TEXT = "Height 50 cm Width 30 cm Length 80 cm"


def _table(tmp_path, rows: list[tuple[str, str]], text: str = TEXT):
    """rows: (photo, attribute); every photo prints `text`."""
    pd.DataFrame({"image_link": ["https://x/t.jpg"], "group_id": "1", "entity_name": "height",
                  "entity_value": "1.0 centimetre"}).to_csv(tmp_path / "train.csv", index=False)
    priors = Priors(build_priors(tmp_path / "train.csv"))
    frame = pd.DataFrame({"image_name": [p for p, _ in rows], "group_id": "1", "entity_name": [e for _, e in rows]})
    return build_table(frame, {p: text_candidates(text) for p, _ in rows}, priors, [])


def _scores(lines: pd.DataFrame, masses: list[dict[float, float]]) -> np.ndarray:
    """Scores whose softmax within each row gives it the wanted mass per printed value."""
    return np.array([math.log(masses[r].get(v, 1e-6)) for r, v in zip(lines["row_pos"], lines["value"], strict=True)])


def _answers(tops: pd.DataFrame) -> list[float]:
    return list(tops["value"])


def test_two_rows_that_collide_take_different_lengths_when_the_second_is_likely_enough(tmp_path):
    table = _table(tmp_path, [("p.jpg", "height"), ("p.jpg", "depth")])
    scores = _scores(table.lines, [{50: .9, 30: .05, 80: .05}, {50: .55, 80: .4, 30: .05}])
    assert _answers(top_candidates(table.lines, scores, 2)) == [50.0, 50.0]  # one by one: one length twice
    tops = joint_tops(table.rows, table.lines, scores)
    assert _answers(tops) == [50.0, 80.0]  # .9 x .4 beats .9 x .55 x P_EQUAL
    assert tops.loc[1, "margin"] < 0  # the moved row's margin says it preferred another: its confidence falls


def test_two_rows_keep_one_length_when_their_scores_insist(tmp_path):
    table = _table(tmp_path, [("p.jpg", "height"), ("p.jpg", "depth")])
    scores = _scores(table.lines, [{50: .9, 30: .05, 80: .05}, {50: .85, 80: .1, 30: .05}])
    assert _answers(joint_tops(table.rows, table.lines, scores)) == [50.0, 50.0]  # a cube, or one print: kept


def test_rows_that_do_not_collide_and_rows_asked_alone_are_answered_as_one_by_one(tmp_path):
    table = _table(tmp_path, [("p.jpg", "height"), ("p.jpg", "width"), ("q.jpg", "depth"), ("r.jpg", "item_weight")])
    scores = _scores(table.lines, [{50: .9, 30: .05, 80: .05}, {50: .45, 30: .5, 80: .05},
                                   {50: .55, 80: .4, 30: .05}, {50: .6, 80: .4}])
    alone = top_candidates(table.lines, scores, 4)
    joint = joint_tops(table.rows, table.lines, scores)
    pd.testing.assert_frame_equal(joint, alone)
    assert _answers(joint)[:3] == [50.0, 30.0, 50.0]  # (the weight row has no length to answer with)
    pd.testing.assert_frame_equal(joint_tops(table.rows, table.lines, scores, p_equal=None), alone)


def test_a_photo_that_prints_one_length_gives_it_to_every_row(tmp_path):
    table = _table(tmp_path, [("p.jpg", "height"), ("p.jpg", "width"), ("p.jpg", "depth")], text="Size 40 cm")
    scores = np.zeros(len(table.lines))
    assert _answers(joint_tops(table.rows, table.lines, scores)) == [40.0, 40.0, 40.0]


def test_best_assignment_weighs_each_shared_pair():
    masses = {0: pd.Series({"a": .6, "b": .4}), 1: pd.Series({"a": .6, "b": .4}), 2: pd.Series({"a": .7, "c": .3})}
    # a, b, a: .6 x .4 x .7 x P (.084) beats a, b, c (.072) and a, a, a (.6 x .6 x .7 x P^3, .032)
    assert P_EQUAL == 0.5 and best_assignment(masses) == {0: "a", 1: "b", 2: "a"}
    assert best_assignment(masses, p_equal=0.19) == {0: "a", 1: "b", 2: "c"}  # weighed harder: all different
    assert best_assignment(masses, p_equal=1.0) == {0: "a", 1: "a", 2: "a"}  # no weight: each row alone


def test_a_depth_smaller_than_its_width_yields_to_the_catalogues_order_when_the_scores_are_close(tmp_path):
    table = _table(tmp_path, [("p.jpg", "depth"), ("p.jpg", "width"), ("q.jpg", "depth")])
    close = [{30: .5, 80: .45, 50: .05}, {80: .5, 30: .45, 50: .05}, {30: .5, 80: .45, 50: .05}]
    scores = _scores(table.lines, close)
    assert _answers(top_candidates(table.lines, scores, 3)) == [30.0, 80.0, 30.0]  # one by one: the depth smaller
    tops = joint_tops(table.rows, table.lines, scores, p_equal=None, order_weight=ORDER_WEIGHT)
    assert _answers(tops) == [80.0, 30.0, 30.0]  # the pair swaps; a depth asked alone is not weighed
    # scores that insist keep the smaller depth; without the weight the rows answer one by one
    sure = _scores(table.lines, [{30: .9, 80: .05, 50: .05}, {80: .9, 30: .05, 50: .05}, close[2]])
    assert _answers(joint_tops(table.rows, table.lines, sure, p_equal=None, order_weight=ORDER_WEIGHT)) == [
        30.0, 80.0, 30.0]
    pd.testing.assert_frame_equal(joint_tops(table.rows, table.lines, scores, p_equal=None),
                                  top_candidates(table.lines, scores, 3))


def test_a_depth_and_width_in_the_catalogues_order_are_untouched_and_a_height_never_weighed(tmp_path):
    table = _table(tmp_path, [("p.jpg", "height"), ("p.jpg", "depth"), ("p.jpg", "width")])
    scores = _scores(table.lines, [{30: .5, 80: .45, 50: .05}, {80: .5, 30: .45, 50: .05}, {30: .5, 80: .45, 50: .05}])
    alone = top_candidates(table.lines, scores, 3)
    # the depth the larger already: nothing moves, and the height (which shares the width's length) is never weighed
    pd.testing.assert_frame_equal(joint_tops(table.rows, table.lines, scores, p_equal=None, order_weight=ORDER_WEIGHT),
                                  alone)
    assert _answers(alone) == [30.0, 80.0, 30.0]
    # one length for both, where a smaller width is nearly as likely: the depth the larger (0.620) beats equal (0.313)
    even = _scores(table.lines, [{30: .5, 80: .45, 50: .05}, {80: .5, 30: .45, 50: .05}, {80: .5, 30: .45, 50: .05}])
    assert _answers(joint_tops(table.rows, table.lines, even, p_equal=None, order_weight=ORDER_WEIGHT)) == [
        30.0, 80.0, 30.0]


def test_the_order_shares_weigh_a_smaller_depth_down():
    assert order_share(0.8, 0.3, 1) == DEPTH_WIDTH_ORDER["larger"] > order_share(0.3, 0.3, 1) > order_share(0.3, 0.8, 1)
    assert order_share(0.5, 0.5 * (1 + EQUAL_WITHIN / 2), 1) == DEPTH_WIDTH_ORDER["equal"]
    assert order_share(None, 0.3, 1) == 1.0 and order_share(0.3, 0.8, 0.5) == pytest.approx(0.067 ** 0.5)


def test_the_order_shares_are_train_csvs():
    if not DEFAULT_TRAIN_CSV.is_file():
        pytest.skip(f"{DEFAULT_TRAIN_CSV} is not here")
    labels = pd.read_csv(DEFAULT_TRAIN_CSV, dtype=str, keep_default_na=False)
    labels = labels[labels["entity_name"].isin(["depth", "width"])].drop_duplicates(["image_link", "entity_name"])
    parsed = labels["entity_value"].str.extract(r"^([\d.]+) (\w+)$")
    lengths = [metres(float(v), u) for v, u in zip(parsed[0], parsed[1], strict=True)]
    labels = labels.assign(metres=[np.nan if m is None else m for m in lengths]).dropna(subset=["metres"])
    pairs = labels.pivot(index="image_link", columns="entity_name", values="metres").dropna()
    depth, width = pairs["depth"].to_numpy(), pairs["width"].to_numpy()
    equal = np.abs(depth - width) <= EQUAL_WITHIN * np.maximum(depth, width)
    shares = {"larger": (~equal & (depth > width)).mean(), "equal": equal.mean(), "smaller": (~equal & (depth < width)).mean()}
    assert len(pairs) > 2000 and all(abs(shares[k] - DEPTH_WIDTH_ORDER[k]) < 0.005 for k in shares), shares


def test_the_answer_policy_is_kept_in_the_model_and_read_back(tmp_path):
    import json

    from prodspec.paths import SHIPPED_MODEL_DIR

    meta = json.loads((SHIPPED_MODEL_DIR / "meta.json").read_text())
    assert JointPolicy.of(meta) == ANSWER_POLICY  # the shipped model answers as this code trains one
    assert JointPolicy.of(JointPolicy(0.5, None).as_meta()) == JointPolicy(0.5, None)
    assert JointPolicy.of({}) == JointPolicy(None, None)  # a model from before either key: each row alone
    # the depth and width of the order test above: a policy answers as its settings say
    table = _table(tmp_path, [("p.jpg", "depth"), ("p.jpg", "width")])
    scores = _scores(table.lines, [{30: .5, 80: .45, 50: .05}, {80: .5, 30: .45, 50: .05}])
    assert _answers(JointPolicy(None, ORDER_WEIGHT).tops(table.rows, table.lines, scores)) == [80.0, 30.0]
    assert _answers(JointPolicy(None, None).tops(table.rows, table.lines, scores)) == [30.0, 80.0]
