#!/usr/bin/env python3
"""Hyperparameter search for lrmm-train on the VALIDATION split only.

Each variant is the base config with a few `section.key=value` overrides. Every variant is trained
with lrmm-train (early stopping on validation, as always) and the table ranks them by their best
validation RMSE, beside the validation RMSE of the global-mean predictor. Test ratings are never
read: choose a config here, then run `make eval` once with it.

    python3 scripts/tune.py --data build/mi --base pipelines/default.toml --out build/mi/tune \
        --variant "lr3e-4: train.learning_rate=3e-4" --variant "L100: data.max_len=100"

Writes <out>/<name>/config.toml, the trained model beside it, and <out>/tune.md (the table).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import subprocess
import sys
import tomllib
from pathlib import Path


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


def dump_toml(config: dict) -> str:
    lines = []
    for section, table in config.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
        lines.append("")
    return "\n".join(lines)


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
    parser.add_argument("--data", type=Path, required=True, help="artifact folder, e.g. build/mi")
    parser.add_argument("--base", type=Path, required=True, help="base pipelines/*.toml config")
    parser.add_argument("--out", type=Path, required=True, help="folder for the variants")
    parser.add_argument("--variant", action="append", default=[], help="'name: section.key=value, ...'")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--train-bin", default=os.environ.get("LRMM_TRAIN", "lrmm-train"))
    args = parser.parse_args()

    base = tomllib.loads(args.base.read_text())
    variants = [("base", {})] + [parse_variant(spec) for spec in args.variant]
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for name, overrides in variants:
        config = {section: dict(table) for section, table in base.items()}
        for (section, field), value in overrides.items():
            if section not in config:
                raise SystemExit(f"variant {name!r}: the base config has no [{section}] section")
            config[section][field] = value
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.toml").write_text(dump_toml(config))
        log = folder / "train_log.csv"
        if not (folder / "model.safetensors").exists():
            print(f"tune: training {name} ({overrides or 'base config'})", file=sys.stderr, flush=True)
            subprocess.run(
                [args.train_bin, "--data", str(args.data), "--config", str(folder / "config.toml"),
                 "--seed", str(args.seed), "--out", str(folder), "--quiet"],
                check=True,
            )
        epoch, rmse, mae, seconds = best_epoch(log)
        label = ", ".join(f"{s}.{k}={toml_value(v)}" for (s, k), v in overrides.items()) or "(base)"
        results.append((rmse, mae, epoch, seconds, name, label))
        print(f"tune: {name}: best valid RMSE {rmse:.4f} at epoch {epoch}", file=sys.stderr, flush=True)

    reference = global_mean_valid_rmse(args.data)
    lines = [
        f"Validation split of {args.data}, base {args.base}, seed {args.seed}.",
        "" if reference is None else f"Global mean on validation: RMSE {reference:.4f}.",
        "",
        "| variant | overrides | best valid RMSE | valid MAE | epoch | train s |",
        "|---|---|---|---|---|---|",
    ]
    for rmse, mae, epoch, seconds, name, label in sorted(results):
        lines.append(f"| {name} | {label} | {rmse:.4f} | {mae:.4f} | {epoch} | {seconds} |")
    table = "\n".join(lines) + "\n"
    (args.out / "tune.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
