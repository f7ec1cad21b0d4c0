#!/usr/bin/env bash
# End-to-end test of every experiment target (`make experiments`: Tables 2–4, Figures 4–6; and
# `make coldstart` with scripts/quality_table.py over its runs) on the generated default dataset,
# CI-sized: text and metadata only (no image extraction), tiny models trained for two epochs,
# two seeds, two lengths, two caps. It checks that each target writes its table or figure and
# that the numbers in them are real (finite RMSEs for every LRMM row and baseline); quality is
# what the model tests and `make table2` measure.
#
#   bash scripts/test-experiments.sh        (make test-experiments; part of make test)
#
# Everything goes to build/ci-exp*/ and build/experiments/ci-exp*/, removed first so that every
# run is a fresh one. Needs the stage binaries (make build) and python3 (the checks).
set -euo pipefail
cd "$(dirname "$0")/.."

name=ci-exp
work=build/$name-configs
rm -rf build/$name build/$name-* build/experiments/$name build/experiments/$name-*
mkdir -p "$work"

# A tiny model: the point is that every stage runs and every file is written, fast. Each tiny
# config is a shipped one (its base) with the sizes, L and the epochs cut (configs by difference).
tiny() {
  printf '%s\n' "base = \"../../pipelines/$1\"" \
    '[model]' 'word_dim = 8' 'hidden = 16' 'ae_hidden = 32' 'shared_dim = 16' \
    '[data]' 'max_len = 20' '[train]' 'max_epochs = 2' > "$work/$1"
}
tiny default.toml
tiny table3.toml
tiny table2.toml   # Figure 6's config
python3 scripts/pipeline_config.py show "$work/table3.toml" \
  | python3 -c 'import json, sys; sys.exit(set(json.load(sys.stdin)["mdrop"].values()) != {0.5})' \
  || { echo "test-experiments: table3 config lost p_m = 0.5" >&2; exit 1; }

reviews=data/generated/default/reviews_Synthetic_5.json.gz
make --no-print-directory datagen >/dev/null
start=$SECONDS
make --no-print-directory experiments NAME=$name REVIEWS=$reviews \
  META=data/generated/default/meta_Synthetic.json.gz IMAGES= \
  CONFIG=$work/default.toml TABLE2_CONFIG=$work/default.toml TABLE3_CONFIG=$work/table3.toml \
  FIG6_CONFIG=$work/table2.toml FIG6_LENGTHS="10 20" FIG4_CAPS="1 0" SEEDS="1 2" FIG5_ROWS=40 \
  SOURCE_IMAGES= TARGET_IMAGES= TABLE4_SOURCE=$name-xsource TABLE4_TARGET=$name-xtarget
echo "test-experiments: make experiments took $((SECONDS - start)) s" >&2
# Item cold start: two seeds of a cold-items split (make coldstart).
make --no-print-directory coldstart NAME=$name REVIEWS=$reviews \
  META=data/generated/default/meta_Synthetic.json.gz IMAGES= \
  COLDSTART_CONFIG=$work/default.toml COLD_ITEMS=0.2 SEEDS="1 2"
# The real-data summary (scripts/quality_table.py) over these runs standing in for the real ones.
fake=build/$name-quality
mkdir -p "$fake"
for s in 1 2; do
  for run in mi mi-leak mi-paper gift magazine; do ln -sfn "../$name-seed$s" "$fake/$run-seed$s"; done
  for run in gift magazine; do ln -sfn "../$name-cold-seed$s" "$fake/$run-cold-seed$s"; done
done
python3 scripts/quality_table.py --build "$fake" --seeds 1 2 --out "$fake/quality.md"

python3 - "$name" <<'EOF'
import json, math, pathlib, sys

name = sys.argv[1]
exp = pathlib.Path("build/experiments") / name
failures = []

def check(cond, what):
    if not cond:
        failures.append(what)

def finite_rmse(path):
    m = json.loads(pathlib.Path(path).read_text())
    for key in ("+F", "-U", "-O", "-M", "-V"):
        r = m.get("lrmm", {}).get(key, {}).get("rmse")
        check(isinstance(r, (int, float)) and math.isfinite(r) and 0 < r < 4, f"{path}: lrmm {key} rmse {r}")
    for key in ("offset", "svdpp"):
        r = m.get("baselines", {}).get(key, {}).get("rmse")
        check(isinstance(r, (int, float)) and math.isfinite(r), f"{path}: baseline {key} rmse {r}")

def png(path):
    p = pathlib.Path(path)
    check(p.exists() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 2000, f"{path}: not a PNG figure")

def table(path, must):
    p = pathlib.Path(path)
    if not p.exists():
        return check(False, f"{path} missing")
    text = p.read_text()
    for m in must:
        check(m in text, f"{path}: no {m!r}")
    check("NaN" not in text and "nan" not in text.split(), f"{path}: NaN in the table")

# Table 2: two seeds, each a whole pipeline, aggregated as mean ± std.
for s in (1, 2):
    finite_rmse(f"build/{name}-seed{s}/metrics.json")
table(exp / "table2.md", ["LRMM(+F)", "LRMM(-U)", "LRMM(-O)", "LRMM(-M)", "LRMM(-V)", "±", "SVD++"])
# Table 3: p_m = 0.5 models, with the cold subsets.
table(exp / "table3.md", ["±", "RMSE cold item", "LRMM(+F)"])
for s in (1, 2):
    cfg = json.loads((exp / f"pm05-seed{s}/model/config.json").read_text())
    check(cfg["config"]["mdrop"]["user"] == 0.5, f"table3 seed {s}: p_m is not 0.5")
# Figure 5: t-SNE picture of the first Table 3 model.
png(exp / "fig5.png")
# Figure 6: one model per L, with L really applied.
png(exp / "fig6.png")
for length in (10, 20):
    cfg = json.loads((exp / f"L{length}/model/config.json").read_text())
    check(cfg["config"]["data"]["max_len"] == length, f"fig6 L{length}: trained with max_len {cfg['config']['data']['max_len']}")
    finite_rmse(exp / f"L{length}/metrics.json")
# Figure 4: each cap N is its own ingest; at N = 0 the test items have no training reviews.
png(exp / "fig4.png")
for n in (1, 0):
    finite_rmse(f"build/{name}-fig4-n{n}/metrics.json")
dropped = [json.loads(pathlib.Path(f"build/{name}-fig4-n{n}/ingest_summary.json").read_text())["train_reviews_dropped_by_cap"] for n in (1, 0)]
check(0 < dropped[0] < dropped[1], f"fig4: training reviews dropped by the caps 1 and 0: {dropped}")
# Table 4: the source model on the target's test split, vocabulary from the source.
t4 = pathlib.Path(f"build/experiments/{name}-xsource-to-{name}-xtarget")
table(t4 / "table4.md", ["Cross-domain", "In-domain", "coverage"])
finite_rmse(t4 / "metrics.json")

# Item cold start: every test row of every seed is a cold item, aggregated over that subset.
table(exp / "coldstart.md", ["±", "RMSE cold item", "LRMM(+F)"])
for s in (1, 2):
    m = json.loads(pathlib.Path(f"build/{name}-cold-seed{s}/metrics.json").read_text())
    n = {k: v["n"] for k, v in m["subsets"].items()}
    check(n["all"] > 0 and n["cold_item"] == n["all"] and n["warm"] == 0, f"coldstart seed {s}: subsets {n}")
    check(m["baselines"]["bias_valid"]["rmse"] is not None, f"coldstart seed {s}: no bias_valid baseline")
# The real-data summary: a bar and a verdict per setting, and the verdicts follow the numbers.
fake = pathlib.Path(f"build/{name}-quality")
table(fake / "quality.md", ["Bar: LRMM(+F) ≤ the better of Biases and SVD++", "0.97 ×", "HR@10", "leak"])
verdicts = json.loads((fake / "quality.json").read_text())
check(len(verdicts) == 6, f"quality.json: {sorted(verdicts)}")
for setting, v in verdicts.items():
    if "lrmm" in v:
        check(v["met"] == (v["lrmm"] <= v["bar"]), f"quality.json {setting}: verdict {v}")

if failures:
    print("test-experiments: FAILED", *failures, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print("test-experiments: table2, table3, table4, fig4, fig5, fig6, coldstart, quality table ok", file=sys.stderr)
EOF

# The GPU check's script, run here on the CPU (scripts/gpu-check.sh --dry-run).
bash scripts/test-gpu-check.sh
