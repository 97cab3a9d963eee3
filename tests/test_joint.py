"""A photo's height, width and depth rows answered together (`ranker.joint`): two rows take one printed length only
when their scores make it more likely than the best assignment of different lengths, each pair sharing one
weighed down by P_EQUAL; rows answered one by one that do not collide, and rows asked alone, are never touched."""

import math

import numpy as np
import pandas as pd

from prodspec.candidates.image import text_candidates
from prodspec.features.build import build_table
from prodspec.features.priors import Priors, build_priors
from prodspec.ranker.joint import P_EQUAL, best_assignment, joint_tops
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
