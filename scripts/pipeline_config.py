#!/usr/bin/env python3
"""Configs by difference, read as lrmm-train reads them (crates/lrmm-model/src/config.rs): a
top-level `base = "default.toml"` names the config a file is merged over, relative to the
including file's folder; tables merge key by key, recursively, and scalars and arrays replace.
lrmm-train's resolution is the reference (it also fills serde defaults and checks the schema);
this is for the tools around it.

    python3 scripts/pipeline_config.py bases pipelines/table3.toml   # the base chain, one per line
    python3 scripts/pipeline_config.py show pipelines/table3.toml    # the merged table, as JSON

`bases` is what the Makefile uses for prerequisites: it prints the files it could follow and
stops quietly at a missing, unparsable or cyclic base (lrmm-train reports those).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

BASE_KEY = "base"


class ConfigError(Exception):
    pass


def _base_of(path: Path, table: dict) -> Path | None:
    base = table.pop(BASE_KEY, None)
    if base is None:
        return None
    if not isinstance(base, str):
        raise ConfigError(f"{path}: {BASE_KEY} must be a file name (a string)")
    return Path(os.path.normpath(path.parent / base))


def chain(path: Path) -> list[tuple[Path, dict]]:
    """`path` and its bases, nearest first, each with its own table (`base` removed)."""
    layers: list[tuple[Path, dict]] = []
    seen: list[Path] = []
    current: Path | None = Path(path)
    while current is not None:
        here = current.resolve()
        if here in seen:
            names = " → ".join(str(p) for p, _ in layers[seen.index(here):]) + f" → {current}"
            raise ConfigError(f"{layers[-1][0]}: {BASE_KEY} cycle: {names}")
        try:
            table = tomllib.loads(current.read_text())
        except OSError as e:
            asking = f"{layers[-1][0]}: cannot read its {BASE_KEY} " if layers else ""
            raise ConfigError(f"{asking}{current}: {e.strerror or e}") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{current}: {e}") from e
        seen.append(here)
        nxt = _base_of(current, table)
        layers.append((current, table))
        current = nxt
    return layers


def merge(into: dict, over: dict) -> dict:
    """Merges `over` into `into` (tables key by key, recursively; other values replace)."""
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def resolve(path: Path) -> dict:
    """The merged table of `path` and its bases (no defaults filled in: see lrmm-train)."""
    merged: dict = {}
    for _, table in reversed(chain(path)):
        merge(merged, table)
    return merged


def bases(path: Path) -> list[Path]:
    """The bases of `path` that can be followed, nearest first; stops at the first error."""
    found: list[Path] = []
    seen = {Path(path).resolve()}
    current = Path(path)
    while True:
        try:
            nxt = _base_of(current, tomllib.loads(current.read_text()))
        except (OSError, tomllib.TOMLDecodeError, ConfigError):
            return found
        if nxt is None or nxt.resolve() in seen or not nxt.is_file():
            return found
        seen.add(nxt.resolve())
        found.append(nxt)
        current = nxt


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("bases", "show"):
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(sys.argv[2])
    if sys.argv[1] == "bases":
        for base in bases(path):
            print(base)
        return 0
    try:
        print(json.dumps(resolve(path), indent=2, default=str))
    except ConfigError as e:
        print(f"pipeline_config: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
