"""Writes N copies of a review file with every reviewerID and asin suffixed by the copy number,
so the copies are distinct users and items with the real text and rating distribution."""
import gzip
import re
import sys

src, copies, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
opener = gzip.open if src.endswith(".gz") else open
with opener(src, "rt", encoding="utf-8") as f:
    lines = [l.rstrip("\n") for l in f if l.strip()]
ids = re.compile(r'("(?:reviewerID|asin)": "[^"]*)"')
with open(dst, "w", encoding="utf-8") as out:
    for k in range(copies):
        suffix = f'_{k}"'
        out.write("\n".join(ids.sub(lambda m: m.group(1) + suffix, l) for l in lines))
        out.write("\n")
print(f"wrote {len(lines) * copies} reviews to {dst}", file=sys.stderr)
