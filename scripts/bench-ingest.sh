#!/usr/bin/env bash
# Ingest benchmark: builds the scaled review file once (the real Musical Instruments 5-core
# reviews copied 160 times with suffixed user and item ids: 1.64M reviews, ~1.2 GB, the size of
# the paper's Electronics set), then times lrmm-ingest and, when importable, the same work in
# Python polars, and prints wall time and peak memory of each.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/lrmm/target}"
SHARED=${LRMM_SHARED_DATA:-../shared/data}
SRC=$SHARED/amazon-2014/Musical_Instruments/reviews_Musical_Instruments_5.json.gz
COPIES=${COPIES:-160}
SCALED=build/bench-data/reviews_MI_x$COPIES.json
if [ ! -f "$SRC" ]; then
  echo "bench-ingest: $SRC is absent; set LRMM_SHARED_DATA to the folder holding amazon-2014/." >&2
  exit 2
fi
if [ ! -f "$SCALED" ]; then
  mkdir -p build/bench-data
  python3 scripts/scale_reviews.py "$SRC" "$COPIES" "$SCALED.part"
  mv "$SCALED.part" "$SCALED"
fi
python3 scripts/measure.py \
  "lrmm-ingest (Rust, polars)" -- "$CARGO_TARGET_DIR/release/lrmm-ingest" --reviews "$SCALED" --out build/bench --seed 1 \
  :: "Python polars reference" -- python3 scripts/ingest_reference.py --engine polars "$SCALED" build/bench-python-polars
