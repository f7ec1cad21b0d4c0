#!/usr/bin/env bash
# Prepares ONE device call that checks the CUDA build on a GPU machine (../shared/gpu/README.md):
# builds here, runs the default pipeline on the CPU for the reference RMSE, packs into an ignored
# folder what the GPU machine needs (compressed binaries, the generated default dataset and the CPU
# run's artifacts, the run scripts, the PyTorch and torchvision references; under 64 MiB) and
# prints the command to run there. That command writes $OUT/gpu-check.json within 8 minutes:
# LSTM and VGG parity CUDA vs CPU, lrmm-bench-train beside lrmm_torch.py, lrmm-images bench beside
# torchvision, and the default pipeline's training and evaluation on CUDA beside the CPU run.
#
#   scripts/gpu-check.sh [--dry-run] [--out DIR] [--no-build]
#
#   --dry-run   CPU binaries (make build), tiny shapes and a tiny model, and the packed script is
#               then run here on the CPU (the parity becomes the LSTM recurrence's Rust reference
#               vs the fused op, channels-last vs NCHW VGG), so the whole check is exercised
#               without a GPU. The pack goes to
#               build/gpu-check-dry/ and its results to build/gpu-check-dry/out/gpu-check.json.
#   --out DIR   the pack folder [default: build/gpu-check, or build/gpu-check-dry with --dry-run]
#   --no-build  use the binaries as they are (no make build / make build-cuda)
#
# Environment: CARGO_TARGET_DIR (CPU build, default ~/.cache/lrmm/target) and CUDA_TARGET_DIR
# (CUDA build, default ~/.cache/lrmm/target-cuda), as in the Makefile.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

dry=0 pack="" build=1
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry=1; shift ;;
    --out) pack=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$pack" ]; then
  pack=$([ $dry = 1 ] && echo build/gpu-check-dry || echo build/gpu-check)
fi
say() { echo "gpu-check: $*" >&2; }

BINARIES="lrmm-images lrmm-train lrmm-eval lrmm-bench-train lrmm-lstm-parity"
if [ $dry = 1 ]; then
  bindir=${CARGO_TARGET_DIR:-$HOME/.cache/lrmm/target}/release
  name=gpu-check-dry-cpu
  # A tiny model and a narrow VGG: the point is that every step runs.
  images_flags="--width-divisor 16"
  train_set="model.word_dim=8 model.hidden=16 model.ae_hidden=32 model.shared_dim=16 data.max_len=20 train.max_epochs=2"
  xz_level=-0
else
  bindir=${CUDA_TARGET_DIR:-$HOME/.cache/lrmm/target-cuda}/release
  name=gpu-check-cpu
  images_flags=""
  train_set=""
  xz_level=-6
fi

# 1. Build.
if [ $build = 1 ]; then
  start=$SECONDS
  if [ $dry = 1 ]; then
    make --no-print-directory build >&2
  else
    make --no-print-directory build-cuda >&2
  fi
  say "build took $((SECONDS - start)) s"
fi
for b in $BINARIES; do
  [ -x "$bindir/$b" ] || { say "$bindir/$b missing (run without --no-build)"; exit 1; }
done

# 2. The dataset and the CPU reference run (images, training, evaluation) of the default pipeline.
make --no-print-directory datagen >/dev/null
start=$SECONDS
make --no-print-directory eval NAME=$name IMAGES_FLAGS="$images_flags" TRAIN_SET="$train_set" >&2
say "CPU reference run (build/$name) ready after $((SECONDS - start)) s"

# 3. Pack.
rm -rf "$pack"
mkdir -p "$pack/bin" "$pack/dataset"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
for b in $BINARIES; do
  strip -o "$pack/bin/$b" "$bindir/$b"
  xz -T2 $xz_level -f "$pack/bin/$b"
done
say "binaries stripped and compressed in $((SECONDS - start)) s"
cp -r data/generated/default/. "$pack/dataset/"
# The CPU run's inputs to training and evaluation (not its model or outputs), so that the device
# trains on exactly the same token ids and image features.
for f in build/$name/*; do
  case $(basename "$f") in
    model|report|baselines|metrics.json|metrics.md|predictions.parquet|examples.md) ;;
    *) cp -r "$f" "$work/" ;;
  esac
done
tar -C "$work" -cJf "$pack/work.tar.xz" .
cp pipelines/default.toml "$pack/default.toml"
cp scripts/gpu/run-check.sh scripts/gpu/run_check.py ../shared/gpu/run-on-gpu.sh \
  ../shared/bench/lrmm_torch.py ../shared/bench/vgg_torch.py "$pack/"

commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || echo "+dirty")
DRY=$dry NAME=$name PACK=$pack COMMIT=$commit BINARIES=$BINARIES IMAGES_FLAGS=$images_flags \
  TRAIN_SET=$train_set python3 - <<'EOF'
import json, os, sys, time
sys.path.insert(0, "scripts/gpu")
import run_check

dry = os.environ["DRY"] == "1"
name, pack = os.environ["NAME"], os.environ["PACK"]
metrics = json.load(open(f"build/{name}/metrics.json"))
sets = [x for s in os.environ["TRAIN_SET"].split() for x in ("--set", s)]
if dry:
    shapes = dict(batch=8, len=12, vocab=200, word_dim=8, hidden=16, ae_hidden=32, parity_batch=8,
                  lstm_time_steps=2, bench_steps=2, bench_rounds=1, vgg_batch=2, vgg_steps=1,
                  vgg_parity_batch=2, vgg_side=32)
    limits = dict(parity=60, bench_train=60, bench_images=60, pipeline_images=60, pipeline_train=90,
                  pipeline_eval=60)
else:
    # The paper's shapes (Section 3), as scripts/bench_train.py's "paper".
    shapes = dict(batch=256, len=100, vocab=20000, word_dim=128, hidden=256, ae_hidden=1024,
                  parity_batch=256, lstm_time_steps=10, bench_steps=20, bench_rounds=2, vgg_batch=128,
                  vgg_steps=5, vgg_parity_batch=8, vgg_side=224)
    limits = dict(parity=90, bench_train=90, bench_images=90, pipeline_images=90, pipeline_train=200,
                  pipeline_eval=90)
vgg_flags = os.environ["IMAGES_FLAGS"].split()
manifest = {
    "mode": "dry-run" if dry else "device",
    "device": "cpu" if dry else "cuda",
    "commit": os.environ["COMMIT"],
    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "binaries": os.environ["BINARIES"].split(),
    "deadline_s": 300 if dry else 480,
    "shapes": shapes,
    "limits": limits,
    "vgg_flags": vgg_flags,
    # lrmm-images bench --dtype values (f32 only until the stage has a bf16 option).
    "lrmm_image_dtypes": ["f32"],
    "images_args": ["--seed", "1", *vgg_flags, "--batch-size", "32" if dry else "128"],
    # lrmm-train's arguments after --config PACK/default.toml, as the CPU run's (mk/40-train.mk).
    "train_args": [*sets, "--seed", "1"],
    "eval_args": ["--k", "10", "--seed", "1"],
    "rmse_tolerance": 0.02,
    "cpu_run": {
        "name": name,
        "rmse": {k: v.get("rmse") for k, v in metrics["lrmm"].items()},
        "train": run_check.model_summary(f"build/{name}/model"),
    },
}
json.dump(manifest, open(os.path.join(pack, "manifest.json"), "w"), indent=2)
EOF

bytes=$(du -sb "$pack" | cut -f1)
say "packed $pack: $((bytes / 1024)) KiB ($(du -sh "$pack/bin" | cut -f1) of binaries)"
if [ "$bytes" -gt $((64 * 1024 * 1024)) ]; then
  say "$pack is over the 64 MiB a device call carries"
  exit 1
fi

case $pack in
  /*) rel=${pack#"$root"/} ;;
  *) rel=$pack ;;
esac
cmd="bash $rel/run-check.sh"
if [ $dry = 1 ]; then
  say "dry run: $cmd --out $pack/out"
  bash "$pack/run-check.sh" --out "$pack/out"
else
  echo "On the GPU machine (one device call; the run stops itself after 8 minutes):"
  echo "  run(command=\"$cmd\", carry=[\"$rel\"], timeout_s=540)"
  echo "then read \$OUT/gpu-check.json (files_at/gpu-check.json) and \$OUT/logs/."
fi
