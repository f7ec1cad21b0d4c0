#!/usr/bin/env python3
"""Every stage at two sizes of the same data: how time and memory grow with the input.

The real Musical Instruments 5-core reviews are copied SMALL and LARGE times with suffixed user
and item ids (scripts/scale_reviews.py, as `make bench-ingest` does: 160 copies ≈ 1.64M
reviews, the size of the paper's Electronics set). Each copy runs through every stage with the
default config — ingest, vocab, images (no image files: the all-missing features), train for
one epoch, eval with every baseline — and the table gives, per stage and size, wall time, peak
resident memory (the stage process's own, from wait4) and rows/s (interactions per second of
wall time), then the growth from SMALL to LARGE. A time ratio near LARGE / SMALL (10 for 16 →
160) means the stage is linear in the data.

usage: bench_scale.py --bin DIR [--small 16] [--large 160] [--work build/bench-scale] [--data-dir DIR]
                      [--source reviews_Musical_Instruments_5.json.gz] [--lock FILE]

`--lock FILE` takes an flock on FILE around each stage, so that other jobs on the machine that
take the same lock (builds, benchmarks) never run beside a measured stage. Results also go to
<work>/results.json. Scaled review files are kept in --data-dir (build/bench-data/, shared with
`make bench-ingest`) and reused.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


STAGE_KEYS = ("ingest", "vocab", "images", "train", "eval")


def stages(bin_dir: Path, reviews: Path, out: Path, config: Path) -> list[tuple[str, str, list[str]]]:
    """(key, label, command) of each stage: the `make all` commands of the default pipeline,
    with one training epoch."""
    b = lambda name: str(bin_dir / name)  # noqa: E731
    no_images = out / "no-images"
    return [
        ("ingest", "ingest", [b("lrmm-ingest"), "--reviews", str(reviews), "--out", str(out), "--seed", "1"]),
        ("vocab", "vocab", [b("lrmm-vocab"), "--data", str(out), "--min-freq", "20"]),
        ("images", "images", [b("lrmm-images"), "--data", str(out), "--images", str(no_images), "--seed", "1"]),
        ("train", "train (1 epoch)", [b("lrmm-train"), "--data", str(out), "--out", str(out / "model"),
                                      "--config", str(config), "--seed", "1", "--device", "cpu",
                                      "--max-epochs", "1"]),
        ("eval", "eval (every baseline)", [b("lrmm-eval"), "--data", str(out), "--model", str(out / "model"),
                                           "--k", "10", "--seed", "1"]),
    ]


# The artifacts each stage reads (the Makefile's prerequisites); ingest's input is the scaled
# review file, named by its path, size and modification time.
STAGE_INPUTS = {
    "vocab": ["reviews.parquet", "items.parquet"],
    "images": ["items.parquet"],
    "train": ["interactions.parquet", "review_tokens.parquet", "item_tokens.parquet", "tokenizer.json",
              "image_features.safetensors"],
    "eval": ["interactions.parquet", "review_tokens.parquet", "item_tokens.parquet", "image_features.safetensors",
             "model/model.safetensors"],
}


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def fingerprint(key: str, cmd: list[str], out: Path, reviews: Path) -> str:
    """The command line, the bytes of its binary and of the artifacts it reads: a stage recorded
    with the same fingerprint would produce the same artifacts."""
    if key == "ingest":
        st = reviews.stat()
        inputs = [str(reviews), st.st_size, st.st_mtime_ns]
    else:
        inputs = [file_digest(out / name) if (out / name).exists() else None for name in STAGE_INPUTS[key]]
    return json.dumps([file_digest(Path(cmd[0])), cmd[1:], inputs])


@contextlib.contextmanager
def locked(path: str | None):
    if path is None:
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_stage(label: str, cmd: list[str], log: Path, lock: str | None) -> dict:
    with locked(lock):
        load = os.getloadavg()[0]
        started = time.perf_counter()
        with open(log, "ab") as sink:
            proc = subprocess.Popen(cmd, stdout=sink, stderr=sink)
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench_scale: stage '{label}' failed (exit {code}): {' '.join(cmd)}\n  its log: {log}")
    return {"stage": label, "wall_s": wall, "peak_rss_gib": usage.ru_maxrss / 2**20, "load_before": load}


def scaled_file(source: Path, copies: int, data_dir: Path) -> Path:
    path = data_dir / f"reviews_MI_x{copies}.json"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".json.part")
        subprocess.run([sys.executable, str(REPO / "scripts/scale_reviews.py"), str(source), str(copies), str(part)],
                       check=True)
        part.rename(path)
    return path


def run_size(args, copies: int) -> dict:
    """Runs every stage at `copies`. With --reuse, a stage whose fingerprint (binary, command,
    input artifacts) matches the one an earlier run recorded keeps its recorded result."""
    reviews = scaled_file(args.source, copies, args.data_dir)
    out = args.work / f"x{copies}"
    recorded_path = args.work / f"x{copies}.stages.json"
    recorded = json.loads(recorded_path.read_text()) if args.reuse and recorded_path.exists() else {}
    if not recorded and out.exists():
        subprocess.run(["rm", "-rf", str(out)], check=True)
    (out / "no-images").mkdir(parents=True, exist_ok=True)
    log = args.work / f"x{copies}.log"
    results = []
    for key, label, cmd in stages(args.bin, reviews, out, args.config):
        fp = fingerprint(key, cmd, out, reviews)
        old = recorded.get(key)
        if old is not None and old["fingerprint"] == fp:
            print(f"bench-scale: x{copies} {label}: reused ({old['result']['wall_s']:.1f} s)", file=sys.stderr)
            results.append(old["result"])
            continue
        if key not in args.stages:
            break
        print(f"bench-scale: x{copies} {label} …", file=sys.stderr, flush=True)
        r = run_stage(label, cmd, log, args.lock)
        print(f"bench-scale: x{copies} {label}: {r['wall_s']:.1f} s, {r['peak_rss_gib']:.2f} GiB", file=sys.stderr)
        results.append(r)
        recorded[key] = {"fingerprint": fp, "result": r}
        recorded_path.write_text(json.dumps(recorded, indent=2) + "\n")
    summary = json.loads((out / "ingest_summary.json").read_text())
    return {"copies": copies, "review_lines": summary["review_lines"], "interactions": summary["interactions"],
            "train": summary["train"], "stages": results}


def table(small: dict, large: dict) -> str:
    s, l = small["copies"], large["copies"]
    lines = [
        f"| stage | x{s} time | x{s} peak RSS | x{s} rows/s | x{l} time | x{l} peak RSS | x{l} rows/s "
        f"| time ratio | RSS ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a, b in zip(small["stages"], large["stages"]):
        lines.append(
            f"| {a['stage']} | {a['wall_s']:.1f} s | {a['peak_rss_gib']:.2f} GiB | {small['interactions'] / a['wall_s']:,.0f} "
            f"| {b['wall_s']:.1f} s | {b['peak_rss_gib']:.2f} GiB | {large['interactions'] / b['wall_s']:,.0f} "
            f"| {b['wall_s'] / a['wall_s']:.1f}× | {b['peak_rss_gib'] / a['peak_rss_gib']:.1f}× |"
        )
    total_a = sum(x["wall_s"] for x in small["stages"])
    total_b = sum(x["wall_s"] for x in large["stages"])
    lines.append(f"| **all stages** | {total_a:.1f} s | | | {total_b:.1f} s | | | {total_b / total_a:.1f}× | |")
    loads = [x["load_before"] for r in (small, large) for x in r["stages"]]
    lines += [
        "",
        f"x{s}: {small['review_lines']:,} reviews, {small['interactions']:,} interactions; "
        f"x{l}: {large['review_lines']:,} reviews, {large['interactions']:,} interactions "
        f"(data ratio {large['interactions'] / small['interactions']:.1f}×). rows/s = interactions / wall time.",
        f"Load average before the stages: {min(loads):.2f}–{max(loads):.2f} on {os.cpu_count()} cores.",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", type=Path, required=True, help="folder of the release stage binaries")
    ap.add_argument("--small", type=int, default=16, help="copies of the smaller run (default 16)")
    ap.add_argument("--large", type=int, default=160, help="copies of the larger run (default 160; 0: the smaller one only)")
    ap.add_argument("--work", type=Path, default=REPO / "build/bench-scale", help="scaled data, artifacts, logs")
    ap.add_argument("--data-dir", type=Path, default=REPO / "build/bench-data",
                    help="where the scaled review files are made once and reused (as bench-ingest's)")
    ap.add_argument("--config", type=Path, default=REPO / "pipelines/default.toml")
    ap.add_argument("--source", type=Path,
                    default=Path(os.environ.get("LRMM_SHARED_DATA", REPO.parent / "shared/data"))
                    / "amazon-2014/Musical_Instruments/reviews_Musical_Instruments_5.json.gz")
    ap.add_argument("--lock", help="flock this file around each stage")
    ap.add_argument("--stages", default=",".join(STAGE_KEYS),
                    help=f"the stages to run, a prefix of {','.join(STAGE_KEYS)} (default: all)")
    ap.add_argument("--reuse", action="store_true",
                    help="keep a stage's recorded result when its binary, command and input artifacts "
                         "are unchanged (<work>/x<COPIES>.stages.json)")
    args = ap.parse_args()
    args.stages = set(args.stages.split(","))
    if not args.stages <= set(STAGE_KEYS):
        sys.exit(f"bench-scale: --stages takes {','.join(STAGE_KEYS)}")
    if not args.source.exists():
        sys.exit(f"bench-scale: {args.source} is absent; set LRMM_SHARED_DATA to the folder holding amazon-2014/")
    for name in ("lrmm-ingest", "lrmm-vocab", "lrmm-images", "lrmm-train", "lrmm-eval"):
        if not (args.bin / name).exists():
            sys.exit(f"bench-scale: {args.bin / name} not found (make build)")
    args.work.mkdir(parents=True, exist_ok=True)
    small = run_size(args, args.small)
    large_needed = args.large != 0
    if len(small["stages"]) < len(STAGE_KEYS):
        large = run_size(args, args.large) if large_needed else None
        print(json.dumps({"small": small, "large": large}, indent=2))
        return
    if args.large == 0:  # one size only: no growth to show
        print(json.dumps(small, indent=2))
        return
    large = run_size(args, args.large)
    (args.work / "results.json").write_text(json.dumps({"small": small, "large": large}, indent=2) + "\n")
    print()
    print(table(small, large))


if __name__ == "__main__":
    main()
