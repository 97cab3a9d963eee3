"""How far a share measured on these photos may lie from other photos': photos drawn again, each with its rows."""

import numpy as np
import pandas as pd

from prodspec.dataset.evaluate import reweighted
from prodspec.evaluation.intervals import (
    exact_of,
    exact_text,
    paired_intervals,
    photo_intervals,
)
from prodspec.evaluation.rules import rule_table


def _rows(photos: int, rows_per_photo: int = 1, entity: str = "depth") -> pd.DataFrame:
    return pd.DataFrame({"image_name": [f"p{i}.jpg" for i in range(photos) for _ in range(rows_per_photo)],
                         "entity_name": entity})


def test_the_interval_holds_the_share_and_narrows_with_more_photos():
    rng = np.random.default_rng(1)
    few, many = _rows(30), _rows(600)
    right_few, right_many = rng.random((3, 30)) < 0.7, rng.random((3, 600)) < 0.7
    low, high = photo_intervals(few, right_few)["depth_accuracy"]
    share = right_few.mean()
    assert low < share < high and 0.15 < high - low < 0.5  # 30 rows: about ±0.16
    low_many, high_many = photo_intervals(many, right_many)["depth_accuracy"]
    assert low_many < right_many.mean() < high_many and (high_many - low_many) < (high - low) / 3


def test_a_photos_rows_are_drawn_together():
    # the same 40 outcomes, as 40 photos or as 10 photos of 4 rows each answered alike: the second knows less
    outcomes = np.repeat(np.arange(10) % 3 != 0, 4)[None, :]
    apart = photo_intervals(_rows(40), outcomes)["depth_accuracy"]
    together = photo_intervals(_rows(10, 4), outcomes)["depth_accuracy"]
    assert (together[1] - together[0]) > 1.5 * (apart[1] - apart[0])


def test_the_test_mix_f1_interval_holds_the_mixed_figure_and_each_row_counts_its_share_of_splits():
    rows = pd.concat([_rows(200, entity="height"), _rows(300, entity="item_weight").assign(
        image_name=lambda f: "w" + f["image_name"])], ignore_index=True)
    exact = np.zeros((2, 500), dtype=bool)
    exact[:, :140] = True  # height: 140 of 200 right in both splits (0.7)
    exact[0, 200:380] = exact[1, 200:320] = True  # item_weight: 180 and 120 of 300 (0.5 on average)
    intervals = photo_intervals(rows, exact)
    counts = {"height": (200, 140), "item_weight": (300, 150)}
    mixed = reweighted({e: {"rows": n, "answered": n, "strict_tp": tp, "numeric_tp": tp, "strict_fp": n - tp,
                            "numeric_fp": n - tp, "fn": 0} for e, (n, tp) in counts.items()}).strict_f1
    assert intervals["test_mix_strict_f1"][0] < mixed < intervals["test_mix_strict_f1"][1]
    assert intervals["item_weight_accuracy"][0] < 0.5 < intervals["item_weight_accuracy"][1]
    assert intervals["dimension_accuracy"] == intervals["height_accuracy"]
    assert photo_intervals(rows, exact) == intervals  # seeded: the same draws each time


def test_the_rule_table_shows_the_rankers_interval_beside_its_share():
    mean = {"depth_accuracy": 0.64, **{f"rule_{r}_depth": 0.5 for r in ("peer", "largest")}}
    table = rule_table(mean, {"depth_accuracy": [0.48, 0.8]})
    assert "95% over photos" in table.splitlines()[0] and "| depth | 0.640 | 0.48–0.80 |" in table
    assert "95% over photos" not in rule_table(mean)


def test_a_change_on_the_same_photos_is_told_from_the_samples_luck_by_its_paired_interval():
    # two models answer 80 rows alike but for 8 the second gets right: +0.1, though each own interval is ±0.1
    rows = _rows(80)
    before = (np.arange(80) % 3 != 0)[None, :]
    after = before.copy()
    after[0, np.flatnonzero(~before[0])[:8]] = True
    low, high = paired_intervals(rows, after, before)["depth_accuracy"]
    assert 0 < low < 0.1 < high < 0.2  # every draw holds some of the 8 rows: never below zero
    # each model's own interval holds the other's share: apart, they could not tell the change from luck
    own_before, own_after = photo_intervals(rows, before)["depth_accuracy"], photo_intervals(rows, after)["depth_accuracy"]
    assert own_after[0] <= before.mean() < own_before[1] and own_before[0] < after.mean() <= own_after[1]
    assert paired_intervals(rows, before, before)["test_mix_strict_f1"] == [0.0, 0.0]  # the same answers: no change
    assert (exact_of(exact_text(after)) == after).all()  # kept in a JSON file as one string of 0 and 1 per split
