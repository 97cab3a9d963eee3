"""Printing a training run's numbers as tables a person reads at the end of `prodspec train`."""

from __future__ import annotations

from prodspec.dataset.evaluate import reweighted


def score_lines(report: dict, systems=("ranker", "baseline", "oracle")) -> list[str]:
    header = f"{'attribute':30} {'rows':>5}" + "".join(f" {s + ' strict':>16} {s + ' numeric':>17}" for s in systems)
    lines = [header, "-" * len(header)]
    for name, score in report[systems[0]].items():
        line = f"{name:30} {score['rows']:5d}"
        for s in systems:
            line += f" {report[s][name]['strict_f1']:16.3f} {report[s][name]['numeric_f1']:17.3f}"
        lines.append(line)
    line = f"{'test-file mix (reweighted)':30} {'':5}"
    for s in systems:
        mixed = reweighted(report[s])
        line += f" {mixed.strict_f1:16.3f} {mixed.numeric_f1:17.3f}"
    return lines + ["-" * len(header), line]


def print_training_report(report: dict) -> None:
    print(f"{report['rows']} rows, {report['images']} images; out-of-fold ({report['objective']} objective)")
    if report.get("text_rows"):
        print(f"dimension rows also ranked by a model that learned from {report['text_rows']} text rows")
    print(f"candidate recall {report['candidate_recall']:.3f}; ranker top-1 where a right candidate exists "
          f"{report['top1_accuracy_where_possible']:.3f}; prior fallback {'on' if report['fallback'] else 'off'} "
          f"({report['fallback_hits']} right)")
    chosen = next(f for f in report["finalists"] if f["shipped"])
    picked = ("the current model's, kept (no finalist beat them clearly)" if chosen.get("current")
              else f"best of {len(report['finalists'])} finalists")
    print(f"ranker parameters: {picked} on other fold splits, top-1 "
          f"{chosen['selection_top1']:.3f} there ({chosen['tuned_top1']:.3f} on the tuning split)")
    print("\n".join(score_lines(report)))
    print(precision_line(report))
    print(f"thresholds {report['thresholds']}; {report['seconds']} s")


def precision_line(report: dict) -> str:
    """The answered share and both precisions, each named: of the value and unit (numeric, the measure the precision
    objective's floor applies to: a catalogue's question is whether the quantity is right) and of the exact string
    (strict, the challenge's); and, under the precision objective, whether the floor was reached, in plain words."""
    overall = report["ranker"]["overall"]
    line = (f"out of fold: answered {overall['answered_rate']:.3f} of rows; precision of value and unit (numeric) "
            f"{overall['numeric_precision']:.3f}, of the exact string (strict) {overall['strict_precision']:.3f}")
    if report["objective"] != "precision":
        return line
    floor = report["min_precision"]
    if overall["numeric_precision"] >= floor:
        return line + f"; the floor {floor} (numeric) is reached"
    return line + f"; the floor {floor} (numeric) is NOT reached: {overall['numeric_precision']:.3f}"
