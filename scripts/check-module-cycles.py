#!/usr/bin/env python3
"""Fails when a module of any crate imports a module that imports it back.

Each source file of a crate is a node (src/a.rs and src/a/mod.rs are `a`, src/a/b.rs is `a::b`);
`use crate::…`, `crate::…::` paths and `super::…` paths are edges to the module they name.
A name the crate root or a folder's mod.rs only re-exports (`pub use a::Thing;`) counts as an
edge to the module that defines it, so a facade does not hide a cycle; the crate root itself is
not a node (it declares every module). Inline `#[cfg(test)] mod tests` blocks are skipped.
Run by `make lint`.
"""
import re
import sys
from pathlib import Path

USE_RE = re.compile(r"\buse\s+((?:crate|super)(?:::[^;]*)?);", re.S)
PATH_RE = re.compile(r"\b((?:crate|super)(?:::\w+)+)")
REEXPORT_RE = re.compile(r"\bpub\s+use\s+(?:self::)?(\w+)::([^;]+);", re.S)


def module_of(src: Path, file: Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]) or parts[:1] == ["bin"]:
        return ()
    return tuple(parts)


def strip(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    cut = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
    return text[: cut.start()] if cut else text


def expand(use_tree: str) -> list:
    """`crate::a::{b, c::D}` → [`crate::a::b`, `crate::a::c::D`]."""
    use_tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", use_tree))
    m = re.match(r"^(.*?)\{(.*)\}$", use_tree)
    if not m:
        return [use_tree]
    prefix, inner = m.groups()
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    return [p for item in items if item for p in expand(prefix + item)]


def check_crate(src: Path) -> list:
    files = [f for f in src.rglob("*.rs") if "bin" not in f.relative_to(src).parts[:1]]
    modules = {module_of(src, f): f for f in files}
    texts = {m: strip(f.read_text()) for m, f in modules.items()}
    # Names a facade (crate root or mod.rs) re-exports, mapped to the defining module.
    reexports = {}
    for m, text in texts.items():
        for head, tail in REEXPORT_RE.findall(text):
            for path in expand(f"{head}::{tail}"):
                name = path.split("::")[-1]
                reexports[(m, name)] = m + (head,)

    def resolve(current: tuple, path: str):
        parts = path.split("::")
        base = list(current)
        while parts and parts[0] == "super":
            base = base[:-1]
            parts.pop(0)
        if parts and parts[0] == "crate":
            base = []
            parts.pop(0)
        target = tuple(base)
        for p in parts:
            if p in ("self", "*"):
                break
            if target + (p,) in modules:
                target = target + (p,)
            else:
                target = reexports.get((target, p), target)
                break
        return target

    edges = {m: set() for m in modules}
    for m, text in texts.items():
        paths = [p for tree in USE_RE.findall(text) for p in expand(tree)]
        paths += PATH_RE.findall(USE_RE.sub("", text))
        for path in paths:
            target = resolve(m, path)
            if target and target != m and target in modules:
                edges[m].add(target)

    problems, state = [], {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                problems.append(" → ".join("::".join(c) for c in cycle))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    return problems


def self_test() -> None:
    """The checker finds a cycle through a facade re-export and passes a one-way graph."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        (src / "data").mkdir(parents=True)
        (src / "lib.rs").write_text("pub mod a; pub mod b; pub mod data;\npub use a::Thing;\n")
        (src / "a.rs").write_text("use crate::b::helper;\npub struct Thing;\n")
        (src / "b.rs").write_text("pub fn helper() {}\n#[cfg(test)]\nmod tests { use crate::a::Thing; }\n")
        (src / "data" / "mod.rs").write_text("mod batch;\npub use batch::Batch;\n")
        (src / "data" / "batch.rs").write_text("use super::super::b;\npub struct Batch;\n")
        assert check_crate(src) == [], check_crate(src)
        (src / "b.rs").write_text("use crate::{Thing as T, data::Batch};\npub fn helper() {}\n")
        assert check_crate(src) == ["a → b → a", "b → data::batch → b"], check_crate(src)


def main() -> int:
    self_test()
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    failures = 0
    for src in sorted(root.glob("crates/*/src")):
        for cycle in check_crate(src):
            print(f"{src.parent.name}: module cycle {cycle}")
            failures += 1
    if failures:
        print(f"{failures} module cycle(s): split the shared part into its own module")
        return 1
    print("module graph: no cycles in any crate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
