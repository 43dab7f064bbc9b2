#!/usr/bin/env python3
"""Poor man's sampling profiler for a vfsgw JVM: takes `jcmd PID Thread.print` snapshots and
counts, per thread group, where RUNNABLE threads are (their top frames).

Usage: sample.py PID [SNAPSHOTS=40] [INTERVAL_S=0.25] [DEPTH=4]
Threads blocked in a native poll/read (e.g. waiting on /dev/fuse or an eventfd) show as RUNNABLE
in Java; they are counted under their frame too, so "idle in read" is visible as such.
"""
import collections
import re
import subprocess
import sys
import time

pid = sys.argv[1]
snaps = int(sys.argv[2]) if len(sys.argv) > 2 else 40
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.25
depth = int(sys.argv[4]) if len(sys.argv) > 4 else 4

counts = collections.Counter()
for _ in range(snaps):
    out = subprocess.run(["jcmd", pid, "Thread.print"], capture_output=True, text=True).stdout
    for block in out.split("\n\n"):
        lines = block.strip().splitlines()
        if not lines or not lines[0].startswith('"'):
            continue
        name = re.sub(r"\d+", "N", lines[0].split('"')[1])
        if "java.lang.Thread.State: RUNNABLE" not in block or not name.startswith("vfsgw"):
            continue
        frames = [l.strip()[3:] for l in lines if l.strip().startswith("at ")][:depth]
        frames = [re.sub(r"\(.*\)", "", f) for f in frames]
        counts[(name, " <- ".join(frames))] += 1
    time.sleep(interval)

total = sum(counts.values())
print(f"{snaps} snapshots, {total} RUNNABLE vfsgw thread samples")
for (name, stack), n in counts.most_common(25):
    print(f"{n:5d} {100.0 * n / max(total, 1):5.1f}%  {name}: {stack}")
