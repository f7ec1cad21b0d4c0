"""The GPU check's steps, run from the folder scripts/gpu-check.sh packed (run-check.sh calls this
once the binaries are unpacked). Every step has a time limit inside one overall deadline; the
results go to OUT/gpu-check.json, rewritten after each step so that a run cut short still leaves
what it measured, and each step's output to OUT/logs/STEP.log.

usage: run_check.py --pack DIR --bin DIR --out DIR [--deadline SECONDS]

Steps (the pack's manifest.json says the device, the shapes and the CPU run's results):
  parity_lstm        lrmm-lstm-parity: the recurrence kernels (the device's text encoder) against
                     the fused CPU op, forward and every gradient (f32, ≤ 1e-4 relative), and its
                     time per batch; in a --dry-run on the CPU, the kernels' Rust reference
  lstm_stepwise      the same with the stepwise candle ops, for the time per batch only
  parity_vgg         lrmm-images parity: VGG fc6 on the device against the CPU (cosine ≥ 0.9999)
  bench_train        lrmm-bench-train beside ../shared/bench/lrmm_torch.py, ROUNDS paired rounds
  bench_images       lrmm-images bench beside torchvision (vgg_torch.py), f32 and bf16
  pipeline_images    the images stage on the device over the packed dataset, features against
                     the CPU run's (cosine per item)
  pipeline_train     lrmm-train on the CPU run's artifacts, on the device
  pipeline_eval      lrmm-eval of that model on the device: RMSE beside the CPU run's
PyTorch or torchvision missing is a skip with its reason, not a failure.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tarfile
import time


class Run:
    def __init__(self, pack, bins, out, deadline):
        self.pack, self.bins, self.out = pack, bins, out
        self.start = time.monotonic()
        self.deadline = deadline
        self.manifest = json.load(open(os.path.join(pack, "manifest.json")))
        self.device = self.manifest["device"]
        self.result = {
            "mode": self.manifest["mode"],
            "device": self.device,
            "pack": {k: self.manifest.get(k) for k in ("commit", "created", "binaries")},
            "deadline_s": deadline,
            "steps": {},
            "failures": [],
        }
        os.makedirs(os.path.join(out, "logs"), exist_ok=True)

    def left(self):
        return self.deadline - (time.monotonic() - self.start)

    def save(self):
        self.result["elapsed_s"] = round(time.monotonic() - self.start, 1)
        path = os.path.join(self.out, "gpu-check.json")
        with open(path + ".tmp", "w") as f:
            json.dump(self.result, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(path + ".tmp", path)

    def bin(self, name):
        return os.path.join(self.bins, name)

    def call(self, step, cmd, limit, cwd=None):
        """Runs cmd with at most `limit` seconds (less if the deadline is nearer); returns
        (exit code or None on a time-out, stdout, seconds). Output goes to logs/STEP.log."""
        limit = min(limit, self.left() - 5)
        if limit < 3:
            return None, "", 0.0
        log = open(os.path.join(self.out, "logs", f"{step}.log"), "a")
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=log, text=True, timeout=limit, cwd=cwd)
            code, out = p.returncode, p.stdout
        except subprocess.TimeoutExpired as e:
            code, out = None, e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        seconds = time.monotonic() - t0
        log.write(out)
        log.write(f"# exit {code}, {seconds:.1f} s\n")
        log.close()
        return code, out, seconds

    def json_line(self, step, cmd, limit, cwd=None):
        """The last JSON line a command printed, or an error string."""
        code, out, seconds = self.call(step, cmd, limit, cwd)
        if code is None:
            return None, f"timed out or no time left ({seconds:.0f} s)"
        if code != 0:
            return None, f"exit {code} (see logs/{step}.log)"
        lines = [l for l in out.splitlines() if l.startswith("{")]
        if not lines:
            return None, f"no JSON line (see logs/{step}.log)"
        return json.loads(lines[-1]), None

    def step(self, name, fn):
        print(f"gpu-check: {name} ({self.left():.0f} s left)", flush=True)
        t0 = time.monotonic()
        try:
            value = fn()
        except Exception as e:  # a step's bug must not lose the other steps' results
            value = {"error": f"{type(e).__name__}: {e}"}
        value["seconds"] = round(time.monotonic() - t0, 1)
        if "error" in value:
            self.result["failures"].append(f"{name}: {value['error']}")
        elif value.get("pass") is False:
            self.result["failures"].append(f"{name}: did not pass")
        self.result["steps"][name] = value
        self.save()
        summary = {k: v for k, v in value.items() if not isinstance(v, (dict, list))}
        print(f"gpu-check: {name}: {json.dumps(summary)}", flush=True)


def torch_python(need_torchvision=False):
    """A Python that imports torch (and torchvision): (path, None) or (None, the reason)."""
    mods = "torch, torchvision" if need_torchvision else "torch"
    tried = []
    for py in (sys.executable, "/opt/torch/.venv/bin/python3"):
        if not os.path.exists(py) or py in tried:
            continue
        tried.append(py)
        p = subprocess.run([py, "-c", f"import {mods}"], capture_output=True, text=True)
        if p.returncode == 0:
            return py, None
        last = (p.stderr.strip().splitlines() or ["?"])[-1]
    return None, f"no python3 imports {mods} ({'; '.join(tried)}: {last})"


def read_safetensors(path):
    """{name: (shape, values)} of a safetensors file's F32 and U32 tensors, with no package."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        code = {"F32": "f", "U32": "I"}.get(info.get("dtype")) if name != "__metadata__" else None
        if code:
            a, b = info["data_offsets"]
            out[name] = (info["shape"], struct.unpack(f"<{(b - a) // 4}{code}", data[a:b]))
    return out


def model_summary(model_dir):
    """What a training run's config.json and train_log.csv say: epochs, best validation RMSE,
    seconds and samples/s."""
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    with open(os.path.join(model_dir, "train_log.csv")) as f:
        head, *rows = [line.strip().split(",") for line in f if line.strip()]
    col = {name: i for i, name in enumerate(head)}
    seconds = sum(float(r[col["seconds"]]) for r in rows)
    return {"epochs_run": cfg.get("epochs_run"), "best_epoch": cfg.get("best_epoch"),
            "best_valid_rmse": cfg.get("best_valid_rmse"), "train_seconds": round(seconds, 2),
            "median_train_samples_per_s": statistics.median(float(r[col["train_samples_per_s"]]) for r in rows),
            "valid_rmse_per_epoch": [float(r[col["valid_rmse"]]) for r in rows]}


def cosine(a, b):
    dot = sum(p * q for p, q in zip(a, b))
    na, nb = math.sqrt(sum(p * p for p in a)), math.sqrt(sum(q * q for q in b))
    if na == 0 and nb == 0:
        return 1.0
    return dot / max(na * nb, 1e-300)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--deadline", type=float, default=None)
    a = ap.parse_args()
    m = json.load(open(os.path.join(a.pack, "manifest.json")))
    run = Run(a.pack, a.bin, a.out, a.deadline or m["deadline_s"])
    dev = run.device
    s = m["shapes"]
    limits = m["limits"]

    p = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True) if shutil.which("nvidia-smi") else None
    run.result["gpu"] = p.stdout.strip() if p and p.returncode == 0 else None
    run.save()

    # (a) parity
    lstm_shape = [f"--batch={s['parity_batch']}", f"--len={s['len']}", f"--vocab={s['vocab']}",
                  f"--word-dim={s['word_dim']}", f"--hidden={s['hidden']}"]

    def parity_lstm():
        line, err = run.json_line("parity_lstm", [run.bin("lrmm-lstm-parity"), "-q", f"--device={dev}",
                                                  "--lstm=recurrence", *lstm_shape,
                                                  f"--time-steps={s['lstm_time_steps']}"], limits["parity"])
        return line if line else {"error": err}

    def lstm_stepwise():
        line, err = run.json_line("lstm_stepwise", [run.bin("lrmm-lstm-parity"), "-q", f"--device={dev}", "--lstm=stepwise",
                                                    *lstm_shape, f"--time-steps={max(1, s['lstm_time_steps'] // 2)}"],
                                  limits["parity"])
        if not line:
            return {"error": err}
        line.pop("pass", None)  # a timing: the parity step is the one that checks
        return line

    def parity_vgg():
        line, err = run.json_line("parity_vgg", [run.bin("lrmm-images"), "parity", "-q", f"--device={dev}",
                                                 f"--batch-size={s['vgg_parity_batch']}", f"--side={s['vgg_side']}",
                                                 *m["vgg_flags"]], limits["parity"])
        return line if line else {"error": err}

    run.step("parity_lstm", parity_lstm)
    run.step("lstm_stepwise", lstm_stepwise)
    run.step("parity_vgg", parity_vgg)

    # (b) training throughput beside PyTorch
    def bench_train():
        flags = [f"--batch={s['batch']}", f"--len={s['len']}", f"--word-dim={s['word_dim']}", f"--hidden={s['hidden']}",
                 f"--ae-hidden={s['ae_hidden']}", f"--steps={s['bench_steps']}", f"--device={dev}"]
        py, why = torch_python()
        impls = [("lrmm", [run.bin("lrmm-bench-train"), "-q", *flags])]
        if py:
            impls.append(("pytorch", [py, os.path.join(a.pack, "lrmm_torch.py"), *flags]))
        runs = {label: [] for label, _ in impls}
        errors = []
        for _ in range(s["bench_rounds"]):
            for label, cmd in impls:
                line, err = run.json_line("bench_train", cmd, limits["bench_train"])
                if line:
                    runs[label].append(line)
                else:
                    errors.append(f"{label}: {err}")
        res = {"shapes": {k: s[k] for k in ("batch", "len", "word_dim", "hidden", "ae_hidden")}, "runs": runs}
        for label, lines in runs.items():
            if lines:
                res[label] = {k: statistics.median(l[k] for l in lines) for k in ("train_samples_per_s", "infer_samples_per_s")}
        if not py:
            res["pytorch_skipped"] = why
            print(f"gpu-check: bench_train: PyTorch skipped: {why}", flush=True)
        if "lrmm" in res and "pytorch" in res:
            res["lrmm_over_pytorch"] = {k: round(res["lrmm"][k] / res["pytorch"][k], 3) for k in res["lrmm"]}
        if "lrmm" not in res:
            res["error"] = "; ".join(errors)
        elif errors:
            res["errors"] = errors
        return res

    run.step("bench_train", bench_train)

    # (c) the VGG beside torchvision
    def bench_images():
        res = {"batch": s["vgg_batch"], "lrmm": {}, "torchvision": {}}
        errors = []
        for dtype in m["lrmm_image_dtypes"]:
            line, err = run.json_line("bench_images", [run.bin("lrmm-images"), "bench", "-q", f"--device={dev}",
                                                       f"--batches={s['vgg_batch']}", f"--steps={s['vgg_steps']}",
                                                       *m["vgg_flags"], *([f"--dtype={dtype}"] if dtype != "f32" else [])],
                                      limits["bench_images"])
            if line:
                res["lrmm"][dtype] = line
            else:
                errors.append(f"lrmm {dtype}: {err}")
        py, why = torch_python(need_torchvision=True)
        if py:
            for dtype in ("f32", "bf16"):
                line, err = run.json_line("bench_images", [py, os.path.join(a.pack, "vgg_torch.py"), f"--device={dev}",
                                                           f"--batch={s['vgg_batch']}", f"--steps={s['vgg_steps']}",
                                                           f"--dtype={dtype}"], limits["bench_images"])
                if line:
                    res["torchvision"][dtype] = line
                else:
                    errors.append(f"torchvision {dtype}: {err}")
        else:
            res["torchvision_skipped"] = why
            print(f"gpu-check: bench_images: torchvision skipped: {why}", flush=True)
        ours, theirs = res["lrmm"].get("f32"), res["torchvision"].get("f32")
        if ours and theirs:
            res["lrmm_f32_over_torchvision_f32"] = round(ours["images_per_s"] / theirs["images_per_s"], 3)
        best = max((v["images_per_s"] for v in res["lrmm"].values()), default=None)
        if best and theirs:
            res["lrmm_best_over_torchvision_f32"] = round(best / theirs["images_per_s"], 3)
        if not res["lrmm"]:
            res["error"] = "; ".join(errors)
        elif errors:
            res["errors"] = errors
        return res

    run.step("bench_images", bench_images)

    # (d) the default pipeline on the device, beside the CPU run
    work = os.path.join(a.out, "pipeline")
    shutil.rmtree(work, ignore_errors=True)
    with tarfile.open(os.path.join(a.pack, "work.tar.xz")) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(work, filter="data")
        else:
            tar.extractall(work)
    cpu = m["cpu_run"]

    def pipeline_images():
        out = os.path.join(work, "images-device")
        code, _, seconds = run.call("pipeline_images", [run.bin("lrmm-images"), "-q", "--data", work, "--out", out,
                                                        "--images", os.path.join(a.pack, "dataset", "images"),
                                                        f"--device={dev}", *m["images_args"]], limits["pipeline_images"])
        if code != 0:
            return {"error": f"exit {code} (see logs/pipeline_images.log)"}
        ours = read_safetensors(os.path.join(out, "image_features.safetensors"))
        theirs = read_safetensors(os.path.join(work, "image_features.safetensors"))
        if ours["item_ids"][1] != theirs["item_ids"][1]:
            return {"error": "the device run's items differ from the CPU run's"}
        (rows, width), a_ = theirs["features"]
        b_ = ours["features"][1]
        cos = [cosine(a_[i * width:(i + 1) * width], b_[i * width:(i + 1) * width]) for i in range(rows)]
        return {"items": rows, "width": width, "seconds_stage": round(seconds, 1),
                "min_cosine_vs_cpu": min(cos) if cos else None,
                "mean_cosine_vs_cpu": sum(cos) / len(cos) if cos else None,
                "pass": bool(cos) and min(cos) >= 0.9999}

    def pipeline_train():
        code, _, seconds = run.call("pipeline_train", [run.bin("lrmm-train"), "-q", "--data", work, "--out",
                                                       os.path.join(work, "model"), "--config", os.path.join(a.pack, "default.toml"),
                                                       *m["train_args"], f"--device={dev}"],
                                    limits["pipeline_train"])
        if code != 0:
            return {"error": f"exit {code} (see logs/pipeline_train.log)"}
        return {"seconds_stage": round(seconds, 1), "device": model_summary(os.path.join(work, "model")),
                "cpu": cpu["train"]}

    def pipeline_eval():
        if not os.path.exists(os.path.join(work, "model", "model.safetensors")):
            return {"error": "no trained model"}
        out = os.path.join(work, "eval")
        code, _, seconds = run.call("pipeline_eval", [run.bin("lrmm-eval"), "-q", "--data", work, "--model",
                                                      os.path.join(work, "model"), "--out", out, "--baselines", "none",
                                                      *m["eval_args"], f"--device={dev}"], limits["pipeline_eval"])
        if code != 0:
            return {"error": f"exit {code} (see logs/pipeline_eval.log)"}
        metrics = json.load(open(os.path.join(out, "metrics.json")))
        rmse = {k: v.get("rmse") for k, v in metrics.get("lrmm", {}).items()}
        diff = {k: round(rmse[k] - cpu["rmse"][k], 5) for k in rmse if k in cpu["rmse"]}
        worst = max((abs(v) for v in diff.values()), default=math.inf)
        return {"seconds_stage": round(seconds, 1), "rmse": rmse, "cpu_rmse": cpu["rmse"], "rmse_minus_cpu": diff,
                "max_abs_rmse_diff": worst, "tolerance": m["rmse_tolerance"], "pass": worst <= m["rmse_tolerance"]}

    run.step("pipeline_images", pipeline_images)
    run.step("pipeline_train", pipeline_train)
    run.step("pipeline_eval", pipeline_eval)

    run.result["pass"] = not run.result["failures"]
    run.save()
    print(f"gpu-check: wrote {os.path.join(a.out, 'gpu-check.json')} in {time.monotonic() - run.start:.0f} s; "
          + ("all steps passed" if run.result["pass"] else "FAILED: " + "; ".join(run.result["failures"])), flush=True)
    return 0 if run.result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
