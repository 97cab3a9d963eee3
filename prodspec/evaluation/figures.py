"""The report's PNG figures, each drawn from numbers that also go to results.json."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

SYSTEM_COLOURS = {"ranker": "#2b6cb0", "baseline": "#a0aec0", "oracle": "#38a169"}


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def f1_per_attribute(scores: dict[str, dict], path: Path) -> Path:
    """scores[system][attribute] = {"strict_f1", "numeric_f1", "rows"}."""
    attributes = list(scores["ranker"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    width = 0.8 / len(scores)
    for ax, metric in zip(axes, ("strict_f1", "numeric_f1")):
        for i, (system, table) in enumerate(scores.items()):
            x = np.arange(len(attributes)) + i * width
            ax.bar(x, [table[a][metric] for a in attributes], width, label=system, color=SYSTEM_COLOURS.get(system))
        ax.set_xticks(np.arange(len(attributes)) + width * (len(scores) - 1) / 2)
        ax.set_xticklabels([f"{a}\n(n={scores['ranker'][a]['rows']})" for a in attributes], rotation=40, ha="right",
                           fontsize=8)
        ax.set_title(metric.replace("_", " "))
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend()
    return _save(fig, path)


def threshold_curve(curve: dict[str, list], operating: dict[str, float], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, colour in (("precision", "#c05621"), ("recall", "#2b6cb0"), ("f1", "#38a169")):
        ax.plot(curve["threshold"], curve[key], label=key, color=colour)
    for name, value in operating.items():
        ax.axvline(value, linestyle="--", color="#718096", alpha=0.7)
        ax.text(value, 0.02, name, rotation=90, fontsize=7, va="bottom")
    ax.set_xlabel("confidence threshold (one for all attributes)")
    ax.set_ylim(0, 1.02)
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def candidate_recall(recall: dict[str, dict], path: Path) -> Path:
    names = list(recall)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(names, [recall[n]["recall"] for n in names], color="#2b6cb0")
    for i, n in enumerate(names):
        ax.text(i, recall[n]["recall"] + 0.01, f"{recall[n]['recall']:.2f}\nn={recall[n]['rows']}", ha="center", fontsize=7)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("rows whose label is a candidate")
    plt.setp(ax.get_xticklabels(), rotation=40, ha="right", fontsize=8)
    return _save(fig, path)


def ocr_seconds(seconds: dict[str, list[float]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    for engine, values in seconds.items():
        if values:
            ax.hist(values, bins=30, alpha=0.6, label=f"{engine} (median {np.median(values):.2f} s)")
    ax.set_xlabel("OCR seconds per image")
    ax.set_ylabel("images")
    ax.legend()
    return _save(fig, path)


def losses(counts: dict[str, int], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4))
    names = list(counts)
    ax.barh(names, [counts[n] for n in names], color=["#38a169"] + ["#c05621"] * (len(names) - 1))
    for i, n in enumerate(names):
        ax.text(counts[n], i, f" {counts[n]}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("rows")
    return _save(fig, path)


def reliability(curves: dict[str, list[dict]], path: Path) -> Path:
    """Predicted confidence against the share of answers exactly right, per bin; a dot's area is its rows."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="#a0aec0", linestyle="--", label="perfectly calibrated")
    for (name, table), colour in zip(curves.items(), ("#2b6cb0", "#c05621", "#38a169")):
        x, y = [b["predicted"] for b in table], [b["observed"] for b in table]
        ax.plot(x, y, color=colour, label=name)
        ax.scatter(x, y, s=[8 + b["rows"] / 2 for b in table], color=colour, alpha=0.7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (mean of the bin)")
    ax.set_ylabel("answers exactly right")
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)
