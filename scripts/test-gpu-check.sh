#!/usr/bin/env bash
# Test of the GPU check without a GPU: `scripts/gpu-check.sh --dry-run` builds the pack with the
# CPU binaries and tiny shapes, runs the packed script here on the CPU, and this checks the JSON it
# wrote: every step present, the parity steps passing, the pipeline's RMSE equal to the CPU run's,
# the pack under the 64 MiB a device call carries. About a minute on 2 cores.
#
#   bash scripts/test-gpu-check.sh          (make test-gpu-check; run by scripts/test-experiments.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build/gpu-check-dry build/gpu-check-dry-cpu
start=$SECONDS
bash scripts/gpu-check.sh --dry-run >/dev/null
echo "test-gpu-check: gpu-check.sh --dry-run took $((SECONDS - start)) s" >&2
python3 - <<'PY'
import json, os, pathlib, sys

pack = pathlib.Path("build/gpu-check-dry")
r = json.loads((pack / "out/gpu-check.json").read_text())
failures = []

def check(cond, what):
    if not cond:
        failures.append(what)

steps = r.get("steps", {})
for name in ("parity_lstm", "lstm_stepwise", "parity_vgg", "bench_train", "bench_images",
             "pipeline_images", "pipeline_train", "pipeline_eval"):
    check(name in steps, f"step {name} missing")
    check("error" not in steps.get(name, {}), f"{name}: {steps.get(name, {}).get('error')}")
check(r.get("mode") == "dry-run" and r.get("device") == "cpu", f"mode {r.get('mode')}, device {r.get('device')}")
lstm = steps.get("parity_lstm", {})
check(lstm.get("pass") is True and lstm.get("max_relative", 1) <= 1e-4, f"LSTM parity: {lstm}")
# The candidate is the recurrence (the GPU's encoder; on the CPU its Rust reference), not the stepwise ops.
check("Recurrence" in lstm.get("candidate", ""), f"LSTM parity candidate: {lstm.get('candidate')}")
check(set(lstm.get("relative", {})) == {"pooled", "d_embedding", "d_w_ih", "d_w_hh", "d_bias"},
      f"LSTM parity compares {sorted(lstm.get('relative', {}))}")
check("inference_forward" in lstm.get("ms_per_batch", {}), "LSTM parity: no timing")
vgg = steps.get("parity_vgg", {})
check(vgg.get("pass") is True and vgg.get("min_cosine", 0) >= 0.9999, f"VGG parity: {vgg}")
train = steps.get("bench_train", {})
check(train.get("lrmm", {}).get("train_samples_per_s", 0) > 0, f"bench_train: {train.get('lrmm')}")
check("pytorch" in train or "pytorch_skipped" in train, "bench_train: neither a PyTorch figure nor a reason")
images = steps.get("bench_images", {})
check(images.get("lrmm", {}).get("f32", {}).get("images_per_s", 0) > 0, f"bench_images: {images.get('lrmm')}")
check("f32" in images.get("torchvision", {}) or "torchvision_skipped" in images,
      "bench_images: neither a torchvision figure nor a reason")
check(steps.get("pipeline_images", {}).get("pass") is True, f"pipeline images: {steps.get('pipeline_images')}")
ev = steps.get("pipeline_eval", {})
# The same CPU binaries on the same inputs: training is deterministic, so the RMSE is the CPU run's.
check(ev.get("pass") is True and ev.get("max_abs_rmse_diff") == 0.0, f"pipeline eval: {ev}")
check(set(ev.get("rmse", {})) >= {"+F", "-U", "-O", "-M", "-V"}, f"pipeline eval: rmse {ev.get('rmse')}")
check(r.get("pass") is True and not r.get("failures"), f"failures: {r.get('failures')}")
size = sum(f.stat().st_size for f in pack.rglob("*") if f.is_file() and "out" not in f.relative_to(pack).parts)
check(size < 64 << 20, f"pack is {size >> 20} MiB")
for f in ("manifest.json", "run-check.sh", "run_check.py", "run-on-gpu.sh", "lrmm_torch.py", "vgg_torch.py",
          "default.toml", "dataset/reviews_Synthetic_5.json.gz", "work.tar.xz"):
    check((pack / f).exists(), f"{f} not packed")
check(len(list((pack / "bin").glob("*.xz"))) == 5, "not 5 compressed binaries")
if failures:
    print("test-gpu-check: FAILED", *failures, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"test-gpu-check: every step ran and passed, pack {size >> 20} MiB, run {r['elapsed_s']} s", file=sys.stderr)
PY
