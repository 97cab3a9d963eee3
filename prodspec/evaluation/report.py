"""The bench's report: `bench/out/report.md`, written from the numbers that also go to results.json."""

from __future__ import annotations

import statistics

from prodspec.evaluation.rules import rule_table
from prodspec.ranker.lambdarank import ENSEMBLE_SIZE
from prodspec.training.crossval import split_means
from prodspec.training.study import INCUMBENT_MARGIN
from prodspec.training.summary import score_lines


def _model_seeds_text(fresh: list[dict], by_seed: list[dict]) -> str:
    top1 = [statistics.fmean(s["top1"] for s in fresh)] + [s["top1"] for s in by_seed]
    mixed = [statistics.fmean(s["test_mix_strict_f1"] for s in fresh)] + [s["test_mix_strict_f1"] for s in by_seed]
    others = ", ".join(f"{s['seed']}–{s['seed'] + ENSEMBLE_SIZE - 1}" for s in by_seed)
    return (f"The rankers average LightGBM seeds 0–{ENSEMBLE_SIZE - 1}; with seeds {others} instead: mean top-1 "
            f"{min(top1):.3f}–{max(top1):.3f}, test-file mix {min(mixed):.3f}–{max(mixed):.3f}")


def _fresh_splits_text(fresh: list[dict]) -> str:
    def spread(key: str) -> str:
        values = [split[key] for split in fresh if split.get(key) is not None]
        return f"{statistics.fmean(values):.3f} ({min(values):.3f}–{max(values):.3f})" if values else "none"

    return (f"on {len(fresh)} other fold splits with the same parameters (the fairer estimate), every row answered: "
            f"top-1 {spread('top1')}, strict F1 {spread('strict_f1')}, numeric F1 {spread('numeric_f1')}, "
            f"strict F1 on the test file's attribute mix {spread('test_mix_strict_f1')}, "
            f"top-1 on the height, width and depth rows alone {spread('dimension_top1')}")


def _intervals_text(intervals: dict | None) -> str:
    if not intervals:
        return ""
    names = {"test_mix_strict_f1": "strict F1 on the test file's mix", "dimension_accuracy": "height, width and "
             "depth rows right", "other_accuracy": "the other rows right"}
    return ("With the photos drawn again (with replacement), 95% of draws give: " + ", ".join(
        f"{text} {intervals[key][0]:.3f}–{intervals[key][1]:.3f}" for key, text in names.items() if key in intervals)
        + ". ")


def _catalogue_text(point: dict) -> str:
    return (f"Catalogue objective (precision ≥ {point['min_precision']}, one threshold for every attribute): on rows "
            f"the threshold never saw it answers {point['held_out_answered_rate']:.3f} of rows at precision "
            f"{point['held_out_precision']:.3f} (the lowest of {point['held_out_runs']} runs "
            f"{point['held_out_precision_min']:.3f}, {point['held_out_below_floor']} of them below the floor); "
            f"the threshold found on all rows answers {point['answered_rate']:.3f} of them at "
            f"{point['precision']} ({point['note']}). These are the figures of the model `--objective precision` "
            "trains, whose ranker goes without the `rel_*` gaps (here with the f1 study's parameters); the curve "
            "below is its own.")


def _calibration_text(curve: dict) -> str:
    return f"(expected calibration error {curve['expected_calibration_error']:.3f}) is {curve['summary']}"


def _finalist_line(finalist: dict) -> str:
    p = finalist["params"]
    cells = [p["num_leaves"], f"{p['learning_rate']:.3f}", p["num_rounds"], p["min_data_in_leaf"],
             f"{p['feature_fraction']:.2f}", f"{p['lambda_l2']:.3g}", finalist["tuned_top1"], finalist["selection_top1"],
             ("yes" if finalist["shipped"] else "") + (" (the shipped model's)" if finalist.get("current") else "")]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _text_rules_text(text: dict | None) -> list[str]:
    """The value rules on the flat text rows: whose pick is the label's value and unit."""
    if not text:
        return []
    rules = list(next(iter(text.values())))
    return [("On the text rows (no photo: the rules that need no drawn line), the share whose rule's pick is the "
             "label:"), "", "| attribute | " + " | ".join(r.replace("_", " ") for r in rules) + " |",
            "|---|" + "---:|" * len(rules),
            *[f"| {a} | " + " | ".join("" if v is None else f"{v:.3f}" for v in row.values()) + " |"
              for a, row in text.items()], ""]


def render_report(results: dict, report: dict) -> str:
    speed = results["speed"]
    lines = [
        "# prodspec bench", "",
        (f"Data: {results['data']['rows']} rows, {results['data']['images_count']} images ({results['data']['labels']}); "
        f"seed {results['data']['seed']}; {results['data']['cache']}."),
        "All scores are out-of-fold (image-grouped 5-fold cross-validation).", "",
        "## F1 per attribute (strict = official string equality; numeric = same unit and value)", "", "```",
        *score_lines(report), "```", "",
        (f"Top-1 accuracy where a right candidate exists: {results['top1_accuracy_where_possible']:.3f} on the fold "
        f"split the ranker's parameters were tuned on; {_fresh_splits_text(results['fresh_splits'])}. "
        f"{_model_seeds_text(results['fresh_splits'], results['fresh_splits_other_model_seeds'])}. "
        f"{_intervals_text(results.get('fresh_splits_intervals'))}"
        f"Objective `{results['objective']}`, thresholds {results['thresholds']}, prior fallback "
        f"{'on' if results['fallback'] else 'off'}."), "",
        "![F1 per attribute](f1_per_attribute.png)", "",
        "## Ranker parameters", "",
        ("Optuna's best parameter sets on the tuning split, re-scored by mean top-1 on three other fold splits "
         "(not the fresh splits above), with the shipped model's parameters; the best of those ships, "
         f"unless the shipped parameters are within {INCUMBENT_MARGIN} of it:"), "",
        ("| num_leaves | learning_rate | num_rounds | min_data_in_leaf | feature_fraction | lambda_l2 "
         "| top-1, tuning split | top-1, other splits | shipped |"), "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *[_finalist_line(f) for f in results["finalists"]], "",
        "## Candidate recall (the ceiling the candidates allow)", "", "| attribute | rows | recall |", "|---|---:|---:|",
        *[f"| {k} | {v['rows']} | {v['recall']:.3f} |" for k, v in results["candidate_recall"].items()], "",
        "![candidate recall](candidate_recall.png)", "",
        "## Where answers were lost", "", "| reason | rows |", "|---|---:|",
        *[f"| {k} | {v} |" for k, v in results["losses"].items()], "", "![losses](losses.png)", "",
        "## The ranker against simple rules", "",
        ("Each attribute's rows answered exactly right, every row answered, on the fresh fold splits above: the "
         "ranker, and rules that need no learning on the same splits (the best in bold; a rule that beats the "
         "ranker marks something it has not learned)."), "",
        rule_table(split_means(results["fresh_splits"]), results.get("fresh_splits_intervals")), "",
        "![the ranker against simple rules](rules.png)", "",
        *_text_rules_text(results["rules"]["text"]),
        "## Abstention", "",
        _catalogue_text(results["precision_objective"]), "",
        "![precision, recall and F1 against the threshold](threshold_curve.png)", "",
        "## Confidence", "",
        ("Each answer read off a photo carries a `confidence`: the chance that its string is exactly the label. Out "
         "of fold (each fold's rows mapped by a calibration fitted on the other folds'), binned by confidence: "
         f"as shipped {_calibration_text(results['confidence']['as shipped (calibrated)'])}; the confidence "
         f"model's own output {_calibration_text(results['confidence']['confidence model alone'])}."), "",
        "| confidence | rows | predicted | exactly right | within the noise |", "|---|---:|---:|---:|---|",
        *[f"| {b['bin']} | {b['rows']} | {b['predicted']:.3f} | {b['observed']:.3f} | "
          f"{'yes' if b['calibrated'] else '**no**'} |" for b in results["confidence"]["as shipped (calibrated)"]["bins"]],
        "", "![reliability](reliability.png)", "",
        "## Speed", "",
        (f"{speed['cores']} CPU cores, GPU used: {speed['gpu']}. OCR median seconds per image "
        f"{speed['ocr_seconds_median']} (p90 {speed['ocr_seconds_p90']}); OCR {speed['ocr_images_per_s']} images/s "
        f"per worker; parsing + features {speed['parse_features_images_per_s']} images/s; ranking "
        f"{speed['ranking_images_per_s']} images/s. {speed['ocr_note']}."), "",
        "![OCR seconds per image](ocr_seconds.png)", "",
    ]
    return "\n".join(lines)
