"""A photo's height, width and depth rows answered together (`ranker.joint`), by simulation on labelled photos.

    python -m bench.joint_answers --splits 10 [--first-split 1] [--p-equal 0.19 0.3 0.5 0.7] [--json FILE]
    python -m bench.joint_answers --p-equal 1:0.1 0.5:0.1     # weights for photos printing <= 2 / >= 3 lengths
    python -m bench.joint_answers --p-equal --order-weight 0.5 1 2   # a depth and a width by the catalogue's order

The labelled photos hold few photos asked two dimensions; the challenge's test file asks two or three of one photo
for two thirds of its dimension rows. So each labelled height, width or depth row of dev + more is answered beside
the sibling rows the test file would ask of its photo: every other dimension attribute is added as an unlabelled row
(scored out of fold with the photo's own fold, never learned from), and each labelled row is answered with the
sibling sets the test file asks in its proportions (a depth row: alone 5,739 times, with a width 8,721, with a height
8,035, with both 5,551). A labelled row's accuracy is the weighted mean over its sets; answered alone it is the one
by one answer, so a weight of 1 gives the one by one figure. Only labelled rows are scored. A weight `A:B` weighs a
shared quantity by A on a photo that prints at most two distinct lengths and by B on one that prints three or more
(the catalogue would give two attributes one length only where the photo prints few). `--order-weight W`: a depth
row and a width row of one photo answer together by the catalogue's order of the two (`ranker.joint.ordered_pair`),
every other row alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from prodspec.candidates.cache import OcrCache
from prodspec.candidates.ocr import OcrSettings
from prodspec.cli.commands import chosen_text_corpus
from prodspec.dataset.splits import image_folds
from prodspec.paths import SHARED_DATA, SHIPPED_MODEL_DIR
from prodspec.ranker.answers import answer_text
from prodspec.ranker.blend import (
    DIMENSIONS,
    dimension_blend_of,
    has_height_width_ranker,
    ranker_features,
)
from prodspec.ranker.joint import (
    best_assignment,
    ordered_pair,
    quantity_lengths,
    quantity_masses,
)
from prodspec.ranker.lambdarank import RankerParams
from prodspec.ranker.selection import in_answer_order
from prodspec.training.crossval import oof_scores
from prodspec.training.data import training_data

SOURCES = [SHARED_DATA / "dev", SHARED_DATA / "more"]
# the challenge's test file: its photos by the set of dimension attributes asked of them (`bench.shared_photos`)
TEST_SETS = {("depth",): 5739, ("depth", "width"): 8721, ("depth", "height"): 8035, ("depth", "height", "width"): 5551,
             ("height",): 14646, ("height", "width"): 3855, ("width",): 8663}


def with_siblings(labels: Path, out: Path) -> Path:
    """The labels with an unlabelled row for every dimension attribute a photo with a dimension row lacks."""
    rows = pd.read_csv(labels, dtype=str, keep_default_na=False)
    added = []
    for _, part in rows[rows["entity_name"].isin(DIMENSIONS)].groupby("image_link"):
        for entity in sorted(set(DIMENSIONS) - set(part["entity_name"])):
            added.append(part.iloc[0].to_dict() | {"entity_name": entity, "entity_value": "",
                                                   "index": f"sibling-{len(added)}"})
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.concat([rows, pd.DataFrame(added, columns=rows.columns)], ignore_index=True).to_csv(out, index=False)
    return out


def sets_of(entity: str) -> list[tuple[tuple[str, ...], float]]:
    """The sibling attributes asked beside a row of `entity`, each set with its share of the test file's rows."""
    sets = [(s, n) for s, n in TEST_SETS.items() if entity in s]
    total = sum(n for _, n in sets)
    return [(tuple(e for e in s if e != entity), n / total) for s, n in sets]


def quantity_answers(table, scores: np.ndarray, priors) -> tuple[dict[tuple[int, int], str], dict[int, int]]:
    """Each (row, quantity)'s answer: the quantity's candidate that row's answer would be (most value mass, then
    score), written as the row's answer is; and each row's quantity answered one by one."""
    lines = table.lines
    allowed = lines[lines["unit_allowed"] > 0].assign(score=scores[(lines["unit_allowed"] > 0).to_numpy()])
    allowed = in_answer_order(allowed)
    first = allowed.groupby(["row_pos", "qty_group"], sort=False).head(1)
    alone = allowed.groupby("row_pos", sort=False).head(1)
    rows = table.rows
    return ({(r, q): answer_text(v, u, str(rows.at[r, "group_id"]), rows.at[r, "entity_name"], priors)
             for r, q, v, u in zip(first["row_pos"], first["qty_group"], first["value"], first["unit_name"])},
            dict(zip(alone["row_pos"], alone["qty_group"])))


def weights_of(spec: str) -> tuple[float, float]:
    """`--p-equal`'s `0.5` (one weight) or `1:0.1` (on photos printing at most two distinct lengths : three or more);
    each in (0, 1], 1 answering the rows alone."""
    few, _, many = spec.partition(":")
    return float(few), float(many or few)


def simulate(data, scores: np.ndarray, p_equals: list[str], order_weights: list[float] = ()) -> dict:
    """Each labelled dimension row's accuracy one by one, with each `p_equal` (`weights_of`) and with each order weight,
    weighted by the test file's sets."""
    rows, lines = data.table.rows, data.table.lines
    dimension = rows["entity_name"].isin(DIMENSIONS).to_numpy()
    keep = dimension[lines["row_pos"].to_numpy()]
    masses = quantity_masses(lines[keep], scores[keep])
    by_row = {r: part.set_index("qty_group")["mass"] for r, part in masses.groupby("row_pos")}
    answer, own = quantity_answers(data.table, scores, data.priors)
    siblings = rows[dimension].groupby("image_name").apply(lambda p: dict(zip(p["entity_name"], p.index)))
    out = {"one_by_one": [], **{str(p): [] for p in p_equals}, **{f"order {w}": [] for w in order_weights},
           "entity": []}
    lengths = quantity_lengths(lines[keep])
    # the distinct lengths the row's photo prints (`features.quantities`)
    distinct = lines[lines["family_matches"] > 0].groupby("row_pos")["qty_distinct"].max()
    for row in np.flatnonzero(dimension & (rows["entity_value"] != "").to_numpy()):
        label, entity = rows.at[row, "entity_value"], rows.at[row, "entity_name"]
        if row not in by_row:  # no candidate: answered from the priors either way
            continue
        alone = own[row]
        out["entity"].append(entity)
        out["one_by_one"].append(answer[(row, alone)] == label)
        photo = siblings[rows.at[row, "image_name"]]
        for spec in p_equals:
            few, many = weights_of(spec)
            p_equal = many if distinct.get(row, 0) >= 3 else few
            right = 0.0
            for others, weight in sets_of(entity):
                asked = {row: by_row[row]} | {photo[e]: by_row[photo[e]] for e in others if photo[e] in by_row}
                collide = len({own[r] for r in asked}) < len(asked)  # as `ranker.joint.joint_choices` weighs
                chosen = (best_assignment(asked, p_equal) if collide and p_equal < 1 else None) or {row: alone}
                right += weight * (answer[(row, chosen[row])] == label)
            out[spec].append(right)
        counterpart = {"depth": "width", "width": "depth"}.get(entity)
        for weight_ in order_weights:
            right = 0.0
            for others, weight in sets_of(entity):
                other = photo.get(counterpart) if counterpart in others else None
                chosen = alone
                if other is not None and other in by_row:
                    depth, width = (row, other) if entity == "depth" else (other, row)
                    pair = ordered_pair(by_row[depth], by_row[width], lengths.get(depth, {}) | lengths.get(width, {}),
                                        (own[depth], own[width]), weight_)
                    chosen = pair[0] if entity == "depth" else pair[1]
                right += weight * (answer[(row, chosen)] == label)
            out[f"order {weight_}"].append(right)
    return out


def run(splits: range, p_equals: list[str], model_dir: Path = SHIPPED_MODEL_DIR, progress: bool = True,
        order_weights: list[float] = ()) -> dict:
    meta = json.loads((model_dir / "meta.json").read_text())
    settings = OcrSettings.from_meta(meta["ocr_settings"])
    with tempfile.TemporaryDirectory() as tmp:
        labels = [with_siblings(s / "labels.csv", Path(tmp) / s.name / "labels.csv") for s in SOURCES]
        cache = OcrCache(None)
        try:
            data = training_data(labels, [s / "images" for s in SOURCES], settings, cache, progress=progress,
                                 text_corpus=chosen_text_corpus(argparse.Namespace(no_text_corpus=False,
                                                                                   text_corpus=None)),
                                 model_dir=model_dir, synthetic=Path("out/synthetic"))
        finally:
            cache.close()
    rows = data.rows
    learn = (rows["entity_value"] != "").to_numpy()
    features = ranker_features(data.table_features, meta["objective"])
    params = RankerParams(**meta["params"])
    per_split = []
    for seed in splits:
        folds = image_folds(rows["image_name"], k=5, seed=seed)
        scores = oof_scores(data.table.lines, folds, features, params, data.text, words=data.words, drawn=data.drawn,
                            drawing_weight=float(meta.get("drawing_weight", 0.0)), learn=learn,
                            dimension_blend=dimension_blend_of(meta), height_width_ranker=has_height_width_ranker(meta))
        found = simulate(data, scores, p_equals, order_weights)
        entity = np.array(found.pop("entity"))
        split = {}
        for name, right in found.items():
            right = np.array(right, dtype=float)
            split[name] = {"dimension": round(float(right.mean()), 4)} | {
                e: round(float(right[entity == e].mean()), 4) for e in DIMENSIONS}
        per_split.append(split)
        if progress:
            print(seed, {k: v["dimension"] for k, v in split.items()}, flush=True)
    names = list(per_split[0])
    mean = {n: {k: round(statistics.fmean(s[n][k] for s in per_split), 4) for k in per_split[0][n]} for n in names}
    return {"splits": [splits.start, splits.stop - 1], "rows": int(learn.sum()), "per_split": per_split, "mean": mean}


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--splits", type=int, default=10)
    cli.add_argument("--first-split", type=int, default=1)
    cli.add_argument("--p-equal", nargs="*", default=["0.19", "0.3", "0.5", "0.7"],
                     help="weights of a shared quantity: W, or A:B for photos printing <= 2 : >= 3 distinct lengths")
    cli.add_argument("--json", type=Path, default=None)
    cli.add_argument("--order-weight", type=float, nargs="*", default=[],
                     help="a photo's depth and width rows answered by the catalogue's order at these weights")
    args = cli.parse_args()
    result = run(range(args.first_split, args.first_split + args.splits), args.p_equal,
                 order_weights=args.order_weight)
    print(f"{'answered':>12} " + " ".join(f"{k:>10}" for k in ("dimension", *DIMENSIONS)))
    for name, figures in result["mean"].items():
        print(f"{name:>12} " + " ".join(f"{figures[k]:10.4f}" for k in ("dimension", *DIMENSIONS)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
