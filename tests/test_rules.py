"""The catalogue's conventions as features (`features.quantities`) and the simple rules the ranker is measured
against (`ranker.rules`), on a small text fixture whose answers can be worked out by hand."""

import math

import numpy as np
import pandas as pd

from prodspec.candidates.image import text_candidates
from prodspec.evaluation.rules import best_rule, rule_frame, rule_table, text_rules
from prodspec.features.priors import Priors, build_priors
from prodspec.features.quantities import quantity_features
from prodspec.features.text_rows import text_table
from prodspec.ranker.rules import RULES, rule_accuracy, rule_tops
from prodspec.ranker.selection import top_candidates

# one product, three lengths; the 80 cm length also printed in inches, after it
TEXT = "Height 50 cm Width 30 cm Length 80 cm / 31.5 in"
# three rows of it, as the catalogue labels them: the depth is the longest length, in the unit printed first
FIXTURE = [("height", "50.0 centimetre"), ("width", "30.0 centimetre"), ("depth", "80.0 centimetre")]


def _table(tmp_path, rows=FIXTURE, text=TEXT):
    # the group labels its depths in inches 5 times in 6
    labels = ["40.0 centimetre", "30.0 centimetre"] + ["20.0 inch"] * 5 + ["60.0 centimetre"]
    pd.DataFrame({"image_link": [f"https://x/t{k}.jpg" for k in range(len(labels))], "group_id": "1",
                  "entity_name": ["height", "width"] + ["depth"] * 6, "entity_value": labels}
                 ).to_csv(tmp_path / "train.csv", index=False)
    priors = Priors(build_priors(tmp_path / "train.csv"))
    corpus = pd.DataFrame({"image_link": [f"https://x/{k}.jpg" for k in range(len(rows))], "group_id": "1",
                           "entity_name": [e for e, _ in rows], "entity_value": [v for _, v in rows],
                           "ocr_text": text})
    return text_table(corpus, [text_candidates(t) for t in corpus["ocr_text"]], priors, []), priors


def test_a_length_printed_in_two_units_is_one_quantity_ranked_among_the_distinct_ones():
    image = text_candidates(TEXT)
    features = quantity_features(image.candidates, None)
    by_print = {(c.value, c.unit): f for c, f in zip(image.candidates, features, strict=True)}
    cm80, inch = by_print[(80.0, "centimetre")], by_print[(31.5, "inch")]
    assert cm80["qty_group"] == inch["qty_group"]  # 31.5 in is 80.01 cm: one quantity
    assert cm80["qty_rank"] == inch["qty_rank"] == 0.0 and cm80["qty_distinct"] == 3.0  # three lengths, not four
    assert by_print[(30.0, "centimetre")]["qty_rank"] == 2.0 and by_print[(30.0, "centimetre")]["qty_rank_asc"] == 0.0
    assert (cm80["twin_first"], inch["twin_first"]) == (1.0, 0.0)
    assert (cm80["twin_larger_number"], cm80["twin_rounder"]) == (1.0, 1.0)
    assert math.isnan(by_print[(50.0, "centimetre")]["twin_first"])  # printed in one unit
    assert math.isnan(cm80["vertical_rank"])  # flat text: no drawn line to read an axis from


def test_each_rule_picks_what_it_says_on_a_fixture(tmp_path):
    table, _ = _table(tmp_path)
    picks = {rule: rule_tops(table.lines, 3, rule, top_candidates(table.lines, np.zeros(len(table.lines)), 3))
             for rule in ("peer", "largest", "second_largest", "smallest")}
    def picked(rule):
        return [(v, u) for v, u in zip(picks[rule]["value"], picks[rule]["unit_name"], strict=True)]
    assert picked("largest") == [(80.0, "centimetre")] * 3  # the longest length, in its first-printed unit
    assert picked("second_largest") == [(50.0, "centimetre")] * 3
    assert picked("smallest") == [(30.0, "centimetre")] * 3
    assert picked("peer") == [(80.0, "centimetre")] * 3  # the largest number printed
    assert list(rule_tops(table.lines, 3, "largest")["label"]) == [0, 0, 1]  # right for the depth row only


def test_the_unit_rules_keep_the_rankers_quantity_and_change_only_its_unit(tmp_path):
    table, _ = _table(tmp_path, rows=[("depth", "80.0 centimetre"), ("depth", "31.5 inch")])
    lines = table.lines
    # the ranker chose the inch print of the 80 cm length on both rows
    scores = np.where((lines["value"] == 31.5), 1.0, 0.0)
    tops = top_candidates(lines, scores, 2)
    assert list(tops["unit_name"]) == ["inch", "inch"]
    first = rule_tops(lines, 2, "first_printed_unit", tops)
    assert list(zip(first["value"], first["unit_name"])) == [(80.0, "centimetre")] * 2
    assert list(first["label"]) == [1, 0]
    group = rule_tops(lines, 2, "group_unit", tops)
    assert list(zip(group["value"], group["unit_name"])) == [(31.5, "inch")] * 2
    assert list(group["label"]) == [0, 1]


def test_rule_accuracy_scores_the_ranker_and_every_rule_by_attribute(tmp_path):
    table, priors = _table(tmp_path)
    lines = table.lines
    # a ranker that learned the convention: the depth is the longest, the width the shortest, the height the middle
    wanted = {0: 50.0, 1: 30.0, 2: 80.0}
    scores = (lines["value"] == lines["row_pos"].map(wanted)).astype(float).to_numpy()
    accuracy = rule_accuracy(table, top_candidates(lines, scores, 3), priors, fallback=True)
    assert set(accuracy) == {"ranker", *RULES}
    assert accuracy["ranker"] == {"depth": 1.0, "height": 1.0, "width": 1.0}
    assert accuracy["largest"] == {"depth": 1.0, "height": 0.0, "width": 0.0}
    assert accuracy["smallest"] == {"depth": 0.0, "height": 0.0, "width": 1.0}
    assert accuracy["first_printed_unit"] == accuracy["ranker"]
    # the table the bench writes: per attribute the best rule and the ranker's margin over it
    mean = {f"{a}_accuracy": accuracy["ranker"][a] for a in accuracy["ranker"]}
    mean |= {f"rule_{r}_{a}": accuracy[r][a] for r in RULES for a in accuracy[r]}
    best = best_rule(rule_frame(mean))
    assert best.loc["depth", "best_rule"] == "peer" and best.loc["depth", "ranker_margin"] == 0.0
    assert best.loc["width", "best_rule"] == "smallest"
    assert "| width | 1.000 |" in rule_table(mean)


def test_text_rules_score_the_flat_rows_by_attribute(tmp_path):
    table, _ = _table(tmp_path)
    shares = text_rules(table.lines)
    assert list(shares.index) == ["height", "width", "depth"]
    assert shares.loc["depth", "largest"] == 1.0 and shares.loc["width", "smallest"] == 1.0
    assert shares.loc["height", "second_largest"] == 1.0 and shares.loc["height", "largest"] == 0.0
