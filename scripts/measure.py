"""Runs commands one after another and prints a table of wall time and peak resident memory
(from wait4's rusage, so the child's own peak, not the driver's).

usage: measure.py LABEL -- CMD... [:: LABEL -- CMD...]...
A command whose program cannot start is reported as skipped."""
import os
import shutil
import subprocess
import sys
import time

args = sys.argv[1:]
jobs, cur = [], []
for a in args + ["::"]:
    if a == "::":
        if cur:
            label, sep, *cmd = cur
            assert sep == "--", "usage: LABEL -- CMD"
            jobs.append((label, cmd))
        cur = []
    else:
        cur.append(a)

rows = []
for label, cmd in jobs:
    if shutil.which(cmd[0]) is None and not os.path.exists(cmd[0]):
        rows.append((label, "skipped", f"{cmd[0]} not found", ""))
        continue
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    peak_gib = usage.ru_maxrss / (1024 * 1024)
    rows.append((label, f"{wall:.2f} s", f"{peak_gib:.2f} GiB", "ok" if code == 0 else f"exit {code}"))

width = max(len(r[0]) for r in rows)
print()
print(f"| {'implementation':<{width}} | wall time | peak memory | status |")
print(f"|{'-' * (width + 2)}|-----------|-------------|--------|")
for label, wall, mem, status in rows:
    print(f"| {label:<{width}} | {wall:>9} | {mem:>11} | {status} |")
