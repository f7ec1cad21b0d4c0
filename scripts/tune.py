#!/usr/bin/env python3
"""Hyperparameter search for lrmm-train on the VALIDATION split only.

Each variant is the base config with a few `section.key=value` overrides. Every variant is trained
with lrmm-train (early stopping on validation, as always) and the table ranks them by their best
validation RMSE, beside the validation RMSE of the global-mean predictor. Test ratings are never
read: choose a config here, then run `make eval` once with it.

    python3 scripts/tune.py --data build/mi --base pipelines/default.toml --out build/mi/tune \
        --variant "lr3e-4: train.learning_rate=3e-4" --variant "L100: data.max_len=100"

Several splits (`--data build/mi-seed1 --data build/mi-seed2 …`, each trained with the seed of
the same position in `--seeds`) rank variants by their mean best validation RMSE, which is less at
the mercy of one small validation split; every split's figure is in the table.

The base may itself be a config by difference (`base = …`); each variant is trained as
`lrmm-train --config BASE --set section.key=value …`, so lrmm-train resolves it. Writes
<out>/<name>/config.toml (the variant by difference: `base` = BASE plus its overrides, which
`lrmm-train --config` trains alike) and the trained model beside it — in <out>/<name>/split<k>/
with several --data — and <out>/tune.md (the table).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

from pipeline_config import ConfigError, resolve


def parse_value(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def variant_toml(base: Path, overrides: dict[tuple[str, str], object]) -> str:
    """The variant as a config by difference: `base` (an absolute path) and its overrides."""
    lines = [f"base = {toml_value(str(base.resolve()))}"]
    sections: dict[str, list[str]] = {}
    for (section, field), value in overrides.items():
        sections.setdefault(section, []).append(f"{field} = {toml_value(value)}")
    for section, fields in sections.items():
        lines += ["", f"[{section}]", *fields]
    return "\n".join(lines) + "\n"


def parse_variant(spec: str) -> tuple[str, dict[tuple[str, str], object]]:
    """`name: a.b=1, c.d=x` → (name, {(a, b): 1, (c, d): "x"})."""
    if ":" not in spec:
        raise SystemExit(f"variant {spec!r}: expected 'name: section.key=value, ...'")
    name, _, body = spec.partition(":")
    overrides = {}
    for item in filter(None, (part.strip() for part in body.split(","))):
        key, eq, value = item.partition("=")
        section, dot, field = key.strip().partition(".")
        if not eq or not dot:
            raise SystemExit(f"variant {name!r}: {item!r} is not section.key=value")
        overrides[(section, field)] = parse_value(value.strip())
    return name.strip(), overrides


def global_mean_valid_rmse(data: Path) -> float | None:
    try:
        import polars as pl
    except ImportError:
        return None
    ratings = pl.read_parquet(data / "interactions.parquet", columns=["rating", "split"])
    mean = ratings.filter(pl.col("split") == "train")["rating"].mean()
    valid = ratings.filter(pl.col("split") == "valid")["rating"]
    return math.sqrt(((valid - mean) ** 2).mean())


def best_epoch(log: Path) -> tuple[int, float, float, int]:
    with log.open() as f:
        rows = list(csv.DictReader(f))
    best = min(rows, key=lambda r: float(r["valid_rmse"]))
    seconds = sum(float(r["seconds"]) for r in rows)
    return int(best["epoch"]), float(best["valid_rmse"]), float(best["valid_mae"]), round(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, action="append", required=True,
                        help="artifact folder, e.g. build/mi; repeat for several splits")
    parser.add_argument("--base", type=Path, required=True, help="base pipelines/*.toml config")
    parser.add_argument("--out", type=Path, required=True, help="folder for the variants")
    parser.add_argument("--variant", action="append", default=[], help="'name: section.key=value, ...'")
    seeding = parser.add_mutually_exclusive_group()
    seeding.add_argument("--seeds", type=int, nargs="+", default=None,
                         help="training seed per --data folder (default: 1, 2, … in --data order)")
    seeding.add_argument("--seed", type=int, default=None, help="one training seed for every --data")
    parser.add_argument("--train-bin", default=os.environ.get("LRMM_TRAIN", "lrmm-train"))
    args = parser.parse_args()

    if args.seeds is not None and len(args.seeds) != len(args.data):
        raise SystemExit(f"tune: {len(args.seeds)} --seeds for {len(args.data)} --data folders")
    seeds = args.seeds or ([args.seed] * len(args.data) if args.seed is not None
                           else list(range(1, len(args.data) + 1)))
    try:
        base = resolve(args.base)
    except ConfigError as e:
        raise SystemExit(f"tune: {e}")
    variants = [("base", {})] + [parse_variant(spec) for spec in args.variant]
    for name, overrides in variants:
        for section, _ in overrides:
            if section not in base:
                raise SystemExit(f"variant {name!r}: the base config has no [{section}] section")
    args.out.mkdir(parents=True, exist_ok=True)
    several = len(args.data) > 1
    results = []
    for name, overrides in variants:
        per_split = []
        for index, (data, seed) in enumerate(zip(args.data, seeds)):
            folder = args.out / name / f"split{index + 1}" if several else args.out / name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "config.toml").write_text(variant_toml(args.base, overrides))
            log = folder / "train_log.csv"
            # A model trained earlier is reused only for the same data folder and seed.
            trained_on = folder / "tune_run.json"
            run = {"data": str(data.resolve()), "seed": seed}
            if (folder / "model.safetensors").exists() and (
                    not trained_on.exists() or json.loads(trained_on.read_text()) != run):
                raise SystemExit(f"tune: {folder} holds a model of another data folder or seed "
                                 f"than {run}; remove it or choose another --out")
            if not (folder / "model.safetensors").exists():
                print(f"tune: training {name} on {data} ({overrides or 'base config'})",
                      file=sys.stderr, flush=True)
                sets = [arg for (s, k), v in overrides.items() for arg in ("--set", f"{s}.{k}={toml_value(v)}")]
                subprocess.run(
                    [args.train_bin, "--data", str(data), "--config", str(args.base), *sets,
                     "--seed", str(seed), "--out", str(folder), "--quiet"],
                    check=True,
                )
                trained_on.write_text(json.dumps(run) + "\n")
            per_split.append(best_epoch(log))
        rmse = sum(r for _, r, _, _ in per_split) / len(per_split)
        mae = sum(m for _, _, m, _ in per_split) / len(per_split)
        epochs = "/".join(str(e) for e, _, _, _ in per_split)
        seconds = sum(t for _, _, _, t in per_split)
        splits = " / ".join(f"{r:.4f}" for _, r, _, _ in per_split)
        label = ", ".join(f"{s}.{k}={toml_value(v)}" for (s, k), v in overrides.items()) or "(base)"
        results.append((rmse, mae, epochs, seconds, name, label, splits))
        print(f"tune: {name}: mean best valid RMSE {rmse:.4f} ({splits})", file=sys.stderr, flush=True)

    references = [global_mean_valid_rmse(d) for d in args.data]
    folders = ", ".join(str(d) for d in args.data)
    lines = [
        f"Validation split of {folders}, base {args.base}, training seeds {' '.join(map(str, seeds))}.",
        "" if None in references else
        "Global mean on validation: RMSE " + " / ".join(f"{r:.4f}" for r in references) + ".",
        "",
        "| variant | overrides | best valid RMSE (mean) | per split | valid MAE | epoch | train s |",
        "|---|---|---|---|---|---|---|",
    ]
    for rmse, mae, epochs, seconds, name, label, splits in sorted(results):
        lines.append(f"| {name} | {label} | {rmse:.4f} | {splits} | {mae:.4f} | {epochs} | {seconds} |")
    table = "\n".join(lines) + "\n"
    (args.out / "tune.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
