"""Paired training/inference throughput: lrmm-bench-train beside the PyTorch reference
(../shared/bench/lrmm_torch.py), ROUNDS rounds of (lrmm, PyTorch) back to back, at each named
set of shapes; prints a markdown table of medians with GFLOP/s, the share of this CPU's FP32
peak, peak resident memory and the load average before each run.

usage: bench_train.py --lrmm BIN --torch SCRIPT [--device cpu] [--rounds 3] [--steps 3]
                      [--shapes paper,default]

FLOPs are counted per sample from the shapes, multiply-adds as 2: per text encoder the input
projection 2·T·E·4H and the recurrence 2·T·H·4H (three encoders), the image projection
2·4096·d, each modality's autoencoder as that implementation builds it (lrmm: 4d → A → d, the
four embeddings side by side; the PyTorch reference: d → A → d), the shared layer 2·4d·d and
the score 2·d. A training step counts 3× the forward (each product's backward is two products
of its size). Element-wise work is not counted. The peak is cores × clock × FLOPs per cycle:
cores and clock from `lscpu` (its "CPU max MHz", else the nominal clock, BogoMIPS / 2), and
64 FP32 FLOPs per cycle per core where the CPU has AVX-512 (two 16-lane FMA units), 32 with
AVX2 only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

SHAPES = {
    # batch, len, word_dim, hidden, ae_hidden: the paper's (Section 3) and pipelines/default.toml's.
    # `steps` scales --steps: a default-sized step takes milliseconds, so it runs ten times as many.
    "paper": dict(batch=256, len=100, word_dim=128, hidden=256, ae_hidden=1024, steps=1),
    "default": dict(batch=64, len=50, word_dim=32, hidden=64, ae_hidden=256, steps=10),
}
IMAGE_DIM = 4096


def forward_flops(s, ae_input):
    t, e, h, a = s["len"], s["word_dim"], s["hidden"], s["ae_hidden"]
    text = 3 * (2 * t * e * 4 * h + 2 * t * h * 4 * h)
    image = 2 * IMAGE_DIM * h
    autoencoders = 4 * (2 * ae_input * a + 2 * a * h)
    head = 2 * 4 * h * h + 2 * h
    return text + image + autoencoders + head


def cpu_peak():
    info = {}
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    cores = int(info.get("CPU(s)", os.cpu_count() or 1))
    if "CPU max MHz" in info:
        mhz, source = float(info["CPU max MHz"]), "CPU max MHz"
    else:
        mhz, source = float(info.get("BogoMIPS", "0")) / 2, "BogoMIPS / 2"
    flags = info.get("Flags", "").split()
    per_cycle = 64 if "avx512f" in flags else 32 if "avx2" in flags else 8
    peak = cores * mhz * 1e6 * per_cycle / 1e9
    return peak, f"{cores} cores × {mhz:.0f} MHz ({source}) × {per_cycle} FLOPs/cycle = {peak:.0f} GFLOP/s"


def run(cmd):
    """One benchmark process: its JSON line, its peak RSS in GiB, the load average before it."""
    load = os.getloadavg()[0]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench_train: {' '.join(cmd)} failed")
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return json.loads(line), usage.ru_maxrss / (1024 * 1024), load


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lrmm", required=True, help="the lrmm-bench-train binary")
    ap.add_argument("--torch", required=True, help="lrmm_torch.py")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--shapes", default="paper,default")
    ap.add_argument("--lrmm-args", default="", help="extra lrmm-bench-train arguments")
    a = ap.parse_args()
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        print("bench_train: no PyTorch line: python3 cannot import torch")
    peak, peak_how = cpu_peak()
    rows = []
    for name in a.shapes.split(","):
        s = SHAPES[name]
        flags = [f"--batch={s['batch']}", f"--len={s['len']}", f"--word-dim={s['word_dim']}",
                 f"--hidden={s['hidden']}", f"--ae-hidden={s['ae_hidden']}", f"--steps={a.steps * s['steps']}",
                 f"--device={a.device}"]
        impls = [("lrmm", [a.lrmm, "-q", *flags, *a.lrmm_args.split()], 4 * s["hidden"])]
        if have_torch:
            impls.append(("PyTorch", [sys.executable, a.torch, *flags], s["hidden"]))
        results = {label: [] for label, _, _ in impls}
        for r in range(a.rounds):
            for label, cmd, _ in impls:
                line, rss, load = run(cmd)
                results[label].append((line, rss, load))
                print(f"# {name} round {r + 1} {label}: load {load:.2f}, {json.dumps(line)}, peak RSS {rss:.2f} GiB", flush=True)
        medians = {}
        for label, _, ae_input in impls:
            runs = results[label]
            train = statistics.median(x[0]["train_samples_per_s"] for x in runs)
            infer = statistics.median(x[0]["infer_samples_per_s"] for x in runs)
            rss = max(x[1] for x in runs)
            load = max(x[2] for x in runs)
            f = forward_flops(s, ae_input)
            medians[label] = (train, infer)
            rows.append((name, label, train, infer, 3 * f * train / 1e9, f * infer / 1e9, rss, load))
        if "PyTorch" in medians:
            (lt, li), (pt, pi) = medians["lrmm"], medians["PyTorch"]
            rows.append((name, "lrmm ÷ PyTorch", lt / pt, li / pi, None, None, None, None))
    print()
    print(f"Peak: {peak_how}. Medians of {a.rounds} paired rounds, {a.steps} timed steps each.")
    print()
    print("| shapes | implementation | train samples/s | infer samples/s | train GFLOP/s (% peak) | infer GFLOP/s (% peak) | peak RSS | max load before |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, label, train, infer, tg, ig, rss, load in rows:
        if tg is None:
            print(f"| {name} | **{label}** | **{train:.2f}×** | **{infer:.2f}×** | | | | |")
        else:
            print(f"| {name} | {label} | {train:.1f} | {infer:.1f} | {tg:.0f} ({100 * tg / peak:.0f} %) | "
                  f"{ig:.0f} ({100 * ig / peak:.0f} %) | {rss:.2f} GiB | {load:.2f} |")


if __name__ == "__main__":
    main()
