"""The ranker against the simple rules (`ranker.rules`), attribute by attribute: a table and a figure.

The figures come from fold splits' means (`scores_on_fresh_splits(..., rules=True)`): `<attribute>_accuracy` for
the ranker, `rule_<rule>_<attribute>` for each rule on the same splits. On the flat text rows a rule can be scored
too (their print order and values need no pixels): `text_rules` gives each rule's share of rows whose pick is the
label's value and unit.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from prodspec.dataset.units import entity_names
from prodspec.ranker.blend import DIMENSIONS
from prodspec.ranker.rules import RULE_TEXT, RULES, VALUE_RULES, rule_tops


def rule_frame(mean: dict) -> pd.DataFrame:
    """Attributes (rows, the dimensions first) by the ranker and each rule (columns), from fold splits' means."""
    attributes = [a for a in (*DIMENSIONS, *sorted(set(entity_names()) - set(DIMENSIONS)))
                  if mean.get(f"{a}_accuracy") is not None]
    frame = pd.DataFrame({"ranker": [mean[f"{a}_accuracy"] for a in attributes]} |
                         {rule: [mean.get(f"rule_{rule}_{a}") for a in attributes] for rule in RULES},
                         index=attributes)
    return frame.astype(float)


def best_rule(frame: pd.DataFrame) -> pd.DataFrame:
    """Per attribute: the best rule, its share, and the ranker's margin over it."""
    rules = frame[list(RULES)]
    return pd.DataFrame({"best_rule": rules.idxmax(axis=1), "best_rule_share": rules.max(axis=1),
                         "ranker_margin": frame["ranker"] - rules.max(axis=1)})


def rule_table(mean: dict, intervals: dict | None = None) -> str:
    """A Markdown table: each attribute a row, the ranker's share exactly right and each rule's, the best rule;
    with `intervals` (`evaluation.intervals.photo_intervals`), the ranker's 95% interval over photos too."""
    frame = rule_frame(mean)
    best = best_rule(frame)
    spread = intervals is not None
    head = ("| attribute | ranker | " + ("95% over photos | " if spread else "")
            + " | ".join(r.replace("_", " ") for r in RULES) + " | ranker − best rule |")
    lines = [head, "|---|" + "---:|" * (len(RULES) + 2 + spread)]
    for attribute, row in frame.iterrows():
        cells = [f"**{v:.3f}**" if rule == best.at[attribute, "best_rule"] else f"{v:.3f}"
                 for rule, v in row[list(RULES)].items()]
        low, high = (intervals or {}).get(f"{attribute}_accuracy", (np.nan, np.nan))
        lines.append(f"| {attribute} | {row['ranker']:.3f} | " + (f"{low:.2f}–{high:.2f} | " if spread else "")
                     + " | ".join(cells) + f" | {best.at[attribute, 'ranker_margin']:+.3f} |")
    return "\n".join(lines + ["", "Rules: " + "; ".join(f"*{r.replace('_', ' ')}*: {RULE_TEXT[r]}" for r in RULES)])


def rule_figure(mean: dict, path: Path, title: str = "", intervals: dict | None = None) -> Path:
    """Each attribute a row: every rule a grey mark, the best rule named, the ranker a blue dot; with `intervals`,
    the ranker's 95% interval over photos a blue bar."""
    frame = rule_frame(mean).iloc[::-1]
    best = best_rule(frame)
    fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(frame) + 1.4))
    y = np.arange(len(frame))
    spans = [(k, intervals[f"{a}_accuracy"]) for k, a in enumerate(frame.index) if f"{a}_accuracy" in (intervals or {})]
    for n, (k, span) in enumerate(spans):
        ax.plot(span, [k, k], color="tab:blue", alpha=0.3, lw=6, solid_capstyle="butt", zorder=1,
                label="ranker, 95% over photos" if n == 0 else None)
    for rule in RULES:
        ax.scatter(frame[rule], y, marker="|", s=160, color="0.6", zorder=2)
    ax.scatter(frame["ranker"], y, s=60, color="tab:blue", zorder=3, label="ranker")
    for k, (attribute, row) in enumerate(frame.iterrows()):
        ax.annotate(best.at[attribute, "best_rule"].replace("_", " "), (best.at[attribute, "best_rule_share"], k),
                    xytext=(0, 7), textcoords="offset points", ha="center", fontsize=7, color="0.35")
    ax.set_yticks(y, frame.index)
    ax.set_xlim(0, 1)
    ax.set_xlabel("rows answered exactly right (grey: a simple rule, the best one named)")
    ax.set_title(title or "The ranker against simple rules, by attribute", fontsize=10)
    ax.grid(axis="x", color="0.92", zorder=0)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def text_rules(text: pd.DataFrame) -> pd.DataFrame:
    """On the text rows' table (row_pos after the photos' rows): each value rule's and the peer's share of rows
    (with a candidate) whose pick is the label's value and unit, by attribute."""
    first, last = int(text["row_pos"].min()), int(text["row_pos"].max())
    entity = text.groupby("row_pos")["entity"].first()
    out = {}
    for rule in ("peer", *VALUE_RULES):
        picks = rule_tops(text, last + 1, rule).set_index("row_pos")["label"].loc[first:]
        out[rule] = {entity_names()[int(code)]: round(float(picks[entity[entity == code].index].mean()), 4)
                     for code in sorted(entity.unique())}
    frame = pd.DataFrame(out)
    return frame.loc[list(dict.fromkeys(a for a in (*DIMENSIONS, *frame.index) if a in frame.index))]
