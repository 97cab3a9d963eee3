#!/usr/bin/env bash
# Each lever for the height, width and depth rows, out of fold over fold splits 1-20 of the dev and more photos,
# with the shipped model's parameters; then the figure (docs/dimension_levers.png). About 8 minutes a lever on
# 2 cores, with the OCR snapshots. Usage: bash bench/dimension_levers.sh [SPLITS]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SPLITS=${1:-20}
OUT=bench/out/levers
CORPUS=../shared/data/ocr_text_corpus.csv
mkdir -p "$OUT"
[ -f out/synthetic/labels.csv ] || make synth
[ -f out/synthetic_600/labels.csv ] || "$PY" -m dataset.synthetic --n 600 --seed 0 --out out/synthetic_600

run() {  # NAME then bench.fold_splits' options
  local name=$1; shift
  [ -f "$OUT/$name.json" ] || "$PY" -m bench.fold_splits --splits "$SPLITS" "$@" --json "$OUT/$name.json" | tail -2
}
# the levers one on top of another; before (6) without the features of where a quantity stands, and rows one by one;
# before (8) the photos ranker at 0.5 in a dimension row's blend; before (9) one dimension ranker for the three;
# (7) to (9) answer a photo's rows together
BEFORE=(--one-by-one --without qty_ --without twin_ --without vertical_rank --without horizontal_rank
        --dimension-blend 0.5 --no-height-width-ranker)
ONE=--no-height-width-ranker
run 1_photos_and_corpus --text-corpus "$CORPUS" --without drawn_ "${BEFORE[@]}"
run 2_more_text_rows --without drawn_ "${BEFORE[@]}"
run 3_axis_reading "${BEFORE[@]}"
run 4_drawings_600 --synthetic out/synthetic_600 "${BEFORE[@]}"
run 5_drawings_1200 --synthetic out/synthetic "${BEFORE[@]}"
run 6_quantity_features --synthetic out/synthetic --one-by-one --dimension-blend 0.5 $ONE
run 7_joint_answer --synthetic out/synthetic --rules --dimension-blend 0.5 $ONE --p-equal 0.5
run 8_dimension_ranker_leads --synthetic out/synthetic --rules --dimension-blend 0.25 $ONE --p-equal 0.5
run 9_height_width_ranker --synthetic out/synthetic --rules --dimension-blend 0.25 --height-width-ranker --p-equal 0.5
# (10) the rows one by one again: with (9) the joint answer cost the rows the test file asks beside others
# (`python -m bench.joint_answers`), though it gains a quarter of a row on these, mostly asked alone
run 10_rows_one_by_one --synthetic out/synthetic --dimension-blend 0.25 --height-width-ranker --one-by-one
# levers left out one at a time from (5)
run no_axis_reading --synthetic out/synthetic --without drawn_ "${BEFORE[@]}"
run no_more_text_rows --synthetic out/synthetic --text-corpus "$CORPUS" "${BEFORE[@]}"
run drawing_weight_1 --synthetic out/synthetic --drawing-weight 1 "${BEFORE[@]}"
"$PY" -m bench.dimension_levers "$OUT"/[1-9]_*.json "$OUT"/10_*.json "$OUT"/no_*.json "$OUT"/drawing_weight_*.json \
    --reference 10_rows_one_by_one --out docs/dimension_levers.png
