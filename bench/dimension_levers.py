"""The figure of dimension accuracy by lever, from `bench.fold_splits` results (one JSON per lever, same splits).

    python -m bench.dimension_levers bench/out/levers/*.json --out docs/dimension_levers.png   # and a table

Each JSON's file name (without `.json`) labels its bar, in the order given; a bar is the mean over the fold splits of
the height, width and depth rows answered exactly right, its whisker the range from split to split, and the dots
each axis alone; a name that does not start with a digit is an ablation, hatched. The `--reference` bar's figure (default: the last) is drawn as a line across, so each lever reads
against the model shipped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

AXES = {"height": "tab:blue", "width": "tab:orange", "depth": "tab:green"}


def lever_figure(results: dict[str, dict], out: Path, reference: str | None = None) -> None:
    names = list(results)
    fig, ax = plt.subplots(figsize=(1.5 + 1.3 * len(names), 4.2))
    for x, name in enumerate(names):
        values = [split["dimension_accuracy"] for split in results[name]["splits"]]
        mean = sum(values) / len(values)
        ablation = not name[:1].isdigit()  # a lever left out of the shipped model: hatched
        ax.bar(x, mean, color="0.88" if ablation else "0.75", hatch="//" if ablation else None, width=0.6)
        ax.errorbar(x, mean, yerr=[[mean - min(values)], [max(values) - mean]], color="0.3", capsize=4)
        ax.text(x, 0.02, f"{mean:.3f}", ha="center", va="bottom", fontsize=9,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        for k, (axis, colour) in enumerate(AXES.items()):
            value = results[name]["mean"].get(f"{axis}_accuracy")
            if value is not None:
                ax.plot(x - 0.2 + 0.2 * k, value, "o", color=colour, label=axis if x == 0 else None)
    ax.axhline(results[reference or names[-1]]["mean"]["dimension_accuracy"], color="0.3", linestyle=":", linewidth=1)
    labels = [name.replace("_", " ") + (" (shipped)" if name == (reference or names[-1]) else "") for name in names]
    ax.set_xticks(range(len(names)), labels, rotation=20, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("height, width, depth rows exactly right")
    splits = len(results[names[0]]["splits"])
    ax.set_title(f"Dimension rows of dev + more, out of fold ({splits} fold splits)", fontsize=10)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


COLUMNS = ("dimension_accuracy", "dimension_top1", "height_accuracy", "width_accuracy", "depth_accuracy",
           "other_accuracy", "strict_f1", "test_mix_strict_f1")


def lever_table(results: dict[str, dict], reference: str | None = None) -> str:
    """A Markdown table of the means, and of each lever's splits better and worse than the reference's in
    dimension accuracy."""
    reference = reference or list(results)[-1]
    base = [split["dimension_accuracy"] for split in results[reference]["splits"]]
    lines = ["| lever | " + " | ".join(c.replace("_", " ") for c in COLUMNS) + f" | splits better / worse than {reference} |",
             "|---|" + "---:|" * (len(COLUMNS) + 1)]
    for name, result in results.items():
        mine = [split["dimension_accuracy"] for split in result["splits"]]
        better = sum(m > b + 1e-9 for m, b in zip(mine, base))
        worse = sum(m < b - 1e-9 for m, b in zip(mine, base))
        cells = [f"{result['mean'][c]:.4f}" if result["mean"].get(c) is not None else "-" for c in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + (" | - |" if name == reference else f" | {better} / {worse} |"))
    return "\n".join(lines)


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("results", type=Path, nargs="+", help="bench.fold_splits --json files, one per lever")
    cli.add_argument("--out", type=Path, default=Path("docs/dimension_levers.png"))
    cli.add_argument("--reference", default=None, help="the bar (a JSON's name) drawn across (default: the last)")
    args = cli.parse_args()
    results = {path.stem: json.loads(path.read_text()) for path in args.results}
    lever_figure(results, args.out, args.reference)
    print(lever_table(results, args.reference))
    print(args.out)


if __name__ == "__main__":
    main()
